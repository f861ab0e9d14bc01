"""Access history from CloudTrail, three ways, one record format.

Every source yields CloudTrail records (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html)
and `events_from_records` turns the ones about secrets into AccessEvents, kms:Decrypt refusals and
rotation failures:

- LookupEvents (the last 90 days of management events per region; each result's CloudTrailEvent
  is the record as a JSON string; https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html);
- the trail's log files in S3: gzipped JSON `{"Records": [...]}` under
  `<prefix>/AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/` for a trail of the account and
  `<prefix>/AWSLogs/<org-id>/<account>/CloudTrail/<region>/YYYY/MM/DD/` for an organization trail
  (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-find-log-files.html,
  https://docs.aws.amazon.com/awscloudtrail/latest/userguide/creating-trail-organization.html);
- an Athena query over the CloudTrail table whose columns AWS documents
  (https://docs.aws.amazon.com/athena/latest/ug/create-cloudtrail-table.html).

What counts as a read of a secret (README, "Operations: audit"):
- each GetSecretValue record is one read, or one failed attempt when it carries an errorCode;
- BatchGetSecretValue: "Secrets Manager generates CloudTrail GetSecretValue log entries for each
  secret you request when you call this action" (BatchGetSecretValue, Secrets Manager API reference).
  Those per-secret entries are counted, whatever else AWS writes in them, and the batch's own record
  is not, so a secret read in a batch counts once; they are also the only records that name the
  secrets when the caller chose them by filter. A batch refused as a whole (its record has an
  errorCode) retrieved nothing and leaves no per-secret entries: it counts as one failed attempt on
  each secret of its secretIdList;
- a failed read was refused by KMS when its errorCode is DecryptionFailure or its errorMessage names
  KMS ("Access to KMS is not allowed"), or when the same principal's kms:Decrypt for that secret (the
  secret's ARN is the SecretARN of the encryption context, "How AWS Secrets Manager uses AWS KMS")
  was refused within the same few seconds (secrets_layout.audit.access).

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
from datetime import datetime, timezone
from typing import Any

from secrets_layout.audit.errors import AuditError, AuditUsageError
from secrets_layout.audit.findings import AccessEvent, KmsDenial
from secrets_layout.audit.messages import one_line

SECRETS_MANAGER = "secretsmanager.amazonaws.com"
KMS = "kms.amazonaws.com"
READ = "GetSecretValue"
BATCH_READ = "BatchGetSecretValue"
ROTATION_FAILED = "RotationFailed"
DECRYPT = "Decrypt"
LOOKUP_EVENTS_DAYS = 90
"""LookupEvents sees the last 90 days only."""

KMS_ERROR_CODES = frozenset({"DecryptionFailure"})
"""GetSecretValue's error for a secret it cannot decrypt (GetSecretValue, Secrets Manager API reference)."""
KMS_IN_MESSAGE = re.compile(r"\bKMS\b|\bkms:")
ARN_IN_MESSAGE = re.compile(r"arn:\S+")
"""Left out before looking for KMS in a message: a role named KMS is no refusal by KMS."""
S3_URI = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:/(?P<prefix>.*))?$")
ATHENA_TABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")
ORGANIZATION_FOLDER = re.compile(r"^o-[a-z0-9]{10,32}$")
"""An AWS Organizations ID, the folder an organization trail adds above the account's."""


@dataclass(frozen=True)
class TrailEvents:
    access: tuple[AccessEvent, ...]
    failures: tuple[tuple[str, datetime, str | None], ...]
    """(secret ARN, time, errorMessage) of RotationFailed records."""
    kms_denials: tuple[KmsDenial, ...] = ()


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


def _principal(identity: Mapping[str, Any]) -> str:
    """Who called: an assumed role counts as its role (sessions come and go), else the ARN."""
    issuer = ((identity.get("sessionContext") or {}).get("sessionIssuer") or {}).get("arn")
    return str(issuer or identity.get("arn") or identity.get("invokedBy") or identity.get("principalId") or "unknown")


def refused_by_kms(error_code: str | None, error_message: str | None) -> bool:
    if not error_code:
        return False
    return error_code in KMS_ERROR_CODES or bool(KMS_IN_MESSAGE.search(ARN_IN_MESSAGE.sub("", error_message or "")))


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _read_events(record: Mapping[str, Any], when: datetime) -> list[AccessEvent]:
    """The reads one Secrets Manager record stands for (see the module's docstring)."""
    name = record.get("eventName")
    parameters = _mapping(record.get("requestParameters"))
    error_code = str(record["errorCode"]) if record.get("errorCode") else None
    if name == READ:
        references = [parameters.get("secretId")]
    elif name == BATCH_READ and error_code:
        listed = parameters.get("secretIdList")
        references = list(listed) if isinstance(listed, list) else []
    else:
        return []
    identity = _mapping(record.get("userIdentity"))
    return [
        AccessEvent(
            time=when, event_name=str(name), secret=str(reference), region=str(record.get("awsRegion", "")),
            principal=_principal(identity), account=str(identity.get("accountId") or record.get("recipientAccountId", "")),
            error_code=error_code, refused_by_kms=refused_by_kms(error_code, record.get("errorMessage")),
            event_id=record.get("eventID"),
        )
        for reference in references
        if isinstance(reference, str) and reference
    ]


def _kms_denial(record: Mapping[str, Any], when: datetime) -> KmsDenial | None:
    if record.get("eventName") != DECRYPT or not record.get("errorCode"):
        return None
    context = _mapping(_mapping(record.get("requestParameters")).get("encryptionContext"))
    secret = context.get("SecretARN")
    if not isinstance(secret, str):
        return None
    return KmsDenial(time=when, secret_arn=secret, region=str(record.get("awsRegion", "")),
                     principal=_principal(_mapping(record.get("userIdentity"))))


def events_from_records(records: Iterable[Mapping[str, Any]]) -> TrailEvents:
    access: list[AccessEvent] = []
    failures: list[tuple[str, datetime, str | None]] = []
    denials: list[KmsDenial] = []
    for record in records:
        source = record.get("eventSource")
        if source not in (SECRETS_MANAGER, KMS):
            continue
        try:
            when = parse_time(str(record.get("eventTime")))
        except ValueError:
            continue
        if source == KMS:
            denial = _kms_denial(record, when)
            if denial is not None:
                denials.append(denial)
        elif record.get("eventName") == ROTATION_FAILED:
            secret = _mapping(record.get("additionalEventData")).get("SecretId")
            if secret:
                failures.append((str(secret), when, record.get("errorMessage")))
        else:
            access.extend(_read_events(record, when))
    return TrailEvents(tuple(access), tuple(failures), tuple(denials))


def _in_period(records: Iterable[Mapping[str, Any]], since: datetime, until: datetime) -> Iterator[Mapping[str, Any]]:
    for record in records:
        try:
            when = parse_time(str(record.get("eventTime")))
        except ValueError:
            continue
        if since <= when < until:
            yield record


# --- LookupEvents ------------------------------------------------------------------------------

def lookup_records(client: Any, since: datetime, until: datetime,
                   attribute: tuple[str, str] = ("EventSource", SECRETS_MANAGER)) -> Iterator[Mapping[str, Any]]:
    """Records of one region from LookupEvents, Secrets Manager's unless `attribute` (key, value) says
    otherwise (one lookup attribute per request)."""
    key, value = attribute
    paginator = client.get_paginator("lookup_events")
    pages = paginator.paginate(
        LookupAttributes=[{"AttributeKey": key, "AttributeValue": value}],
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


def trail_folders(client: Any, bucket: str, prefix: str, account: str) -> list[str]:
    """The account's CloudTrail folders in the bucket: `AWSLogs/<account>/CloudTrail/` (a trail of the
    account) if present, and `AWSLogs/<org-id>/<account>/CloudTrail/` under every organization folder.

    Read from the bucket rather than from the declaration's organization_id: an organization may have
    either kind of trail, or both, and a declaration need not name its organization.
    """
    root = f"{prefix}AWSLogs/"
    children: set[str] = set()
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=root, Delimiter="/"):
        children.update(item["Prefix"][len(root):].rstrip("/") for item in page.get("CommonPrefixes", []))
    owners = [account] if account in children else []
    owners += [f"{child}/{account}" for child in sorted(children) if ORGANIZATION_FOLDER.match(child)]
    return [f"{root}{owner}/CloudTrail/" for owner in owners]


def log_file_keys(client: Any, bucket: str, region_folder: str, since: datetime, until: datetime) -> Iterator[str]:
    """The log files delivered from `since`'s day to `until`'s day under `<folder>/<region>/`.

    One listing in key order (YYYY/MM/DD sorts as time does) from the first day on, stopped at the
    first key past the last day: the time taken follows the files that exist, not the period's length.
    """
    last_day = f"{until:%Y/%m/%d}"
    pages = client.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=region_folder, StartAfter=f"{region_folder}{since:%Y/%m/%d}")
    for page in pages:
        for item in page.get("Contents", []):
            key = item["Key"]
            if key[len(region_folder):len(region_folder) + len(last_day)] > last_day:
                return
            if key.endswith(".json.gz"):
                yield key


def _log_file_records(client: Any, bucket: str, key: str, note: Callable[[str], None]) -> list[Mapping[str, Any]]:
    body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
    try:
        document = json.loads(gzip.decompress(body))
        records = document.get("Records", []) if isinstance(document, dict) else None
    except (OSError, ValueError, EOFError) as error:
        note(one_line(f"s3://{bucket}/{key}: not a CloudTrail log file ({error}); skipped"))
        return []
    if not isinstance(records, list):
        note(f"s3://{bucket}/{key}: not a CloudTrail log file (no Records list); skipped")
        return []
    return [record for record in records if isinstance(record, Mapping)]


def s3_records(
    client: Any, uri: str, *, account: str, regions: Iterable[str], since: datetime, until: datetime,
    note: Callable[[str], None],
) -> Iterator[Mapping[str, Any]]:
    """The account's records of the period from the trail's log files; `note` hears where none were found
    (a wrong bucket or prefix, or a trail that does not log a region, must not look like no reads)."""
    bucket, prefix = parse_s3_uri(uri)
    folders = trail_folders(client, bucket, prefix, account)
    if not folders:
        note(f"no trail log files of account {account} in s3://{bucket}/{prefix}: looked for "
             f"{prefix}AWSLogs/{account}/CloudTrail/ (a trail of the account) and "
             f"{prefix}AWSLogs/<org-id>/{account}/CloudTrail/ (an organization trail)")
        return
    for region in regions:
        found = False
        for folder in folders:
            for key in log_file_keys(client, bucket, f"{folder}{region}/", since, until):
                found = True
                yield from _in_period(_log_file_records(client, bucket, key, note), since, until)
        if not found:
            places = " or ".join(f"s3://{bucket}/{folder}{region}/" for folder in folders)
            note(f"no trail log files for {region} from {since:%Y-%m-%d} to {until:%Y-%m-%d} in {places}")


# --- Athena ------------------------------------------------------------------------------------

def athena_query(table: str, *, account: str, since: datetime, until: datetime) -> str:
    """The question as SQL over AWS's documented CloudTrail table (eventtime is an ISO 8601 string;
    requestparameters and additionaleventdata are JSON strings, read whole so that a batch's secret
    list and a kms:Decrypt's encryption context come back as CloudTrail wrote them)."""
    if not ATHENA_TABLE.match(table):
        raise AuditUsageError(f"--athena-table {table!r} is not a table name; write TABLE or DATABASE.TABLE")
    names = ", ".join(f"'{name}'" for name in (READ, BATCH_READ, ROTATION_FAILED))
    return (
        "SELECT eventid, eventtime, eventsource, eventname, awsregion, "
        "coalesce(useridentity.sessioncontext.sessionissuer.arn, useridentity.arn, useridentity.invokedby) AS principal, "
        "useridentity.accountid AS accountid, errorcode, errormessage, requestparameters, additionaleventdata "
        f"FROM {table} "
        f"WHERE ((eventsource = '{SECRETS_MANAGER}' AND eventname IN ({names})) "
        f"OR (eventsource = '{KMS}' AND eventname = '{DECRYPT}' AND errorcode IS NOT NULL)) "
        f"AND recipientaccountid = '{account}' "
        f"AND eventtime >= '{since:%Y-%m-%dT%H:%M:%SZ}' AND eventtime < '{until:%Y-%m-%dT%H:%M:%SZ}'"
    )


def _json_column(text: str | None) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


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
            raise AuditError(one_line(f"the Athena query {execution} in workgroup {workgroup} {state.lower()}: {reason}"))
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
                "eventID": item.get("eventid"),
                "eventSource": item.get("eventsource") or SECRETS_MANAGER,
                "eventTime": item.get("eventtime"),
                "eventName": item.get("eventname"),
                "awsRegion": item.get("awsregion"),
                "userIdentity": {"arn": item.get("principal"), "accountId": item.get("accountid")},
                "errorCode": item.get("errorcode"),
                "errorMessage": item.get("errormessage"),
                "requestParameters": _json_column(item.get("requestparameters")),
                "additionalEventData": _json_column(item.get("additionaleventdata")),
            }
