"""`secrets-layout audit` against moto in server mode on 127.0.0.1, through the real CLI entry point.

The account is seeded as the program deploys (tests/audit_support.py) with one planted problem
per secret; the audit must report each planted problem and nothing else, in every format.
CloudTrail LookupEvents is not implemented by moto: it is answered by botocore's Stubber, whose
responses are checked against the CloudTrail service model.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta

import pytest
from botocore.stub import ANY, Stubber
from moto.secretsmanager.models import SecretsManagerBackend

from secrets_layout import cli
from secrets_layout.audit import cli as audit_cli
from secrets_layout.audit.collect import AwsClients
from secrets_layout.audit.errors import ReadOnlyViolation
from audit_support import (  # noqa: F401 - fixtures
    ACCOUNT,
    INTRUDER,
    PLANTED,
    PRIMARY,
    REPLICA,
    account,
    audit,
    cloudtrail,
    healthy,
    moto_server,
    no_value_reads,
    seed_planted_problems,
    write_declaration,
)
from cloudtrail_records import Read, get_secret_value_record, put_trail_log_file, rotation_failed_record

pytestmark = pytest.mark.slow
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_the_seeded_account_reports_each_planted_problem_and_nothing_else(
    tmp_path, account, cloudtrail, no_value_reads, capsys
):
    declaration, config = write_declaration(tmp_path)
    seed_planted_problems(account, declaration)

    code, out, err = audit(capsys, str(declaration), "--policy-config", str(config), "--format", "json",
                           "--endpoint-url", account.endpoint_url)

    report = json.loads(out)
    assert (code, err) == (1, "")
    assert {(item["secret"], item["region"], item["kind"]) for item in report["findings"]} == PLANTED
    drift = next(item for item in report["findings"] if item["kind"] == "policy-drift")
    assert f"Principal.AWS has {INTRUDER}" in drift["message"]
    rows = {row["name"]: row for row in report["secrets"]}
    assert rows["prod/payments/never-rotated"]["last_rotated"] is None
    assert rows["prod/legacy/forgotten"]["declared"] is False
    assert rows["prod/payments/rotated"]["rotation_enabled"] is True
    assert report["summary"]["findings"] == len(PLANTED)


@pytest.mark.parametrize("format_, expected", [
    ("text", "rotation-overdue  prod/payments/overdue (us-east-1): last rotated 120 days ago"),
    ("markdown", "| `rotation-overdue` | `prod/payments/overdue` | us-east-1 | last rotated 120 days ago"),
])
def test_text_and_markdown_show_the_same_findings(tmp_path, account, cloudtrail, capsys, format_, expected):
    declaration, config = write_declaration(tmp_path)
    seed_planted_problems(account, declaration)

    code, out, _ = audit(capsys, str(declaration), "--policy-config", str(config), "--format", format_,
                         "--endpoint-url", account.endpoint_url)

    assert code == 1
    assert expected in out
    for secret, _region, kind in PLANTED:
        assert kind in out and secret in out
    assert "not-read-by-the-audit" not in out


def test_a_layout_as_the_program_deploys_it_is_compliant(tmp_path, account, cloudtrail, no_value_reads, capsys):
    declaration, config = write_declaration(tmp_path)
    healthy(account, declaration)

    code, out, _ = audit(capsys, str(declaration), "--policy-config", str(config), "--endpoint-url", account.endpoint_url)

    assert code == 0, out
    assert "Result: compliant" in out


def test_access_history_from_lookup_events_groups_reads_and_counts_denied_attempts(
    tmp_path, account, cloudtrail, capsys
):
    declaration, config = write_declaration(tmp_path)
    healthy(account, declaration)
    arn = account.client("secretsmanager").describe_secret(SecretId="prod/payments/rotated")["ARN"]
    yesterday = account.now - timedelta(days=1)
    cloudtrail[PRIMARY] = [
        get_secret_value_record(Read("prod/payments/rotated", "PaymentsRole", "222222222222", yesterday)),
        get_secret_value_record(Read(arn, "PaymentsRole", "222222222222", yesterday + timedelta(hours=1))),
        get_secret_value_record(Read("prod/payments/rotated", "Curious", "444444444444", yesterday, denied=True)),
        rotation_failed_record(arn, yesterday),
    ]

    code, out, _ = audit(capsys, str(declaration), "--policy-config", str(config), "--format", "json",
                         "--endpoint-url", account.endpoint_url)

    report = json.loads(out)
    assert code == 1
    access = {(item["account"], item["principal"]): (item["reads"], item["denied"]) for item in report["access"]}
    assert access == {
        ("222222222222", "arn:aws:iam::222222222222:role/PaymentsRole"): (2, 0),
        ("444444444444", "arn:aws:iam::444444444444:role/Curious"): (0, 1),
    }
    kinds = {(item["secret"], item["kind"]) for item in report["findings"]}
    assert kinds == {("prod/payments/rotated", "access-denied"), ("prod/payments/rotated", "rotation-failed")}
    row = next(row for row in report["secrets"] if row["name"] == "prod/payments/rotated")
    assert "during createSecret step" in row["last_rotation_failure_message"]


def test_access_history_from_the_trail_log_files_in_s3(tmp_path, account, cloudtrail, capsys):
    """An organization trail's files for last year: older than LookupEvents' 90 days."""
    declaration, config = write_declaration(tmp_path)
    healthy(account, declaration)
    account.client("s3").create_bucket(Bucket="org-trail")
    old = account.now - timedelta(days=200)
    put_trail_log_file(account, "org-trail", [
        get_secret_value_record(Read("prod/payments/rotated", "PaymentsRole", "222222222222", old)),
        get_secret_value_record(Read("prod/payments/rotated", "ReportingRole", "333333333333", old), region=REPLICA),
    ], region=PRIMARY, when=old)
    put_trail_log_file(account, "org-trail", [
        get_secret_value_record(Read("prod/payments/overdue", "PaymentsRole", "222222222222", old), region=REPLICA),
    ], region=REPLICA, when=old)
    outside = account.now - timedelta(days=400)
    put_trail_log_file(account, "org-trail", [
        get_secret_value_record(Read("prod/payments/overdue", "Old", "222222222222", outside)),
    ], region=PRIMARY, when=outside)

    since = (account.now - timedelta(days=365)).strftime("%Y-%m-%d")
    code, out, _ = audit(capsys, str(declaration), "--policy-config", str(config), "--format", "json",
                         "--since", since, "--trail-bucket", "s3://org-trail", "--endpoint-url", account.endpoint_url)

    report = json.loads(out)
    assert code == 0, report["findings"]
    assert {(item["secret"], item["principal"], item["reads"]) for item in report["access"]} == {
        ("prod/payments/rotated", "arn:aws:iam::222222222222:role/PaymentsRole", 1),
        ("prod/payments/rotated", "arn:aws:iam::333333333333:role/ReportingRole", 1),
        ("prod/payments/overdue", "arn:aws:iam::222222222222:role/PaymentsRole", 1),
    }
    assert "trail log files in s3://org-trail" in report["access_sources"]


def test_get_secret_value_is_refused_before_it_leaves_the_process(account, no_value_reads):
    account.client("secretsmanager").create_secret(Name="prod/x/y", SecretString="value")
    client = AwsClients(endpoint_url=account.endpoint_url)("secretsmanager", PRIMARY)

    with pytest.raises(ReadOnlyViolation, match="never calls GetSecretValue"):
        client.get_secret_value(SecretId="prod/x/y")


@pytest.mark.parametrize("arguments, message", [
    (["--since", "yesterday"], "--since 'yesterday' is not a date; write YYYY-MM-DD"),
    (["--since", "2026-02-01", "--until", "2026-01-01"], "must be before --until"),
    (["--trail-bucket", "bucket-without-scheme"], "is not an S3 URI; write s3://BUCKET"),
    (["--athena-workgroup", "primary", "--athena-table", "x; DROP TABLE y"], "is not a table name"),
    (["--policy-config", "missing.json"], "missing.json: no such file"),
])
def test_usage_errors_exit_2_with_a_message(tmp_path, capsys, arguments, message):
    declaration, _ = write_declaration(tmp_path)

    with pytest.raises(SystemExit) as exit_:
        cli.main(["audit", str(declaration), *arguments])

    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_a_missing_declaration_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["audit", str(tmp_path / "nope.yaml")])
    assert exit_.value.code == 2
    assert "nope.yaml: no such file" in capsys.readouterr().err


def run_cli(*arguments: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "secrets_layout.cli", "audit", *arguments], capture_output=True,
                          text=True, env={**env, "PYTHONPATH": ROOT}, cwd=ROOT, timeout=120)


def test_the_installed_entry_point_exits_1_on_findings_without_a_traceback(tmp_path, account):
    declaration, config = write_declaration(tmp_path)
    seed_planted_problems(account, declaration)

    result = run_cli(str(declaration), "--policy-config", str(config), "--no-lookup-events",
                     "--endpoint-url", account.endpoint_url, env=dict(os.environ))

    assert result.returncode == 1, result.stderr
    assert "Findings (5):" in result.stdout
    assert "\nAccess (no source read):\n  no source was read: the access history is unknown\n" in result.stdout
    assert result.stderr == ""


def test_no_credentials_is_a_clear_message_and_exit_2(tmp_path):
    declaration, config = write_declaration(tmp_path)
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env.update({"AWS_CONFIG_FILE": str(tmp_path / "none"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
                "AWS_EC2_METADATA_DISABLED": "true"})

    result = run_cli(str(declaration), "--policy-config", str(config), "--endpoint-url", "http://127.0.0.1:9",
                     env=env)

    assert result.returncode == 2
    assert result.stderr.startswith("secrets-layout audit: cannot audit: no AWS credentials found")
    assert "Traceback" not in result.stderr


def test_aws_refusing_is_a_clear_message_and_exit_2(tmp_path, account, monkeypatch, capsys):
    declaration, config = write_declaration(tmp_path)

    def denied(backend, *args, **kwargs):
        from moto.core.exceptions import JsonRESTError
        raise JsonRESTError("AccessDeniedException", "User is not authorized to perform: secretsmanager:ListSecrets")

    monkeypatch.setattr(SecretsManagerBackend, "list_secrets", denied)

    code, out, err = audit(capsys, str(declaration), "--policy-config", str(config), "--no-lookup-events",
                           "--endpoint-url", account.endpoint_url)

    assert (code, out) == (2, "")
    assert err == ("secrets-layout audit: cannot audit: secretsmanager ListSecrets in us-east-1: AccessDeniedException: "
                   "User is not authorized to perform: secretsmanager:ListSecrets; use credentials of a read-only "
                   "role in the security account\n")



def test_hand_changes_to_key_tags_and_a_stuck_rotation_are_drift(tmp_path, account, cloudtrail, no_value_reads, capsys):
    declaration, config = write_declaration(tmp_path)
    healthy(account, declaration)
    secrets = account.client("secretsmanager")
    other_key = account.client("kms").create_key(Description="someone else's")["KeyMetadata"]["Arn"]
    secrets.update_secret(SecretId="prod/payments/overdue", KmsKeyId=other_key)
    secrets.tag_resource(SecretId="prod/payments/overdue", Tags=[{"Key": "owner", "Value": "somebody"}])
    secrets.put_secret_value(SecretId="prod/payments/rotated", SecretString="current")
    secrets.put_secret_value(SecretId="prod/payments/rotated", SecretString="pending", VersionStages=["AWSPENDING"])
    for version in account.stored("prod/payments/rotated").versions.values():
        if version["version_stages"] == ["AWSPENDING"]:
            version["createdate"] = int((account.now - timedelta(days=2)).timestamp())

    code, out, _ = audit(capsys, str(declaration), "--policy-config", str(config), "--format", "json",
                         "--endpoint-url", account.endpoint_url)

    report = json.loads(out)
    assert code == 1
    found = {(item["secret"], item["kind"]): item["message"] for item in report["findings"]}
    assert set(found) == {("prod/payments/overdue", "key-drift"), ("prod/payments/overdue", "tags-drift"),
                          ("prod/payments/rotated", "rotation-stuck")}
    assert found[("prod/payments/overdue", "key-drift")].startswith(f"encrypted with {other_key}, the program deploys")
    assert found[("prod/payments/overdue", "tags-drift")] == "tag owner is 'somebody', expected 'platform-team'; run `pulumi up`"
    assert next(row for row in report["secrets"] if row["name"] == "prod/payments/rotated")["rotation_stuck"] is True
    assert "current" not in out and "pending\"" not in out


def test_a_replica_that_failed_and_the_secret_in_its_way(tmp_path, account, cloudtrail, capsys):
    """AWS refuses to replicate over a secret of the same name in the replica region (moto does the same)."""
    declaration, config = write_declaration(tmp_path)
    account.client("secretsmanager", REPLICA).create_secret(Name="prod/payments/no-replica", SecretString="x")
    healthy(account, declaration)

    code, out, _ = audit(capsys, str(declaration), "--policy-config", str(config), "--format", "json",
                         "--endpoint-url", account.endpoint_url)

    report = json.loads(out)
    assert code == 1
    assert {(item["secret"], item["region"], item["kind"]) for item in report["findings"]} == {
        ("prod/payments/no-replica", REPLICA, "replica-not-in-sync"),
        ("prod/payments/no-replica", REPLICA, "secret-undeclared"),
    }


def test_access_history_from_athena_through_the_cli(tmp_path, account, monkeypatch, capsys):
    """Athena's query results come from Stubber (moto does not run SQL), shaped by Athena's service model."""
    import boto3

    declaration, config = write_declaration(tmp_path)
    healthy(account, declaration)
    queries: list[str] = []

    def athena(region):
        client = boto3.client("athena", region_name=region, endpoint_url=account.endpoint_url)
        stubber = Stubber(client)
        stubber.add_response("start_query_execution", {"QueryExecutionId": "q-1"},
                             {"QueryString": ANY, "WorkGroup": "security-audit"})
        stubber.add_response("get_query_execution", {"QueryExecution": {"Status": {"State": "SUCCEEDED"}}})
        header = ["eventid", "eventtime", "eventsource", "eventname", "awsregion", "principal", "accountid",
                  "errorcode", "errormessage", "requestparameters", "additionaleventdata"]
        row = ["e-1", (account.now - timedelta(days=120)).strftime("%Y-%m-%dT%H:%M:%SZ"),
               "secretsmanager.amazonaws.com", "GetSecretValue", PRIMARY, "arn:aws:iam::222222222222:role/PaymentsRole",
               "222222222222", None, None, '{"secretId":"prod/payments/rotated"}', None]
        stubber.add_response("get_query_results", {"ResultSet": {"Rows": [
            {"Data": [{"VarCharValue": value} for value in header]},
            {"Data": [{"VarCharValue": value} if value else {} for value in row]}]}})
        stubber.activate()
        client.meta.events.register("provide-client-params.athena.StartQueryExecution",
                                    lambda params, **_: queries.append(params["QueryString"]))
        return client

    monkeypatch.setattr(audit_cli, "aws_clients", lambda endpoint_url: AwsClients(
        endpoint_url=endpoint_url, overrides={"athena": athena}))
    since = (account.now - timedelta(days=200)).strftime("%Y-%m-%d")

    code, out, _ = audit(capsys, str(declaration), "--policy-config", str(config), "--format", "json",
                         "--no-lookup-events", "--since", since, "--athena-workgroup", "security-audit",
                         "--athena-table", "security.cloudtrail_logs", "--endpoint-url", account.endpoint_url)

    report = json.loads(out)
    assert code == 0
    assert [(item["secret"], item["reads"]) for item in report["access"]] == [("prod/payments/rotated", 1)]
    assert "FROM security.cloudtrail_logs WHERE ((eventsource = 'secretsmanager.amazonaws.com'" in queries[0]
    assert f"recipientaccountid = '{ACCOUNT}'" in queries[0]
