"""The rotation Lambda against Secrets Manager over HTTP (moto server) and a provider over HTTP (http.server).

Every test ends by checking that no credential the provider ever handed out reached a log line.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import uuid

import pytest
from botocore.exceptions import ClientError

import rotation_support.lambda_code  # noqa: F401  (puts rotation/ on sys.path)
from rotation_support.moto_fixtures import client, secrets_manager  # noqa: F401  (fixtures)
from rotation_support.provider_fixtures import provider, provider_server  # noqa: F401  (fixtures)
from rotation_support.clock import START, FakeClock
from rotation_support.fake_provider import FakeProvider
from rotation_support.rotating_secret import (
    ALL_KINDS,
    JSON_API_KEY,
    OAUTH2_TOKEN,
    PLAINTEXT_API_KEY,
    STEPS,
    RotatingSecret,
    api_key_tags,
)
from rotation_support.secrets_manager import RotationInProgress

import handler
import secret_versions
from adapters import ConfigurationError, CredentialRejected, ProviderError

pytestmark = pytest.mark.slow

CURRENT, PENDING, PREVIOUS = "AWSCURRENT", "AWSPENDING", "AWSPREVIOUS"
KIND_IDS = [kind.id for kind in ALL_KINDS]


@pytest.fixture(autouse=True)
def logs_never_hold_secrets(caplog, provider):
    caplog.set_level(logging.INFO)
    yield caplog
    leaked = [secret for secret in provider.every_secret() if secret in caplog.text]
    assert not leaked, "a credential reached the logs"


def rotating(client, secrets_manager, provider, kind, **options) -> RotatingSecret:
    return RotatingSecret.create(client, secrets_manager, provider, kind, **options)


def assert_no_secret_in(text: str, provider: FakeProvider) -> None:
    assert not [secret for secret in provider.every_secret() if secret in text], "a credential reached an error"


# --- a whole rotation ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ALL_KINDS, ids=KIND_IDS)
def test_full_rotation_moves_labels_step_by_step(client, secrets_manager, provider, kind):
    secret = rotating(client, secrets_manager, provider, kind)
    old = secret.initial_version
    old_value = secret.value(stage=CURRENT)
    token = secret.begin()

    expected_after_step = {
        "createSecret": {old: [CURRENT], token: [PENDING]},
        "setSecret": {old: [CURRENT], token: [PENDING]},
        "testSecret": {old: [CURRENT], token: [PENDING]},
        "finishSecret": {old: [PREVIOUS], token: [CURRENT]},
    }
    for step in STEPS:
        secret.invoke(step, token)
        assert secret.labels() == expected_after_step[step], step

    new_value = secret.value(stage=CURRENT)
    assert new_value != old_value
    assert secret.value(stage=PREVIOUS) == old_value
    assert secret.is_active(token)
    assert secret.is_active(old), "readers cache for an hour: AWSPREVIOUS must keep working"
    assert provider.calls["issue"] == 1 and provider.calls["revoke"] == 0


def test_rotation_keeps_the_value_shape_and_its_other_fields(client, secrets_manager, provider):
    plaintext = rotating(client, secrets_manager, provider, PLAINTEXT_API_KEY)
    plaintext.rotate()
    assert plaintext.value(stage=CURRENT).startswith("sk-test-"), "a plaintext key stays plaintext"

    structured = rotating(client, secrets_manager, provider, JSON_API_KEY)
    structured.rotate()
    rotated = json.loads(structured.value(stage=CURRENT))
    assert set(rotated) == {"api_key", "key_id", "base_url"}
    assert rotated["base_url"] == "https://api.example.test"
    assert provider.keys[rotated["key_id"]].api_key == rotated["api_key"]

    oauth = rotating(client, secrets_manager, provider, OAUTH2_TOKEN)
    before = json.loads(oauth.value(stage=CURRENT))
    oauth.rotate()
    after = json.loads(oauth.value(stage=CURRENT))
    assert (after["client_id"], after["client_secret"]) == (before["client_id"], before["client_secret"])
    assert after["access_token"] != before["access_token"]
    assert after["expires_at"].endswith("Z") and after["expires_at"] < "2099"
    assert provider.last_token_request == {"scope": "read:items write:items", "auth": "Basic"}


@pytest.mark.parametrize("kind", ALL_KINDS, ids=KIND_IDS)
def test_previous_credential_is_revoked_only_when_it_leaves_awsprevious(client, secrets_manager, provider, kind):
    secret = rotating(client, secrets_manager, provider, kind)
    first = secret.initial_version

    second = secret.rotate()
    assert secret.labels() == {first: [PREVIOUS], second: [CURRENT]}
    assert secret.is_active(first) and secret.is_active(second)

    third = secret.rotate()
    assert secret.labels() == {second: [PREVIOUS], third: [CURRENT]}
    assert not secret.is_active(first), "the credential that left AWSPREVIOUS is revoked"
    assert secret.is_active(second) and secret.is_active(third)

    fourth = secret.rotate()
    assert secret.labels() == {third: [PREVIOUS], fourth: [CURRENT]}
    assert [secret.is_active(version) for version in (first, second, third, fourth)] == [False, False, True, True]
    assert provider.calls["revoke"] == 2


# --- retries, interruptions, races --------------------------------------------------------------


@pytest.mark.parametrize("kind", ALL_KINDS, ids=KIND_IDS)
def test_every_step_retried_twice_changes_nothing_more(client, secrets_manager, provider, kind):
    secret = rotating(client, secrets_manager, provider, kind)
    first = secret.initial_version
    second = secret.rotate()
    provider.calls.clear()
    third = secret.begin()

    in_progress = {first: [PREVIOUS], second: [CURRENT], third: [PENDING]}
    expected_after_step = {
        "createSecret": in_progress,
        "setSecret": in_progress,
        "testSecret": in_progress,
        "finishSecret": {second: [PREVIOUS], third: [CURRENT]},
    }
    for step in STEPS:
        for attempt in range(3):
            secret.invoke(step, third)
            assert secret.labels() == expected_after_step[step], f"{step}, attempt {attempt + 1}"
        if step == "createSecret":
            pending_value = secret.value(stage=PENDING)
    assert secret.value(stage=CURRENT) == pending_value
    assert provider.calls["issue"] == 1, "retries of createSecret never issue a second credential"
    assert provider.calls["revoke"] == 1, "retries of finishSecret never revoke twice"
    assert not secret.is_active(first)


@pytest.mark.parametrize("kind", ALL_KINDS, ids=KIND_IDS)
def test_rotation_interrupted_after_set_secret_resumes(client, secrets_manager, provider, kind):
    secret = rotating(client, secrets_manager, provider, kind)
    old = secret.initial_version
    token = secret.begin()
    secret.invoke("createSecret", token)
    secret.invoke("setSecret", token)
    pending_value = secret.value(stage=PENDING)

    assert secret.labels() == {old: [CURRENT], token: [PENDING]}
    assert secret.is_active(old), "nothing is in service yet but the old credential"

    # Secrets Manager retries a failed rotation from the start, with the same token.
    for step in STEPS:
        secret.invoke(step, token)

    assert secret.labels() == {old: [PREVIOUS], token: [CURRENT]}
    assert secret.value(stage=CURRENT) == pending_value
    assert provider.calls["issue"] == 1


def test_finish_interrupted_before_awscurrent_moves_still_revokes_on_retry(client, secrets_manager, provider):
    secret = rotating(client, secrets_manager, provider, JSON_API_KEY)
    first = secret.initial_version
    second = secret.rotate()
    third = secret.begin()
    for step in ("createSecret", "setSecret", "testSecret"):
        secret.invoke(step, third)

    secrets_manager.fail_next_current_move()
    with pytest.raises(ClientError):
        secret.invoke("finishSecret", third)
    assert secret.labels() == {first: [PREVIOUS], second: [CURRENT], third: [PENDING]}
    assert secret.marked() == {first, second, third}
    assert secret.is_active(first), "still AWSPREVIOUS, so still in service"

    secret.invoke("finishSecret", third)
    assert secret.labels() == {second: [PREVIOUS], third: [CURRENT]}
    assert not secret.is_active(first)


def test_twin_invocations_racing_through_every_step_leave_one_new_credential(client, secrets_manager, provider):
    secret = rotating(client, secrets_manager, provider, JSON_API_KEY)
    first = secret.initial_version
    second = secret.rotate()
    third = secret.begin()
    provider.issue_delay_seconds = 0.3  # both twins get a key from the provider before either stores one
    at_each_step = threading.Barrier(2, timeout=20)
    failures: list[BaseException] = []

    def twin() -> None:
        try:
            for step in STEPS:
                at_each_step.wait()
                secret.invoke(step, third)
        except BaseException as error:  # noqa: BLE001 - handed to the main thread
            failures.append(error)

    twins = [threading.Thread(target=twin) for _ in range(2)]
    for thread in twins:
        thread.start()
    for thread in twins:
        thread.join(timeout=60)

    assert failures == []
    assert secret.labels() == {second: [PREVIOUS], third: [CURRENT]}
    assert provider.calls["issue"] == 3, "the first rotation's key, then one per twin"
    assert provider.active_keys() == {
        json.loads(secret.value(version_id=second))["api_key"],
        json.loads(secret.value(version_id=third))["api_key"],
    }, "the twin whose key was not stored revoked it, and the retired key is revoked"
    assert not secret.is_active(first)


def test_rotation_requested_while_another_is_pending_is_refused(client, secrets_manager, provider):
    secret = rotating(client, secrets_manager, provider, PLAINTEXT_API_KEY)
    old = secret.initial_version
    token = secret.begin()
    secret.invoke("createSecret", token)

    with pytest.raises(RotationInProgress):
        secret.begin()
    stray_token = "f" * 36
    with pytest.raises(ValueError, match="has no stage for rotation"):
        secret.invoke("createSecret", stray_token)
    assert secret.labels() == {old: [CURRENT], token: [PENDING]}

    for step in STEPS[1:]:
        secret.invoke(step, token)
    assert secret.labels() == {old: [PREVIOUS], token: [CURRENT]}
    assert provider.calls["issue"] == 1


# --- a provider that fails ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", ALL_KINDS, ids=KIND_IDS)
@pytest.mark.parametrize(
    ("operation", "failing_step", "pending_holds_value"),
    [("issue", "createSecret", False), ("verify", "testSecret", True)],
    ids=["fails-on-create", "fails-on-verify"],
)
def test_provider_failure_leaves_awscurrent_unchanged(
    client, secrets_manager, provider, caplog, kind, operation, failing_step, pending_holds_value
):
    secret = rotating(client, secrets_manager, provider, kind)
    old = secret.initial_version
    old_value = secret.value(stage=CURRENT)
    token = secret.begin()
    provider.fail(operation)

    for step in STEPS[: STEPS.index(failing_step)]:
        secret.invoke(step, token)
    with pytest.raises(ProviderError, match="HTTP 500") as raised:
        secret.invoke(failing_step, token)

    assert secret.labels() == {old: [CURRENT], token: [PENDING]}
    assert secret.value(stage=CURRENT) == old_value and secret.is_active(old)
    if pending_holds_value:
        assert secret.value(stage=PENDING)
    else:
        with pytest.raises(ClientError, match="ResourceNotFoundException"):
            secret.value(version_id=token)
    assert f"{failing_step} failed for secret {secret.name}, version {token}" in caplog.text
    assert "HTTP 500" in caplog.text
    assert "injected failure" not in caplog.text, "the provider's answer body stays out of the logs"
    assert_no_secret_in(str(raised.value), provider)

    provider.recover()
    for step in STEPS:  # Secrets Manager's retry of the whole rotation
        secret.invoke(step, token)
    assert secret.labels() == {old: [PREVIOUS], token: [CURRENT]}
    assert secret.is_active(token)


@pytest.mark.parametrize("kind", ALL_KINDS, ids=KIND_IDS)
@pytest.mark.parametrize("retried_by", ["finishSecret-retried", "next-rotation"])
def test_failed_revocation_keeps_the_rotation_and_is_retried(
    client, secrets_manager, provider, caplog, kind, retried_by
):
    secret = rotating(client, secrets_manager, provider, kind)
    first = secret.initial_version
    second = secret.rotate()
    provider.fail("revoke")

    third = secret.rotate()  # finishSecret succeeds although revocation fails

    assert secret.labels() == {second: [PREVIOUS], third: [CURRENT]}
    assert first in secret.marked(), "revocation failed, and the mark remembers it"
    assert secret.is_active(first)
    assert f"could not revoke the credential of retired version {first}" in caplog.text

    provider.recover()
    if retried_by == "finishSecret-retried":
        secret.invoke("finishSecret", third)
        assert secret.labels() == {second: [PREVIOUS], third: [CURRENT]}
        assert not secret.is_active(first) and secret.is_active(second)
    else:
        fourth = secret.rotate()
        assert secret.labels() == {third: [PREVIOUS], fourth: [CURRENT]}
        assert not secret.is_active(first) and not secret.is_active(second)
        assert secret.is_active(third) and secret.is_active(fourth)


def test_credential_issued_but_not_stored_is_revoked(client, secrets_manager, provider, monkeypatch):
    secret = rotating(client, secrets_manager, provider, JSON_API_KEY)
    token = secret.begin()

    def store_fails(*args, **kwargs):
        raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "PutSecretValue")

    monkeypatch.setattr(secret_versions.SecretVersions, "store_pending", store_fails)
    with pytest.raises(ClientError, match="ThrottlingException"):
        secret.invoke("createSecret", token)

    assert provider.calls["issue"] == 1 and provider.calls["revoke"] == 1
    assert provider.active_keys() == {json.loads(secret.value(stage=CURRENT))["api_key"]}


# --- a provider whose new keys take time to be accepted -----------------------------------------
#
# AWS IAM access keys are the textbook case: a new key works everywhere only after a few seconds
# ("Changes that I make are not always immediately visible", IAM User Guide, troubleshooting, eventual
# consistency). Secrets Manager retries a failed rotation with the same token (README "Every step").

STORED_AT = "ISSUED-AT-20250131T120000Z"  # the label createSecret stores with the value, at START


def rejected(provider: FakeProvider) -> str:
    return f"verify: {provider.base_url}/v1/whoami answered HTTP 401: key refused"


def within_grace(provider: FakeProvider, token: str, age: int, grace: int) -> str:
    return (
        f"{rejected(provider)}; version {token} was stored {age} s ago, within the grace period of {grace} s that a "
        "new credential may take to be accepted (setting verify-grace-seconds), so AWSPENDING stays for Secrets "
        "Manager's retry to test it again"
    )


def past_grace(provider: FakeProvider, token: str, age: int, grace: int) -> str:
    return (
        f"{rejected(provider)}; still refused {age} s after version {token} was stored, past the grace period of "
        f"{grace} s (setting verify-grace-seconds); version {token} gave up AWSPENDING so that the next rotation "
        "issues a new credential, and the next finishSecret revokes this one"
    )


def slow_provider_secret(client, secrets_manager, provider, kind=JSON_API_KEY, *, rejected_for: float,
                         grace_tag: str | None = None) -> tuple[RotatingSecret, FakeClock]:
    clock = FakeClock()
    provider.clock = clock
    provider.new_keys_rejected_for_seconds = rejected_for
    tags = api_key_tags(provider.base_url)
    if grace_tag is not None:
        tags["rotation-verify-grace-seconds"] = grace_tag
    return rotating(client, secrets_manager, provider, kind, tags=tags, clock=clock), clock


@pytest.mark.parametrize("kind", [PLAINTEXT_API_KEY, JSON_API_KEY], ids=lambda kind: kind.id)
def test_a_new_key_refused_for_its_first_seconds_is_tested_again_and_the_rotation_succeeds(
    client, secrets_manager, provider, caplog, kind
):
    secret, clock = slow_provider_secret(client, secrets_manager, provider, kind, rejected_for=20)
    old = secret.initial_version
    old_value = secret.value(stage=CURRENT)
    token = secret.begin()
    secret.invoke("createSecret", token)
    assert STORED_AT in secret.all_labels()[token], "the time is stored with the value, in the same call"
    secret.invoke("setSecret", token)

    for age in (1, 12):
        clock.advance(age - (clock() - START).total_seconds())
        with pytest.raises(handler.PendingNotYetAccepted) as raised:
            secret.invoke("testSecret", token)
        assert str(raised.value) == within_grace(provider, token, age, 300)
        assert secret.labels() == {old: [CURRENT], token: [PENDING]}
        assert secret.value(stage=CURRENT) == old_value
    assert f"testSecret will be retried for secret {secret.name}, version {token}" in caplog.text
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR], "a wait is no failure"

    clock.advance(10)  # 22 s after the key was issued: the provider knows it everywhere
    for step in STEPS:  # Secrets Manager's retry of the whole rotation, same token
        secret.invoke(step, token)

    assert secret.labels() == {old: [PREVIOUS], token: [CURRENT]}
    assert secret.is_active(token) and secret.is_active(old)
    assert provider.calls["issue"] == 1, "the retries issued nothing new"
    assert not [label for labels in secret.all_labels().values() for label in labels if label.startswith("ISSUED-AT-")]


def test_a_new_key_never_accepted_gives_up_awspending_after_the_grace_period(client, secrets_manager, provider):
    secret, clock = slow_provider_secret(client, secrets_manager, provider, rejected_for=math.inf)
    old = secret.initial_version
    old_value = secret.value(stage=CURRENT)
    token = secret.begin()
    for step in STEPS[:2]:
        secret.invoke(step, token)
    never_accepted = json.loads(secret.value(stage=PENDING))["api_key"]

    clock.advance(299)
    with pytest.raises(handler.PendingNotYetAccepted) as raised:
        secret.invoke("testSecret", token)
    assert str(raised.value) == within_grace(provider, token, 299, 300)

    clock.advance(1)
    with pytest.raises(CredentialRejected) as raised:
        secret.invoke("testSecret", token)
    assert str(raised.value) == past_grace(provider, token, 300, 300)
    assert secret.labels() == {old: [CURRENT]}, "AWSCURRENT never moved"
    assert secret.value(stage=CURRENT) == old_value and secret.is_active(old)
    assert secret.all_labels()[token] == [f"PENDING-REVOCATION-{token}"], "marked for revocation, time forgotten"
    with pytest.raises(ValueError, match="is not AWSPENDING"):
        secret.invoke("testSecret", token)  # Secrets Manager's retry of the same token ends at once

    provider.new_keys_rejected_for_seconds = 0
    second = secret.rotate()
    assert secret.labels() == {old: [PREVIOUS], second: [CURRENT]}
    assert not provider.key_is_active(never_accepted), "the given-up version's key is revoked"


@pytest.mark.parametrize(
    ("grace_tag", "grace_variable", "age", "outcome", "grace"),
    [
        (None, None, 299, "retried", 300),
        (None, None, 300, "given up", 300),
        (None, "30", 29, "retried", 30),
        (None, "30", 30, "given up", 30),
        ("60", "30", 45, "retried", 60),
        ("0", None, 0, "given up", 0),
    ],
    ids=["default-within", "default-past", "variable-within", "variable-past", "tag-wins", "zero-no-grace"],
)
def test_the_grace_period_is_a_setting(
    client, secrets_manager, provider, monkeypatch, grace_tag, grace_variable, age, outcome, grace
):
    if grace_variable is not None:
        monkeypatch.setenv("ROTATION_VERIFY_GRACE_SECONDS", grace_variable)
    secret, clock = slow_provider_secret(client, secrets_manager, provider, rejected_for=math.inf, grace_tag=grace_tag)
    token = secret.begin()
    for step in STEPS[:2]:
        secret.invoke(step, token)
    clock.advance(age)

    expected_error = handler.PendingNotYetAccepted if outcome == "retried" else CredentialRejected
    with pytest.raises(expected_error) as raised:
        secret.invoke("testSecret", token)

    message = (within_grace if outcome == "retried" else past_grace)(provider, token, age, grace)
    assert str(raised.value) == message
    expected_labels = {secret.initial_version: [CURRENT], token: [PENDING]} if outcome == "retried" else {
        secret.initial_version: [CURRENT]}
    assert secret.labels() == expected_labels


def test_a_pending_version_without_a_stored_time_gets_no_grace_period(client, secrets_manager, provider):
    """A version the function did not store (by hand, or by a version of it before the time was kept)."""
    secret, clock = slow_provider_secret(client, secrets_manager, provider, rejected_for=math.inf)
    token = secret.begin()
    for step in STEPS[:2]:
        secret.invoke(step, token)
    client.update_secret_version_stage(SecretId=secret.name, VersionStage=STORED_AT, RemoveFromVersionId=token)
    clock.advance(1)

    with pytest.raises(CredentialRejected) as raised:
        secret.invoke("testSecret", token)

    assert str(raised.value) == (
        f"{rejected(provider)}; version {token} holds no ISSUED-AT-<time> label saying when it was stored, so no "
        f"grace period applies; version {token} gave up AWSPENDING so that the next rotation issues a new "
        "credential, and the next finishSecret revokes this one"
    )
    assert secret.labels() == {secret.initial_version: [CURRENT]}


def test_a_bad_grace_setting_stops_the_rotation_before_anything_is_issued(client, secrets_manager, provider):
    secret, _ = slow_provider_secret(client, secrets_manager, provider, rejected_for=0, grace_tag="forever")
    token = secret.begin()

    with pytest.raises(ConfigurationError, match="setting 'verify-grace-seconds' is not a number: 'forever'"):
        secret.invoke("createSecret", token)

    assert provider.calls == {}
    assert secret.labels() == {secret.initial_version: [CURRENT], token: [PENDING]}


# --- requests the function refuses --------------------------------------------------------------


def test_refuses_a_secret_without_rotation_enabled(client, secrets_manager, provider):
    name = f"test/rotation/not-enabled-{uuid.uuid4().hex[:12]}"
    client.create_secret(Name=name, SecretString=provider.add_key().api_key)
    event = {"SecretId": name, "ClientRequestToken": "a" * 36, "Step": "createSecret"}
    with pytest.raises(ValueError, match="not enabled for rotation"):
        handler.lambda_handler(event, None)
    assert provider.calls == {}


@pytest.mark.parametrize(
    ("which_token", "step", "refusal"),
    [
        ("unknown", "createSecret", "has no stage for rotation"),
        ("previous", "createSecret", "is not AWSPENDING"),
        ("previous", "finishSecret", "is not AWSPENDING"),
        ("pending", "rotateSecret", "unknown rotation step"),
    ],
)
def test_refuses_tokens_and_steps_outside_the_rotation(client, secrets_manager, provider, which_token, step, refusal):
    secret = rotating(client, secrets_manager, provider, PLAINTEXT_API_KEY)
    first = secret.initial_version
    second = secret.rotate()
    third = secret.begin()
    provider.calls.clear()
    token = {"unknown": "0" * 36, "previous": first, "pending": third}[which_token]
    before = secret.labels()

    with pytest.raises(ValueError, match=refusal):
        secret.invoke(step, token)

    assert secret.labels() == before == {first: [PREVIOUS], second: [CURRENT], third: [PENDING]}
    assert provider.calls == {}


@pytest.mark.parametrize("step", STEPS)
def test_a_token_already_awscurrent_is_a_finished_rotation(client, secrets_manager, provider, step):
    secret = rotating(client, secrets_manager, provider, PLAINTEXT_API_KEY)
    token = secret.rotate()
    provider.calls.clear()

    secret.invoke(step, token)

    assert secret.labels() == {secret.initial_version: [PREVIOUS], token: [CURRENT]}
    assert provider.calls == {}


# --- where the adapter comes from ---------------------------------------------------------------


def test_adapter_and_endpoints_from_the_function_environment(client, secrets_manager, provider, monkeypatch):
    for tag, value in api_key_tags(provider.base_url).items():
        monkeypatch.setenv(tag.upper().replace("-", "_"), value)
    secret = rotating(client, secrets_manager, provider, PLAINTEXT_API_KEY, tags={"owner": "platform-team"})

    token = secret.rotate()

    assert secret.labels() == {secret.initial_version: [PREVIOUS], token: [CURRENT]}


def test_adapter_tag_wins_over_the_environment(client, secrets_manager, provider, monkeypatch):
    monkeypatch.setenv("ROTATION_ADAPTER", "http-api-key")
    secret = rotating(client, secrets_manager, provider, OAUTH2_TOKEN)

    token = secret.rotate()

    assert secret.labels() == {secret.initial_version: [PREVIOUS], token: [CURRENT]}
    assert provider.last_token_request["scope"] == "read:items write:items"


def test_tag_endpoint_outside_the_allowed_hosts_is_refused(client, secrets_manager, provider, monkeypatch):
    monkeypatch.setenv("ROTATION_ALLOWED_HOSTS", "keys.example.com")
    secret = rotating(client, secrets_manager, provider, PLAINTEXT_API_KEY)
    token = secret.begin()

    with pytest.raises(ConfigurationError, match="not in the function variable ROTATION_ALLOWED_HOSTS"):
        secret.invoke("createSecret", token)

    assert provider.calls == {}, "the current key was sent nowhere"
    assert secret.labels() == {secret.initial_version: [CURRENT], token: [PENDING]}
