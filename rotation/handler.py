"""Secrets Manager rotation function for API keys and OAuth2 tokens. Lambda handler: handler.lambda_handler.

The folder is the whole deployment package: modules import each other by their top-level names, and
nothing beyond the standard library and boto3 (both in the Lambda Python runtime) is needed.
Each step's behaviour is described in README.md next to this file.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone

import boto3

from adapters import (
    AdapterSettings,
    AnswerUnusable,
    ConfigurationError,
    CredentialAdapter,
    CredentialExpired,
    CredentialRejected,
    ProviderError,
)
from http_api_key import HttpApiKeyAdapter
from log_safety import CredentialRedactor, guarding_logs
from oauth2_client_credentials import OAuth2ClientCredentialsAdapter
from secret_form import MalformedSecretValue
from secret_versions import (
    CURRENT,
    PENDING,
    PREVIOUS,
    ROTATION_LABELS,
    PendingValueTaken,
    SecretState,
    SecretVersions,
    revocation_label,
)

Clock = Callable[[], datetime]

logger = logging.getLogger("rotation")
logger.setLevel(logging.INFO)

ADAPTER_TYPES = {adapter.name: adapter for adapter in (HttpApiKeyAdapter, OAuth2ClientCredentialsAdapter)}
STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")


class RotationRefused(ValueError):
    """The step would break the rotation's promises (an empty AWSCURRENT, a credential held twice)."""


class RotationFailed(Exception):
    """Raised in place of an error whose message held a credential; the message is the redacted one."""


class PendingNotYetAccepted(ProviderError):
    """The provider refused the pending credential within the grace period: Secrets Manager's retry tests it again."""


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class RotationRequest:
    secret_id: str
    token: str
    step: str
    # Secrets Manager's proof of origin for PutSecretValue; a credential of sorts, so never printed.
    rotation_token: str | None = field(default=None, repr=False)

    @classmethod
    def from_event(cls, event: Mapping[str, object]) -> RotationRequest:
        for key in ("SecretId", "ClientRequestToken", "Step"):
            if not isinstance(event.get(key), str) or not event[key]:
                raise ValueError(f"the rotation event has no string '{key}'")
        if event["Step"] not in STEPS:
            raise ValueError(f"unknown rotation step {event['Step']!r}; expected one of {', '.join(STEPS)}")
        rotation_token = event.get("RotationToken")
        return cls(
            secret_id=event["SecretId"],
            token=event["ClientRequestToken"],
            step=event["Step"],
            rotation_token=rotation_token if isinstance(rotation_token, str) and rotation_token else None,
        )


def lambda_handler(event: Mapping[str, object], context: object, *, clock: Clock = utc_now) -> None:
    """The Lambda entry point; `clock` is the time every step goes by (tests give their own)."""
    request = RotationRequest.from_event(event)
    redactor = CredentialRedactor()
    with guarding_logs(redactor):
        # SECRETS_MANAGER_ENDPOINT is the variable AWS's own rotation templates use (VPC endpoints);
        # without it boto3 resolves the endpoint itself, AWS_ENDPOINT_URL* included.
        client = boto3.client("secretsmanager", endpoint_url=os.environ.get("SECRETS_MANAGER_ENDPOINT") or None)
        secrets = SecretVersions(client, request.secret_id, redactor)
        logger.info("%s: starting for secret %s, version %s", request.step, request.secret_id, request.token)
        try:
            run_step(request, secrets, os.environ, clock)
        except Exception as error:
            # Messages raised here name operations, versions and statuses; the redactor covers the rest,
            # including the Lambda runtime's own report of the raised error.
            message = redactor.redact(str(error))
            # A wait for the provider is raised for Secrets Manager to retry, but is no failure to alarm on.
            waiting = isinstance(error, PendingNotYetAccepted)
            logger.log(
                logging.WARNING if waiting else logging.ERROR,
                "%s %s for secret %s, version %s: %s: %s",
                request.step,
                "will be retried" if waiting else "failed",
                request.secret_id,
                request.token,
                type(error).__name__,
                message,
            )
            if message != str(error):
                raise RotationFailed(f"{request.step}: {type(error).__name__}: {message}") from None
            raise
        logger.info("%s: done for secret %s, version %s", request.step, request.secret_id, request.token)


def run_step(
    request: RotationRequest, secrets: SecretVersions, environ: Mapping[str, str], clock: Clock = utc_now
) -> None:
    state = secrets.describe()
    stages = staged_for_rotation(request, state)
    if CURRENT in stages:
        logger.info("%s: version %s is already AWSCURRENT", request.step, request.token)
        if request.step == "finishSecret":
            # A retried finishSecret may still owe the clean-up after the label move.
            settle_finished_rotation(request, secrets, adapter_for(state, environ))
        return
    adapter = adapter_for(state, environ)
    # Read at every step, so that a bad value stops createSecret before anything is issued.
    grace_seconds = AdapterSettings(state.tags, environ).verify_grace_seconds()
    if request.step == "createSecret":
        create_secret(request, secrets, state, adapter, clock)
    elif request.step == "setSecret":
        set_secret(request, secrets)
    elif request.step == "testSecret":
        test_secret(request, secrets, state, adapter, grace_seconds, clock)
    else:
        finish_secret(request, secrets, state)
        settle_finished_rotation(request, secrets, adapter)


def staged_for_rotation(request: RotationRequest, state: SecretState) -> frozenset[str]:
    """The token's labels, once rotation is on and the token is this rotation's AWSPENDING (or already done)."""
    if not state.rotation_enabled:
        raise ValueError(f"secret {request.secret_id} is not enabled for rotation")
    stages = state.stages_of(request.token)
    if not stages:
        raise ValueError(f"version {request.token} of secret {request.secret_id} has no stage for rotation")
    if CURRENT not in stages and PENDING not in stages:
        raise ValueError(f"version {request.token} of secret {request.secret_id} is not AWSPENDING")
    return stages


def adapter_for(state: SecretState, environ: Mapping[str, str]) -> CredentialAdapter:
    settings = AdapterSettings(state.tags, environ)
    name = settings.require("adapter")
    adapter_type = ADAPTER_TYPES.get(name)
    if adapter_type is None:
        raise ConfigurationError(f"unknown adapter {name!r}; expected one of {', '.join(sorted(ADAPTER_TYPES))}")
    return adapter_type.from_settings(settings)


def create_secret(
    request: RotationRequest, secrets: SecretVersions, state: SecretState, adapter: CredentialAdapter, clock: Clock
) -> None:
    """Issue a new credential at the provider and store it as the AWSPENDING version, once per token,
    with the time it was stored (testSecret's grace period counts from it)."""
    current_value = secrets.value(stage=CURRENT)
    if secrets.pending_value_exists(request.token):
        logger.info("createSecret: version %s already holds its new credential; nothing to issue", request.token)
        return
    try:
        new_value = issue_new_credential(request, secrets, state, adapter, current_value)
    except (MalformedSecretValue, AnswerUnusable, RotationRefused) as error:
        # Every retry of this token would fail the same way (a provider that honours the idempotency
        # key replays its answer), and while AWSPENDING sits on this value-less version RotateSecret is
        # refused (API_RotateSecret): rotation would be blocked for good.
        give_up_pending(request, secrets)
        raise type(error)(
            f"{error}; version {request.token} gave up AWSPENDING so that the next rotation starts afresh"
        ) from None
    try:
        secrets.store_pending(request.token, new_value, request.rotation_token, stored_at=clock())
    except Exception as error:
        settle_failed_store(request, secrets, adapter, new_value, current_value, error)
        return
    logger.info("createSecret: stored a new %s credential as AWSPENDING version %s", adapter.name, request.token)


def issue_new_credential(
    request: RotationRequest,
    secrets: SecretVersions,
    state: SecretState,
    adapter: CredentialAdapter,
    current_value: str,
) -> str:
    # A bad current value is refused here, before anything is sent anywhere.
    adapter.credential(current_value)
    mark_credential_holders(secrets, state)
    others = [version for version in state.stages_by_version if version != request.token]
    held = credentials_held(secrets, state, adapter, versions=others)
    new_value = adapter.issue(current_value, request.token)
    secrets.redactor.remember(new_value)
    new_credential = adapter.credential(new_value)
    if new_credential is not None and new_credential in held:
        # Revoking it would cut off that version's readers; storing it would have it revoked later anyway.
        raise RotationRefused(
            f"createSecret: the provider answered with the credential that version {held[new_credential]} "
            "already holds, so it issued nothing new; nothing was stored or revoked. Check the provider's "
            "create endpoint (a cached answer) and the response-key-field setting"
        )
    return new_value


def settle_failed_store(
    request: RotationRequest,
    secrets: SecretVersions,
    adapter: CredentialAdapter,
    new_value: str,
    current_value: str,
    error: Exception,
) -> None:
    """PutSecretValue failed, or only its answer did: look before revoking what may be stored after all.

    Revoking a credential that did land would leave AWSPENDING on a dead credential, and every retry's
    testSecret would fail on it.
    """
    try:
        stored = secrets.value_if_any(version_id=request.token)
    except Exception as lookup_error:  # noqa: BLE001 - reported, and the store's own error is raised
        logger.error(
            "createSecret: PutSecretValue failed (%s) and reading version %s back failed too (%s); the new "
            "credential is kept: if the version holds no value, revoke the newest credential by hand",
            type(error).__name__,
            request.token,
            type(lookup_error).__name__,
        )
        raise error
    if stored == new_value:
        logger.warning(
            "createSecret: PutSecretValue answered %s, but version %s holds the new credential; kept it",
            type(error).__name__,
            request.token,
        )
        return
    # The credential just issued is stored nowhere: revoke it now or nobody ever will.
    withdraw_unstored_credential(adapter, new_value, current_value)
    if stored is not None or isinstance(error, PendingValueTaken):
        logger.info("createSecret: a twin invocation stored version %s first; kept its credential", request.token)
        return
    raise error


def withdraw_unstored_credential(adapter: CredentialAdapter, new_value: str, current_value: str) -> None:
    try:
        adapter.revoke(new_value, current_value)
    except Exception as error:
        logger.error(
            "createSecret: could not revoke the credential that was issued but not stored (%s: %s); "
            "revoke it at the provider by hand",
            type(error).__name__,
            error,
        )


def mark_credential_holders(secrets: SecretVersions, state: SecretState) -> None:
    """Mark AWSCURRENT and AWSPREVIOUS for revocation before they can leave by any route.

    A console edit (PutSecretValue) moves AWSPREVIOUS off a version without this function running, and
    a version without labels shows up nowhere ("How rotation works": versions without staging labels
    are deprecated). The mark is a label of the version's own, so it stays wherever AWS's labels go,
    and whichever finishSecret runs next finds the version and revokes its credential.
    """
    for version in state.unmarked(CURRENT, PREVIOUS):
        secrets.attach(revocation_label(version), version)


def credentials_held(
    secrets: SecretVersions, state: SecretState, adapter: CredentialAdapter, *, versions: list[str]
) -> dict[str, str]:
    """credential -> a version among versions that holds it; versions without a value or a readable credential are skipped."""
    held: dict[str, str] = {}
    for version in sorted(versions, key=lambda version: (CURRENT not in state.stages_of(version), version)):
        value = secrets.value_if_any(version_id=version)
        if value is None:
            continue
        try:
            credential = adapter.credential(value)
        except MalformedSecretValue:
            continue
        if credential is not None:
            held.setdefault(credential, version)
    return held


def set_secret(request: RotationRequest, secrets: SecretVersions) -> None:
    """Nothing to change at the provider: it put the credential into service when it issued it."""
    # Reading the value makes a skipped or failed createSecret surface here, not in testSecret.
    secrets.value(stage=PENDING, version_id=request.token)
    logger.info("setSecret: the provider activated version %s's credential when issuing it", request.token)


def test_secret(
    request: RotationRequest,
    secrets: SecretVersions,
    state: SecretState,
    adapter: CredentialAdapter,
    grace_seconds: float,
    clock: Clock,
) -> None:
    """Ask the provider to accept the pending credential; a failure leaves AWSCURRENT where it is.

    A rejection within `grace_seconds` of the credential being stored is raised as PendingNotYetAccepted
    and changes nothing, so Secrets Manager's retry of the rotation tests it again: a provider may take a
    while to accept a new credential everywhere (AWS IAM access keys are eventually consistent). After the
    grace period, or for an expired credential, the rejection is final.
    """
    try:
        adapter.verify(secrets.value(stage=PENDING, version_id=request.token))
    except CredentialRejected as error:
        why_final = final_rejection(error, request.token, state, grace_seconds, clock)
        # AWS never changes a stored version's value, and RotateSecret is refused while AWSPENDING sits
        # on a version other than AWSCURRENT (API_RotateSecret), so a credential that can never pass
        # would block rotation for good. Giving up AWSPENDING lets the next rotation issue a new one.
        give_up_pending(request, secrets)
        raise CredentialRejected(
            f"{error}; {why_final}version {request.token} gave up AWSPENDING so that the next rotation issues a new "
            "credential, and the next finishSecret revokes this one"
        ) from None
    logger.info("testSecret: the provider accepts the credential of version %s", request.token)


def final_rejection(
    error: CredentialRejected, token: str, state: SecretState, grace_seconds: float, clock: Clock
) -> str:
    """Why the rejection of the token's credential is final (a clause for the message), or raise
    PendingNotYetAccepted while the grace period since it was stored lasts."""
    if isinstance(error, CredentialExpired):
        return ""
    stored_at = state.stored_at(token)
    if stored_at is None:
        return f"version {token} holds no ISSUED-AT-<time> label saying when it was stored, so no grace period applies; "
    elapsed = (clock() - stored_at).total_seconds()
    if elapsed < grace_seconds:
        raise PendingNotYetAccepted(
            f"{error}; version {token} was stored {int(elapsed)} s ago, within the grace period of {grace_seconds:g} s "
            "that a new credential may take to be accepted (setting verify-grace-seconds), so AWSPENDING stays for "
            "Secrets Manager's retry to test it again"
        ) from None
    return (
        f"still refused {int(elapsed)} s after version {token} was stored, past the grace period of "
        f"{grace_seconds:g} s (setting verify-grace-seconds); "
    )


def give_up_pending(request: RotationRequest, secrets: SecretVersions) -> None:
    """Take AWSPENDING off the token's version; one that holds a credential keeps a mark, so it is revoked later."""
    state = secrets.describe()
    if secrets.pending_value_exists(request.token) and revocation_label(request.token) not in state.stages_of(
        request.token
    ):
        secrets.attach(revocation_label(request.token), request.token)
    secrets.detach(PENDING, request.token)
    forget_storage_times(secrets, secrets.describe())


def forget_storage_times(secrets: SecretVersions, state: SecretState) -> None:
    """Remove the ISSUED-AT-<time> label of every version no longer AWSPENDING: it is only testSecret's,
    and a secret has room for 20 staging labels in all."""
    for version, label in state.issued_labels():
        if PENDING not in state.stages_of(version):
            secrets.detach(label, version)


def finish_secret(request: RotationRequest, secrets: SecretVersions, state: SecretState) -> None:
    """Move AWSCURRENT to the new version, once it holds a value; the old current becomes AWSPREVIOUS."""
    current_version = state.version_labelled(CURRENT)
    if not secrets.pending_value_exists(request.token):
        raise RotationRefused(
            f"finishSecret: version {request.token} holds no value (createSecret never stored one), so "
            f"AWSCURRENT stays on version {current_version}; run the rotation from createSecret"
        )
    # Marked before the move so that a retry after a crash still knows which credentials to revoke.
    mark_credential_holders(secrets, state)
    secrets.move_current(to_version=request.token, from_version=current_version)
    logger.info(
        "finishSecret: version %s is AWSCURRENT, version %s is AWSPREVIOUS", request.token, current_version
    )


def settle_finished_rotation(request: RotationRequest, secrets: SecretVersions, adapter: CredentialAdapter) -> None:
    state = secrets.describe()
    if PENDING in state.stages_of(request.token):
        # AWS accepts AWSPENDING left beside AWSCURRENT; removing it leaves nothing that looks unfinished.
        secrets.detach(PENDING, request.token)
        state = secrets.describe()
    forget_storage_times(secrets, state)
    revoke_retired_credentials(secrets, secrets.describe(), adapter)


def revoke_retired_credentials(secrets: SecretVersions, state: SecretState, adapter: CredentialAdapter) -> None:
    """Revoke each marked version that holds none of the rotation labels, unless a labelled version shares its credential."""
    retired_versions = state.versions_awaiting_revocation()
    if not retired_versions:
        return
    current_value = secrets.value(stage=CURRENT)
    live = credentials_held(secrets, state, adapter, versions=state.versions_holding(ROTATION_LABELS))
    for version in retired_versions:
        try:
            retiring_value = secrets.value(version_id=version)
            credential = adapter.credential(retiring_value)
        except MalformedSecretValue as error:
            logger.error(
                "finishSecret: cannot revoke the credential of retired version %s (%s); revoke it by hand",
                version,
                error,
            )
            secrets.detach(revocation_label(version), version)
            continue
        if credential is not None and credential in live:
            logger.info(
                "finishSecret: version %s left the rotation labels, but version %s holds the same credential; "
                "not revoked",
                version,
                live[credential],
            )
            secrets.detach(revocation_label(version), version)
            continue
        try:
            adapter.revoke(retiring_value, current_value)
        except Exception as error:
            # The new credential is already in service; a revocation that fails must not undo that.
            logger.error(
                "finishSecret: could not revoke the credential of retired version %s (%s: %s); "
                "its %s label stays and the next finishSecret retries",
                version,
                type(error).__name__,
                error,
                revocation_label(version),
            )
            continue
        secrets.detach(revocation_label(version), version)
        logger.info("finishSecret: revoked the credential of version %s, which has left the rotation labels", version)
