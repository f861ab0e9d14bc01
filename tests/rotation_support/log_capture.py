"""Every log record of every logger, at every level, while the rotation function runs."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

# Loggers that set their own level would hide DEBUG records from a root-level capture.
LOUD_LOGGERS = ("", "rotation", "botocore", "boto3", "urllib3")


class EveryRecord(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []
        self.levels: set[int] = set()
        self.names: set[str] = set()

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))
        self.levels.add(record.levelno)
        self.names.add(record.name)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@contextlib.contextmanager
def capturing_every_log() -> Iterator[EveryRecord]:
    """A handler on the root logger with every logger that matters at DEBUG; levels restored afterwards."""
    handler = EveryRecord()
    loggers = [logging.getLogger(name) for name in LOUD_LOGGERS]
    saved = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    logging.getLogger().addHandler(handler)
    try:
        yield handler
    finally:
        logging.getLogger().removeHandler(handler)
        for logger, level in zip(loggers, saved):
            logger.setLevel(level)
