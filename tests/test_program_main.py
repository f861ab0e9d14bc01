"""__main__.py: stack config -> declaration -> layout -> exports, and its failures."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pulumi
import pytest

from components_support import LAYOUT, PROGRAM, PROJECT, ROOT, run_program
from secrets_layout.engine.simulation import simulate

MINIMAL = """\
environment: qa
security_account: "111111111111"
primary_region: eu-central-1
accounts:
  qa-app: "888888888888"
secrets:
  - name: qa/app/token
    kind: api-key
    value: {external: true}
    rotation: {enabled: false, reason: test secret}
    readers: [{account: qa-app, roles: [AppRole]}]
"""


def test_default_declaration_is_environments_of_the_stack():
    run = simulate(PROGRAM, project=PROJECT, stack="dev", secret_config={"stripeApiKey": "sk_test"})
    assert run.outputs["environment"] == "dev"
    assert run.get("dev").type == LAYOUT


def test_declaration_from_stack_config(tmp_path: Path):
    path = tmp_path / "qa.yaml"
    path.write_text(MINIMAL)
    run = run_program("qa", config={"secrets-layout:declaration": str(path)}, secret_config={})
    assert run.outputs["secret_names"] == ["qa/app/token"]
    assert run.outputs["kms_key_arns"] == {"eu-central-1": run.get("qa-kms-eu-central-1-key").outputs["arn"]}
    assert run.get("qa/app/token-secret").outputs["arn"].startswith("arn:aws:secretsmanager:eu-central-1:111111111111:")


def test_invalid_declaration_fails_with_one_line_per_issue(tmp_path: Path):
    path = tmp_path / "qa.yaml"
    path.write_text(MINIMAL + "    recovery_window_days: 3\n    unknown_field: 1\n")
    with pytest.raises(pulumi.RunError) as raised:
        run_program("qa", config={"secrets-layout:declaration": str(path)}, secret_config={})
    lines = str(raised.value).splitlines()
    assert len(lines) == 2
    for line in lines:
        assert re.match(rf"^{re.escape(str(path))}:\d+:\d+: secrets\[0\]\.\w+: .+", line), line
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


def test_missing_declaration_fails_without_traceback(tmp_path: Path):
    missing = tmp_path / "nowhere.yaml"
    with pytest.raises(pulumi.RunError, match=rf"{re.escape(str(missing))}: cannot read the declaration"):
        run_program("qa", config={"secrets-layout:declaration": str(missing)}, secret_config={})


def test_missing_secret_config_names_the_key():
    with pytest.raises(pulumi.ConfigMissingError, match="secrets-layout:stripeApiKey"):
        run_program("dev", secret_config={})


def test_main_stays_tiny_and_components_import_only_the_models():
    assert len([line for line in PROGRAM.read_text().splitlines() if line.strip()]) <= 20
    for module in sorted((ROOT / "components").glob("*.py")):
        tree = ast.parse(module.read_text())
        imported = {
            alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
        } | {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        ours = {name for name in imported if name.split(".")[0] == "secrets_layout"
                and not name.startswith("secrets_layout.components.")}
        assert ours <= {"secrets_layout.declaration.models"}, module.name
