"""The pack's Analyze answers by request, so a request already answered is not sent again."""

from __future__ import annotations

import hashlib
from typing import Dict, Mapping, Optional

from pulumi.runtime.proto import analyzer_pb2

__all__ = ["VerdictMemo"]


class VerdictMemo:
    """The pack's Analyze answers by request: a request identical byte for byte to one already
    answered gets that answer without a call.

    Sound because the verdict is a function of the request once the pack is configured:
    pulumi_policy's server builds every `ResourceValidationArgs` from the request alone, plus the
    policy config (Configure) and the stack tags (ConfigureStack, which is never sent here)
    (pulumi_policy/policy.py, `_PolicyAnalyzerServicer.Analyze`), and our policies keep nothing
    between calls (policies/schedule.py memoises pure functions only; tests/test_preview_cache.py
    runs the pack over shuffled requests and compares).
    The key is SHA-256 of the request serialized deterministically (map entries, i.e. Struct fields,
    in key order: https://protobuf.dev/programming-guides/serialization-not-canonical/); serialization
    is injective, so two different requests never share an answer. Deterministic is not canonical
    across protobuf versions: a cached answer may then be missed, never misapplied.
    """

    def __init__(self, known: Optional[Mapping[str, analyzer_pb2.AnalyzeResponse]] = None) -> None:
        self._answers: Dict[str, analyzer_pb2.AnalyzeResponse] = dict(known or {})
        self._used: Dict[str, analyzer_pb2.AnalyzeResponse] = {}
        self.sent = 0
        self.reused = 0

    @staticmethod
    def digest(request: analyzer_pb2.AnalyzeRequest) -> str:
        return hashlib.sha256(request.SerializeToString(deterministic=True)).hexdigest()

    def get(self, key: str) -> Optional[analyzer_pb2.AnalyzeResponse]:
        answer = self._answers.get(key)
        if answer is not None:
            self._used[key] = answer
        return answer

    def put(self, key: str, answer: analyzer_pb2.AnalyzeResponse) -> None:
        self._answers[key] = answer
        self._used[key] = answer

    @property
    def used(self) -> Dict[str, analyzer_pb2.AnalyzeResponse]:
        """The answers this memo's run needed (sent or reused), by request digest."""
        return dict(self._used)
