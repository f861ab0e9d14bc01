"""Secrets Manager for the rotation tests: moto in server mode on 127.0.0.1, made to act like AWS where it matters.

The rotation function talks to moto over HTTP only. This module also plays the Secrets Manager
*service* (what happens inside AWS when a rotation starts), which moto cannot do for this function,
and closes the gaps between moto 5.2 and AWS that the rotation depends on; README.md lists them.
"""

from __future__ import annotations

import contextlib
import functools
import threading
import time
from collections.abc import Iterator

from moto.core import DEFAULT_ACCOUNT_ID
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.core.exceptions import JsonRESTError
from moto.secretsmanager.exceptions import InvalidRequestException, ResourceExistsException, ValidationException
from moto.secretsmanager.models import FakeSecret, SecretsManagerBackend, secretsmanager_backends

REGION = "us-east-1"
# "Secret value size: 65,536 bytes" (https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_limits.html);
# botocore's model says max 65536 for SecretStringType but validates only minimums, and moto checks neither.
MAX_SECRET_BYTES = 65_536
ROTATION_LAMBDA_ARN = f"arn:aws:lambda:{REGION}:{DEFAULT_ACCOUNT_ID}:function:api-key-rotator"


class InternalServiceError(JsonRESTError):
    """What Secrets Manager answers for a failure on its side (HTTP 500); botocore retries it."""

    def __init__(self, message: str) -> None:
        super().__init__("InternalServiceError", message)
        self.code = 500


class RotationInProgress(Exception):
    """What AWS's RotateSecret answers while AWSPENDING sits on a version other than AWSCURRENT."""


class MotoSecretsManager:
    """`server`: a moto server already running (for example one shared by a module's tests, which each
    empty it), else one of its own, started and stopped by `running`."""

    def __init__(self, server: ThreadedMotoServer | None = None) -> None:
        self._own_server = server is None
        self._server = server if server is not None else ThreadedMotoServer(ip_address="127.0.0.1", port=0,
                                                                            verbose=False)
        # AWS applies each call atomically; moto's threaded server would interleave two of them.
        self._lock = threading.RLock()
        self._fail_next_current_move = False
        self._fail_puts_after_commit = 0

    @property
    def endpoint_url(self) -> str:
        host, port = self._server.get_host_and_port()
        return f"http://{host}:{port}"

    @contextlib.contextmanager
    def running(self, monkeypatch) -> Iterator[MotoSecretsManager]:
        self._behave_like_aws(monkeypatch)
        if not self._own_server:
            yield self
            return
        self._server.start()
        try:
            yield self
        finally:
            self._server.stop()

    # --- the Secrets Manager service, played here -----------------------------------------------

    def enable_rotation(self, secret_name: str) -> None:
        """What RotateSecret records; moto's own RotateSecret would try to run the Lambda in Docker."""
        with self._lock:
            stored = self._stored(secret_name)
            stored.rotation_requested = True
            stored.rotation_enabled = True
            stored.rotation_lambda_arn = ROTATION_LAMBDA_ARN
            stored.auto_rotate_after_days = 30

    def begin_rotation(self, secret_name: str, token: str) -> None:
        """What AWS does before calling createSecret: a value-less version, labelled AWSPENDING, named by token.

        Moto's RotateSecret gets the in-progress check backwards and, without a Lambda it can run,
        moves AWSCURRENT onto the empty version itself.
        """
        with self._lock:
            stored = self._stored(secret_name)
            for version in stored.versions.values():
                if "AWSPENDING" in version["version_stages"]:
                    if "AWSCURRENT" not in version["version_stages"]:
                        raise RotationInProgress(
                            "A previous rotation isn't complete. That rotation will be reattempted."
                        )
                    version["version_stages"].remove("AWSPENDING")
            stored.versions[token] = {
                "createdate": int(time.time()),
                "version_id": token,
                "version_stages": ["AWSPENDING"],
            }

    def fail_next_current_move(self) -> None:
        """Make the next UpdateSecretVersionStage of AWSCURRENT fail, as a crash mid-finishSecret would."""
        self._fail_next_current_move = True

    def fail_puts_after_commit(self, count: int = 1) -> None:
        """The next count PutSecretValue calls store their value, then answer HTTP 500 (a reply lost on the way)."""
        self._fail_puts_after_commit = count

    # --- moto made to match AWS -----------------------------------------------------------------

    def _behave_like_aws(self, monkeypatch) -> None:
        check_versions = SecretsManagerBackend._check_with_existing_secrets_and_versions
        original_reset_default_version = FakeSecret.reset_default_version
        update_stage = SecretsManagerBackend.update_secret_version_stage
        put_value = SecretsManagerBackend.put_secret_value
        harness = self

        @functools.wraps(check_versions)
        def refuse_rewriting_a_version(
            backend, secret_name, client_request_token, secret_string, secret_binary, on_create=False
        ):
            # AWS never changes a version's value once it has one; moto lets any AWSPENDING version be rewritten.
            stored = backend.secrets.get(secret_name)
            version = stored.versions.get(client_request_token) if stored and client_request_token else None
            if version and ("secret_string" in version or "secret_binary" in version):
                if (version.get("secret_string"), version.get("secret_binary")) != (secret_string, secret_binary):
                    raise ResourceExistsException(
                        f"You can't use ClientRequestToken {client_request_token} because that value is "
                        f"already in use for a version of secret {stored.arn}."
                    )
            return check_versions(backend, secret_name, client_request_token, secret_string, secret_binary, on_create)

        @functools.wraps(put_value)
        def put_atomically(backend, *args, **kwargs):
            secret_string = kwargs.get("secret_string")
            if isinstance(secret_string, str) and len(secret_string.encode()) > MAX_SECRET_BYTES:
                raise ValidationException(
                    "1 validation error detected: Value at 'secretString' failed to satisfy constraint: "
                    f"Member must have length less than or equal to {MAX_SECRET_BYTES}"
                )
            with harness._lock:
                answer = put_value(backend, *args, **kwargs)
                if harness._fail_puts_after_commit:
                    harness._fail_puts_after_commit -= 1
                    raise InternalServiceError("injected: the value was stored, the answer was lost")
                return answer

        @functools.wraps(update_stage)
        def update_atomically_without_duplicates(
            backend, secret_id, version_stage, remove_from_version_id, move_to_version_id
        ):
            with harness._lock:
                if version_stage == "AWSCURRENT" and harness._fail_next_current_move:
                    harness._fail_next_current_move = False
                    raise InvalidRequestException("injected: the function stopped before moving AWSCURRENT")
                stored = backend.secrets.get(secret_id)
                # AWS ignores attaching a label a version already has; moto would list it twice.
                if stored and move_to_version_id in stored.versions and not remove_from_version_id:
                    if version_stage in stored.versions[move_to_version_id]["version_stages"]:
                        return stored.arn, stored.name
                return update_stage(backend, secret_id, version_stage, remove_from_version_id, move_to_version_id)

        @functools.wraps(original_reset_default_version)
        def move_current_and_previous_as_aws_does(secret, secret_version, version_id):
            # PutSecretValue that moves AWSCURRENT "also automatically moves the staging label AWSPREVIOUS
            # to the version that AWSCURRENT was removed from" (API_PutSecretValue). moto takes that version
            # from default_version_id, which UpdateSecretVersionStage never updates, and replaces its
            # labels with ["AWSPREVIOUS"], dropping custom labels that AWS leaves where they are.
            holder = next(
                (vid for vid, version in secret.versions.items() if "AWSCURRENT" in version["version_stages"]), None
            )
            for version in secret.versions.values():
                if "AWSPREVIOUS" in version["version_stages"]:
                    version["version_stages"].remove("AWSPREVIOUS")
            if holder is not None and holder != version_id:
                stages = secret.versions[holder]["version_stages"]
                stages.remove("AWSCURRENT")
                stages.append("AWSPREVIOUS")
            secret.versions[version_id] = secret_version
            secret.default_version_id = version_id

        monkeypatch.setattr(FakeSecret, "reset_default_version", move_current_and_previous_as_aws_does)
        monkeypatch.setattr(
            SecretsManagerBackend, "_check_with_existing_secrets_and_versions", refuse_rewriting_a_version
        )
        monkeypatch.setattr(SecretsManagerBackend, "put_secret_value", put_atomically)
        monkeypatch.setattr(SecretsManagerBackend, "update_secret_version_stage", update_atomically_without_duplicates)

    def _stored(self, secret_name: str):
        return secretsmanager_backends[DEFAULT_ACCOUNT_ID][REGION].secrets[secret_name]


def labels(client, secret_id: str) -> dict[str, list[str]]:
    """Version id -> sorted staging labels, as AWS shows them: versions without labels are left out."""
    described = client.describe_secret(SecretId=secret_id).get("VersionIdsToStages", {})
    listed = client.list_secret_version_ids(SecretId=secret_id)["Versions"]
    by_description = {version: sorted(stages) for version, stages in described.items() if stages}
    by_listing = {entry["VersionId"]: sorted(entry["VersionStages"]) for entry in listed if entry["VersionStages"]}
    assert by_description == by_listing, "DescribeSecret and ListSecretVersionIds disagree"
    return by_description
