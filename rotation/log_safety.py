"""Keeping credentials out of every log record written while the function runs, whoever writes it.

AWS's guidance for rotation functions: "Be cautious with debugging or logging statements ... Ensure
logs don't contain sensitive information"
(https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_lambda-functions.html).
The function's own messages never format a value; this module is the second line of defence, for
the records other code writes: botocore at DEBUG prints whole request and response bodies
(botocore/endpoint.py "Making request ... with params", botocore/parsers.py "Response body"), and
so the SecretString of GetSecretValue and PutSecretValue, before the function ever sees the value.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Iterable, Iterator

# Their DEBUG records carry request and response bodies; nothing at INFO or above does.
_PAYLOAD_LOGGING_LIBRARIES = frozenset({"botocore", "boto3", "urllib3", "s3transfer"})
# Shorter strings inside a JSON value are field values like "Bearer"; redacting them would only garble logs.
_SHORTEST_REDACTED_PART = 8
REDACTED = "[redacted]"


class CredentialRedactor:
    """The credential-bearing strings one invocation has handled, and their removal from any text."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._known: set[str] = set()

    def remember(self, value: str) -> None:
        parts = set(_parts_of(value))
        with self._lock:
            self._known |= parts

    def redact(self, text: str) -> str:
        with self._lock:
            known = sorted(self._known, key=len, reverse=True)
        for part in known:
            if part in text:
                text = text.replace(part, REDACTED)
        return text


def _parts_of(value: str) -> Iterator[str]:
    """The value, its trimmed and repr-escaped forms, and every long enough string inside it if it is JSON."""
    candidates = [value, value.strip()]
    try:
        document = json.loads(value)
    except (ValueError, RecursionError):
        document = None
    candidates.extend(_strings_in(document))
    for candidate in candidates:
        for form in (candidate, candidate.strip(), repr(candidate)[1:-1], json.dumps(candidate)[1:-1]):
            if len(form) >= _SHORTEST_REDACTED_PART or form == value:
                yield form


def _strings_in(document: object, depth: int = 0) -> Iterable[str]:
    if depth > 50:
        return
    if isinstance(document, str):
        yield document
    elif isinstance(document, dict):
        for item in document.values():
            yield from _strings_in(item, depth + 1)
    elif isinstance(document, list):
        for item in document:
            yield from _strings_in(item, depth + 1)


class _CredentialFilter(logging.Filter):
    def __init__(self, redactor: CredentialRedactor) -> None:
        super().__init__()
        self._redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.INFO and record.name.partition(".")[0] in _PAYLOAD_LOGGING_LIBRARIES:
            return False
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a record that cannot be formatted is dropped, not guessed at
            return False
        cleaned = self._redactor.redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._redactor.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self._redactor.redact(record.stack_info)
        return True


@contextlib.contextmanager
def guarding_logs(redactor: CredentialRedactor) -> Iterator[None]:
    """Filter every handler that exists for the invocation's duration; the filter holds only this invocation's values.

    Handlers rather than loggers: a logger's filters do not see records propagated from its children,
    while every record that is written anywhere passes a handler.
    """
    credential_filter = _CredentialFilter(redactor)
    handlers = _every_handler()
    for handler in handlers:
        handler.addFilter(credential_filter)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(credential_filter)


def _every_handler() -> list[logging.Handler]:
    loggers = [logging.getLogger()] + [
        logger for logger in list(logging.Logger.manager.loggerDict.values()) if isinstance(logger, logging.Logger)
    ]
    handlers = {id(handler): handler for logger in loggers for handler in logger.handlers}
    if logging.lastResort is not None:
        handlers[id(logging.lastResort)] = logging.lastResort
    return list(handlers.values())
