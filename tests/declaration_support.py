"""Shared helpers for declaration tests: a small valid declaration and a way to collect issues."""

from __future__ import annotations

import textwrap

from secrets_layout.declaration.loader import LoadedDeclaration, parse_declaration
from secrets_layout.errors import DeclarationError, Issue

HEADER = """\
environment: prod
security_account: "111111111111"
primary_region: us-east-1
accounts:
  prod-app: "222222222222"
"""
"""Five lines; a case's own lines start at line 6."""

VALID_SECRET = """\
secrets:
  - name: prod/app/api-key
    kind: api-key
    value: {from_config: appApiKey}
    rotation: {function: api-key-rotator, every_days: 30, adapter: {type: http-api-key, create_url: "https://api.keys.example/v1/keys", verify_url: "https://api.keys.example/v1/keys/self"}}
    readers: [{account: prod-app, roles: [AppRole]}]
"""

VALID_ROTATION = VALID_SECRET.split("rotation: ", 1)[1].split("\n", 1)[0]
"""The rotation mapping of VALID_SECRET, to replace as a whole."""
PROD_ALERTS = """
alerts:
  topic:
    subscriptions:
      - {protocol: email, endpoint: secops@example.com}
"""
"""An `alerts:` block to append to environments/prod.yaml: a topic of the layout, one subscription."""
MYSQL_ROTATION = "{managed: rds-mysql-single-user, bootstrap: database-reads-secret, every_days: 30}"
"""A managed rotation for a generated database password, read by the database (rules: bootstrap)."""


def declaration(body: str, header: str = HEADER) -> str:
    return header + textwrap.dedent(body)


def issues_of(text: str, file: str = "env.yaml") -> list[Issue]:
    try:
        parse_declaration(text, file)
    except DeclarationError as error:
        return error.issues
    return []


def load(text: str, file: str = "env.yaml") -> LoadedDeclaration:
    return parse_declaration(text, file)
