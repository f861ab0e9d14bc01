"""The platform team's docs (docs/adopting.md, moving-a-secret.md, rotation-exemptions.md,
policy-limits.md, retiring-a-secret.md): every scenario they document previews as they describe it.

Each scenario (tests/docs_scenarios.py) is a fabricated git history in a temporary repository: the
declaration (and policy config) as on `main`, then the pull request's change on a branch.
`secrets-layout preview FILE --base main` runs through the installed console script, as in the docs;
this checks the change kinds and violations the page describes. The page's output block for the
scenario (after `<!-- replayed: ID -->`) is replayed whole by tests/test_console_blocks.py.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from cli_support import COMMAND, assert_no_traceback
from docs_scenarios import SCENARIOS, Scenario, command, history

pytestmark = pytest.mark.slow


def preview(repository: Path, scenario: Scenario, output_format: str) -> subprocess.CompletedProcess:
    result = subprocess.run([str(COMMAND), *command(scenario), "--format", output_format], cwd=repository,
                            capture_output=True, text=True, timeout=300, check=False,
                            env={**os.environ, "COLUMNS": "120", "NO_COLOR": "1"})
    assert_no_traceback(result)
    return result


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[scenario.id for scenario in SCENARIOS])
def test_the_documented_scenario_still_previews_as_documented(tmp_path, scenario):
    repository = history(tmp_path / "repo", scenario)
    result = preview(repository, scenario, "json")
    assert result.returncode == scenario.exit_code, result.stderr
    report = json.loads(result.stdout)
    assert ("resources" not in report) is scenario.invalid
    steps = {resource["name"]: resource["change"] + (" blocked" if resource["blocked"] else "")
             for resource in report.get("resources", [])}
    assert {name: step for name, step in steps.items() if step != "same"} == scenario.changes
    violations = report.get("violations", [])
    assert [f"{violation['level']} {violation['policy']}" for violation in violations] == list(scenario.violations)
