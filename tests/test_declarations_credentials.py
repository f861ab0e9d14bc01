"""No secret values in git: credential-looking literals are rejected, and never echoed."""

from __future__ import annotations

import pytest

from declaration_support import MYSQL_ROTATION, VALID_ROTATION, VALID_SECRET, declaration, issues_of
from secrets_layout.declaration.credentials import credential_findings, is_credential_key

FIX = ("secret values never go into git: use value.generate, value.from_config "
       "(pulumi config set --secret) or value.external")

LOOKS_LIKE_A_CREDENTIAL = [
    pytest.param("value", "sk_live_4eC39HqLyjWDarjtT1zdp7dc", ["Base64 High Entropy String", "Stripe Access Key"], id="stripe"),
    pytest.param("value", "AKIAIOSFODNN7EXAMPLE", ["AWS Access Key"], id="aws-access-key"),
    pytest.param("value", "ghp_abcdefghijklmnopqrstuvwxyz0123456789", ["Base64 High Entropy String", "GitHub Token"], id="github"),
    pytest.param("value", "postgres://admin:hunter2@db.internal/app", ["Basic Auth Credentials"], id="url-with-password"),
    pytest.param("value", "8f14e45fceea167a5a36dedd4bea2543", ["Hex High Entropy String"], id="hex-entropy"),
    pytest.param("password", "hunter2", ["credential field name", "Secret Keyword"], id="password-key"),
    pytest.param("db_password", 12345678, ["credential field name"], id="password-key-number"),
    pytest.param("stripe-api-key", "x", ["credential field name"], id="api-key-name"),
    pytest.param("client_secret", "abc", ["credential field name"], id="client-secret"),
]

HARMLESS = [
    pytest.param("host", "prod-db.internal", id="hostname"),
    pytest.param("engine", "postgres", id="engine"),
    pytest.param("port", 5432, id="number"),
    pytest.param("password_length", "32", id="name-about-a-password"),
    pytest.param("masterarn", "arn:aws:secretsmanager:us-east-1:111111111111:secret:prod/db/master-AbCdEf", id="arn"),
    pytest.param("subnet", "subnet-0a1b2c3d", id="subnet-id"),
    pytest.param("tenant", "123e4567-e89b-12d3-a456-426614174000", id="uuid"),
    pytest.param("url", "https://api.stripe.com/v1", id="url"),
    pytest.param("password", "", id="empty-password"),
    pytest.param("token", None, id="null-token"),
]


@pytest.mark.parametrize(("key", "value", "detectors"), LOOKS_LIKE_A_CREDENTIAL)
def test_credentials_are_detected(key, value, detectors):
    assert credential_findings([(key, value)]) == [detectors]


@pytest.mark.parametrize(("key", "value"), HARMLESS)
def test_harmless_literals_pass(key, value):
    assert credential_findings([(key, value)]) == [[]]


@pytest.mark.parametrize(("key", "expected"), [
    ("password", True), ("PASSWORD", True), ("db-passwd", True), ("apiKey", True), ("api_key", True),
    ("/prod/app/token", True), ("private_key", True), ("credentials", True),
    ("password_length", False), ("secret_name", False), ("token_url", False), ("username", False),
])
def test_credential_key_names(key, expected):
    assert is_credential_key(key) is expected


PLACES = [
    pytest.param(
        declaration(VALID_SECRET.replace("kind: api-key", "kind: database")
                    .replace("{from_config: appApiKey}", "{generate: {key: password}, template: {username: admin, engine: mysql, host: db.internal, api_token: SECRETVALUE}}")
                    .replace(VALID_ROTATION, MYSQL_ROTATION)),
        "secrets[0].value.template.api_token", 9, id="template",
    ),
    pytest.param(declaration(VALID_SECRET + "    tags: {note: SECRETVALUE}\n"), "secrets[0].tags.note", 12, id="secret-tag"),
    pytest.param(declaration(VALID_SECRET + "parameters:\n  - {name: /prod/app/endpoint, value: SECRETVALUE}\n"),
                 "parameters[0].value", 13, id="parameter"),
    pytest.param(declaration(VALID_SECRET + "parameters:\n  - {name: /prod/app/db-password, value: hunter2}\n"),
                 "parameters[0].value", 13, id="parameter-named-password"),
    pytest.param(declaration(VALID_SECRET + "parameters:\n  - {name: /prod/app/x, value: a, tags: {k: SECRETVALUE}}\n"),
                 "parameters[0].tags.k", 13, id="parameter-tag"),
]
SECRET_VALUE = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"


@pytest.mark.parametrize(("text", "path", "line"), PLACES)
def test_a_credential_literal_is_rejected_without_echoing_it(text, path, line):
    issues = issues_of(text.replace("SECRETVALUE", SECRET_VALUE))
    assert [(issue.line, issue.path) for issue in issues] == [(line, path)]
    assert issues[0].message.startswith("this looks like a credential (")
    assert issues[0].message.endswith(FIX)
    assert SECRET_VALUE not in issues[0].message and "hunter2" not in issues[0].message


def test_a_credential_in_default_tags_is_reported_once_at_defaults():
    text = declaration("defaults:\n  tags: {note: SECRETVALUE}\n" + VALID_SECRET + VALID_SECRET.split("\n", 1)[1].replace("prod/app/api-key", "prod/app/other-key"))
    issues = issues_of(text.replace("SECRETVALUE", SECRET_VALUE))
    assert [(issue.line, issue.path) for issue in issues] == [(7, "defaults.tags.note")]


def test_credentials_are_reported_together_with_other_mistakes():
    text = declaration(VALID_SECRET.replace("every_days: 30", "every_days: 0") + "    tags: {note: SECRETVALUE}\n")
    issues = issues_of(text.replace("SECRETVALUE", SECRET_VALUE))
    assert [issue.path for issue in issues] == ["secrets[0].rotation.every_days", "secrets[0].tags.note"]


IN_FREE_TEXT = [
    # A token among words: detect-secrets' Slack plugin fires on `xox[bpoas]-...` anywhere in the line.
    pytest.param("token xoxb-1-a here", ["Slack Token"], id="slack-token-among-words"),
    pytest.param(f"the key is {SECRET_VALUE} for now", ["Stripe Access Key"], id="stripe-key-among-words"),
]


@pytest.mark.parametrize(("description", "detector"), IN_FREE_TEXT)
def test_a_credential_in_a_description_is_reported_whatever_surrounds_it(description, detector):
    """Free text gets every finding the plugins give on it (a description is stored in AWS as it is)."""
    text = declaration(VALID_SECRET + f"    description: {description}\n")
    issues = issues_of(text)
    assert [(issue.line, issue.path) for issue in issues] == [(12, "secrets[0].description")]
    assert all(name in issues[0].message for name in detector)
    assert "xoxb-1-a" not in issues[0].message and SECRET_VALUE not in issues[0].message


def test_a_harmless_description_passes():
    assert issues_of(declaration(VALID_SECRET + "    description: Stripe key of the billing service, rotated monthly\n")) == []
