"""A security account for the audit tests: moto in server mode on 127.0.0.1, seeded as the program deploys.

The layout is written with boto3 over HTTP exactly as the components would deploy it (keys with
the alias alias/secrets/<env>, secrets on those keys with secret_tags(), the resource policy of
secret_policy_for(), replicas on their region's key), then problems are planted. Where moto 5.2
differs from AWS in what the audit reads, the gap is closed here, on the server's side:

- moto reports every replica's KmsKeyId as alias/aws/secretsmanager, whatever key was given
  (ReplicaSecret.config); AWS reports the replica's key;
- moto's DescribeSecret always answers LastAccessedDate null; AWS reports the day of the last
  read (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DescribeSecret.html);
- moto's ListSecretVersionIds reports every version as created "now"; AWS reports when it was;
- moto's RotateSecret would invoke the rotation Lambda; the rotation state AWS records
  (RotationEnabled, RotationRules, LastRotatedDate, NextRotationDate) is set on the backend.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import boto3
from moto.core import DEFAULT_ACCOUNT_ID
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.secretsmanager.models import FakeSecret, SecretsManagerBackend, secretsmanager_backends

from secrets_layout.components.policy_documents import secret_policy_for
from secrets_layout.components.secret_settings import secret_tags
from secrets_layout.declaration.loader import load_declaration

ACCOUNT = DEFAULT_ACCOUNT_ID
PRIMARY = "us-east-1"
REPLICA = "us-west-2"
ORGANIZATION = "o-a1b2c3d4e5"
ROTATOR = f"arn:aws:lambda:{PRIMARY}:{ACCOUNT}:function:prod-rotator"
INTRUDER = "arn:aws:iam::999999999999:role/AddedByHand"

DECLARATION = f"""\
environment: prod
security_account: "{ACCOUNT}"
organization_id: {ORGANIZATION}
primary_region: {PRIMARY}
accounts:
  prod-app: "222222222222"
defaults:
  replicas: [{REPLICA}]
  rotation: {{lambda_arn: "{ROTATOR}", every_days: 30}}
  tags: {{owner: platform-team}}
secrets:
""" + "".join(
    f"""  - name: prod/payments/{name}
    kind: api-key
    value: {{external: true}}
    readers: [{{account: prod-app, roles: [PaymentsRole]}}]
"""
    for name in ("rotated", "overdue", "never-rotated", "edited-by-hand", "no-replica")
)

POLICY_CONFIG = {"secret-rotation-max-interval": {"enforcementLevel": "mandatory", "maximumDays": 90}}

# What each planted problem must produce, and nothing else: (secret, region, kind).
PLANTED = {
    ("prod/payments/overdue", PRIMARY, "rotation-overdue"),
    ("prod/payments/never-rotated", PRIMARY, "rotation-never-rotated"),
    ("prod/payments/edited-by-hand", PRIMARY, "policy-drift"),
    ("prod/payments/no-replica", REPLICA, "replica-missing"),
    ("prod/legacy/forgotten", PRIMARY, "secret-undeclared"),
}


class MotoAccount:
    """moto's server on 127.0.0.1 (a free port), and direct access to its backends for the gaps above."""

    def __init__(self) -> None:
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.now = datetime.now(timezone.utc)

    @property
    def endpoint_url(self) -> str:
        host, port = self._server.get_host_and_port()
        return f"http://{host}:{port}"

    @contextlib.contextmanager
    def running(self, monkeypatch) -> Iterator[MotoAccount]:
        for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                            "AWS_DEFAULT_REGION": PRIMARY}.items():
            monkeypatch.setenv(name, value)
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
            monkeypatch.delenv(name, raising=False)
        self._close_gaps(monkeypatch)
        self._server.start()
        try:
            # The backends are process-wide: start every test from an empty account.
            urllib.request.urlopen(urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST"))
            yield self
        finally:
            self._server.stop()

    def client(self, service: str, region: str = PRIMARY):
        return boto3.client(service, region_name=region, endpoint_url=self.endpoint_url)

    # --- moto gaps ------------------------------------------------------------------------------
    @staticmethod
    def _close_gaps(monkeypatch) -> None:
        original_to_dict = FakeSecret.to_dict

        def to_dict_with_last_access(secret):
            description = original_to_dict(secret)
            accessed = getattr(secret, "audit_last_accessed", None)
            if accessed is not None:
                description["LastAccessedDate"] = accessed
            return description

        def version_ids_with_creation(backend, secret_id):
            secret = backend.secrets[secret_id]
            return json.dumps({
                "ARN": secret.arn, "Name": secret.name,
                "Versions": [
                    {"CreatedDate": version.get("createdate"), "VersionId": version_id,
                     "VersionStages": version["version_stages"]}
                    for version_id, version in secret.versions.items()
                ],
            })

        monkeypatch.setattr(FakeSecret, "to_dict", to_dict_with_last_access)
        monkeypatch.setattr(SecretsManagerBackend, "list_secret_version_ids", version_ids_with_creation)

    def stored(self, name: str, region: str = PRIMARY):
        backend = secretsmanager_backends[ACCOUNT][region]
        return next(secret for secret in backend.secrets.values() if secret.name == name)

    def set_replica_key(self, name: str, region: str, key_arn: str) -> None:
        for replica in self.stored(name).replicas:
            if replica.region == region:
                replica.config["KmsKeyId"] = key_arn

    def set_rotation(self, name: str, *, every_days: int, last_rotated: datetime | None) -> None:
        stored = self.stored(name)
        stored.rotation_requested = True
        stored.rotation_enabled = True
        stored.rotation_lambda_arn = ROTATOR
        stored.auto_rotate_after_days = every_days
        stored.last_rotation_date = int(last_rotated.timestamp()) if last_rotated else None
        base = last_rotated or self.now
        stored.next_rotation_date = int((base + timedelta(days=every_days)).timestamp())

    def set_last_accessed(self, name: str, when: datetime) -> None:
        # AWS rounds LastAccessedDate to the day.
        day = datetime(when.year, when.month, when.day, tzinfo=timezone.utc)
        self.stored(name).audit_last_accessed = int(day.timestamp())

    # --- the layout, as the program deploys it --------------------------------------------------
    def create_keys(self, environment: str, regions: list[str]) -> dict[str, str]:
        keys = {}
        for region in regions:
            kms = self.client("kms", region)
            key = kms.create_key(Description=f"Secrets Manager secrets of {environment} ({region})")["KeyMetadata"]
            kms.create_alias(AliasName=f"alias/secrets/{environment}", TargetKeyId=key["KeyId"])
            keys[region] = key["Arn"]
        return keys

    def deploy(self, declaration_path: Path, *, skip_replicas: frozenset[str] = frozenset()) -> dict[str, str]:
        """Every declared secret with the key, tags, policy and replicas the components give it."""
        declaration = load_declaration(declaration_path).declaration
        keys = self.create_keys(declaration.environment, declaration.regions)
        secrets = self.client("secretsmanager", declaration.primary_region)
        for secret in declaration.secrets:
            replicas = [] if secret.name in skip_replicas else list(secret.replicas)
            replication = {"AddReplicaRegions": [{"Region": region, "KmsKeyId": keys[region]} for region in replicas]}
            secrets.create_secret(
                Name=secret.name, KmsKeyId=keys[declaration.primary_region],
                Tags=[{"Key": key, "Value": value} for key, value in secret_tags(secret, declaration.environment).items()],
                **(replication if replicas else {}),
            )
            for region in replicas:
                self.set_replica_key(secret.name, region, keys[region])
            secrets.put_resource_policy(
                SecretId=secret.name, ResourcePolicy=json.dumps(secret_policy_for(declaration, secret)),
                BlockPublicPolicy=True,
            )
            self.set_last_accessed(secret.name, self.now - timedelta(days=1))
        return keys


def write_declaration(folder: Path, text: str = DECLARATION) -> tuple[Path, Path]:
    declaration = folder / "prod.yaml"
    declaration.write_text(text, encoding="utf-8")
    config = folder / "prod-policy.json"
    config.write_text(json.dumps(POLICY_CONFIG), encoding="utf-8")
    return declaration, config


def seed_planted_problems(account: MotoAccount, declaration_path: Path) -> None:
    """The layout with one problem per secret (PLANTED), the rest as the program leaves it."""
    account.deploy(declaration_path, skip_replicas=frozenset({"prod/payments/no-replica"}))
    now = account.now
    for name in ("prod/payments/rotated", "prod/payments/edited-by-hand", "prod/payments/no-replica"):
        account.set_rotation(name, every_days=30, last_rotated=now - timedelta(days=10))
    account.set_rotation("prod/payments/overdue", every_days=30, last_rotated=now - timedelta(days=120))
    account.set_rotation("prod/payments/never-rotated", every_days=30, last_rotated=None)
    secrets = account.client("secretsmanager")
    policy = json.loads(secrets.get_resource_policy(SecretId="prod/payments/edited-by-hand")["ResourcePolicy"])
    for statement in policy["Statement"]:
        if statement.get("Sid") == "ReadProdApp":
            statement["Principal"]["AWS"] = [statement["Principal"]["AWS"], INTRUDER]
    secrets.put_resource_policy(SecretId="prod/payments/edited-by-hand", ResourcePolicy=json.dumps(policy))
    secrets.create_secret(Name="prod/legacy/forgotten", SecretString="not-read-by-the-audit")


# --- CloudTrail in AWS's formats -----------------------------------------------------------------

@dataclass(frozen=True)
class Read:
    secret: str
    role: str
    account: str
    when: datetime
    denied: bool = False


def get_secret_value_record(read: Read, region: str = PRIMARY) -> dict:
    """A GetSecretValue record as CloudTrail writes it for a cross-account assumed role
    (fields: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html;
    userIdentity for AssumedRole: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html)."""
    role_arn = f"arn:aws:iam::{read.account}:role/{read.role}"
    record = {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": f"AROAEXAMPLE:{read.role}-session",
            "arn": f"arn:aws:sts::{read.account}:assumed-role/{read.role}/{read.role}-session",
            "accountId": read.account,
            "accessKeyId": "ASIAEXAMPLEEXAMPLE",
            "sessionContext": {
                "sessionIssuer": {"type": "Role", "principalId": "AROAEXAMPLE", "arn": role_arn,
                                  "accountId": read.account, "userName": read.role},
                "attributes": {"creationDate": read.when.strftime("%Y-%m-%dT%H:%M:%SZ"), "mfaAuthenticated": "false"},
            },
        },
        "eventTime": read.when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": "secretsmanager.amazonaws.com",
        "eventName": "GetSecretValue",
        "awsRegion": region,
        "sourceIPAddress": "10.0.0.1",
        "userAgent": "aws-sdk-java/2.20.0",
        "requestParameters": {"secretId": read.secret, "versionStage": "AWSCURRENT"},
        "responseElements": None,
        "requestID": "5b2c5f3e-0000-4000-8000-000000000000",
        "eventID": f"{abs(hash((read.secret, read.role, read.when))):032x}"[:32],
        "readOnly": True,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
    }
    if read.denied:
        record["errorCode"] = "AccessDenied"
        record["errorMessage"] = (f"User: {record['userIdentity']['arn']} is not authorized to perform: "
                                  "secretsmanager:GetSecretValue because no resource-based policy allows it")
    return record


def rotation_record(event_name: str, secret_arn: str | None, when: datetime, *, region: str = PRIMARY,
                    account: str = ACCOUNT) -> dict:
    """A rotation outcome (RotationFailed, RotationAbandoned, RotationSucceeded ...) as Secrets Manager
    logs it: an AwsServiceEvent with the secret's ARN in additionalEventData.SecretId
    (https://docs.aws.amazon.com/secretsmanager/latest/userguide/cloudtrail_log_entries.html, "Log entries
    for rotation"); the errorMessage and requestID forms are those of a RotationFailed event AWS
    delivered, as quoted in public code."""
    record = {
        "eventVersion": "1.08",
        "userIdentity": {"accountId": account, "invokedBy": "secretsmanager.amazonaws.com"},
        "eventTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": "secretsmanager.amazonaws.com",
        "eventName": event_name,
        "awsRegion": region,
        "sourceIPAddress": "secretsmanager.amazonaws.com",
        "userAgent": "secretsmanager.amazonaws.com",
        "requestParameters": None,
        "responseElements": None,
        "requestID": f"Rotation-{secret_arn}",
        "eventID": "e3b69cfe-b70e-4c94-baa9-9decc3c150b9",
        "readOnly": False,
        "eventType": "AwsServiceEvent",
        "managementEvent": True,
        "recipientAccountId": account,
        "eventCategory": "Management",
    }
    if event_name == "RotationFailed":
        record["errorMessage"] = f"Error when executing lambda {ROTATOR} during createSecret step"
    if secret_arn is not None:
        record["additionalEventData"] = {"SecretId": secret_arn}
    return record


def rotation_failed_record(secret_arn: str, when: datetime, region: str = PRIMARY) -> dict:
    return rotation_record("RotationFailed", secret_arn, when, region=region)


def put_trail_log_file(account: MotoAccount, bucket: str, records: list[dict], *, region: str, when: datetime,
                       organization_id: str | None = ORGANIZATION) -> str:
    """One log file where an (organization) trail delivers it, gzipped JSON {"Records": [...]}
    (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-examples.html)."""
    owner = f"{organization_id}/{ACCOUNT}" if organization_id else ACCOUNT
    stamp = when.strftime("%Y%m%dT%H%MZ")
    key = (f"AWSLogs/{owner}/CloudTrail/{region}/{when:%Y/%m/%d}/"
           f"{ACCOUNT}_CloudTrail_{region}_{stamp}_Abc123XyZ.json.gz")
    account.client("s3", PRIMARY).put_object(Bucket=bucket, Key=key, Body=gzip.compress(json.dumps({"Records": records}).encode()))
    return key
