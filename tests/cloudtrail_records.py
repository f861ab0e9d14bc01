"""CloudTrail records as AWS writes them, for the audit's tests (never built from the audit's own code).

Record fields: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html;
userIdentity of an assumed role: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html;
Secrets Manager's entries: "Logging AWS Secrets Manager events with AWS CloudTrail" in the Secrets Manager
user guide (https://docs.aws.amazon.com/secretsmanager/latest/userguide/monitoring-cloudtrail.html and
cloudtrail_log_entries.html).
"""

from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from audit_support import ACCOUNT, ORGANIZATION, PRIMARY, ROTATOR, MotoAccount

DENIED_BY_POLICY = ("AccessDenied", "User: {caller} is not authorized to perform: secretsmanager:GetSecretValue "
                                    "because no resource-based policy allows the secretsmanager:GetSecretValue action")
"""A GetSecretValue refused by IAM (resource or identity policy)."""
DENIED_BY_KMS = ("AccessDenied", "Access to KMS is not allowed")
"""A GetSecretValue refused because the caller may not use the secret's key: Secrets Manager's
AccessDeniedException "Access to KMS is not allowed" (Secrets Manager user guide, "Troubleshoot AWS
Secrets Manager" / "Access to KMS is not allowed")."""
DECRYPTION_FAILURE = ("DecryptionFailure", "Secrets Manager can't decrypt the protected secret text using the "
                                           "provided KMS key.")
"""GetSecretValue's DecryptionFailure (GetSecretValue API reference, Errors)."""
NOT_FOUND = ("ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
THROTTLED = ("ThrottlingException", "Rate exceeded")


@dataclass(frozen=True)
class Read:
    secret: str
    role: str
    account: str
    when: datetime
    denied: bool = False
    error: tuple[str, str] | None = None
    """(errorCode, errorMessage) of a failed read; `denied` is DENIED_BY_POLICY."""


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _event_id(*parts: object) -> str:
    """CloudTrail's eventID is a GUID unique per event; here derived from what makes the event distinct."""
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def _assumed_role(role: str, account: str, when: datetime, *, invoked_by: str | None = None) -> dict:
    identity = {
        "type": "AssumedRole",
        "principalId": f"AROAEXAMPLE:{role}-session",
        "arn": f"arn:aws:sts::{account}:assumed-role/{role}/{role}-session",
        "accountId": account,
        "accessKeyId": "ASIAEXAMPLEEXAMPLE",
        "sessionContext": {
            "sessionIssuer": {"type": "Role", "principalId": "AROAEXAMPLE", "arn": f"arn:aws:iam::{account}:role/{role}",
                              "accountId": account, "userName": role},
            "attributes": {"creationDate": _stamp(when), "mfaAuthenticated": "false"},
        },
    }
    if invoked_by:
        identity["invokedBy"] = invoked_by
    return identity


def _api_call(event_name: str, read: Read, region: str, parameters: dict, *, sequence: int = 0) -> dict:
    return {
        "eventVersion": "1.09",
        "userIdentity": _assumed_role(read.role, read.account, read.when),
        "eventTime": _stamp(read.when),
        "eventSource": "secretsmanager.amazonaws.com",
        "eventName": event_name,
        "awsRegion": region,
        "sourceIPAddress": "10.0.0.1",
        "userAgent": "aws-sdk-java/2.20.0",
        "requestParameters": parameters,
        "responseElements": None,
        "requestID": "5b2c5f3e-0000-4000-8000-000000000000",
        "eventID": _event_id(event_name, read, region, json.dumps(parameters, sort_keys=True), sequence),
        "readOnly": True,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
    }


def _with_error(record: dict, error: tuple[str, str] | None) -> dict:
    if error is not None:
        code, message = error
        record["errorCode"] = code
        record["errorMessage"] = message.format(caller=record["userIdentity"]["arn"])
    return record


def get_secret_value_record(read: Read, region: str = PRIMARY, *, sequence: int = 0) -> dict:
    """A GetSecretValue record as CloudTrail writes it for a cross-account assumed role.
    `sequence` tells apart two reads made in the same second."""
    record = _api_call("GetSecretValue", read, region, {"secretId": read.secret, "versionStage": "AWSCURRENT"},
                       sequence=sequence)
    return _with_error(record, DENIED_BY_POLICY if read.denied else read.error)


def batch_get_secret_value_records(
    secrets: list[str], role: str, account: str, when: datetime, *, region: str = PRIMARY,
    filters: list[dict] | None = None, refused: tuple[str, str] | None = None,
    errors: dict[str, tuple[str, str]] | None = None,
) -> list[dict]:
    """What one BatchGetSecretValue call leaves in CloudTrail.

    The batch's own record (requestParameters.secretIdList, or filters when the caller listed the
    secrets by filter), and "CloudTrail GetSecretValue log entries for each secret you request"
    (BatchGetSecretValue, Secrets Manager API reference), each carrying that secret's outcome
    (`errors`: secret -> (errorCode, errorMessage); the batch API reports such per-secret failures in
    its Errors list). A batch refused as a whole (`refused`, e.g. no secretsmanager:BatchGetSecretValue
    permission) retrieves nothing and leaves only its own record, with the error. Whatever else AWS
    writes in the per-secret entries is not relied on by the audit, so it is not invented here.
    """
    caller = Read(secrets[0] if secrets else "", role, account, when)
    parameters = {"filters": filters} if filters is not None else {"secretIdList": list(secrets)}
    batch = _with_error(_api_call("BatchGetSecretValue", caller, region, parameters), refused)
    if refused is not None:
        return [batch]
    errors = errors or {}
    return [batch] + [
        get_secret_value_record(Read(secret, role, account, when, error=errors.get(secret)), region)
        for secret in secrets
    ]


def kms_decrypt_record(secret_arn: str, key_arn: str, read: Read, *, region: str = PRIMARY,
                       error: tuple[str, str] | None = None) -> dict:
    """The kms:Decrypt that Secrets Manager makes for a reader's GetSecretValue: the reader's identity
    invoked by secretsmanager.amazonaws.com, the secret's ARN in the encryption context
    ("How AWS Secrets Manager uses AWS KMS" in the KMS developer guide, "Encryption context" and
    "Monitoring Secrets Manager interaction with AWS KMS"; "Secret encryption and decryption" in the
    Secrets Manager user guide)."""
    record = {
        "eventVersion": "1.09",
        "userIdentity": _assumed_role(read.role, read.account, read.when, invoked_by="secretsmanager.amazonaws.com"),
        "eventTime": _stamp(read.when),
        "eventSource": "kms.amazonaws.com",
        "eventName": "Decrypt",
        "awsRegion": region,
        "sourceIPAddress": "secretsmanager.amazonaws.com",
        "userAgent": "secretsmanager.amazonaws.com",
        "requestParameters": {
            "encryptionContext": {"SecretARN": secret_arn, "SecretVersionId": "EXAMPLE1-90ab-cdef-fedc-ba987EXAMPLE"},
            "encryptionAlgorithm": "SYMMETRIC_DEFAULT",
        },
        "responseElements": None,
        "requestID": "12345126-30d5-4b28-98b9-9153da559963",
        "eventID": _event_id("Decrypt", secret_arn, read),
        "readOnly": True,
        "resources": [{"accountId": ACCOUNT, "type": "AWS::KMS::Key", "ARN": key_arn}],
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
    }
    if error is None:
        return record
    code, message = error
    record["errorCode"] = code
    record["errorMessage"] = message
    return record


def kms_decrypt_denied(key_arn: str, role: str, account: str) -> tuple[str, str]:
    """KMS's refusal of a Decrypt by a principal the key policy and grants do not allow."""
    caller = f"arn:aws:sts::{account}:assumed-role/{role}/{role}-session"
    return ("AccessDenied", f"User: {caller} is not authorized to perform: kms:Decrypt on resource: {key_arn} "
                            "because no resource-based policy allows the kms:Decrypt action")


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
        "eventTime": _stamp(when),
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


def trail_log_key(region: str, when: datetime, *, organization_id: str | None = ORGANIZATION,
                  prefix: str = "") -> str:
    """Where a trail delivers a log file: AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/ for a trail of
    the account, AWSLogs/<org-id>/<account>/CloudTrail/... for an organization trail ("Finding your
    CloudTrail log files" in the CloudTrail user guide)."""
    owner = f"{organization_id}/{ACCOUNT}" if organization_id else ACCOUNT
    return (f"{prefix}AWSLogs/{owner}/CloudTrail/{region}/{when:%Y/%m/%d}/"
            f"{ACCOUNT}_CloudTrail_{region}_{when:%Y%m%dT%H%MZ}_Abc123XyZ.json.gz")


def put_trail_log_file(account: MotoAccount, bucket: str, records: list[dict], *, region: str, when: datetime,
                       organization_id: str | None = ORGANIZATION, prefix: str = "") -> str:
    """One log file, gzipped JSON {"Records": [...]}
    (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-examples.html)."""
    key = trail_log_key(region, when, organization_id=organization_id, prefix=prefix)
    account.client("s3", PRIMARY).put_object(Bucket=bucket, Key=key,
                                             Body=gzip.compress(json.dumps({"Records": records}).encode()))
    return key
