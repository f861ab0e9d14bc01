"""The audit's access history through the CLI, against moto in server mode on 127.0.0.1.

LookupEvents is answered by botocore's Stubber (moto does not implement it) except where a test shows
what the audit does with moto's own answer; the trail's log files are real objects in moto's S3.
The counting rules themselves: tests/test_audit_access.py.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from audit_support import (  # noqa: F401 - fixtures
    ACCOUNT,
    DECLARATION,
    ORGANIZATION,
    PRIMARY,
    REPLICA,
    account,
    audit,
    cloudtrail,
    healthy,
    moto_server,
    write_declaration,
)
from cloudtrail_records import (
    DENIED_BY_POLICY,
    THROTTLED,
    Read,
    batch_get_secret_value_records,
    get_secret_value_record,
    kms_decrypt_denied,
    kms_decrypt_record,
    put_trail_log_file,
)

pytestmark = pytest.mark.slow
APP = "222222222222"
PAYMENTS = f"arn:aws:iam::{APP}:role/PaymentsRole"


def minutes(moment) -> str:
    return f"{moment:%Y-%m-%d %H:%M}"


def iso(moment) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_each_secret_of_a_batch_is_read_once_and_other_accounts_secrets_are_not_ours(
    tmp_path, account, cloudtrail, capsys
):
    declaration, config = write_declaration(tmp_path)
    healthy(account, declaration)
    secrets = account.client("secretsmanager")
    secrets.create_secret(Name="prod/legacy/forgotten", SecretString="not-read-by-the-audit")
    rotated = secrets.describe_secret(SecretId="prod/payments/rotated")["ARN"]
    read_at = account.now.replace(microsecond=0) - timedelta(days=1)
    failed_at = read_at + timedelta(hours=2)
    cloudtrail[PRIMARY] = [
        *batch_get_secret_value_records(["prod/payments/rotated", "prod/payments/overdue"], "PaymentsRole", APP,
                                        read_at),
        get_secret_value_record(Read(rotated.replace(ACCOUNT, "999999999999"), "PaymentsRole", APP, read_at)),
        get_secret_value_record(Read(rotated.replace(PRIMARY, "eu-west-1"), "PaymentsRole", APP, read_at)),
        get_secret_value_record(Read("prod/legacy/forgotten", "LegacyRole", APP, read_at)),
        get_secret_value_record(Read("prod/payments/rotated", "PaymentsRole", APP, failed_at, error=THROTTLED)),
    ]

    code, out, _ = audit(capsys, str(declaration), "--policy-config", str(config), "--format", "json",
                         "--endpoint-url", account.endpoint_url)

    report = json.loads(out)
    assert code == 1  # prod/legacy/forgotten is undeclared
    assert report["access"] == [
        {"secret": "prod/legacy/forgotten", "account": APP, "principal": f"arn:aws:iam::{APP}:role/LegacyRole",
         "reads": 1, "last_read": iso(read_at), "failed": 0, "last_failed": None, "errors": {}, "denied": 0,
         "denied_by_kms": 0, "last_denied": None},
        {"secret": "prod/payments/overdue", "account": APP, "principal": PAYMENTS,
         "reads": 1, "last_read": iso(read_at), "failed": 0, "last_failed": None, "errors": {}, "denied": 0,
         "denied_by_kms": 0, "last_denied": None},
        {"secret": "prod/payments/rotated", "account": APP, "principal": PAYMENTS,
         "reads": 1, "last_read": iso(read_at), "failed": 1, "last_failed": iso(failed_at),
         "errors": {"ThrottlingException": 1}, "denied": 0, "denied_by_kms": 0,
         "last_denied": None},
    ]
    assert report["version"] == 2

    _, text, _ = audit(capsys, str(declaration), "--policy-config", str(config), "--endpoint-url",
                       account.endpoint_url)

    assert (f"  prod/payments/rotated: {PAYMENTS} (account {APP}): 1 read(s), last read {minutes(read_at)}; "
            f"1 failed (ThrottlingException 1), last failed {minutes(failed_at)}\n") in text
    assert (f"  prod/payments/overdue: {PAYMENTS} (account {APP}): 1 read(s), last read {minutes(read_at)}\n"
            in text)


def test_a_declared_reader_refused_by_kms_is_told_to_fix_the_key_not_to_declare_itself(
    tmp_path, account, cloudtrail, capsys
):
    """The trail's files hold both records of the refusal: GetSecretValue refused, and the kms:Decrypt
    Secrets Manager made for the reader, refused by the key."""
    declaration, config = write_declaration(tmp_path)
    keys = healthy(account, declaration)
    account.client("s3").create_bucket(Bucket="org-trail")
    rotated = account.client("secretsmanager").describe_secret(SecretId="prod/payments/rotated")["ARN"]
    when = account.now.replace(microsecond=0) - timedelta(days=2)
    read = Read("prod/payments/rotated", "PaymentsRole", APP, when, error=DENIED_BY_POLICY)
    put_trail_log_file(account, "org-trail", [
        get_secret_value_record(read),
        kms_decrypt_record(rotated, keys[PRIMARY], read, error=kms_decrypt_denied(keys[PRIMARY], "PaymentsRole", APP)),
    ], region=PRIMARY, when=when)

    code, out, _ = audit(capsys, str(declaration), "--policy-config", str(config), "--format", "json",
                         "--no-lookup-events", "--trail-bucket", "s3://org-trail", "--endpoint-url",
                         account.endpoint_url)

    report = json.loads(out)
    assert code == 1
    assert [(item["secret"], item["kind"], item["message"]) for item in report["findings"]] == [(
        "prod/payments/rotated", "access-denied",
        f"1 read(s) by {PAYMENTS} (account {APP}), a declared reader, refused by KMS, last {minutes(when)} UTC: the "
        "secret's KMS key does not let it decrypt; fix the key policy or grant (kms:Decrypt for this role through "
        "Secrets Manager; `pulumi up` restores the key policy the program deploys)",
    )]
    assert [(item["denied"], item["denied_by_kms"]) for item in report["access"]] == [(1, 1)]


# --- the trail's log files: both layouts ----------------------------------------------------------------

WITHOUT_ORGANIZATION = DECLARATION.replace(f"organization_id: {ORGANIZATION}\n", "")


@pytest.mark.parametrize("declaration_text, trail_organization, prefix", [
    pytest.param(DECLARATION, ORGANIZATION, "", id="organization trail, organization declared"),
    pytest.param(DECLARATION, None, "", id="account trail, organization declared"),
    pytest.param(WITHOUT_ORGANIZATION, ORGANIZATION, "", id="organization trail, no organization declared"),
    pytest.param(WITHOUT_ORGANIZATION, None, "logs/", id="account trail under a prefix"),
])
def test_trail_log_files_of_an_account_trail_and_of_an_organization_trail(
    tmp_path, account, capsys, declaration_text, trail_organization, prefix
):
    declaration, config = write_declaration(tmp_path, declaration_text)
    healthy(account, declaration)
    account.client("s3").create_bucket(Bucket="org-trail")
    old = account.now - timedelta(days=200)
    for region in (PRIMARY, REPLICA):
        put_trail_log_file(account, "org-trail", [
            get_secret_value_record(Read("prod/payments/rotated", "PaymentsRole", APP, old), region=region),
        ], region=region, when=old, organization_id=trail_organization, prefix=prefix)
    outside = account.now - timedelta(days=400)
    put_trail_log_file(account, "org-trail", [
        get_secret_value_record(Read("prod/payments/overdue", "PaymentsRole", APP, outside)),
    ], region=PRIMARY, when=outside, organization_id=trail_organization, prefix=prefix)

    code, out, _ = audit(capsys, str(declaration), "--policy-config", str(config), "--format", "json",
                         "--no-lookup-events", "--since", f"{account.now - timedelta(days=365):%Y-%m-%d}",
                         "--trail-bucket", f"s3://org-trail/{prefix}", "--endpoint-url", account.endpoint_url)

    report = json.loads(out)
    assert code == 0, report["findings"]
    assert [(item["secret"], item["reads"]) for item in report["access"]] == [("prod/payments/rotated", 2)]
    assert report["notes"] == []


def test_no_trail_log_file_is_a_note_naming_where_the_audit_looked(tmp_path, account, capsys):
    declaration, config = write_declaration(tmp_path)
    healthy(account, declaration)
    s3 = account.client("s3")
    s3.create_bucket(Bucket="org-trail")
    s3.put_object(Bucket="org-trail", Key="AWSLogs/444444444444/CloudTrail/us-east-1/2026/01/01/x.json.gz", Body=b"")
    since = account.now - timedelta(days=30)
    arguments = (str(declaration), "--policy-config", str(config), "--format", "json", "--no-lookup-events",
                 "--since", f"{since:%Y-%m-%d}", "--trail-bucket", "s3://org-trail", "--endpoint-url",
                 account.endpoint_url)

    code, out, _ = audit(capsys, *arguments)

    assert code == 0
    assert json.loads(out)["notes"] == [
        f"no trail log files of account {ACCOUNT} in s3://org-trail/: looked for AWSLogs/{ACCOUNT}/CloudTrail/ "
        f"(a trail of the account) and AWSLogs/<org-id>/{ACCOUNT}/CloudTrail/ (an organization trail)"]

    put_trail_log_file(account, "org-trail", [], region=PRIMARY, when=account.now - timedelta(days=1))

    code, out, _ = audit(capsys, *arguments)

    period = f"from {since:%Y-%m-%d} to {account.now:%Y-%m-%d}"
    assert json.loads(out)["notes"] == [
        f"no trail log files for {REPLICA} {period} in s3://org-trail/AWSLogs/{ORGANIZATION}/{ACCOUNT}/CloudTrail/"
        f"{REPLICA}/"]


# --- one unavailable source does not void the audit ---------------------------------------------------------

def test_lookup_events_refused_in_one_region_leaves_every_other_source(tmp_path, account, cloudtrail, capsys):
    declaration, config = write_declaration(tmp_path)
    healthy(account, declaration)
    refusal = (f"User: arn:aws:sts::{ACCOUNT}:assumed-role/Audit/session is not authorized to perform: "
               "cloudtrail:LookupEvents because no identity-based policy allows the cloudtrail:LookupEvents action")
    cloudtrail.refusals[PRIMARY] = ("AccessDeniedException", refusal)
    read_at = account.now.replace(microsecond=0) - timedelta(days=1)
    cloudtrail[REPLICA] = [get_secret_value_record(Read("prod/payments/rotated", "PaymentsRole", APP, read_at),
                                                   region=REPLICA)]
    arguments = (str(declaration), "--policy-config", str(config), "--endpoint-url", account.endpoint_url)

    code, out, err = audit(capsys, *arguments, "--format", "json")

    report = json.loads(out)
    assert (code, err) == (0, "")
    assert report["unavailable_sources"] == [{
        "source": f"CloudTrail LookupEvents ({PRIMARY})", "reason": f"AccessDeniedException: {refusal}",
        "skip": "add --no-lookup-events"}]
    assert report["access_sources"] == [f"CloudTrail LookupEvents ({REPLICA})"]
    assert [(item["secret"], item["reads"]) for item in report["access"]] == [("prod/payments/rotated", 1)]

    code, out, err = audit(capsys, *arguments)

    assert code == 0
    assert (f"  not read: CloudTrail LookupEvents ({PRIMARY}): AccessDeniedException: {refusal}; "
            "to skip it, add --no-lookup-events\n") in out

    code, out, err = audit(capsys, *arguments, "--format", "markdown")

    assert code == 0
    assert (f"- not read: CloudTrail LookupEvents ({PRIMARY}): AccessDeniedException: {refusal}; "
            "to skip it, add --no-lookup-events\n") in out
    assert f"| `prod/payments/rotated` | {APP} | `{PAYMENTS}` | 1 | {minutes(read_at)} | 0 | - |" in out


def test_sources_an_emulator_does_not_implement_are_named_in_one_line_each(tmp_path, account, capsys):
    """moto answers LookupEvents with an HTML error page (HTTP 500) and Athena's StartQueryExecution with
    another (HTTP 404), and has no bucket named missing-trail: everything else is still reported."""
    declaration, config = write_declaration(tmp_path)
    healthy(account, declaration)

    code, out, err = audit(capsys, str(declaration), "--policy-config", str(config), "--format", "json",
                           "--trail-bucket", "s3://missing-trail", "--athena-workgroup", "primary",
                           "--endpoint-url", account.endpoint_url)

    report = json.loads(out)
    assert (code, err) == (0, "")
    assert report["access_sources"] == []
    assert [(item["source"], item["skip"]) for item in report["unavailable_sources"]] == [
        (f"CloudTrail LookupEvents ({PRIMARY})", "add --no-lookup-events"),
        (f"CloudTrail LookupEvents ({REPLICA})", "add --no-lookup-events"),
        ("trail log files in s3://missing-trail", "leave out --trail-bucket"),
        ("Athena cloudtrail_logs (workgroup primary)", "leave out --athena-workgroup"),
    ]
    reasons = [item["reason"] for item in report["unavailable_sources"]]
    assert reasons[0] == ("HTTP 500 and an HTML page (500 Internal Server Error) instead of an AWS answer: "
                          "the endpoint may not implement this operation")
    assert reasons[2].startswith("NoSuchBucket: The specified bucket does not exist")
    assert reasons[3] == ("HTTP 404 and an HTML page (404 Not Found) instead of an AWS answer: the endpoint may not "
                          "implement this operation")
    assert not any("<" in reason or "\n" in reason for reason in reasons)
