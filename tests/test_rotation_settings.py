"""Where the rotation function's adapter and its settings come from, and what the event must hold. No servers."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

import rotation_support.lambda_code  # noqa: F401  (puts rotation/ on sys.path)

from adapters import AdapterSettings, ConfigurationError
from handler import RotationRequest, adapter_for
from http_api_key import ApiKeyValue, HttpApiKeyAdapter
from oauth2_client_credentials import OAuth2ClientCredentialsAdapter
from secret_versions import SecretState, issued_label

API = "https://keys.example.com"
ALLOW_API = {"ROTATION_ALLOWED_HOSTS": "keys.example.com"}
OAUTH2_TAG = {"rotation-adapter": "oauth2-client-credentials"}


def state_with(tags: dict[str, str]) -> SecretState:
    return SecretState(arn="arn:aws:secretsmanager:us-east-1:111111111111:secret:x", rotation_enabled=True,
                       tags=tags, stages_by_version={})


@pytest.mark.parametrize(
    ("tags", "environ", "expected"),
    [
        ({"rotation-scope": "from-tag"}, {"ROTATION_SCOPE": "from-env"}, "from-tag"),
        ({}, {"ROTATION_SCOPE": "from-env"}, "from-env"),
        ({"rotation-scope": "  "}, {"ROTATION_SCOPE": "from-env"}, "from-env"),
        ({}, {}, None),
    ],
    ids=["tag-wins", "environment", "blank-tag-ignored", "neither"],
)
def test_a_tag_wins_over_the_environment(tags, environ, expected):
    assert AdapterSettings(tags, environ).get("scope") == expected


def test_a_missing_setting_names_both_places_to_set_it():
    where = "set the secret tag rotation-token-url or the function variable ROTATION_TOKEN_URL"
    with pytest.raises(ConfigurationError, match=where):
        AdapterSettings({}, {}).require("token-url")


@pytest.mark.parametrize(
    ("url", "from_tag", "environ", "complaint"),
    [
        (f"{API}/v1/keys", False, {}, None),
        (f"{API}/v1/keys", True, ALLOW_API, None),
        ("http://127.0.0.1:8080/v1/keys", False, {}, None),
        ("http://localhost/v1/keys", False, {}, None),
        ("http://keys.example.com/v1/keys", False, {}, "must be an https URL"),
        ("https://user:pw@keys.example.com/v1/keys", False, {}, "must not carry credentials"),
        ("/v1/keys", False, {}, "not an absolute URL"),
        (f"{API}/v1/keys", True, {}, "not in the function variable ROTATION_ALLOWED_HOSTS"),
        ("https://attacker.example.net/collect", True, ALLOW_API, "names host attacker.example.net"),
    ],
)
def test_endpoint_urls(url, from_tag, environ, complaint):
    tags = {"rotation-create-url": url} if from_tag else {}
    settings = AdapterSettings(tags, {**environ, "ROTATION_CREATE_URL": url})
    if complaint is None:
        assert settings.url("create-url") == url
    else:
        with pytest.raises(ConfigurationError, match=complaint):
            settings.url("create-url")


@pytest.mark.parametrize(
    ("tags", "environ", "expected_type"),
    [
        ({"rotation-adapter": "http-api-key"}, {"ROTATION_ADAPTER": "oauth2-client-credentials"}, HttpApiKeyAdapter),
        ({}, {"ROTATION_ADAPTER": "oauth2-client-credentials"}, OAuth2ClientCredentialsAdapter),
    ],
)
def test_adapter_chosen_by_tag_then_environment(tags, environ, expected_type):
    environ = {
        **environ,
        "ROTATION_CREATE_URL": f"{API}/v1/keys",
        "ROTATION_VERIFY_URL": f"{API}/v1/whoami",
        "ROTATION_TOKEN_URL": f"{API}/oauth/token",
    }
    assert type(adapter_for(state_with(tags), environ)) is expected_type


def test_http_api_key_revokes_under_the_create_url_unless_told_otherwise():
    environ = {"ROTATION_CREATE_URL": f"{API}/v1/keys", "ROTATION_VERIFY_URL": f"{API}/v1/whoami"}
    assert HttpApiKeyAdapter.from_settings(AdapterSettings({}, environ)).revoke_url == f"{API}/v1/keys"
    environ["ROTATION_REVOKE_URL"] = f"{API}/v1/revoked-keys"
    assert HttpApiKeyAdapter.from_settings(AdapterSettings({}, environ)).revoke_url == f"{API}/v1/revoked-keys"


@pytest.mark.parametrize(
    ("tags", "environ", "complaint"),
    [
        ({}, {}, "missing setting 'adapter'"),
        ({"rotation-adapter": "ldap"}, {}, "unknown adapter 'ldap'"),
        ({"rotation-adapter": "http-api-key"}, {}, "missing setting 'create-url'"),
        (OAUTH2_TAG, {"ROTATION_TOKEN_URL": API, "ROTATION_CLIENT_AUTH": "jwt"}, "client-auth"),
        (OAUTH2_TAG, {"ROTATION_TOKEN_URL": API, "ROTATION_TIMEOUT_SECONDS": "soon"}, "not a number"),
    ],
)
def test_configuration_errors(tags, environ, complaint):
    with pytest.raises(ConfigurationError, match=complaint):
        adapter_for(state_with(tags), environ)


@pytest.mark.parametrize(
    ("secret_string", "api_key", "key_id"),
    [
        ("sk-plain", "sk-plain", None),
        ("12345", "12345", None),
        ('{"api_key": "sk-json", "key_id": 7}', "sk-json", "7"),
        ('{"api_key": "sk-json"}', "sk-json", None),
    ],
)
def test_api_key_value_shapes(secret_string, api_key, key_id):
    value = ApiKeyValue.parse(secret_string)
    assert (value.api_key, value.key_id) == (api_key, key_id)


@pytest.mark.parametrize("secret_string", ["", '{"key": "sk-json"}', '{"api_key": ""}'])
def test_api_key_value_rejects_unusable_values_without_quoting_them(secret_string):
    with pytest.raises(ValueError) as raised:
        ApiKeyValue.parse(secret_string)
    assert "sk-json" not in str(raised.value)


def test_replacing_a_key_keeps_the_shape():
    assert ApiKeyValue.parse("sk-old").replaced_by("sk-new", "k2") == "sk-new"
    replaced = ApiKeyValue.parse('{"api_key": "sk-old", "key_id": "k1", "region": "eu"}').replaced_by("sk-new", None)
    assert json.loads(replaced) == {"api_key": "sk-new", "region": "eu"}, "a stale key_id must not outlive its key"


@pytest.mark.parametrize(
    ("event", "complaint"),
    [
        ({"ClientRequestToken": "t" * 36, "Step": "createSecret"}, "no string 'SecretId'"),
        ({"SecretId": "s", "Step": "createSecret"}, "no string 'ClientRequestToken'"),
        ({"SecretId": "s", "ClientRequestToken": "t" * 36, "Step": "create_secret"}, "unknown rotation step"),
    ],
)
def test_malformed_events_are_refused(event, complaint):
    with pytest.raises(ValueError, match=complaint):
        RotationRequest.from_event(event)


def test_the_rotation_token_is_kept_but_never_printed():
    request = RotationRequest.from_event(
        {"SecretId": "s", "ClientRequestToken": "t" * 36, "Step": "finishSecret", "RotationToken": "rt-secret"}
    )
    assert request.rotation_token == "rt-secret" and "rt-secret" not in repr(request)


# --- how long a new credential may take to be accepted (rotation/README.md, "A provider that takes time") ---


@pytest.mark.parametrize(
    ("tags", "environ", "expected"),
    [
        ({}, {}, 300.0),
        ({}, {"ROTATION_VERIFY_GRACE_SECONDS": "30"}, 30.0),
        ({"rotation-verify-grace-seconds": "90"}, {"ROTATION_VERIFY_GRACE_SECONDS": "30"}, 90.0),
        ({"rotation-verify-grace-seconds": "0"}, {}, 0.0),
        ({}, {"ROTATION_VERIFY_GRACE_SECONDS": "3600"}, 3600.0),
        ({}, {"ROTATION_VERIFY_GRACE_SECONDS": "2.5"}, 2.5),
    ],
    ids=["default", "environment", "tag-wins", "zero-gives-up-at-once", "upper-bound", "fraction"],
)
def test_verify_grace_seconds(tags, environ, expected):
    assert AdapterSettings(tags, environ).verify_grace_seconds() == expected


@pytest.mark.parametrize(
    ("value", "complaint"),
    [
        ("soon", "setting 'verify-grace-seconds' is not a number: 'soon'"),
        ("-1", "setting 'verify-grace-seconds' must be from 0 to 3600 seconds"),
        ("3601", "setting 'verify-grace-seconds' must be from 0 to 3600 seconds"),
        ("nan", "setting 'verify-grace-seconds' must be from 0 to 3600 seconds"),
        ("inf", "setting 'verify-grace-seconds' must be from 0 to 3600 seconds"),
    ],
)
def test_verify_grace_seconds_out_of_bounds(value, complaint):
    with pytest.raises(ConfigurationError) as raised:
        AdapterSettings({}, {"ROTATION_VERIFY_GRACE_SECONDS": value}).verify_grace_seconds()
    assert str(raised.value) == complaint


@pytest.mark.parametrize(
    ("stored_at", "label"),
    [
        (datetime(2025, 1, 31, 12, 0, 0, tzinfo=timezone.utc), "ISSUED-AT-20250131T120000Z"),
        (datetime(2025, 1, 31, 12, 0, 0, 1, tzinfo=timezone.utc), "ISSUED-AT-20250131T120001Z"),
        (datetime(2025, 1, 31, 13, 0, 0, tzinfo=timezone(timedelta(hours=1))), "ISSUED-AT-20250131T120000Z"),
    ],
    ids=["whole-second", "rounded-up-so-the-grace-period-is-never-shorter", "in-utc"],
)
def test_the_stored_time_label(stored_at, label):
    assert issued_label(stored_at) == label
    state = SecretState(arn="arn:aws:secretsmanager:us-east-1:111111111111:secret:x", rotation_enabled=True, tags={},
                        stages_by_version={"v1": frozenset({"AWSPENDING", label})})
    assert stored_at <= state.stored_at("v1") < stored_at + timedelta(seconds=1)


@pytest.mark.parametrize("labels", [{"AWSPENDING"}, {"AWSPENDING", "ISSUED-AT-yesterday"}, {"ISSUED-AT-20251331T120000Z"}])
def test_a_version_without_a_readable_stored_time_has_none(labels):
    state = SecretState(arn="arn:aws:secretsmanager:us-east-1:111111111111:secret:x", rotation_enabled=True, tags={},
                        stages_by_version={"v1": frozenset(labels)})
    assert state.stored_at("v1") is None and state.issued_labels() == []
