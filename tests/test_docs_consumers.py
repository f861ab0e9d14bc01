"""docs/consumers.md shows the IAM policy `secrets-layout consumer-policy` prints for each kind of reader.

Each ```console block that starts with `$ secrets-layout consumer-policy ARGS` holds the command's
standard output followed by its note on standard error; tests/test_console_blocks.py replays every
such block (`<!-- replayed: the-examples -->`) and compares it with a new run, so the page fails as
soon as the command or environments/prod.yaml changes what it prints.
"""

from __future__ import annotations

import re

from cli_support import ROOT

PAGE = ROOT / "docs" / "consumers.md"
BLOCK = re.compile(r"<!-- replayed: [\w-]+ -->\n```console\n\$ secrets-layout (consumer-policy [^\n]+)\n")


def test_the_page_shows_the_policy_for_each_kind_of_reader():
    assert BLOCK.findall(PAGE.read_text()) == [
        "consumer-policy prod/payments/stripe-api-key --account prod-app",
        "consumer-policy prod/database/credentials --account prod-app",
        "consumer-policy prod/notifications/sendgrid-api-key --account prod-app",
        "consumer-policy prod/database/credentials --account prod-data",
    ]
