"""The rotation Lambda under hostile values and answers (issue 11), through lambda_handler against moto server.

The AWS protocol these tests hold the function to ("How rotation works", "Lambda rotation functions",
https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_how.html and
https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_lambda-functions.html):
four steps, each retried; AWSPENDING marks the version under rotation, and while it sits on a version
other than AWSCURRENT, RotateSecret is refused ("a previous rotation request is still in progress",
https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_RotateSecret.html); a version's value
never changes once stored (PutSecretValue with the same ClientRequestToken and another value fails,
https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_PutSecretValue.html); a console edit
is a PutSecretValue that moves AWSCURRENT, and AWSPREVIOUS with it.
"""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

import rotation_support.lambda_code  # noqa: F401  (puts rotation/ on sys.path)
from rotation_support.fake_provider import FakeProvider, ScriptedAnswer
from rotation_support.log_capture import capturing_every_log
from rotation_support.moto_fixtures import client, secrets_manager  # noqa: F401  (fixtures)
from rotation_support.provider_fixtures import provider, provider_server  # noqa: F401  (fixtures)
from rotation_support.rotating_secret import (
    ALL_KINDS,
    JSON_API_KEY,
    OAUTH2_TOKEN,
    PLAINTEXT_API_KEY,
    STEPS,
    RotatingSecret,
    api_key_tags,
)
from rotation_support.secrets_manager import MAX_SECRET_BYTES

import handler
from adapters import AnswerUnusable, CredentialRejected, ProviderError
from secret_form import MalformedSecretValue

pytestmark = pytest.mark.slow

CURRENT, PENDING, PREVIOUS = "AWSCURRENT", "AWSPENDING", "AWSPREVIOUS"
KIND_IDS = [kind.id for kind in ALL_KINDS]


def rotating(client, secrets_manager, provider, kind, **options) -> RotatingSecret:
    return RotatingSecret.create(client, secrets_manager, provider, kind, **options)


def leaked(text: str, provider: FakeProvider, *planted: str) -> list[str]:
    return [secret for secret in [*provider.every_secret(), *planted] if secret and secret in text]


def invoke_watched(secret: RotatingSecret, step: str, token: str, *planted: str) -> BaseException | None:
    """Run one step with every logger at DEBUG; assert no credential reached a record or the error raised."""
    raised = None
    with capturing_every_log() as logs:
        try:
            secret.invoke(step, token)
        except Exception as error:  # noqa: BLE001 - inspected, then handed back
            raised = error
    assert not leaked(logs.text, secret.provider, *planted), f"{step}: a credential reached a log record"
    if raised is not None:
        assert not leaked(f"{raised!s} {raised!r}", secret.provider, *planted), f"{step}: a credential in the error"
    return raised


def rotate_watched(secret: RotatingSecret, *planted: str) -> str:
    token = secret.begin()
    for step in STEPS:
        error = invoke_watched(secret, step, token, *planted)
        if error is not None:
            raise error
    return token


# --- no credential in any log, at any level, or in any error --------------------------------------


def test_the_capture_sees_botocore_debug_records_with_secret_values(client, secrets_manager, provider):
    """The other tests' capture is real: outside the function, botocore at DEBUG prints SecretString."""
    secret = rotating(client, secrets_manager, provider, JSON_API_KEY)
    with capturing_every_log() as logs:
        value = secret.value(stage=CURRENT)
    assert json.loads(value)["api_key"] in logs.text


@pytest.mark.parametrize("kind", ALL_KINDS, ids=KIND_IDS)
def test_no_credential_in_any_record_at_debug_through_two_rotations(client, secrets_manager, provider, kind):
    secret = rotating(client, secrets_manager, provider, kind)
    first = secret.initial_version

    rotate_watched(secret)
    third = rotate_watched(secret)

    assert secret.labels()[third] == [CURRENT]
    assert not secret.is_active(first)


def test_a_key_stored_with_a_final_line_break_rotates_and_keeps_it(client, secrets_manager, provider):
    """`aws secretsmanager create-secret --secret-string file://key.txt` stores the file's final newline."""
    key = provider.add_key().api_key
    secret = rotating(client, secrets_manager, provider, PLAINTEXT_API_KEY, value=key + "\n")

    token = rotate_watched(secret, key)

    new_value = secret.value(stage=CURRENT)
    assert new_value.endswith("\n") and new_value.count("\n") == 1, "the stored form is kept"
    assert provider.key_is_active(new_value.strip()) and secret.is_active(secret.initial_version)
    assert secret.labels() == {secret.initial_version: [PREVIOUS], token: [CURRENT]}


@pytest.mark.parametrize("where", ["inside-json", "carriage-return-plaintext"])
def test_a_damaged_stored_key_is_refused_without_quoting_it(client, secrets_manager, provider, where):
    key = provider.add_key()
    value = {
        "inside-json": json.dumps({"api_key": key.api_key + "\n", "key_id": key.key_id}),
        "carriage-return-plaintext": key.api_key[:10] + "\r" + key.api_key[10:],
    }[where]
    secret = rotating(client, secrets_manager, provider, PLAINTEXT_API_KEY, value=value)
    token = secret.begin()

    error = invoke_watched(secret, "createSecret", token, key.api_key, key.api_key[:10], key.api_key[10:])

    assert isinstance(error, MalformedSecretValue)
    assert str(error) == (
        "the API key in the secret value holds a line break, another control character or a non-ASCII character, "
        "which no HTTP header can carry; store the key without; "
        f"version {token} gave up AWSPENDING so that the next rotation starts afresh"
    )
    assert provider.calls == {}, "nothing was sent"
    assert secret.labels() == {secret.initial_version: [CURRENT]}, "RotateSecret is not blocked"


def test_a_provider_issuing_a_key_with_a_line_break_has_it_refused_and_revoked(client, secrets_manager, provider):
    secret = rotating(client, secrets_manager, provider, JSON_API_KEY)
    token = secret.begin()
    provider.script("issue", ScriptedAnswer(status=201, body="key-with-line-break"))

    error = invoke_watched(secret, "createSecret", token)

    assert isinstance(error, AnswerUnusable)
    assert "holds white space, control or non-ASCII characters; revoked key key-" in str(error)
    assert provider.active_keys() == {json.loads(secret.value(stage=CURRENT))["api_key"]}
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        secret.value(version_id=token)
    assert secret.labels() == {secret.initial_version: [CURRENT]}, "a retry would be replayed the same damaged key"

    second = rotate_watched(secret)  # the next rotation, with a new token, is not refused

    assert secret.labels() == {secret.initial_version: [PREVIOUS], second: [CURRENT]}


# --- a credential two versions hold is never revoked ------------------------------------------------


def test_a_provider_answering_with_the_current_key_is_refused_at_create(client, secrets_manager, provider):
    secret = rotating(client, secrets_manager, provider, JSON_API_KEY)
    first = secret.initial_version
    second = secret.rotate()
    provider.calls.clear()
    token = secret.begin()
    provider.script("issue", ScriptedAnswer(status=201, body="current-key", acts=False))

    error = invoke_watched(secret, "createSecret", token)

    assert isinstance(error, handler.RotationRefused)
    assert f"the provider answered with the credential that version {second} already holds" in str(error)
    assert secret.labels() == {first: [PREVIOUS], second: [CURRENT]}
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        secret.value(version_id=token)
    assert secret.is_active(first) and secret.is_active(second)
    assert provider.calls["revoke"] == 0


def test_a_console_edit_of_another_field_keeps_both_readable_credentials_live(client, secrets_manager, provider):
    secret = rotating(client, secrets_manager, provider, JSON_API_KEY)
    first = secret.initial_version
    second = secret.rotate()
    edited = json.loads(secret.value(stage=CURRENT)) | {"base_url": "https://api.example.test/v2"}
    third = secret.edit_by_hand(json.dumps(edited))
    assert secret.labels() == {second: [PREVIOUS], third: [CURRENT]}, "AWS moves both labels on a console edit"

    fourth = rotate_watched(secret)

    assert secret.labels() == {third: [PREVIOUS], fourth: [CURRENT]}
    assert secret.is_active(third), "AWSPREVIOUS holds the same key as the retired version: still live"
    assert secret.is_active(fourth)
    assert not secret.is_active(first), "the first key left every label: revoked"
    assert secret.marked() == {third, fourth}, "the shared key's retired version lost its mark without a revocation"


# --- every way out of AWSPREVIOUS ends in a revocation ----------------------------------------------


@pytest.mark.parametrize("route", ["console-edit", "label-removed-by-hand"])
def test_a_version_leaving_awsprevious_by_another_route_is_revoked(client, secrets_manager, provider, route):
    secret = rotating(client, secrets_manager, provider, JSON_API_KEY)
    first = secret.initial_version
    second = secret.rotate()
    if route == "console-edit":
        replacement = provider.add_key()
        secret.edit_by_hand(json.dumps({"api_key": replacement.api_key, "key_id": replacement.key_id}))
    else:
        client.update_secret_version_stage(SecretId=secret.name, VersionStage=PREVIOUS, RemoveFromVersionId=first)
    assert first not in secret.labels(), "the first version left AWSPREVIOUS without the function running"
    assert secret.is_active(first)

    rotate_watched(secret)

    labelled = secret.labels()
    readable = {version for version, stages in labelled.items() if {CURRENT, PREVIOUS} & set(stages)}
    every_version = set(secret.all_labels()) | {first, second}
    assert {version for version in every_version if secret.is_active(version)} == readable
    assert not secret.is_active(first)


# --- a rotation that cannot pass never blocks the next one ------------------------------------------


def test_an_expired_pending_token_gives_up_awspending_and_the_next_rotation_recovers(
    client, secrets_manager, provider
):
    secret = rotating(client, secrets_manager, provider, OAUTH2_TOKEN)
    first = secret.initial_version
    token = secret.begin()
    provider.token_lifetime_seconds = 0
    for step in STEPS[:2]:
        secret.invoke(step, token)
    expired = json.loads(secret.value(version_id=token))["access_token"]

    error = invoke_watched(secret, "testSecret", token)

    assert isinstance(error, CredentialRejected)
    assert str(error) == (
        f"verify: the pending access token has already expired; version {token} gave up AWSPENDING so that "
        "the next rotation issues a new credential, and the next finishSecret revokes this one"
    )
    assert secret.labels() == {first: [CURRENT]}
    with pytest.raises(ValueError, match="is not AWSPENDING"):
        secret.invoke("testSecret", token)  # Secrets Manager's retry of the same token ends at once

    provider.token_lifetime_seconds = 3600
    second = rotate_watched(secret)  # RotateSecret is no longer refused

    assert secret.labels() == {first: [PREVIOUS], second: [CURRENT]}
    assert not provider.token_is_active(expired), "the released version's token is revoked"
    assert secret.is_active(first) and secret.is_active(second)


@pytest.mark.parametrize("kind", [PLAINTEXT_API_KEY, JSON_API_KEY, OAUTH2_TOKEN], ids=lambda kind: kind.id)
def test_a_put_secret_value_that_stored_but_answered_an_error_keeps_its_credential(
    client, secrets_manager, provider, monkeypatch, kind
):
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # the failed answer reaches the function, as after lost retries
    secret = rotating(client, secrets_manager, provider, kind)
    first = secret.initial_version
    token = secret.begin()
    secrets_manager.fail_puts_after_commit()

    assert invoke_watched(secret, "createSecret", token) is None

    assert secret.is_active(token), "the stored credential was not revoked"
    for step in STEPS:
        assert invoke_watched(secret, step, token) is None
    assert secret.labels() == {first: [PREVIOUS], token: [CURRENT]}
    assert provider.calls["issue"] == 1 and provider.calls["revoke"] == 0


def test_finish_secret_without_a_pending_value_is_refused(client, secrets_manager, provider):
    secret = rotating(client, secrets_manager, provider, JSON_API_KEY)
    first = secret.initial_version
    token = secret.begin()
    current_value = secret.value(stage=CURRENT)

    error = invoke_watched(secret, "finishSecret", token)

    assert isinstance(error, handler.RotationRefused)
    assert str(error) == (
        f"finishSecret: version {token} holds no value (createSecret never stored one), so AWSCURRENT stays "
        f"on version {first}; run the rotation from createSecret"
    )
    assert secret.labels() == {first: [CURRENT], token: [PENDING]}
    assert secret.value(stage=CURRENT) == current_value
    for step in STEPS:
        secret.invoke(step, token)
    assert secret.labels() == {first: [PREVIOUS], token: [CURRENT]}


# --- the stored form is kept --------------------------------------------------------------------------


LAYOUTS = {
    "compact": {"separators": (",", ":")},
    "spaced": {},
    "indented-2": {"indent": 2},
    "indented-tab": {"indent": "\t"},
    "non-ascii-unescaped": {"separators": (",", ":"), "ensure_ascii": False},
}


@pytest.mark.parametrize("kind", [JSON_API_KEY, OAUTH2_TOKEN], ids=lambda kind: kind.id)
@pytest.mark.parametrize("layout", LAYOUTS, ids=list(LAYOUTS))
def test_rotation_writes_json_in_the_layout_and_key_order_it_found(client, secrets_manager, provider, kind, layout):
    document = {"note": "Zürich team", **json.loads(kind.initial_value(provider)), "z_last": [1, {"a": None}]}
    original = json.dumps(document, **LAYOUTS[layout]) + "\n"
    secret = rotating(client, secrets_manager, provider, kind, value=original)

    secret.rotate()

    rotated = secret.value(stage=CURRENT)
    new_document = json.loads(rotated)
    assert list(new_document)[: len(document)] == list(document), "fields keep their order"
    assert rotated == json.dumps(new_document, **LAYOUTS[layout]) + "\n"


def test_a_large_compact_secret_still_rotates_under_the_size_limit(client, secrets_manager, provider):
    key = provider.add_key()
    document = {"api_key": key.api_key, "key_id": key.key_id}
    document |= {f"f{index:05}": "v" for index in range(5000)}
    compact = json.dumps(document, separators=(",", ":"))
    assert len(compact) < MAX_SECRET_BYTES < len(json.dumps(document)), "only the compact form fits"
    secret = rotating(client, secrets_manager, provider, JSON_API_KEY, value=compact)

    token = secret.rotate()

    assert secret.labels() == {secret.initial_version: [PREVIOUS], token: [CURRENT]}
    assert len(secret.value(stage=CURRENT)) < MAX_SECRET_BYTES


# --- lost and damaged issue answers leave no extra key ---------------------------------------------


def test_a_timed_out_issue_is_picked_up_by_the_retry_through_the_idempotency_key(client, secrets_manager, provider):
    tags = api_key_tags(provider.base_url) | {"rotation-timeout-seconds": "0.5"}
    secret = rotating(client, secrets_manager, provider, JSON_API_KEY, tags=tags)
    token = secret.begin()
    provider.script("issue", ScriptedAnswer(status=201, delay_seconds=1.5))  # the key is made, the answer is late

    error = invoke_watched(secret, "createSecret", token)
    assert isinstance(error, ProviderError) and "gave no answer within 0.5 s" in str(error)
    assert len(provider.active_keys()) == 2, "the provider made a key the function never saw"

    for step in STEPS:
        assert invoke_watched(secret, step, token) is None

    assert provider.idempotency_keys_seen == [token, token]
    assert provider.active_keys() == {
        json.loads(secret.value(version_id=version))["api_key"] for version in (secret.initial_version, token)
    }, "the retry stored the key the lost answer held; no third key"


def test_the_idempotency_header_is_a_setting(client, secrets_manager, provider):
    provider.idempotency_header = "X-Request-Id"
    tags = api_key_tags(provider.base_url) | {"rotation-idempotency-header": "X-Request-Id"}
    secret = rotating(client, secrets_manager, provider, JSON_API_KEY, tags=tags)

    token = secret.rotate()

    assert provider.idempotency_keys_seen == [token]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("key-missing", "create: the answer has no non-empty string field 'api_key'; revoked key key-"),
        ("key-not-a-string", "create: the answer has no non-empty string field 'api_key'; revoked key key-"),
        ("json-list", "did not answer with a JSON object; nothing names a key to revoke; check the provider"),
    ],
)
def test_a_malformed_issue_answer_has_what_it_issued_revoked(client, secrets_manager, provider, body, message):
    secret = rotating(client, secrets_manager, provider, JSON_API_KEY, tags=api_key_tags(provider.base_url) | {
        "rotation-idempotency-header": "off"})
    token = secret.begin()
    provider.script("issue", ScriptedAnswer(status=201, body=body))

    error = invoke_watched(secret, "createSecret", token)

    assert isinstance(error, AnswerUnusable) and message in str(error)
    named_a_key = body != "json-list"
    assert len(provider.active_keys()) == (1 if named_a_key else 2)


# --- values the function refuses before sending anything ------------------------------------------


@pytest.mark.parametrize(
    ("value", "complaint"),
    [
        ('{"api_key": "sk-test-trailing-comma-0123456789",}', "invalid JSON, Expecting property name"),
        ('{"api_key": "sk-test-unterminated-0123456789', "invalid JSON, Unterminated string"),
        ('["sk-test-in-a-list-0123456789"]', "is JSON but not an object (it is a list)"),
        ('"sk-test-quoted-0123456789"', "is JSON but not an object (it is a str)"),
        ('{"api_key": NaN}', "invalid JSON, NaN is not a JSON number"),
    ],
)
def test_a_json_value_with_a_syntax_error_is_refused_and_never_sent(client, secrets_manager, provider, value, complaint):
    secret = rotating(client, secrets_manager, provider, PLAINTEXT_API_KEY, value=value)
    token = secret.begin()

    error = invoke_watched(secret, "createSecret", token, "sk-test-")

    assert isinstance(error, MalformedSecretValue) and complaint in str(error)
    assert str(error).startswith("the API key secret value is")
    assert provider.calls == {}, "the value was sent nowhere"
    assert secret.labels() == {secret.initial_version: [CURRENT]}


def test_an_unforeseen_error_quoting_a_value_is_raised_redacted(client, secrets_manager, provider, monkeypatch):
    """Defence in depth: whatever raises with a value in its message, the log and the raised error redact it."""
    secret = rotating(client, secrets_manager, provider, JSON_API_KEY)
    token = secret.begin()
    for step in STEPS[:3]:
        secret.invoke(step, token)
    pending_key = json.loads(secret.value(version_id=token))["api_key"]

    def careless_verify(self, candidate_value):
        raise KeyError(f"no such thing in {candidate_value}")

    monkeypatch.setattr(handler.HttpApiKeyAdapter, "verify", careless_verify)
    error = invoke_watched(secret, "testSecret", token)

    assert isinstance(error, handler.RotationFailed)
    assert str(error) == "testSecret: KeyError: 'no such thing in [redacted]'"
    assert pending_key not in repr(error)
