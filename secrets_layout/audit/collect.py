"""Read-only boto3 calls against the security account: Secrets Manager and KMS.

Standard credential resolution (environment, shared config/profile, SSO, instance role): a
plain boto3 Session. Every Secrets Manager client carries a `before-call` hook that refuses
GetSecretValue and BatchGetSecretValue before a request is signed, so the audit cannot read a
value even by mistake (botocore's event system:
https://boto3.amazonaws.com/v1/documentation/api/latest/guide/events.html).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

from secrets_layout.audit.analysis import LiveReplica, LiveSecret
from secrets_layout.audit.errors import AuditError, ReadOnlyViolation
from secrets_layout.audit.messages import html_page_summary, is_html, printable

VALUE_OPERATIONS = ("GetSecretValue", "BatchGetSecretValue")
CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=10, read_timeout=30)


def _value_reads_refused(caller: str) -> Callable[..., None]:
    def refuse(model: Any, **_: Any) -> None:
        raise ReadOnlyViolation(f"{caller} never calls {model.name}: it must not read secret values")

    return refuse


class AwsClients:
    """boto3 clients per (service, region), created once; `overrides` lets tests stub a service.
    `caller` names the command in the refusal of a value read (the audit, the rotation drill)."""

    def __init__(
        self,
        session: Any | None = None,
        *,
        endpoint_url: str | None = None,
        overrides: Mapping[str, Callable[[str], Any]] | None = None,
        caller: str = "the audit",
    ) -> None:
        self._session = session or boto3.Session()
        self._endpoint_url = endpoint_url
        self._overrides = dict(overrides or {})
        self._clients: dict[tuple[str, str], Any] = {}
        self._refuse_value_reads = _value_reads_refused(caller)

    def __call__(self, service: str, region: str) -> Any:
        key = (service, region)
        if key not in self._clients:
            if service in self._overrides:
                client = self._overrides[service](region)
            else:
                client = self._session.client(
                    service, region_name=region, endpoint_url=self._endpoint_url, config=CLIENT_CONFIG
                )
            if service == "secretsmanager":
                for operation in VALUE_OPERATIONS:
                    client.meta.events.register(f"before-call.secrets-manager.{operation}", self._refuse_value_reads)
            self._clients[key] = client
        return self._clients[key]


ACCESS_REFUSED = ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnrecognizedClientException",
                  "InvalidClientTokenId", "ExpiredToken", "ExpiredTokenException")


def error_reason(error: Exception) -> str:
    """A botocore error in one line: AWS's code and message; an HTML page (an emulator's answer to an
    operation it lacks) summarised; a password in the endpoint URL masked."""
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        code, message = str(details.get("Code", "Error")), str(details.get("Message", ""))
        if is_html(message):
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            return printable(html_page_summary(message, status))
        return printable(f"{code}: {message}" if message else code)
    return printable(str(error))


READ_ONLY_ROLE = "a read-only role in the security account"


def describe_error(error: Exception, what: str, *, role: str = READ_ONLY_ROLE, caller: str = "the audit") -> AuditError:
    """A botocore error as one line for a person: what failed, AWS's code and message, the fix
    (`role`: whose credentials the command needs)."""
    if isinstance(error, ReadOnlyViolation):
        return error
    if isinstance(error, NoCredentialsError):
        return AuditError(
            "no AWS credentials found: set AWS_PROFILE (or run `aws sso login`), or AWS_ACCESS_KEY_ID/"
            f"AWS_SECRET_ACCESS_KEY, for {role}"
        )
    if isinstance(error, NoRegionError):
        return AuditError(f"{what}: no region; this is a bug in {caller}, please report it")
    hint = ""
    if isinstance(error, ClientError) and error.response.get("Error", {}).get("Code") in ACCESS_REFUSED:
        hint = f"; use credentials of {role}"
    return AuditError(f"{what}: {error_reason(error)}{hint}")


def _utc(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc) if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return datetime.fromtimestamp(float(value), tz=timezone.utc)


class KeyResolver:
    """KMS key references (key ID, key ARN, alias name or alias ARN) -> key ARN, via DescribeKey."""

    def __init__(self, clients: AwsClients) -> None:
        self._clients = clients
        self._resolved: dict[tuple[str, str], str | None] = {}

    def __call__(self, region: str, reference: str | None) -> str | None:
        if not reference:
            return None
        if reference.startswith("arn:") and ":key/" in reference:
            return reference
        key = (region, reference)
        if key not in self._resolved:
            # An ARN names its own region; anything else lives in the region asked about.
            where = reference.split(":")[3] if reference.startswith("arn:") else region
            try:
                metadata = self._clients("kms", where).describe_key(KeyId=reference)["KeyMetadata"]
                self._resolved[key] = metadata["Arn"]
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") == "NotFoundException":
                    self._resolved[key] = None
                else:
                    raise describe_error(error, f"kms DescribeKey {reference} in {where}") from None
            except BotoCoreError as error:
                raise describe_error(error, f"kms DescribeKey {reference} in {where}") from None
        return self._resolved[key]


def live_secret(
    description: Mapping[str, Any],
    *,
    region: str,
    policy_text: str | None,
    versions: Iterable[Mapping[str, Any]] = (),
    resolve_key: Callable[[str, str | None], str | None] = lambda region, reference: reference,
) -> LiveSecret:
    """A DescribeSecret response (+ GetResourcePolicy, ListSecretVersionIds) as a LiveSecret."""
    replicas = tuple(
        LiveReplica(
            region=item["Region"], status=item.get("Status", "InSync"), status_message=item.get("StatusMessage"),
            kms_key_arn=resolve_key(item["Region"], _customer_key(item.get("KmsKeyId"))),
        )
        for item in description.get("ReplicationStatus", [])
    )
    return LiveSecret(
        name=description["Name"], arn=description["ARN"], region=region,
        primary_region=description.get("PrimaryRegion"),
        kms_key_arn=resolve_key(region, _customer_key(description.get("KmsKeyId"))),
        rotation_enabled=bool(description.get("RotationEnabled")),
        rotation_rules=dict(description.get("RotationRules") or {}),
        last_rotated=_utc(description.get("LastRotatedDate")),
        next_rotation=_utc(description.get("NextRotationDate")),
        last_accessed=_utc(description.get("LastAccessedDate")),
        created=_utc(description.get("CreatedDate")),
        deleted=_utc(description.get("DeletedDate")),
        tags={tag["Key"]: tag["Value"] for tag in description.get("Tags") or []},
        version_stages={key: list(value) for key, value in (description.get("VersionIdsToStages") or {}).items()},
        version_created={item["VersionId"]: _utc(item.get("CreatedDate")) for item in versions if item.get("CreatedDate")},
        replicas=replicas,
        policy=json.loads(policy_text) if policy_text else None,
    )


def _customer_key(reference: str | None) -> str | None:
    """None for the AWS managed key (AWS reports it as its alias, or not at all)."""
    if not reference or reference in ("alias/aws/secretsmanager",) or reference.endswith(":alias/aws/secretsmanager"):
        return None
    return reference


def list_live_secrets(clients: AwsClients, region: str, prefix: str, resolve_key: KeyResolver) -> list[LiveSecret]:
    """Every secret whose name starts with `prefix` in one region, described (values never read).

    ListSecrets' `name` filter matches prefixes case-insensitively
    (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_Filter.html), so names are
    filtered again exactly here. Secrets scheduled for deletion are included.
    """
    client = clients("secretsmanager", region)
    found: list[LiveSecret] = []
    operation = "ListSecrets"
    try:
        names = []
        for page in client.get_paginator("list_secrets").paginate(
            Filters=[{"Key": "name", "Values": [prefix]}], IncludePlannedDeletion=True
        ):
            names.extend(entry["ARN"] for entry in page.get("SecretList", []) if entry["Name"].startswith(prefix))
        for arn in names:
            operation = "DescribeSecret"
            description = client.describe_secret(SecretId=arn)
            if description.get("PrimaryRegion") not in (None, region):
                found.append(live_secret(description, region=region, policy_text=None))
                continue
            operation = "GetResourcePolicy"
            policy_text = client.get_resource_policy(SecretId=arn).get("ResourcePolicy")
            versions: list[Mapping[str, Any]] = []
            stages = description.get("VersionIdsToStages") or {}
            if any("AWSPENDING" in labels and "AWSCURRENT" not in labels for labels in stages.values()):
                operation = "ListSecretVersionIds"
                versions = client.list_secret_version_ids(SecretId=arn).get("Versions", [])
            found.append(live_secret(description, region=region, policy_text=policy_text, versions=versions,
                                     resolve_key=resolve_key))
    except (ClientError, BotoCoreError) as error:
        raise describe_error(error, f"secretsmanager {operation} in {region}") from None
    return found
