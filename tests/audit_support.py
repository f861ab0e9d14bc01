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
import json
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import boto3
import pytest
from botocore.stub import ANY, Stubber
from moto.core import DEFAULT_ACCOUNT_ID
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.secretsmanager.models import FakeSecret, SecretsManagerBackend, secretsmanager_backends

from secrets_layout import cli
from secrets_layout.audit import cli as audit_cli
from secrets_layout.audit.collect import AwsClients
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
    """An empty account on moto's server (`moto_server`), and direct access to its backends for the gaps above."""

    def __init__(self, server: ThreadedMotoServer) -> None:
        self._server = server
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
        # The backends are process-wide: start every test from an empty account.
        urllib.request.urlopen(urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST"))
        yield self

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


# --- pytest fixtures and the CLI, for the tests that run `secrets-layout audit` against moto ---------

@pytest.fixture(scope="module")
def moto_server():
    """moto's server on 127.0.0.1 (a free port), one for a module's tests: starting and stopping one takes
    half a second, and the fixture each test uses empties it first (`account`; test_rotate_moto's
    `rotation_service`)."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def account(monkeypatch, moto_server):
    moto = MotoAccount(moto_server)
    with moto.running(monkeypatch):
        yield moto


@pytest.fixture
def no_value_reads(monkeypatch):
    """The server side fails the test if any request for a secret value ever arrives."""
    calls: list[str] = []

    def refuse(backend, *args, **kwargs):
        calls.append("GetSecretValue")
        raise AssertionError("the audit called GetSecretValue")

    monkeypatch.setattr(SecretsManagerBackend, "get_secret_value", refuse)
    monkeypatch.setattr(SecretsManagerBackend, "batch_get_secret_value", refuse, raising=False)
    yield calls
    assert calls == []


class CloudTrailStub(dict):
    """LookupEvents answers per region: `stub[region] = [records]` (one page), or
    `stub.refusals[region] = (code, message)` for a ClientError AWS would send."""

    def __init__(self) -> None:
        super().__init__()
        self.refusals: dict[str, tuple[str, str]] = {}

    def client(self, account: MotoAccount, region: str):
        client = boto3.client("cloudtrail", region_name=region, endpoint_url=account.endpoint_url)
        stubber = Stubber(client)
        if region in self.refusals:
            code, message = self.refusals[region]
            stubber.add_client_error("lookup_events", service_error_code=code, service_message=message,
                                     http_status_code=400)
        else:
            stubber.add_response(
                "lookup_events",
                {"Events": [
                    {"EventId": record["eventID"], "EventName": record["eventName"], "ReadOnly": "true",
                     "EventTime": record["eventTime"], "EventSource": record["eventSource"],
                     "CloudTrailEvent": json.dumps(record)}
                    for record in self.get(region, [])
                ]},
                {"LookupAttributes": [{"AttributeKey": "EventSource", "AttributeValue": "secretsmanager.amazonaws.com"}],
                 "StartTime": ANY, "EndTime": ANY},
            )
        stubber.activate()
        return client


@pytest.fixture
def cloudtrail(monkeypatch, account):
    """Route the CLI's CloudTrail calls to Stubbers (moto does not implement LookupEvents); the test
    fills the stub per region. Stubber checks each response against CloudTrail's service model."""
    stub = CloudTrailStub()

    def clients(endpoint_url):
        return AwsClients(endpoint_url=endpoint_url,
                          overrides={"cloudtrail": lambda region: stub.client(account, region)})

    monkeypatch.setattr(audit_cli, "aws_clients", clients)
    return stub


def audit(capsys, *arguments: str) -> tuple[int, str, str]:
    """`secrets-layout audit ARGUMENTS` through the CLI's entry function: (exit code, stdout, stderr)."""
    try:
        code = cli.main(["audit", *arguments])
    except SystemExit as exit_:
        code = exit_.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def healthy(account: MotoAccount, declaration) -> dict[str, str]:
    """The layout exactly as the program deploys it, every secret rotated 5 days ago; its keys by region."""
    keys = account.deploy(declaration)
    for name in ("prod/payments/rotated", "prod/payments/overdue", "prod/payments/never-rotated",
                 "prod/payments/edited-by-hand", "prod/payments/no-replica"):
        account.set_rotation(name, every_days=30, last_rotated=account.now - timedelta(days=5))
    return keys
