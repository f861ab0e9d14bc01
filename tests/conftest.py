"""What every test may assume about its process, whoever runs the suite."""

from __future__ import annotations

import os


def pytest_configure(config):
    """No COLUMNS or LINES: the tests read the text report at the width the CLI gives a log (no terminal,
    no COLUMNS: secrets_layout/cli.py, `_text_width`); a test that wants another width sets COLUMNS itself.
    `make test`'s pytest-xdist workers have COLUMNS=80 and LINES=24 in their environment (set inside the
    worker: the environment that starts pytest has neither), which every `secrets-layout` the tests start
    would inherit, wrapping the text report where the tests expect none."""
    for name in ("COLUMNS", "LINES"):
        os.environ.pop(name, None)
