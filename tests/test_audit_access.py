"""Who read which secret: CloudTrail records -> reads and failed attempts per secret and principal -> findings.

Pure functions over records built as AWS writes them (tests/cloudtrail_records.py); one passing and one
failing case per rule. The same rules through the CLI: tests/test_audit_history.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from secrets_layout.audit.access import Ownership, access_findings, summarise_access
from secrets_layout.audit.analysis import LiveReplica, LiveSecret
from secrets_layout.audit.trail import events_from_records
from cloudtrail_records import (
    DECRYPTION_FAILURE,
    DENIED_BY_KMS,
    DENIED_BY_POLICY,
    NOT_FOUND,
    THROTTLED,
    Read,
    batch_get_secret_value_records,
    get_secret_value_record,
    kms_decrypt_denied,
    kms_decrypt_record,
)
from components_support import declaration

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)
OURS = "111111111111"
APP = "222222222222"
KEY = f"arn:aws:kms:us-east-1:{OURS}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
APP_ROLE = f"arn:aws:iam::{APP}:role/AppRole"


def arn(name: str, *, region: str = "us-east-1", account: str = OURS, suffix: str = "-AbCdEf") -> str:
    return f"arn:aws:secretsmanager:{region}:{account}:secret:{name}{suffix}"


DECLARATION = declaration(secrets=[
    {"name": "test/app/key", "kind": "api-key", "value": {"external": True}, "replicas": ["us-west-2"],
     "readers": [{"account": "app", "roles": ["AppRole"]}]},
    {"name": "test/app/other", "kind": "api-key", "value": {"external": True}},
])
LIVE = {
    "us-east-1": [
        LiveSecret(name="test/app/key", arn=arn("test/app/key"), region="us-east-1",
                   replicas=(LiveReplica("us-west-2", "InSync"),)),
        LiveSecret(name="test/app/other", arn=arn("test/app/other"), region="us-east-1"),
        LiveSecret(name="test/legacy/old", arn=arn("test/legacy/old"), region="us-east-1"),
    ],
    "us-west-2": [
        LiveSecret(name="test/app/key", arn=arn("test/app/key", region="us-west-2"), region="us-west-2",
                   primary_region="us-east-1"),
    ],
}
OWNERSHIP = Ownership.of(DECLARATION, LIVE)


def summary(records):
    found = events_from_records(records)
    return {
        (item.secret, item.principal): (item.reads, item.failed)
        for item in summarise_access(found.access, OWNERSHIP, kms_denials=found.kms_denials)
    }


def role(name: str, account: str = APP) -> str:
    return f"arn:aws:iam::{account}:role/{name}"


# --- BatchGetSecretValue: "Secrets Manager generates CloudTrail GetSecretValue log entries for each secret
# you request when you call this action" (BatchGetSecretValue, Secrets Manager API reference) --------------

@pytest.mark.parametrize("records, expected", [
    pytest.param(batch_get_secret_value_records(["test/app/key", "test/app/other"], "AppRole", APP, NOW),
                 {("test/app/key", role("AppRole")): (1, 0), ("test/app/other", role("AppRole")): (1, 0)},
                 id="a batch by name list: each secret read once"),
    pytest.param(batch_get_secret_value_records(
        [arn("test/app/key"), arn("test/app/other")], "AppRole", APP, NOW,
        filters=[{"key": "name", "values": ["test/app/"]}]),
        {("test/app/key", role("AppRole")): (1, 0), ("test/app/other", role("AppRole")): (1, 0)},
        id="a batch by filter: the secrets come from their own GetSecretValue entries"),
    pytest.param(batch_get_secret_value_records(["test/app/key", "test/app/other"], "AppRole", APP, NOW,
                                                errors={"test/app/other": DENIED_BY_POLICY}),
                 {("test/app/key", role("AppRole")): (1, 0), ("test/app/other", role("AppRole")): (0, 1)},
                 id="one secret of a batch refused"),
    pytest.param(batch_get_secret_value_records(["test/app/key", "test/app/other"], "AppRole", APP, NOW,
                                                refused=("AccessDeniedException", "not authorized")),
                 {("test/app/key", role("AppRole")): (0, 1), ("test/app/other", role("AppRole")): (0, 1)},
                 id="a batch refused as a whole: one failed attempt per listed secret"),
    pytest.param([get_secret_value_record(Read("test/app/key", "AppRole", APP, NOW)),
                  get_secret_value_record(Read("test/app/key", "AppRole", APP, NOW), sequence=1)],
                 {("test/app/key", role("AppRole")): (2, 0)},
                 id="two reads in the same second are two reads"),
])
def test_a_batch_counts_each_secret_once(records, expected):
    assert summary(records) == expected


# --- whose secret a secretId names -------------------------------------------------------------------------

@pytest.mark.parametrize("reference, region, expected", [
    ("test/app/key", "us-east-1", "test/app/key"),
    ("test/app/key", "us-west-2", "test/app/key"),                 # its replica
    ("test/app/key", "eu-west-1", None),                           # a secret of that name in another region
    (arn("test/app/key"), "us-east-1", "test/app/key"),
    (arn("test/app/key", region="us-west-2"), "us-west-2", "test/app/key"),
    (arn("test/app/key", suffix=""), "us-east-1", "test/app/key"),  # a partial ARN
    (arn("test/app/key", account="999999999999"), "us-east-1", None),   # another account's secret
    (arn("test/app/key", region="eu-west-1"), "us-east-1", None),      # another region's secret
    (arn("test/app/other", region="us-west-2"), "us-west-2", None),    # not replicated there
    ("test/legacy/old", "us-east-1", "test/legacy/old"),           # undeclared, under the prefix
    ("test/legacy/old", "us-west-2", None),
    ("test/never/created", "us-west-2", "test/never/created"),     # under the prefix, nowhere: any region of the layout
    ("prod/app/key", "us-east-1", None),                           # another environment's
    ("arn:aws:secretsmanager:us-east-1:111111111111:secret", "us-east-1", None),
])
def test_whose_secret_a_reference_names(reference, region, expected):
    assert OWNERSHIP.secret_of(reference, region) == expected


def test_reads_of_other_secrets_are_left_out_and_undeclared_ones_under_the_prefix_kept():
    records = [get_secret_value_record(Read(reference, "AppRole", APP, NOW), region=region, sequence=index)
               for index, (reference, region) in enumerate([
                   (arn("test/app/key", account="999999999999"), "us-east-1"),
                   (arn("test/app/key", region="eu-west-1"), "us-east-1"),
                   ("prod/app/key", "us-east-1"),
                   ("test/legacy/old", "us-east-1"),
                   (arn("test/app/key", region="us-west-2"), "us-west-2"),
               ])]
    assert summary(records) == {("test/legacy/old", role("AppRole")): (1, 0), ("test/app/key", role("AppRole")): (1, 0)}


# --- reads and failed attempts -----------------------------------------------------------------------------

def test_the_last_read_and_the_last_failed_attempt_are_apart_and_every_error_code_fails():
    def at(hours, error=None):
        return Read("test/app/key", "AppRole", APP, NOW - timedelta(hours=hours), error=error)

    records = [get_secret_value_record(read) for read in (
        at(50, NOT_FOUND), at(40), at(30, DENIED_BY_POLICY), at(20), at(10, THROTTLED))]
    found = events_from_records(records)

    [item] = summarise_access(found.access, OWNERSHIP, kms_denials=found.kms_denials)

    assert (item.reads, item.last_read, item.failed, item.last_failed) == (
        2, NOW - timedelta(hours=20), 3, NOW - timedelta(hours=10))
    assert item.errors == (("AccessDenied", 1), ("ResourceNotFoundException", 1), ("ThrottlingException", 1))
    assert (item.denied, item.denied_by_kms) == (1, 0)


@pytest.mark.parametrize("records, denied_by_kms", [
    pytest.param([get_secret_value_record(Read("test/app/key", "AppRole", APP, NOW, error=DENIED_BY_KMS))], 1,
                 id="GetSecretValue: Access to KMS is not allowed"),
    pytest.param([get_secret_value_record(Read("test/app/key", "AppRole", APP, NOW, error=DECRYPTION_FAILURE))], 1,
                 id="GetSecretValue: DecryptionFailure"),
    pytest.param([get_secret_value_record(Read("test/app/key", "AppRole", APP, NOW, error=DENIED_BY_POLICY)),
                  kms_decrypt_record(arn("test/app/key"), KEY, Read("test/app/key", "AppRole", APP, NOW),
                                     error=kms_decrypt_denied(KEY, "AppRole", APP))], 1,
                 id="a refused read and kms:Decrypt refused for it"),
    pytest.param([get_secret_value_record(Read("test/app/key", "AppRole", APP, NOW, error=(
                      "InternalServiceError", "An error occurred on the server side."))),
                  kms_decrypt_record(arn("test/app/key"), KEY, Read("test/app/key", "AppRole", APP, NOW),
                                     error=kms_decrypt_denied(KEY, "AppRole", APP))], 1,
                 id="a read failed otherwise and kms:Decrypt refused for it"),
    pytest.param([get_secret_value_record(Read("test/app/key", "AppRole", APP, NOW, error=DENIED_BY_POLICY))], 0,
                 id="refused by the policies"),
    pytest.param([get_secret_value_record(Read("test/app/key", "KMS", APP, NOW, error=DENIED_BY_POLICY))], 0,
                 id="refused by the policies, a role named KMS"),
    pytest.param([get_secret_value_record(Read("test/app/key", "AppRole", APP, NOW, error=DENIED_BY_POLICY)),
                  kms_decrypt_record(arn("test/app/key"), KEY, Read("test/app/key", "AppRole", APP,
                                                                    NOW - timedelta(minutes=5)),
                                     error=kms_decrypt_denied(KEY, "AppRole", APP))], 0,
                 id="kms:Decrypt refused at another time"),
    pytest.param([get_secret_value_record(Read("test/app/key", "AppRole", APP, NOW, error=DENIED_BY_POLICY)),
                  kms_decrypt_record(arn("test/app/key"), KEY, Read("test/app/key", "OtherRole", APP, NOW),
                                     error=kms_decrypt_denied(KEY, "OtherRole", APP))], 0,
                 id="kms:Decrypt refused for another principal"),
    pytest.param([get_secret_value_record(Read("test/app/key", "AppRole", APP, NOW, error=DENIED_BY_POLICY)),
                  kms_decrypt_record(arn("test/app/key"), KEY, Read("test/app/key", "AppRole", APP, NOW))], 0,
                 id="kms:Decrypt allowed"),
])
def test_refusals_by_kms(records, denied_by_kms):
    found = events_from_records(records)
    [item] = summarise_access(found.access, OWNERSHIP, kms_denials=found.kms_denials)
    assert (item.denied, item.denied_by_kms) == (1, denied_by_kms)


# --- findings ----------------------------------------------------------------------------------------------

LAST = "2026-11-30 12:00 UTC"


@pytest.mark.parametrize("secret, role_name, error, message", [
    ("test/app/key", "AppRole", DENIED_BY_KMS,
     f"1 read(s) by {role('AppRole')} (account {APP}), a declared reader, refused by KMS, last {LAST}: the "
     "secret's KMS key does not let it decrypt; fix the key policy or grant (kms:Decrypt for this role through "
     "Secrets Manager; `pulumi up` restores the key policy the program deploys)"),
    ("test/app/key", "AppRole", DENIED_BY_POLICY,
     f"1 denied read(s) by {role('AppRole')} (account {APP}), a declared reader, last {LAST}: the secret's "
     "resource policy or the role's own IAM policy refuses it; restore the resource policy with `pulumi up` "
     "(see policy-drift) or grant the role the policy of `secrets-layout consumer-policy`"),
    ("test/app/key", "Curious", DENIED_BY_POLICY,
     f"1 denied read(s) by {role('Curious')} (account {APP}), last {LAST}: a consumer without access, or "
     "someone probing; declare the reader or find who it is"),
    ("test/app/other", "AppRole", DENIED_BY_KMS,
     f"1 denied read(s) by {role('AppRole')} (account {APP}), last {LAST}: a consumer without access, or "
     "someone probing; declare the reader or find who it is"),
])
def test_a_refused_read_says_what_to_fix(secret, role_name, error, message):
    found = events_from_records([get_secret_value_record(Read(secret, role_name, APP, NOW, error=error))])
    access = summarise_access(found.access, OWNERSHIP, kms_denials=found.kms_denials)

    [finding] = access_findings(access, DECLARATION)

    assert (finding.secret, finding.kind, finding.message) == (secret, "access-denied", message)


@pytest.mark.parametrize("error", [NOT_FOUND, THROTTLED])
def test_failures_that_are_no_refusal_are_counted_but_no_finding(error):
    found = events_from_records([get_secret_value_record(Read("test/app/key", "AppRole", APP, NOW, error=error))])
    access = summarise_access(found.access, OWNERSHIP, kms_denials=found.kms_denials)

    assert [(item.failed, item.denied) for item in access] == [(1, 0)]
    assert access_findings(access, DECLARATION) == []
