"""The two file kinds of an environment folder have their own JSON Schemas, generated from the models:
environments/schema.json (a declaration, and a folder's _environment.yaml) and
environments/team-file.schema.json (a team's file: secrets and parameters only)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from cli_support import ROOT, run_main
from folder_support import SETTINGS_FILE, split_declaration
from secrets_layout.declaration.folder import TEAM_FILE_SCHEMA, TEAM_SECTIONS
from secrets_layout.declaration.schema import schema_text

TEAM_SCHEMA_FILE = ROOT / "environments" / TEAM_FILE_SCHEMA


def test_checked_in_team_file_schema_is_not_stale():
    assert TEAM_SCHEMA_FILE.read_text() == schema_text("team-file"), (
        "environments/team-file.schema.json is stale: run "
        "`.venv/bin/secrets-layout schema --file-kind team-file > environments/team-file.schema.json`")


def test_the_cli_prints_the_schema_of_each_file_kind():
    for kind, file in (("declaration", "schema.json"), ("team-file", TEAM_FILE_SCHEMA)):
        result = run_main("schema", "--file-kind", kind)
        assert (result.returncode, result.stdout) == (0, (ROOT / "environments" / file).read_text())


def test_a_team_file_holds_what_the_loader_merges_and_shares_the_item_schemas():
    team, declaration = json.loads(schema_text("team-file")), json.loads(schema_text())
    assert sorted(team["properties"]) == sorted(TEAM_SECTIONS)
    assert team["additionalProperties"] is False
    for section in TEAM_SECTIONS:
        assert team["properties"][section] == declaration["properties"][section]
    assert team["$defs"]["Secret"] == declaration["$defs"]["Secret"]


@pytest.mark.parametrize("environment", ["dev", "prod", "shared-services", "staging"])
def test_each_split_example_validates_against_its_file_kinds_schema(tmp_path, environment):
    folder = split_declaration(ROOT / "environments" / f"{environment}.yaml", tmp_path / environment, settings_keeps=1)
    validators = {"declaration": jsonschema.Draft202012Validator(json.loads(schema_text())),
                  "team-file": jsonschema.Draft202012Validator(json.loads(schema_text("team-file")))}
    for file in sorted(folder.glob("*.yaml")):
        kind = "declaration" if file.name == SETTINGS_FILE else "team-file"
        validators[kind].validate(yaml.safe_load(file.read_text()))


@pytest.mark.parametrize("document", [
    pytest.param({"defaults": {"protect": True}}, id="defaults"),
    pytest.param({"environment": "prod"}, id="a-setting"),
    pytest.param({"secrets": {"name": "prod/a/b"}}, id="secrets-not-a-list"),
])
def test_the_team_file_schema_rejects_what_the_loader_rejects(document):
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(json.loads(schema_text("team-file"))).validate(document)
