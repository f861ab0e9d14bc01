"""What a rotation must declare so that it works in AWS: the bundled function's adapter, a managed
database rotation's bootstrap and the JSON fields AWS's database functions read (issue 9, findings 3, 4).

Every case is located (line, field path) and says how to fix it.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

import rotation_support.lambda_code  # noqa: F401  (puts rotation/ on sys.path)

from adapters import AdapterSettings, ConfigurationError, check_url
from handler import adapter_for
from http_api_key import HttpApiKeyAdapter
from oauth2_client_credentials import OAuth2ClientCredentialsAdapter
from secret_versions import SecretState

from secrets_layout.components.rotation import function_environment
from secrets_layout.components.rotation_settings import bundled_rotation_groups
from secrets_layout.components.secret_settings import adapter_tags, secret_tags
from declaration_support import HEADER, declaration, issues_of, load
from secrets_layout.declaration.loader import load_declaration
from secrets_layout.declaration.models import ADAPTER_MODELS, ENDPOINT_PATTERN
from secrets_layout.declaration.models import HttpApiKeyAdapter as HttpApiKeyAdapter_model

ROOT = Path(__file__).resolve().parent.parent
TAG_VALUE = re.compile(r"^[\w\s.:/=+\-@]*$")
"""The tag value alphabet of secrets_layout.declaration.models.TagValue (AWS's tag restrictions)."""
ENVIRONMENTS = sorted((ROOT / "environments").glob("*.yaml"))

API_KEY_SECRET = """\
secrets:
  - name: prod/app/api-key
    kind: api-key
    value: {from_config: appApiKey}
    rotation:
      function: api-key-rotator
      every_days: 30
      adapter:
        type: http-api-key
        create_url: https://api.keys.example/v1/keys
        verify_url: https://api.keys.example/v1/keys/self
"""
"""Lines 6-16; the adapter's type is on line 14."""

DATABASE_SECRET = """\
secrets:
  - name: prod/db/credentials
    kind: database
    value:
      generate: {key: password}
      template: {username: app, engine: postgres, host: db.internal, port: 5432, dbname: app}
    rotation:
      managed: rds-postgresql-single-user
      bootstrap: database-reads-secret
      every_days: 30
"""
"""Lines 6-15: template on line 11, managed on line 13, bootstrap on line 14."""

FIX_ADAPTER = (
    "function: api-key-rotator needs to know the provider it rotates with; add adapter: "
    "{type: http-api-key, create_url: https://..., verify_url: https://...} or "
    "{type: oauth2-client-credentials, token_url: https://...} (rotation/README.md lists the settings)"
)
BAD_URL = (
    "must be an https URL of at most 256 characters made of letters, digits and _.:/=+- "
    "(e.g. https://api.provider.example/v1/keys): no http (the credential would travel in clear text), "
    "no user:password@, no ?query or #fragment (the URL travels as a tag value)"
)
NEEDS_BOOTSTRAP = (
    "the password is generated here, so the database does not know it: readers would get a credential the "
    "database rejects and the first rotation would fail to sign in. Add bootstrap: database-reads-secret "
    "(the database's own stack sets its password from this secret, see examples/database-stack), or put the "
    "database's real password with value: {from_config: NAME} or value: {external: true}"
)


def only_issue(text: str) -> tuple[int, str, str]:
    issues = issues_of(text)
    assert len(issues) == 1, [issue.format() if hasattr(issue, "format") else issue for issue in issues]
    return issues[0].line, issues[0].path, issues[0].message


INVALID = [
    pytest.param(
        declaration(API_KEY_SECRET.replace("      adapter:\n        type: http-api-key\n        create_url: https://api.keys.example/v1/keys\n        verify_url: https://api.keys.example/v1/keys/self\n", "")),
        11, "secrets[0].rotation.function", FIX_ADAPTER, id="bundled-function-without-adapter",
    ),
    pytest.param(
        declaration(API_KEY_SECRET.replace("create_url: https://", "create_url: http://")),
        15, "secrets[0].rotation.adapter.create_url", BAD_URL, id="plain-http-endpoint",
    ),
    pytest.param(
        declaration(API_KEY_SECRET.replace("/v1/keys/self", "/v1/keys?self=1")),
        16, "secrets[0].rotation.adapter.verify_url", BAD_URL, id="query-in-endpoint",
    ),
    pytest.param(
        declaration(API_KEY_SECRET.replace("https://api.keys", "https://user:pw@api.keys", 1)),
        15, "secrets[0].rotation.adapter.create_url", BAD_URL, id="credentials-in-endpoint",
    ),
    pytest.param(
        declaration(API_KEY_SECRET.replace("        verify_url: https://api.keys.example/v1/keys/self\n", "")),
        14, "secrets[0].rotation.adapter.verify_url",
        "required field 'verify_url' is missing; add it — GET with a key as bearer: 2xx when it works; its JSON "
        "names the key id.",
        id="http-api-key-without-verify-url",
    ),
    pytest.param(
        declaration(API_KEY_SECRET.replace("type: http-api-key", "type: ldap")),
        14, "secrets[0].rotation.adapter",
        "adapter needs type: http-api-key (create_url, verify_url) or oauth2-client-credentials (token_url); it gives 'ldap'",
        id="unknown-adapter-type",
    ),
    pytest.param(
        declaration(API_KEY_SECRET.replace("kind: api-key", "kind: oauth-token\n    format: json")
                    .replace("type: http-api-key", "type: oauth2-client-credentials")
                    .replace("verify_url: https://api.keys.example/v1/keys/self", "token_url: https://auth.keys.example/token")),
        16, "secrets[0].rotation.adapter.create_url",
        "unknown field 'create_url'; did you mean 'revoke_url'? allowed fields: client_auth, revoke_url, scope, timeout_seconds, token_url, type, verify_grace_seconds, verify_url",
        id="endpoint-of-another-adapter",
    ),
    pytest.param(
        declaration(API_KEY_SECRET.replace("function: api-key-rotator", 'lambda_arn: "arn:aws:lambda:us-east-1:111111111111:function:rotator"')),
        14, "secrets[0].rotation.adapter",
        "adapter configures the bundled function: api-key-rotator; managed: and lambda_arn: functions take no adapter: remove it",
        id="adapter-with-lambda-arn",
    ),
    pytest.param(
        declaration(API_KEY_SECRET.replace("type: http-api-key\n        create_url: https://api.keys.example/v1/keys\n        verify_url",
                                           "type: oauth2-client-credentials\n        token_url: https://auth.keys.example/token\n        verify_url")),
        14, "secrets[0].rotation.adapter.type",
        "an oauth2-client-credentials secret is a JSON object (client_id, client_secret, access_token, expires_at); set format: json",
        id="oauth2-needs-json",
    ),
    pytest.param(
        declaration(API_KEY_SECRET + "    tags: {rotation-create-url: https://elsewhere.example/keys}\n"),
        17, "secrets[0].tags.rotation-create-url",
        "rotation-* tags are the api-key-rotator's settings, which the layout writes from rotation.adapter (so they "
        "are reviewed in git); move the setting into rotation.adapter and remove the tag",
        id="hand-written-rotation-tag",
    ),
    pytest.param(
        declaration(DATABASE_SECRET.replace("      bootstrap: database-reads-secret\n", "")),
        13, "secrets[0].rotation.managed", NEEDS_BOOTSTRAP, id="generated-password-without-bootstrap",
    ),
    pytest.param(
        declaration(DATABASE_SECRET.replace("value:\n      generate: {key: password}\n      template: {username: app, engine: postgres, host: db.internal, port: 5432, dbname: app}",
                                            "value: {external: true}")),
        12, "secrets[0].rotation.bootstrap",
        "bootstrap goes with a generated value; from_config and external values already are the database's password: remove it",
        id="bootstrap-without-generated-value",
    ),
    pytest.param(
        declaration(DATABASE_SECRET.replace("engine: postgres", "engine: postgresql")),
        11, "secrets[0].value.template.engine",
        "rds-postgresql-single-user rotation refuses a secret whose engine is not postgres or aurora-postgresql; "
        "set engine: postgres in value.template",
        id="engine-the-function-refuses",
    ),
    pytest.param(
        declaration(DATABASE_SECRET.replace(" host: db.internal,", "")),
        11, "secrets[0].value.template",
        "rds-postgresql-single-user rotation reads host (where and as whom it signs in) from the secret; add host: "
        "<text> to value.template",
        id="template-without-host",
    ),
    pytest.param(
        declaration(DATABASE_SECRET.replace("rds-postgresql-single-user", "rds-oracle-single-user")
                    .replace("engine: postgres", "engine: oracle").replace(", dbname: app", "")),
        11, "secrets[0].value.template",
        "rds-oracle-single-user rotation reads dbname (the Oracle service name) from the secret; add dbname: <text> "
        "to value.template",
        id="oracle-without-service-name",
    ),
    pytest.param(
        declaration(DATABASE_SECRET.replace("port: 5432", "port: 99999")),
        11, "secrets[0].value.template.port",
        "port is the database's TCP port, a whole number from 1 to 65535; fix it or remove it (the engine's default "
        "port is used)",
        id="port-out-of-range",
    ),
    pytest.param(
        declaration(DATABASE_SECRET.replace("{key: password}", "{key: secret}")),
        10, "secrets[0].value.generate.key",
        "AWS's rds-postgresql-single-user function reads and writes the password under the JSON key 'password'; "
        "set generate.key: password",
        id="password-under-another-key",
    ),
]


@pytest.mark.parametrize(("text", "line", "path", "message"), INVALID)
def test_invalid_rotation_declarations(text, line, path, message):
    assert only_issue(text) == (line, path, message)


@pytest.mark.parametrize("text", [
    pytest.param(declaration(API_KEY_SECRET), id="http-api-key"),
    pytest.param(declaration(DATABASE_SECRET), id="generated-database-password-read-by-the-database"),
    pytest.param(declaration(DATABASE_SECRET.replace("value:\n      generate: {key: password}\n      template: {username: app, engine: postgres, host: db.internal, port: 5432, dbname: app}",
                                                     "value: {from_config: dbCredentials}").replace("      bootstrap: database-reads-secret\n", "")),
                 id="database-password-from-config-needs-no-bootstrap"),
    pytest.param(declaration(DATABASE_SECRET.replace("engine: postgres", "engine: aurora-postgresql")), id="aurora-postgresql"),
])
def test_valid_rotation_declarations(text):
    assert issues_of(text) == []


def test_an_adapter_in_defaults_goes_when_a_secret_picks_another_function():
    text = HEADER + """\
defaults:
  rotation:
    every_days: 30
    function: api-key-rotator
    adapter: {type: http-api-key, create_url: "https://a.example/k", verify_url: "https://a.example/k/self"}
secrets:
  - name: prod/app/partner-key
    kind: api-key
    value: {from_config: partnerKey}
    rotation: {adapter: {type: http-api-key, create_url: "https://b.example/k", verify_url: "https://b.example/k/self"}}
  - name: prod/app/legacy-key
    kind: api-key
    value: {external: true}
    rotation: {lambda_arn: "arn:aws:lambda:us-east-1:111111111111:function:legacy"}
"""
    first, second = load(text).declaration.secrets
    # A secret's own adapter replaces the inherited one and keeps the inherited function...
    assert first.rotation.function is not None and first.rotation.adapter.create_url == "https://b.example/k"
    # ...and a secret with another function drops the inherited adapter with the inherited function.
    assert second.rotation.adapter is None and second.rotation.function is None


def test_the_adapter_reaches_the_function_as_tags():
    secret = load(declaration(API_KEY_SECRET.replace(
        "verify_url: https://api.keys.example/v1/keys/self\n",
        "verify_url: https://api.keys.example/v1/keys/self\n        revoke_url: https://api.keys.example/v1/revoked\n"
        "        response_key_field: secret\n        timeout_seconds: 20\n        verify_grace_seconds: 90\n"
    ))).declaration.secrets[0]
    assert adapter_tags(secret) == {
        "rotation-adapter": "http-api-key",
        "rotation-create-url": "https://api.keys.example/v1/keys",
        "rotation-verify-url": "https://api.keys.example/v1/keys/self",
        "rotation-revoke-url": "https://api.keys.example/v1/revoked",
        "rotation-response-key-field": "secret",
        "rotation-timeout-seconds": "20",
        "rotation-verify-grace-seconds": "90",
    }
    assert adapter_tags(secret).items() <= secret_tags(secret, "prod").items()
    assert AdapterSettings(secret_tags(secret, "prod"), {}).verify_grace_seconds() == 90


@pytest.mark.parametrize("adapter_type", ["http-api-key", "oauth2-client-credentials"])
@pytest.mark.parametrize("grace", [-1, 0, 300, 3600, 3601])
def test_the_declared_grace_period_is_one_the_function_accepts(adapter_type, grace):
    """`verify_grace_seconds` in the declaration and the function's own bounds (rotation/adapters.py)."""
    endpoints = {"http-api-key": {"create_url": "https://k.example/keys", "verify_url": "https://k.example/self"},
                 "oauth2-client-credentials": {"token_url": "https://k.example/token"}}[adapter_type]
    model = ADAPTER_MODELS[adapter_type]
    try:
        model.model_validate({"type": adapter_type, **endpoints, "verify_grace_seconds": grace})
        declared = True
    except ValidationError:
        declared = False
    try:
        AdapterSettings({"rotation-verify-grace-seconds": str(grace)}, {}).verify_grace_seconds()
        accepted = True
    except ConfigurationError:
        accepted = False
    assert declared is accepted is (0 <= grace <= 3600)


def bundled_secrets(path):
    declaration = load_declaration(path).declaration
    return [secret for secret in declaration.secrets if secret.rotates and secret.rotation.function is not None]


@pytest.mark.parametrize("path", ENVIRONMENTS, ids=lambda path: path.stem)
def test_the_function_accepts_what_every_example_declares(path):
    """The function's own settings code (rotation/handler.py adapter_for) is the judge: each example
    secret's tags and the function environment the layout deploys must build its adapter, URLs
    allowed by ROTATION_ALLOWED_HOSTS included."""
    secrets = bundled_secrets(path)
    assert secrets, f"{path.name} has no api-key-rotator secret"
    groups = {name: group for group in bundled_rotation_groups(secrets) for name in group.secret_names}
    expected = {"http-api-key": HttpApiKeyAdapter, "oauth2-client-credentials": OAuth2ClientCredentialsAdapter}
    for secret in secrets:
        environ = function_environment("us-east-1", groups[secret.name].allowed_hosts)
        state = SecretState(arn=f"arn:aws:secretsmanager:us-east-1:111111111111:secret:{secret.name}-AbCdEf",
                            rotation_enabled=True, tags=secret_tags(secret, path.stem), stages_by_version={})
        adapter = adapter_for(state, environ)
        assert type(adapter) is expected[secret.rotation.adapter.type]
        assert AdapterSettings(state.tags, environ).timeout_seconds() > 0
        assert AdapterSettings(state.tags, environ).verify_grace_seconds() >= 0


@settings(max_examples=200, deadline=None)
@given(st.from_regex(ENDPOINT_PATTERN, fullmatch=True) | st.text(max_size=80))
def test_every_endpoint_the_declaration_accepts_is_one_the_function_accepts_from_a_tag(url):
    """The declaration's endpoint check against the function's own (rotation/adapters.py check_url) and
    AWS's tag value alphabet: an endpoint that validates must work as a rotation-*-url tag."""
    try:
        HttpApiKeyAdapter_model.model_validate({"type": "http-api-key", "create_url": url, "verify_url": url})
    except ValidationError:
        return
    host = urlsplit(url).hostname
    check_url("create-url", url, from_tag=True, allowed_hosts=frozenset({host}))
    assert TAG_VALUE.match(url) and len(url) <= 256
