"""Secrets Manager rotating for real on moto's server, for the rotation drill's tests.

moto's RotateSecret does not follow AWS: without a Lambda it can run it moves AWSCURRENT onto the
empty new version itself (tests/rotation_support/secrets_manager.py). Here RotateSecret is played as
AWS plays it, on the server's side:

- it refuses while AWSPENDING sits on a version other than AWSCURRENT ("A previous rotation isn't
  complete. That rotation will be reattempted.", InvalidRequestException), else labels the new version
  (the ClientRequestToken) AWSPENDING and answers at once, before the function runs;
- the bundled rotation function (rotation/handler.py) then runs its four steps in a thread, against
  the same server over HTTP, each step one Lambda invocation; its log lines reach CloudWatch Logs
  (moto's) in /aws/lambda/<function>, in Lambda's text format, the runtime's START/END lines and its
  `[ERROR] <Type>: <message>` for a raised exception included ("Log and monitor Python Lambda
  functions", Lambda developer guide);
- a failed step ends the attempt with a RotationFailed CloudTrail record (the shape of
  tests/cloudtrail_records.py), and Secrets Manager retries the whole rotation ("If any rotation step
  fails, Secrets Manager retries the entire rotation process multiple times", "Rotation by Lambda
  function"), here `retries` times, `retry_delay` seconds apart;
- LookupEvents, which moto lacks, answers from those records (LookupAttributes EventName, StartTime,
  EndTime), shaped as the CloudTrail API documents.

What moto still cannot show (a replica that lags, an event that arrives minutes late, a filter pattern
applied by the service) is tested against botocore's Stubber (tests/test_rotate_api.py).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone

import boto3
from moto.cloudtrail.responses import CloudTrailResponse
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.secretsmanager.exceptions import InvalidRequestException
from moto.secretsmanager.models import SecretsManagerBackend

import rotation_support.lambda_code  # noqa: F401  (puts rotation/ on sys.path)
from cloudtrail_records import rotation_record
from rotation_support.fake_provider import FakeProvider
from rotation_support.rotating_secret import STEPS, api_key_tags
from rotation_support.secrets_manager import REGION, ROTATION_LAMBDA_ARN, MotoSecretsManager, RotationInProgress

import handler

FUNCTION = ROTATION_LAMBDA_ARN.split(":")[6]
LOG_GROUP = f"/aws/lambda/{FUNCTION}"
ACCOUNT = ROTATION_LAMBDA_ARN.split(":")[4]


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


class _InvocationLog(logging.Handler):
    """The function's log records of one invocation (its thread's), as Lambda's text format writes them."""

    def __init__(self, request_id: str) -> None:
        super().__init__(logging.DEBUG)
        self._thread = threading.get_ident()
        self._request_id = request_id
        self.events: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread != self._thread:
            return
        when = datetime.fromtimestamp(record.created, tz=timezone.utc)
        self.add(f"[{record.levelname}]\t{_stamp(when)}\t{self._request_id}\t{record.getMessage()}\n", record.created)

    def add(self, message: str, created: float | None = None) -> None:
        self.events.append({"timestamp": int((created or time.time()) * 1000), "message": message})


class RotationService:
    def __init__(self, secrets_manager: MotoSecretsManager, *, retries: int = 2, retry_delay: float = 0.2) -> None:
        self.secrets_manager = secrets_manager
        self.retries = retries
        self.retry_delay = retry_delay
        self.records: list[dict] = []
        self.invocations: list[tuple[str, str]] = []
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._lock = threading.Lock()

    @property
    def endpoint_url(self) -> str:
        return self.secrets_manager.endpoint_url

    # --- on the server's side -------------------------------------------------------------------

    def install(self, monkeypatch) -> None:
        service = self

        def rotate_as_aws_does(backend, secret_id, client_request_token=None, rotation_lambda_arn=None,
                               rotation_rules=None, rotate_immediately=True):
            stored = backend.secrets[secret_id]
            if not stored.rotation_lambda_arn:
                raise InvalidRequestException("No Lambda rotation function ARN is associated with this secret.")
            token = client_request_token or str(uuid.uuid4())
            try:
                service.secrets_manager.begin_rotation(stored.name, token)
            except RotationInProgress as refusal:
                raise InvalidRequestException(str(refusal)) from None
            service._run_in_background(stored.arn, token)
            return json.dumps({"ARN": stored.arn, "Name": stored.name, "VersionId": token})

        def lookup_events(response):
            attributes = response._get_param("LookupAttributes") or []
            start, end = response._get_param("StartTime"), response._get_param("EndTime")
            wanted = {item["AttributeKey"]: item["AttributeValue"] for item in attributes}
            with service._lock:
                records = list(service.records)
            events = [
                {"EventId": record["eventID"], "EventName": record["eventName"], "ReadOnly": "false",
                 "EventTime": datetime.strptime(record["eventTime"], "%Y-%m-%dT%H:%M:%SZ")
                 .replace(tzinfo=timezone.utc).timestamp(),
                 "EventSource": record["eventSource"], "CloudTrailEvent": json.dumps(record)}
                for record in records
                if wanted.get("EventName", record["eventName"]) == record["eventName"]
            ]
            events = [event for event in events if (start is None or event["EventTime"] >= float(start))
                      and (end is None or event["EventTime"] <= float(end))]
            return json.dumps({"Events": events})

        monkeypatch.setattr(SecretsManagerBackend, "rotate_secret", rotate_as_aws_does)
        monkeypatch.setattr(CloudTrailResponse, "lookup_events", lookup_events, raising=False)

    # --- the function, invoked as Secrets Manager invokes it --------------------------------------

    def _run_in_background(self, arn: str, token: str) -> None:
        thread = threading.Thread(target=self._rotate, args=(arn, token), daemon=True)
        self._threads.append(thread)
        thread.start()

    def _rotate(self, arn: str, token: str) -> None:
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.retry_delay)
            if self._stopping.is_set() or self._attempt(arn, token):
                return

    def _attempt(self, arn: str, token: str) -> bool:
        for step in STEPS:
            if self._stopping.is_set():
                return False
            failed = self._invoke(arn, token, step)
            if failed is not None:
                self._record_failure(arn, step)
                return False
        return True

    def _invoke(self, arn: str, token: str, step: str) -> Exception | None:
        request_id = str(uuid.uuid4())
        log = _InvocationLog(request_id)
        log.add(f"START RequestId: {request_id} Version: $LATEST\n")
        logging.getLogger().addHandler(log)
        failure = None
        try:
            handler.lambda_handler({"SecretId": arn, "ClientRequestToken": token, "Step": step}, None)
        except Exception as error:  # noqa: BLE001 - what the Lambda runtime reports
            failure = error
            log.add(f"[ERROR] {type(error).__name__}: {error}\nTraceback (most recent call last):\n"
                    f'  File "/var/task/handler.py", in lambda_handler\n')
        finally:
            logging.getLogger().removeHandler(log)
        log.add(f"END RequestId: {request_id}\n")
        self.invocations.append((step, "failed" if failure else "done"))
        self._write_log(request_id, log.events)
        return failure

    def _write_log(self, request_id: str, events: list[dict]) -> None:
        logs = boto3.client("logs", region_name=REGION, endpoint_url=self.endpoint_url)
        with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
            logs.create_log_group(logGroupName=LOG_GROUP)
        stream = f"{datetime.now(timezone.utc):%Y/%m/%d}/[$LATEST]{request_id.replace('-', '')}"
        logs.create_log_stream(logGroupName=LOG_GROUP, logStreamName=stream)
        logs.put_log_events(logGroupName=LOG_GROUP, logStreamName=stream, logEvents=events)

    def _record_failure(self, arn: str, step: str) -> None:
        record = rotation_record("RotationFailed", arn, datetime.now(timezone.utc), region=REGION, account=ACCOUNT)
        record["eventID"] = str(uuid.uuid4())
        record["errorMessage"] = f"Error when executing lambda {ROTATION_LAMBDA_ARN} during {step} step"
        with self._lock:
            self.records.append(record)

    def join(self, timeout: float = 30) -> None:
        """Wait for the rotations under way (a drill that stopped waiting leaves them running)."""
        for thread in self._threads:
            thread.join(timeout=timeout)

    def stop(self) -> None:
        """Stop retrying, then wait for the invocations under way."""
        self._stopping.set()
        self.join()


@contextlib.contextmanager
def rotation_service(monkeypatch, server: ThreadedMotoServer | None = None, **options) -> Iterator[RotationService]:
    """moto's server (`server`, emptied first, else one of its own) with Secrets Manager made to act like
    AWS (rotation_support) and RotateSecret played here; the environment of the function (and of a drill
    run in this process) points at it."""
    for name in ("AWS_PROFILE", "SECRETS_MANAGER_ENDPOINT", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SECRETS_MANAGER",
                 "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": REGION, "AWS_CONFIG_FILE": "/nonexistent/aws-config",
                        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
                        "ROTATION_ALLOWED_HOSTS": "127.0.0.1"}.items():
        monkeypatch.setenv(name, value)
    secrets_manager = MotoSecretsManager(server)
    with secrets_manager.running(monkeypatch):
        # The backends are process-wide: every test starts from an empty account.
        urllib.request.urlopen(urllib.request.Request(f"{secrets_manager.endpoint_url}/moto-api/reset", method="POST"))
        # The function finds Secrets Manager as boto3 does; the drill is given --endpoint-url.
        monkeypatch.setenv("SECRETS_MANAGER_ENDPOINT", secrets_manager.endpoint_url)
        service = RotationService(secrets_manager, **options)
        service.install(monkeypatch)
        try:
            yield service
        finally:
            service.stop()


def deploy_api_key(service: RotationService, provider: FakeProvider, name: str, *,
                   replicas: tuple[str, ...] = ()) -> str:
    """A secret as the layout deploys a `function: api-key-rotator` one: the provider's key as its value,
    the adapter's settings as tags, rotation on. Returns the value (which no output may show)."""
    client = boto3.client("secretsmanager", region_name=REGION, endpoint_url=service.endpoint_url)
    value = provider.add_key().api_key
    client.create_secret(
        Name=name, SecretString=value,
        Tags=[{"Key": key, "Value": tag} for key, tag in api_key_tags(provider.base_url).items()],
        **({"AddReplicaRegions": [{"Region": region} for region in replicas]} if replicas else {}))
    service.secrets_manager.enable_rotation(name)
    return value


def declaration_text(names: list[str], *, exempt: list[str] = ()) -> str:
    """A dev declaration of the same secrets (the drill reads names and rotation from it)."""
    rotating = "".join(f"""  - name: {name}
    kind: api-key
    value: {{external: true}}
    rotation:
      function: api-key-rotator
      adapter: {{type: http-api-key, create_url: "https://keys.example.com/v1/keys",
                verify_url: "https://keys.example.com/v1/whoami"}}
""" for name in names)
    exempted = "".join(f"""  - name: {name}
    kind: api-key
    value: {{external: true}}
    rotation: {{enabled: false, reason: the vendor has no rotation API}}
""" for name in exempt)
    return f"""environment: dev
security_account: "{ACCOUNT}"
primary_region: {REGION}
defaults:
  rotation: {{every_days: 7}}
  protect: false
secrets:
{rotating}{exempted}"""


def secret_values(service: RotationService, name: str) -> list[str]:
    """Every value the secret ever held (read by the test, never by the drill)."""
    client = boto3.client("secretsmanager", region_name=REGION, endpoint_url=service.endpoint_url)
    versions = client.list_secret_version_ids(SecretId=name, IncludeDeprecated=True)["Versions"]
    values = []
    for version in versions:
        with contextlib.suppress(client.exceptions.ResourceNotFoundException):
            values.append(client.get_secret_value(SecretId=name, VersionId=version["VersionId"])["SecretString"])
    return values


def environment_for(service: RotationService) -> dict[str, str]:
    """What a drill started as its own process needs: credentials for moto, nothing else of the tests'."""
    keep = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    return {**keep, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_CONFIG_FILE": "/nonexistent/aws-config", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
            "PYTHONUNBUFFERED": "1"}
