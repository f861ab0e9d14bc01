"""docs/consumers.md: every IAM policy it shows is what `secrets-layout consumer-policy` prints today.

Each ```console block that starts with `$ secrets-layout consumer-policy ARGS` holds the command's
standard output followed by its note on standard error; the block is compared with a new run, so
the page fails this test as soon as the command or environments/prod.yaml changes what it prints.
"""

from __future__ import annotations

import re
import shlex

import pytest

from cli_support import ROOT, run_main

PAGE = ROOT / "docs" / "consumers.md"
BLOCK = re.compile(r"```console\n\$ secrets-layout (consumer-policy [^\n]+)\n(.*?)```", re.DOTALL)
DOCUMENTED = [(match.group(1), match.group(2)) for match in BLOCK.finditer(PAGE.read_text())]


def test_the_page_shows_the_policy_for_each_kind_of_reader():
    assert [command for command, _ in DOCUMENTED] == [
        "consumer-policy prod/payments/stripe-api-key --account prod-app",
        "consumer-policy prod/database/credentials --account prod-app",
        "consumer-policy prod/notifications/sendgrid-api-key --account prod-app",
        "consumer-policy prod/database/credentials --account prod-data",
    ]


@pytest.mark.parametrize(("command", "shown"), DOCUMENTED, ids=[command for command, _ in DOCUMENTED])
def test_the_documented_policy_is_the_commands_current_output(command, shown):
    result = run_main(*shlex.split(command), cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert shown == result.stdout + result.stderr


def test_a_stale_policy_would_be_caught():
    command, shown = DOCUMENTED[0]
    result = run_main(*shlex.split(command), cwd=ROOT)
    assert shown.replace("us-east-1", "us-east-2") != result.stdout + result.stderr
