"""What the rotation function's log and CloudTrail say about one rotation (pure: no AWS calls).

The function's log (CloudWatch Logs, /aws/lambda/<function>) comes in Lambda's formats ("Working with
Lambda function logs" and "Log and monitor Python Lambda functions", AWS Lambda developer guide):

- text, the default: `[LEVEL]\\t<time>\\t<request id>\\t<message>` for the function's own logger;
  `[ERROR] <Type>: <message>` and a traceback for an exception the handler raised (the runtime's);
  `<time> <request id> Task timed out after N seconds` when an invocation ran out of time;
  `START RequestId: <id> ...`, `END RequestId: <id>`, `REPORT RequestId: <id> ...`;
- JSON (the function's LoggingConfig LogFormat JSON): `{"timestamp", "level", "message", "requestId", ...}`.

A line is the rotation's when it names the secret's ARN (what Secrets Manager passes as SecretId) or
the rotation's version (its ClientRequestToken), or carries the request id of such a line (the same
invocation: a timeout or a raised exception rarely names the secret). The first such line at ERROR is
the failure. The bundled function (rotation/) says when a failed attempt is a wait for the provider
("will be retried", PendingNotYetAccepted: rotation/README.md): that is no failure, Secrets Manager
retries. Errors of the function that name nothing of this rotation (another secret's, or a timeout
before the function logged anything) are kept apart: shown as a hint, never a verdict.

CloudTrail's RotationFailed records (an AwsServiceEvent with the secret's ARN in
additionalEventData.SecretId, "Log entries for rotation" in the Secrets Manager user guide) count as a
failure unless the function said it waits: its own word is the more precise.

Every text kept is one line, a password in a URL masked, and any credential-looking part replaced
(the function's log is its own; the drill prints it only through here).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from secrets_layout.audit.messages import printable
from secrets_layout.audit.trail import events_from_records
from secrets_layout.declaration.credentials import redact_text
from secrets_layout.drill.model import LogLine, TrailFailure

ERROR_LEVELS = frozenset({"ERROR", "CRITICAL", "FATAL"})
WAITING_MARKERS = ("will be retried", "PendingNotYetAccepted")
"""The bundled function's words for an attempt that waits for the provider (rotation/handler.py)."""

_TEXT_LINE = re.compile(r"^\[(?P<level>[A-Z]+)\]\t(?P<time>[^\t]*)\t(?P<request>[^\t]*)\t(?P<message>.*)$", re.DOTALL)
_RAISED = re.compile(r"^\[(?P<level>ERROR)\] (?P<message>[^\n\r]*)")
_TIMED_OUT = re.compile(r"^\S+\s+(?P<request>[0-9a-fA-F-]{36})\s+(?P<message>Task timed out after .*)$", re.DOTALL)
_RUNTIME = re.compile(r"^(?:START|END|REPORT) RequestId: (?P<request>[0-9a-fA-F-]{36})")


@dataclass(frozen=True)
class ParsedLine:
    time: datetime
    level: str | None
    """ERROR, WARNING, INFO, ...; a timeout counts as ERROR; None for the runtime's and unformatted lines."""
    request_id: str | None
    message: str


def parse_log_event(timestamp_ms: int, message: str) -> ParsedLine:
    """One FilterLogEvents event as a line of the function's log."""
    when = datetime.fromtimestamp(timestamp_ms / 1000, tz=timezone.utc)
    text = message.rstrip("\n")
    structured = _json_line(text)
    if structured is not None:
        level = structured.get("level")
        return ParsedLine(when, str(level).upper() if level else None, _text_or_none(structured.get("requestId")),
                          str(structured.get("message", "")))
    for pattern, level in ((_TEXT_LINE, None), (_RAISED, "ERROR"), (_TIMED_OUT, "ERROR")):
        found = pattern.match(text)
        if found:
            parts = found.groupdict()
            return ParsedLine(when, level or parts["level"], parts.get("request") or None, parts["message"])
    runtime = _RUNTIME.match(text)
    return ParsedLine(when, None, runtime.group("request") if runtime else None, text)


def _json_line(text: str) -> Mapping[str, Any] | None:
    if not text.startswith("{"):
        return None
    try:
        parsed = json.loads(text)
    except ValueError:
        return None
    return parsed if isinstance(parsed, Mapping) else None


def _text_or_none(value: Any) -> str | None:
    return str(value) if value else None


@dataclass(frozen=True)
class FunctionWord:
    """What the function's log says about the rotation."""

    failure: LogLine | None = None
    """The first error of the rotation."""
    waiting: LogLine | None = None
    """The first word of an attempt that waits for the provider (Secrets Manager retries it): the
    function's own line comes before the runtime's report of what it raised."""
    unattributed: LogLine | None = None
    """The first error of the function that names nothing of this rotation."""


def function_word(lines: Iterable[ParsedLine], *, arn: str, version: str, group: str) -> FunctionWord:
    lines = sorted(lines, key=lambda line: line.time)
    requests = {line.request_id for line in lines if line.request_id and _names(line, arn, version)}
    failure = waiting = unattributed = None
    for line in lines:
        ours = _names(line, arn, version) or (line.request_id is not None and line.request_id in requests)
        if ours and _waits(line):
            waiting = waiting or _shown(line, group)
        elif ours and line.level in ERROR_LEVELS and failure is None:
            failure = _shown(line, group)
        elif not ours and line.level in ERROR_LEVELS and unattributed is None:
            unattributed = _shown(line, group)
    return FunctionWord(failure, waiting, unattributed)


def _names(line: ParsedLine, arn: str, version: str) -> bool:
    return arn in line.message or version in line.message


def _waits(line: ParsedLine) -> bool:
    return any(marker in line.message for marker in WAITING_MARKERS)


def _shown(line: ParsedLine, group: str) -> LogLine:
    return LogLine(line.time, safe_text(line.message), group)


def safe_text(text: str) -> str:
    """One line, a URL's user:password masked, credential-looking parts replaced."""
    return redact_text(printable(text))


def trail_failure(records: Iterable[Mapping[str, Any]], *, arn: str, since: datetime) -> TrailFailure | None:
    """The latest RotationFailed record of the secret at or after `since`."""
    found = [(when, message) for secret, when, message in events_from_records(records).failures
             if secret == arn and when >= since]
    if not found:
        return None
    when, message = max(found, key=lambda item: item[0])
    return TrailFailure(when, safe_text(message) if message else None)


@dataclass(frozen=True)
class Evidence:
    word: FunctionWord = FunctionWord()
    trail: TrailFailure | None = None

    @property
    def failed(self) -> bool:
        """The function logged an error of the rotation, or CloudTrail a RotationFailed while the
        function did not say it waits for the provider."""
        return self.word.failure is not None or (self.trail is not None and self.word.waiting is None)
