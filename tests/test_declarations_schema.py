"""environments/schema.json: generated from the models, checked in, and true to the examples."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from secrets_layout.declaration.schema import schema_text

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_FILE = ROOT / "environments" / "schema.json"


def test_checked_in_schema_is_not_stale():
    assert SCHEMA_FILE.read_text() == schema_text(), (
        "environments/schema.json is stale: run `.venv/bin/secrets-layout schema > environments/schema.json`"
    )


@pytest.mark.parametrize("environment", ["dev", "staging", "prod", "shared-services"])
def test_examples_validate_against_the_schema(environment):
    document = yaml.safe_load((ROOT / "environments" / f"{environment}.yaml").read_text())
    jsonschema.Draft202012Validator(json.loads(schema_text())).validate(document)


@pytest.mark.parametrize(("field", "expected"), [
    (("properties", "security_account", "description"), 'The 12-digit ID of the account that holds the secrets, quoted: "111111111111".'),
    (("$defs", "Secret", "additionalProperties"), False),
    (("$defs", "Rotation", "properties", "every_days", "anyOf", 0, "maximum"), 1000),
])
def test_model_descriptions_and_limits_flow_into_the_schema(field, expected):
    node = json.loads(schema_text())
    for part in field:
        node = node[part]
    assert node == expected


def test_schema_rejects_what_the_models_reject():
    validator = jsonschema.Draft202012Validator(json.loads(schema_text()))
    assert not validator.is_valid({"environment": "prod", "security_account": "111111111111",
                                   "primary_region": "us-east-1", "colour": "blue"})
