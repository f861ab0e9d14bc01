"""examples/consumer-app: an application reads a layout secret by name through aws-secretsmanager-caching,
across a real rotation by the bundled function (rotation/handler.py, its four steps against moto in
server mode on 127.0.0.1 and the scripted fake provider, as tests/test_rotation_handler.py does).

Time is a fake clock (time-machine): aws-secretsmanager-caching decides a refresh with
datetime.now(timezone.utc) against a time drawn between half the interval and the interval
(SecretCacheItem._execute_refresh), so "before half the TTL" and "after the TTL" are the two instants
whose answer the library fixes.

Not checked here: moto resolves a partial ARN by the secret's name alone and does not evaluate the
account in it, nor the resource and key policies of a cross-account read; those are
tests/test_access_matrix.py's (an IAM evaluator over the policies the layout deploys).
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import boto3
import pytest
import time_machine
from moto.core import DEFAULT_ACCOUNT_ID

from rotation_support.moto_fixtures import client, secrets_manager  # noqa: F401  (fixtures)
from rotation_support.provider_fixtures import provider, provider_server  # noqa: F401  (fixtures)
from rotation_support.rotating_secret import PLAINTEXT_API_KEY, STEPS, RotatingSecret
from rotation_support.secrets_manager import REGION

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "consumer-app"
if str(EXAMPLE) not in sys.path:
    sys.path.insert(0, str(EXAMPLE))

from consumer_app import PaymentsClient  # noqa: E402
from secret_reader import (  # noqa: E402
    REFRESH_SECONDS,
    ROTATION_WINDOW_REFRESH_SECONDS,
    SecretReader,
    refresh_interval,
    rotation_near,
    secret_id,
)

pytestmark = pytest.mark.slow

START = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)
API_KEY_TTL = REFRESH_SECONDS["api-key"]


@pytest.fixture
def app_client(client):
    """The application's own Secrets Manager client (the `client` fixture sets its environment), so the
    calls it sends are told apart from the rotation's; `app_client.sent` records (operation, SecretId)."""
    app_client = boto3.client("secretsmanager")
    app_client.sent = []
    app_client.meta.events.register(
        "provide-client-params.secrets-manager.*",
        lambda params, model, **_: app_client.sent.append((model.name, params["SecretId"])),
    )
    return app_client


def reading_app(app_client, provider, secret):
    reader = SecretReader(app_client, security_account=DEFAULT_ACCOUNT_ID, region=REGION)
    return reader, PaymentsClient(reader, secret.name, f"{provider.base_url}/v1/whoami")


def test_the_app_keeps_the_previous_key_until_its_cache_refreshes_then_uses_the_new_one(
    client, secrets_manager, provider, app_client
):
    secret = RotatingSecret.create(client, secrets_manager, provider, PLAINTEXT_API_KEY)
    previous = secret.value(stage="AWSCURRENT")
    reader, app = reading_app(app_client, provider, secret)
    with time_machine.travel(START, tick=False) as clock:
        assert app.key_is_accepted()
        clock.shift(timedelta(minutes=1))
        token = secret.rotate()
        rotated = secret.value(stage="AWSCURRENT")
        assert rotated != previous and secret.value(stage="AWSPREVIOUS") == previous

        clock.move_to(START + timedelta(seconds=API_KEY_TTL // 2 - 1))
        assert reader.get_secret_string(secret.name, "api-key") == previous
        assert app.key_is_accepted(), "the bundled function keeps the previous key valid until the next rotation"

        clock.move_to(START + timedelta(seconds=API_KEY_TTL + 1))
        assert reader.get_secret_string(secret.name, "api-key") == rotated
        assert app.key_is_accepted()
    assert secret.is_active(token)
    partial_arn = f"arn:aws:secretsmanager:{REGION}:{DEFAULT_ACCOUNT_ID}:secret:{secret.name}"
    assert {sent for _, sent in app_client.sent} == {partial_arn}
    # The cache asks DescribeSecret for the stages, then GetSecretValue once per version it has not seen.
    assert [operation for operation, _ in app_client.sent] == [
        "DescribeSecret", "GetSecretValue", "DescribeSecret", "GetSecretValue"]


def test_a_rotation_due_within_the_ttl_shortens_it_to_the_rotation_window_refresh(
    client, secrets_manager, provider, app_client
):
    secret = RotatingSecret.create(client, secrets_manager, provider, PLAINTEXT_API_KEY)
    previous = secret.value(stage="AWSCURRENT")
    reader, app = reading_app(app_client, provider, secret)
    with time_machine.travel(START, tick=False) as clock:
        secrets_manager._stored(secret.name).next_rotation_date = int((START + timedelta(hours=1)).timestamp())
        assert reader.get_secret_string(secret.name, "api-key") == previous  # learns NextRotationDate
        assert reader.get_secret_string(secret.name, "api-key") == previous  # now through the short TTL
        secret.rotate()
        clock.shift(timedelta(seconds=ROTATION_WINDOW_REFRESH_SECONDS + 1))
        assert reader.get_secret_string(secret.name, "api-key") == secret.value(stage="AWSCURRENT") != previous
        assert app.key_is_accepted()


def test_a_rotation_in_progress_counts_as_near(client, secrets_manager, provider, app_client):
    secret = RotatingSecret.create(client, secrets_manager, provider, PLAINTEXT_API_KEY)
    reader, _ = reading_app(app_client, provider, secret)
    token = secret.begin()
    secret.invoke(STEPS[0], token)
    assert reader.get_secret_string(secret.name, "api-key") == secret.value(stage="AWSCURRENT")
    described = client.describe_secret(SecretId=secret.name)
    assert rotation_near(described, START, API_KEY_TTL)


@pytest.mark.parametrize(("kind", "near", "seconds"), [
    ("database", False, 3600),
    ("api-key", False, 6 * 3600),
    ("oauth-token", False, 6 * 3600),
    ("generic", False, 3600),
    ("database", True, 300),
    ("api-key", True, 300),
])
def test_the_ttl_per_kind(kind, near, seconds):
    assert refresh_interval(kind, near_rotation=near) == seconds


def test_an_unknown_kind_is_refused_with_the_known_ones():
    with pytest.raises(ValueError, match="unknown kind 'password': one of database, api-key, oauth-token, generic"):
        refresh_interval("password", near_rotation=False)


@pytest.mark.parametrize(("described", "near"), [
    pytest.param(None, False, id="never described"),
    pytest.param({"VersionIdsToStages": {"v1": ["AWSCURRENT"]}}, False, id="no rotation"),
    pytest.param({"VersionIdsToStages": {"v1": ["AWSCURRENT"], "v2": ["AWSPENDING"]}}, True, id="pending"),
    pytest.param({"VersionIdsToStages": {"v1": ["AWSCURRENT", "AWSPENDING"]}}, False, id="pending on current"),
    pytest.param({"RotationEnabled": True, "NextRotationDate": START + timedelta(hours=5)}, True, id="due within"),
    pytest.param({"RotationEnabled": True, "NextRotationDate": START + timedelta(hours=7)}, False, id="due after"),
    pytest.param({"RotationEnabled": False, "NextRotationDate": START + timedelta(hours=1)}, False, id="disabled"),
])
def test_rotation_near(described, near):
    assert rotation_near(described, START, 6 * 3600) is near


@pytest.mark.parametrize(("name", "account", "message"), [
    ("arn:aws:secretsmanager:us-east-1:111111111111:secret:prod/x-AbCdEf", "111111111111", "not an ARN"),
    ("", "111111111111", "not an ARN"),
    ("prod/payments/stripe-api-key", "11111111111", "12-digit account ID"),
])
def test_the_secret_is_named_by_name_and_security_account_only(name, account, message):
    with pytest.raises(ValueError, match=message):
        secret_id(name, region="us-east-1", security_account=account)


def test_the_secret_id_is_the_partial_arn():
    assert secret_id("prod/payments/stripe-api-key", region="eu-west-1", security_account="111111111111") == (
        "arn:aws:secretsmanager:eu-west-1:111111111111:secret:prod/payments/stripe-api-key")
