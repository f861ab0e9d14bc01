"""Secrets Manager rotation function for API keys and OAuth2 tokens. Lambda handler: handler.lambda_handler.

The folder is the whole deployment package: modules import each other by their top-level names, and
nothing beyond the standard library and boto3 (both in the Lambda Python runtime) is needed.
Each step's behaviour is described in README.md next to this file.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

import boto3

from adapters import AdapterSettings, ConfigurationError, CredentialAdapter
from http_api_key import HttpApiKeyAdapter
from oauth2_client_credentials import OAuth2ClientCredentialsAdapter
from secret_versions import (
    CURRENT,
    PENDING,
    PREVIOUS,
    PendingValueTaken,
    SecretState,
    SecretVersions,
    revocation_label,
)

logger = logging.getLogger("rotation")
logger.setLevel(logging.INFO)

ADAPTER_TYPES = {adapter.name: adapter for adapter in (HttpApiKeyAdapter, OAuth2ClientCredentialsAdapter)}
STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")


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


def lambda_handler(event: Mapping[str, object], context: object) -> None:
    request = RotationRequest.from_event(event)
    # SECRETS_MANAGER_ENDPOINT is the variable AWS's own rotation templates use (VPC endpoints);
    # without it boto3 resolves the endpoint itself, AWS_ENDPOINT_URL* included.
    client = boto3.client("secretsmanager", endpoint_url=os.environ.get("SECRETS_MANAGER_ENDPOINT") or None)
    secrets = SecretVersions(client, request.secret_id)
    logger.info("%s: starting for secret %s, version %s", request.step, request.secret_id, request.token)
    try:
        run_step(request, secrets, os.environ)
    except Exception as error:
        # Every message raised here names operations, versions and statuses, never a secret value.
        logger.error(
            "%s failed for secret %s, version %s: %s: %s",
            request.step,
            request.secret_id,
            request.token,
            type(error).__name__,
            error,
        )
        raise
    logger.info("%s: done for secret %s, version %s", request.step, request.secret_id, request.token)


def run_step(request: RotationRequest, secrets: SecretVersions, environ: Mapping[str, str]) -> None:
    state = secrets.describe()
    stages = staged_for_rotation(request, state)
    if CURRENT in stages:
        logger.info("%s: version %s is already AWSCURRENT", request.step, request.token)
        if request.step == "finishSecret":
            # A retried finishSecret may still owe the clean-up after the label move.
            settle_finished_rotation(request, secrets, adapter_for(state, environ))
        return
    adapter = adapter_for(state, environ)
    if request.step == "createSecret":
        create_secret(request, secrets, adapter)
    elif request.step == "setSecret":
        set_secret(request, secrets)
    elif request.step == "testSecret":
        test_secret(request, secrets, adapter)
    else:
        finish_secret(request, secrets, state, adapter)


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


def create_secret(request: RotationRequest, secrets: SecretVersions, adapter: CredentialAdapter) -> None:
    """Issue a new credential at the provider and store it as the AWSPENDING version, once per token."""
    current_value = secrets.value(stage=CURRENT)
    if secrets.pending_value_exists(request.token):
        logger.info("createSecret: version %s already holds its new credential; nothing to issue", request.token)
        return
    new_value = adapter.issue(current_value)
    try:
        secrets.store_pending(request.token, new_value, request.rotation_token)
    except Exception as error:
        # The credential just issued is stored nowhere: revoke it now or nobody ever will.
        withdraw_unstored_credential(adapter, new_value, current_value)
        if isinstance(error, PendingValueTaken):
            logger.info("createSecret: a twin invocation stored version %s first; kept its credential", request.token)
            return
        raise
    logger.info("createSecret: stored a new %s credential as AWSPENDING version %s", adapter.name, request.token)


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


def set_secret(request: RotationRequest, secrets: SecretVersions) -> None:
    """Nothing to change at the provider: it put the credential into service when it issued it."""
    # Reading the value makes a skipped or failed createSecret surface here, not in testSecret.
    secrets.value(stage=PENDING, version_id=request.token)
    logger.info("setSecret: the provider activated version %s's credential when issuing it", request.token)


def test_secret(request: RotationRequest, secrets: SecretVersions, adapter: CredentialAdapter) -> None:
    """Ask the provider to accept the pending credential; a failure leaves AWSCURRENT where it is."""
    adapter.verify(secrets.value(stage=PENDING, version_id=request.token))
    logger.info("testSecret: the provider accepts the credential of version %s", request.token)


def finish_secret(
    request: RotationRequest, secrets: SecretVersions, state: SecretState, adapter: CredentialAdapter
) -> None:
    """Move AWSCURRENT to the new version, then revoke whatever just left AWSPREVIOUS."""
    current_version = state.version_labelled(CURRENT)
    leaving_previous = state.version_labelled(PREVIOUS)
    if leaving_previous not in (None, current_version, request.token):
        # Marked before the move so that a retry after a crash still knows which credential to revoke.
        label = revocation_label(leaving_previous)
        if label not in state.stages_of(leaving_previous):
            secrets.attach(label, leaving_previous)
    secrets.move_current(to_version=request.token, from_version=current_version)
    logger.info(
        "finishSecret: version %s is AWSCURRENT, version %s is AWSPREVIOUS", request.token, current_version
    )
    settle_finished_rotation(request, secrets, adapter)


def settle_finished_rotation(request: RotationRequest, secrets: SecretVersions, adapter: CredentialAdapter) -> None:
    state = secrets.describe()
    if PENDING in state.stages_of(request.token):
        # AWS accepts AWSPENDING left beside AWSCURRENT; removing it leaves nothing that looks unfinished.
        secrets.detach(PENDING, request.token)
    revoke_retired_credentials(secrets, state.versions_awaiting_revocation(), adapter)


def revoke_retired_credentials(
    secrets: SecretVersions, retired_versions: list[str], adapter: CredentialAdapter
) -> None:
    """Revoke each version marked for revocation that holds none of the rotation labels any more."""
    if not retired_versions:
        return
    current_value = secrets.value(stage=CURRENT)
    for version in retired_versions:
        try:
            adapter.revoke(secrets.value(version_id=version), current_value)
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
        logger.info("finishSecret: revoked the credential of version %s, which has left AWSPREVIOUS", version)
