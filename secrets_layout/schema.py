"""The JSON Schema of environments/<env>.yaml, generated from the models (never written by hand)."""

from __future__ import annotations

import json

from secrets_layout.models import Declaration

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def declaration_schema() -> dict:
    schema = Declaration.model_json_schema()
    return {"$schema": SCHEMA_DIALECT, "title": "secrets-layout declaration", **schema}


def schema_text() -> str:
    """What `secrets-layout schema` prints and environments/schema.json holds, byte for byte."""
    return json.dumps(declaration_schema(), indent=2, sort_keys=True) + "\n"
