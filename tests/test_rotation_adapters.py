"""The provider adapters against a local fake provider over HTTP, without Secrets Manager."""

from __future__ import annotations

import json
import socket
from datetime import datetime, timedelta, timezone

import pytest

import rotation_support.lambda_code  # noqa: F401  (puts rotation/ on sys.path)
from rotation_support.provider_fixtures import provider, provider_server  # noqa: F401  (fixtures)
from rotation_support.fake_provider import FakeProvider, IssuedKey, ScriptedAnswer

from adapters import AnswerUnusable, ProviderError
from http_api_key import ApiKeyValue, HttpApiKeyAdapter
from oauth2_client_credentials import OAuth2ClientCredentialsAdapter

pytestmark = pytest.mark.slow


def api_keys(provider: FakeProvider, **overrides) -> HttpApiKeyAdapter:
    endpoints = {"create_url": f"{provider.base_url}/v1/keys", "verify_url": f"{provider.base_url}/v1/whoami"}
    endpoints["revoke_url"] = endpoints["create_url"]
    return HttpApiKeyAdapter(**{**endpoints, **overrides})


def stored(key: IssuedKey, shape: str) -> str:
    """The key as a secret value of the given shape."""
    return key.api_key if shape == "plaintext" else json.dumps({"api_key": key.api_key, "key_id": key.key_id})


def oauth2(provider: FakeProvider, **overrides) -> OAuth2ClientCredentialsAdapter:
    settings = {
        "token_url": f"{provider.base_url}/oauth/token",
        "verify_url": f"{provider.base_url}/oauth/me",
        "revoke_url": f"{provider.base_url}/oauth/revoke",
    }
    return OAuth2ClientCredentialsAdapter(**{**settings, **overrides})


def oauth2_value(provider: FakeProvider, **fields) -> str:
    client_id, client_secret = provider.add_client()
    return json.dumps({"client_id": client_id, "client_secret": client_secret, **fields})


# --- http-api-key -------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", ["plaintext", "json"])
def test_api_key_lifecycle(provider, shape):
    adapter = api_keys(provider)
    old = provider.add_key()
    old_value = stored(old, shape)

    new_value = adapter.issue(old_value)
    adapter.verify(new_value)
    adapter.revoke(old_value, new_value)

    new = ApiKeyValue.parse(new_value)
    assert provider.active_keys() == {new.api_key}
    assert new.key_id == (None if shape == "plaintext" else next(iter(set(provider.keys) - {old.key_id})))
    with pytest.raises(ProviderError, match=r"verify: http://127\.0\.0\.1:\d+/v1/whoami answered HTTP 401"):
        adapter.verify(old_value)


@pytest.mark.parametrize("shape", ["plaintext", "json"])
def test_revoking_an_already_revoked_key_succeeds(provider, shape):
    adapter = api_keys(provider)
    current, retired = provider.add_key(), provider.add_key()
    retired_value = stored(retired, shape)
    adapter.revoke(retired_value, current.api_key)
    calls_after_first = sum(provider.calls.values())

    adapter.revoke(retired_value, current.api_key)

    assert not provider.key_is_active(retired.api_key) and provider.key_is_active(current.api_key)
    assert sum(provider.calls.values()) == calls_after_first + 1, "one request: identify (401) or revoke (404)"


@pytest.mark.parametrize(
    ("answer_field", "stored_key_field"),
    [("api_key", "api_key"), ("secret", None)],
    ids=["configured-field-present", "configured-field-missing"],
)
def test_issue_reads_the_configured_answer_field(provider, answer_field, stored_key_field):
    adapter = api_keys(provider, response_key_field=answer_field)
    current = provider.add_key().api_key
    if stored_key_field is None:
        with pytest.raises(ProviderError, match="no non-empty string field 'secret'"):
            adapter.issue(current)
    else:
        assert provider.key_is_active(adapter.issue(current))


def test_provider_errors_carry_no_credential_and_no_answer_body(provider):
    adapter = api_keys(provider)
    current = provider.add_key().api_key
    provider.fail("issue", status=503)

    with pytest.raises(ProviderError) as raised:
        adapter.issue(current)

    message = str(raised.value)
    assert message.startswith("create: http://127.0.0.1:") and message.endswith("/v1/keys answered HTTP 503")
    assert current not in message and current not in repr(raised.value)


def test_redirects_are_not_followed_with_the_credential(provider):
    adapter = api_keys(provider, verify_url=f"{provider.base_url}/v1/moved")
    key = provider.add_key().api_key

    with pytest.raises(ProviderError, match="answered HTTP 302"):
        adapter.verify(key)

    assert provider.calls["verify"] == 0, "the redirect target never saw the key"


def test_an_unreachable_provider_is_a_provider_error():
    with socket.socket() as placeholder:
        placeholder.bind(("127.0.0.1", 0))
        closed_port = placeholder.getsockname()[1]
    adapter = HttpApiKeyAdapter(
        create_url=f"http://127.0.0.1:{closed_port}/v1/keys?debug=1",
        verify_url=f"http://127.0.0.1:{closed_port}/v1/whoami",
        revoke_url=f"http://127.0.0.1:{closed_port}/v1/keys",
        timeout_seconds=2,
    )

    with pytest.raises(ProviderError, match=rf"create: cannot reach http://127\.0\.0\.1:{closed_port}/v1/keys: "):
        adapter.issue("sk-anything")


def test_api_key_values_never_show_the_key_in_their_repr():
    value = ApiKeyValue.parse(json.dumps({"api_key": "sk-very-secret", "key_id": "k1"}))
    assert "sk-very-secret" not in repr(value)


# --- oauth2-client-credentials ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("client_auth", "auth_seen"), [("client_secret_basic", "Basic"), ("client_secret_post", "post")]
)
def test_oauth2_token_lifecycle(provider, client_auth, auth_seen):
    adapter = oauth2(provider, scope="read:items", client_auth=client_auth)
    old_value = oauth2_value(
        provider, access_token=provider.issue_token(), expires_at="2099-01-01T00:00:00Z", audience="api"
    )

    new_value = adapter.issue(old_value)
    adapter.verify(new_value)
    adapter.revoke(old_value, new_value)

    old, new = json.loads(old_value), json.loads(new_value)
    assert provider.last_token_request == {"scope": "read:items", "auth": auth_seen}
    assert {name: new[name] for name in ("client_id", "client_secret", "audience")} == {
        name: old[name] for name in ("client_id", "client_secret", "audience")
    }
    assert new["token_type"] == "Bearer"
    expires_at = datetime.fromisoformat(new["expires_at"])
    assert timedelta(minutes=59) < expires_at - datetime.now(timezone.utc) <= timedelta(hours=1)
    assert provider.token_is_active(new["access_token"]) and not provider.token_is_active(old["access_token"])


@pytest.mark.parametrize(
    ("fields", "complaint"),
    [
        ({"expires_at": "2099-01-01T00:00:00Z"}, "holds no access_token"),
        ({"access_token": "at-whatever", "expires_at": "2000-01-01T00:00:00Z"}, "already expired"),
        ({"access_token": "at-unknown", "expires_at": "2099-01-01T00:00:00Z"}, "answered HTTP 401"),
    ],
    ids=["no-token", "expired", "rejected"],
)
def test_oauth2_verify_refuses(provider, fields, complaint):
    with pytest.raises(ProviderError, match=complaint):
        oauth2(provider).verify(oauth2_value(provider, **fields))


def test_oauth2_without_urls_to_verify_or_revoke_checks_expiry_only(provider):
    adapter = oauth2(provider, verify_url=None, revoke_url=None)
    value = oauth2_value(provider, access_token=provider.issue_token(), expires_at=4102444800)

    adapter.verify(value)
    adapter.revoke(value, value)

    assert provider.calls == {}


def test_oauth2_wrong_client_secret_is_refused(provider):
    value = json.loads(oauth2_value(provider))
    value["client_secret"] = "cs-wrong"

    with pytest.raises(ProviderError, match="token: .* answered HTTP 401"):
        oauth2(provider).issue(json.dumps(value))


@pytest.mark.parametrize(
    ("value", "complaint"),
    [
        ("not json", "not a JSON object"),
        (json.dumps({"client_id": "c"}), "no non-empty string field 'client_secret'"),
    ],
)
def test_oauth2_malformed_values_are_named_without_their_content(provider, value, complaint):
    with pytest.raises(ValueError, match=complaint):
        oauth2(provider).issue(value)


@pytest.mark.parametrize(
    ("body", "message", "revoked"),
    [
        ("bad-expiry", "token: the answer field 'expires_in' is not a number of seconds between 0 and ten years; "
         "revoked the token it issued", True),
        ("key-not-a-string", "token: the answer has no non-empty string field 'access_token'", False),
        ("json-list", "did not answer with a JSON object", False),
    ],
)
def test_oauth2_unusable_token_answers_are_refused_and_what_they_name_revoked(provider, body, message, revoked):
    provider.script("issue", ScriptedAnswer(status=200, body=body))

    with pytest.raises(AnswerUnusable) as raised:
        oauth2(provider).issue(oauth2_value(provider))

    assert message in str(raised.value)
    issued = next(iter(provider.tokens))
    assert provider.token_is_active(issued) is not revoked
    assert issued not in str(raised.value)
