"""The JSON Schemas of a declaration, generated from the models (never written by hand).

- environments/schema.json: a declaration file, environments/<env>.yaml, and the settings file of an
  environment folder, environments/<env>/_environment.yaml (the same shape);
- environments/team-file.schema.json: a team's file of an environment folder (secrets and parameters).
"""

from __future__ import annotations

import json

from secrets_layout.declaration.models import Declaration, TeamFile

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def declaration_schema() -> dict:
    schema = Declaration.model_json_schema()
    return {"$schema": SCHEMA_DIALECT, "title": "secrets-layout declaration", **schema}


def team_file_schema() -> dict:
    schema = TeamFile.model_json_schema()
    return {"$schema": SCHEMA_DIALECT, "title": "secrets-layout team file of an environment folder", **schema}


SCHEMAS = {"declaration": declaration_schema, "team-file": team_file_schema}
"""`secrets-layout schema --file-kind KIND` -> the schema."""


def schema_text(kind: str = "declaration") -> str:
    """What `secrets-layout schema` prints and environments/schema.json (or, for "team-file",
    environments/team-file.schema.json) holds, byte for byte."""
    return json.dumps(SCHEMAS[kind](), indent=2, sort_keys=True) + "\n"
