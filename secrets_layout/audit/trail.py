"""Access history from CloudTrail, three ways, one record format.

Every source yields CloudTrail records (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html)
and `events_from_records` turns the Secrets Manager ones into AccessEvents and rotation failures:

- LookupEvents (the last 90 days of management events per region; each result's CloudTrailEvent
  is the record as a JSON string; https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html);
- the trail's log files in S3: gzipped JSON `{"Records": [...]}` under
  `<prefix>/AWSLogs/[<org-id>/]<account>/CloudTrail/<region>/YYYY/MM/DD/`
  (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-find-log-files.html);
- an Athena query over the CloudTrail table whose columns AWS documents
  (https://docs.aws.amazon.com/athena/latest/ug/create-cloudtrail-table.html).

Secrets Manager's rotation outcomes (RotationFailed, RotationAbandoned, ...) are CloudTrail
records with eventType AwsServiceEvent and the secret's ARN in additionalEventData.SecretId
(https://docs.aws.amazon.com/secretsmanager/latest/userguide/cloudtrail_log_entries.html).
"""

from __future__ import annotations

import gzip
import json
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from secrets_layout.audit.errors import AuditError, AuditUsageError
from secrets_layout.audit.findings import AccessEvent

SECRETS_MANAGER = "secretsmanager.amazonaws.com"
READ_EVENTS = ("GetSecretValue", "BatchGetSecretValue")
ROTATION_FAILED = "RotationFailed"
LOOKUP_EVENTS_DAYS = 90
"""LookupEvents sees the last 90 days only."""

S3_URI = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:/(?P<prefix>.*))?$")
ATHENA_TABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")


@dataclass(frozen=True)
class TrailEvents:
    access: tuple[AccessEvent, ...]
    failures: tuple[tuple[str, datetime, str | None], ...]
    """(secret ARN, time, errorMessage) of RotationFailed records."""


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


def _principal(identity: Mapping[str, Any]) -> str:
    """Who called: an assumed role counts as its role (sessions come and go), else the ARN."""
    issuer = ((identity.get("sessionContext") or {}).get("sessionIssuer") or {}).get("arn")
    return str(issuer or identity.get("arn") or identity.get("invokedBy") or identity.get("principalId") or "unknown")


def events_from_records(records: Iterable[Mapping[str, Any]]) -> TrailEvents:
    access: list[AccessEvent] = []
    failures: list[tuple[str, datetime, str | None]] = []
    for record in records:
        if record.get("eventSource") != SECRETS_MANAGER:
            continue
        name = record.get("eventName")
        when = parse_time(str(record.get("eventTime")))
        if name == ROTATION_FAILED:
            secret = (record.get("additionalEventData") or {}).get("SecretId")
            if secret:
                failures.append((str(secret), when, record.get("errorMessage")))
            continue
        if name not in READ_EVENTS:
            continue
        identity = record.get("userIdentity") or {}
        parameters = record.get("requestParameters") or {}
        references = parameters.get("secretIdList") or [parameters.get("secretId")]
        for reference in references:
            if not reference:
                continue
            access.append(AccessEvent(
                time=when, event_name=str(name), secret=str(reference), region=str(record.get("awsRegion", "")),
                principal=_principal(identity), account=str(identity.get("accountId") or record.get("recipientAccountId", "")),
                error_code=record.get("errorCode"),
            ))
    return TrailEvents(tuple(access), tuple(failures))


def _in_period(records: Iterable[Mapping[str, Any]], since: datetime, until: datetime) -> Iterator[Mapping[str, Any]]:
    for record in records:
        try:
            when = parse_time(str(record.get("eventTime")))
        except ValueError:
            continue
        if since <= when < until:
            yield record


# --- LookupEvents ------------------------------------------------------------------------------

def lookup_records(client: Any, since: datetime, until: datetime) -> Iterator[Mapping[str, Any]]:
    """Secrets Manager records of one region from LookupEvents (one lookup attribute per request)."""
    paginator = client.get_paginator("lookup_events")
    pages = paginator.paginate(
        LookupAttributes=[{"AttributeKey": "EventSource", "AttributeValue": SECRETS_MANAGER}],
        StartTime=since, EndTime=until,
    )
    for page in pages:
        for event in page.get("Events", []):
            text = event.get("CloudTrailEvent")
            if text:
                yield json.loads(text)


# --- S3 log files ------------------------------------------------------------------------------

def parse_s3_uri(uri: str) -> tuple[str, str]:
    match = S3_URI.match(uri)
    if not match:
        raise AuditUsageError(f"--trail-bucket {uri!r} is not an S3 URI; write s3://BUCKET or s3://BUCKET/PREFIX")
    prefix = (match.group("prefix") or "").strip("/")
    return match.group("bucket"), f"{prefix}/" if prefix else ""


def _days(since: datetime, until: datetime) -> Iterator[date]:
    day = since.date()
    while day <= until.date():
        yield day
        day += timedelta(days=1)


def log_file_prefix(prefix: str, account: str, region: str, day: date, organization_id: str | None) -> str:
    owner = f"{organization_id}/{account}" if organization_id else account
    return f"{prefix}AWSLogs/{owner}/CloudTrail/{region}/{day:%Y/%m/%d}/"


def s3_records(
    client: Any, uri: str, *, account: str, regions: Iterable[str], organization_id: str | None,
    since: datetime, until: datetime,
) -> Iterator[Mapping[str, Any]]:
    bucket, prefix = parse_s3_uri(uri)
    paginator = client.get_paginator("list_objects_v2")
    for region in regions:
        for day in _days(since, until):
            day_prefix = log_file_prefix(prefix, account, region, day, organization_id)
            for page in paginator.paginate(Bucket=bucket, Prefix=day_prefix):
                for item in page.get("Contents", []):
                    if not item["Key"].endswith(".json.gz"):
                        continue
                    body = client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
                    try:
                        document = json.loads(gzip.decompress(body))
                    except (OSError, ValueError) as error:
                        raise AuditError(f"s3://{bucket}/{item['Key']}: not a CloudTrail log file ({error})") from None
                    yield from _in_period(document.get("Records", []), since, until)


# --- Athena ------------------------------------------------------------------------------------

ATHENA_COLUMNS = ("eventtime", "eventname", "awsregion", "principal", "accountid", "errorcode", "secretid",
                  "errormessage", "rotatedsecret")


def athena_query(table: str, *, account: str, since: datetime, until: datetime) -> str:
    """The question as SQL over AWS's documented CloudTrail table (eventtime is an ISO 8601 string)."""
    if not ATHENA_TABLE.match(table):
        raise AuditUsageError(f"--athena-table {table!r} is not a table name; write TABLE or DATABASE.TABLE")
    names = ", ".join(f"'{name}'" for name in (*READ_EVENTS, ROTATION_FAILED))
    return (
        "SELECT eventtime, eventname, awsregion, "
        "coalesce(useridentity.sessioncontext.sessionissuer.arn, useridentity.arn, useridentity.invokedby) AS principal, "
        "useridentity.accountid AS accountid, errorcode, "
        "json_extract_scalar(requestparameters, '$.secretId') AS secretid, errormessage, "
        "json_extract_scalar(additionaleventdata, '$.SecretId') AS rotatedsecret "
        f"FROM {table} "
        f"WHERE eventsource = '{SECRETS_MANAGER}' AND eventname IN ({names}) "
        f"AND recipientaccountid = '{account}' "
        f"AND eventtime >= '{since:%Y-%m-%dT%H:%M:%SZ}' AND eventtime < '{until:%Y-%m-%dT%H:%M:%SZ}'"
    )


def athena_records(
    client: Any, *, workgroup: str, query: str, sleep: Callable[[float], None] = time.sleep, max_polls: int = 600,
) -> Iterator[Mapping[str, Any]]:
    """Run the query in the workgroup (its configured output location) and rebuild records from rows."""
    execution = client.start_query_execution(QueryString=query, WorkGroup=workgroup)["QueryExecutionId"]
    for _ in range(max_polls):
        status = client.get_query_execution(QueryExecutionId=execution)["QueryExecution"]["Status"]
        state = status["State"]
        if state == "SUCCEEDED":
            break
        if state in ("FAILED", "CANCELLED"):
            reason = status.get("StateChangeReason", "no reason given")
            raise AuditError(f"the Athena query {execution} in workgroup {workgroup} {state.lower()}: {reason}")
        sleep(1.0)
    else:
        raise AuditError(f"the Athena query {execution} did not finish in {max_polls} seconds")
    header: list[str] | None = None
    for page in client.get_paginator("get_query_results").paginate(QueryExecutionId=execution):
        for row in page["ResultSet"]["Rows"]:
            values = [cell.get("VarCharValue") for cell in row.get("Data", [])]
            if header is None:
                header = [str(value) for value in values]
                continue
            item = dict(zip(header, values))
            yield {
                "eventSource": SECRETS_MANAGER,
                "eventTime": item.get("eventtime"),
                "eventName": item.get("eventname"),
                "awsRegion": item.get("awsregion"),
                "userIdentity": {"arn": item.get("principal"), "accountId": item.get("accountid")},
                "errorCode": item.get("errorcode"),
                "errorMessage": item.get("errormessage"),
                "requestParameters": {"secretId": item.get("secretid")},
                "additionalEventData": {"SecretId": item.get("rotatedsecret")},
            }
