"""`secrets-layout rotate` end to end: moto's server on 127.0.0.1 rotating as AWS does, the bundled
rotation function answering each rotation (tests/drill_support.py), the fake provider behind it
(tests/rotation_support/fake_provider.py), through the CLI's entry point.

A rotation that succeeds, one whose provider fails, and one that does not finish within --wait; what the
drill refuses to start; confirmation; and, in every format, no secret value in any output.
"""

from __future__ import annotations

import io
import json
import math
import os
import pty
import re
import signal
import subprocess
import sys
import time

import boto3
import pytest

from audit_support import moto_server  # noqa: F401  (fixture: one moto server per module)
from cli_support import COMMAND, ROOT, run_main
from drill_support import (
    FUNCTION,
    LOG_GROUP,
    declaration_text,
    deploy_api_key,
    environment_for,
    rotation_service,
    secret_values,
)
from rotation_support.fake_provider import ScriptedAnswer
from rotation_support.provider_fixtures import provider, provider_server  # noqa: F401  (fixtures)
from rotation_support.secrets_manager import REGION
from secrets_layout.audit.collect import AwsClients
from secrets_layout.drill import cli as drill_cli

pytestmark = pytest.mark.slow

STRIPE, PARTNER = "dev/payments/stripe-api-key", "dev/payments/partner-key"
FORMATS = ("text", "json", "markdown")


@pytest.fixture
def service(monkeypatch, moto_server):
    with rotation_service(monkeypatch, moto_server) as running:
        yield running


@pytest.fixture
def calls(monkeypatch):
    """Every AWS operation the drill's clients send, by service, recorded by a botocore hook."""
    sent: list[tuple[str, str]] = []

    def clients(endpoint_url):
        made = AwsClients(endpoint_url=endpoint_url, caller="the rotation drill")

        def client(service_name, region):
            created = made(service_name, region)
            if not getattr(created, "_recorded", False):
                created.meta.events.register(
                    "before-call.*.*", lambda model, **_: sent.append((created.meta.service_model.service_name,
                                                                         model.name)))
                created._recorded = True
            return created

        return client

    monkeypatch.setattr(drill_cli, "aws_clients", clients)
    return sent


def write(tmp_path, names, **options):
    path = tmp_path / "dev.yaml"
    path.write_text(declaration_text(names, **options))
    return path


def rotate(path, service, *arguments):
    return run_main("rotate", str(path), "--endpoint-url", service.endpoint_url, *arguments)


def labels(service, name):
    """AWS's labels (the function's own marks left out), once the function's invocations under way are over."""
    service.join()
    client = boto3.client("secretsmanager", region_name=REGION, endpoint_url=service.endpoint_url)
    found = {version: sorted(stage for stage in stages if stage.startswith("AWS")) for version, stages in
             client.describe_secret(SecretId=name)["VersionIdsToStages"].items()}
    return {version: stages for version, stages in found.items() if stages}


def assert_no_value_in(result, values):
    shown = result.stdout + result.stderr
    assert values and not [value for value in values if value in shown], "a secret value reached the output"


# --- a rotation that succeeds -------------------------------------------------------------------------------


def test_a_rotation_that_succeeds_reports_its_new_version_and_exits_0(tmp_path, service, provider, calls):
    old_value = deploy_api_key(service, provider, STRIPE)
    before = labels(service, STRIPE)
    path = write(tmp_path, [STRIPE])

    result = rotate(path, service, "--yes", "--format", "json", "--wait", "60")

    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    [drilled] = report["secrets"]
    [old_version] = before
    new_version = drilled["version"]
    assert labels(service, STRIPE) == {old_version: ["AWSPREVIOUS"], new_version: ["AWSCURRENT"]}
    assert (drilled["name"], drilled["outcome"], drilled["current_moved"], drilled["previous_version"],
            drilled["function"], drilled["replicas"]) == (STRIPE, "succeeded", True, old_version, FUNCTION, [])
    assert 0 <= drilled["seconds"] < 60
    assert report["succeeded"] is True and report["summary"] == {"secrets": 1, "by_outcome": {"succeeded": 1}}
    assert_no_value_in(result, [old_value, *secret_values(service, STRIPE), *provider.every_secret()])
    # DescribeSecret and ListSecretVersionIds, and RotateSecret: never a value.
    assert {operation for service_name, operation in calls if service_name == "secretsmanager"} <= {
        "DescribeSecret", "ListSecretVersionIds", "RotateSecret"}
    assert ("secretsmanager", "RotateSecret") in calls


def test_replicas_that_caught_up_are_reported_with_the_rotation(tmp_path, service, provider):
    """moto copies a replica's versions from its primary at once: InSync and caught up (a replica that lags
    or fails: tests/test_rotate_api.py)."""
    deploy_api_key(service, provider, STRIPE, replicas=("us-west-2",))

    result = rotate(write(tmp_path, [STRIPE]), service, "--yes", "--format", "json", "--wait", "60")

    assert result.returncode == 0, result.stdout + result.stderr
    [drilled] = json.loads(result.stdout)["secrets"]
    assert drilled["replicas"] == [{"region": "us-west-2", "status": "InSync", "caught_up": True,
                                    "message": "Replication succeeded"}]


# --- a rotation that fails ----------------------------------------------------------------------------------


@pytest.fixture
def service_without_retries(monkeypatch, moto_server):
    with rotation_service(monkeypatch, moto_server, retries=0) as running:
        yield running


def test_a_failing_provider_fails_its_rotation_with_the_functions_reason_and_exit_1(
        tmp_path, service_without_retries, provider):
    """The provider answers the first rotation's key request with HTTP 500: that rotation fails (the function's
    own log line says why, CloudTrail's RotationFailed says which step), the next one succeeds."""
    service = service_without_retries
    deploy_api_key(service, provider, STRIPE)
    deploy_api_key(service, provider, PARTNER)
    provider.script("issue", ScriptedAnswer(status=500))

    result = rotate(write(tmp_path, [STRIPE, PARTNER]), service, "--yes", "--format", "json", "--wait", "60")

    assert result.returncode == 1, result.stdout + result.stderr
    failed, succeeded = json.loads(result.stdout)["secrets"]
    assert (failed["name"], failed["outcome"], failed["current_moved"]) == (STRIPE, "failed", False)
    assert (succeeded["name"], succeeded["outcome"]) == (PARTNER, "succeeded")
    assert failed["reason"].startswith(f"the function logged: createSecret failed for secret arn:aws:secretsmanager:"
                                       f"{REGION}:")
    assert failed["reason"].endswith(f"version {failed['version']}: ProviderError: create: {provider.base_url}"
                                     "/v1/keys answered HTTP 500")
    assert failed["function_error"]["log_group"] == LOG_GROUP
    assert failed["rotation_failed"]["message"] == (f"Error when executing lambda arn:aws:lambda:{REGION}:123456789012:"
                                                    f"function:{FUNCTION} during createSecret step")
    assert failed["what_to_do"].startswith("readers keep the current value (AWSCURRENT did not move); fix the cause "
                                           f"(`aws logs tail {LOG_GROUP} --since 1h --region {REGION}`)")
    # AWSPENDING stays for Secrets Manager's retry: the drill cancels nothing.
    assert labels(service, STRIPE)[failed["version"]] == ["AWSPENDING"]


@pytest.mark.parametrize("format_", FORMATS)
def test_no_output_format_shows_a_secret_value(tmp_path, service_without_retries, provider, calls, format_):
    service = service_without_retries
    deploy_api_key(service, provider, STRIPE)
    deploy_api_key(service, provider, PARTNER)
    provider.script("issue", ScriptedAnswer(status=500, body="echo"))

    result = rotate(write(tmp_path, [STRIPE, PARTNER]), service, "--yes", "--format", format_, "--wait", "60")

    assert result.returncode == 1
    assert STRIPE in result.stdout and PARTNER in result.stdout
    assert_no_value_in(result, [*secret_values(service, STRIPE), *secret_values(service, PARTNER),
                                *provider.every_secret()])
    assert {operation for service_name, operation in calls if service_name == "secretsmanager"} <= {
        "DescribeSecret", "ListSecretVersionIds", "RotateSecret"}


# --- a rotation that does not finish in time ----------------------------------------------------------------


def test_a_rotation_still_going_when_wait_elapses_is_not_finished_with_exit_1(tmp_path, service, provider):
    """The provider does not accept its new keys yet: the function says it will be retried (its grace period),
    Secrets Manager retries, and --wait elapses first. Nothing is cancelled."""
    provider.new_keys_rejected_for_seconds = math.inf
    deploy_api_key(service, provider, STRIPE)

    result = rotate(write(tmp_path, [STRIPE]), service, "--yes", "--format", "json", "--wait", "3")

    assert result.returncode == 1, result.stdout + result.stderr
    [drilled] = json.loads(result.stdout)["secrets"]
    version = drilled["version"]
    assert (drilled["outcome"], drilled["current_moved"]) == ("not-finished", False)
    assert 3 <= drilled["seconds"] < 10
    assert drilled["reason"].startswith(f"version {version} did not become AWSCURRENT within 3 s; the function "
                                        "logged: testSecret will be retried for secret ")
    assert drilled["what_to_do"].startswith("the function waits for the provider to accept the new credential "
                                            "(verify-grace-seconds, rotation/README.md); nothing was cancelled, the "
                                            "rotation goes on in AWS: see it finish with `aws secretsmanager "
                                            f"describe-secret --secret-id {STRIPE} --region {REGION}`")
    assert labels(service, STRIPE)[version] == ["AWSPENDING"]


# --- what the drill does not start --------------------------------------------------------------------------


def test_a_secret_already_rotating_is_reported_not_started_again(tmp_path, service, provider, calls):
    deploy_api_key(service, provider, STRIPE)
    service.secrets_manager.begin_rotation(STRIPE, "11111111-2222-3333-4444-555555555555")

    result = rotate(write(tmp_path, [STRIPE]), service, "--yes", "--format", "json")

    assert result.returncode == 1
    [drilled] = json.loads(result.stdout)["secrets"]
    assert (drilled["outcome"], drilled["version"]) == ("already-rotating", "11111111-2222-3333-4444-555555555555")
    assert drilled["reason"].startswith("version 11111111-2222-3333-4444-555555555555 has held AWSPENDING without "
                                        "AWSCURRENT since ")
    assert ("secretsmanager", "RotateSecret") not in calls
    assert ("secretsmanager", "ListSecretVersionIds") in calls


def test_secrets_missing_or_without_rotation_in_aws_are_not_started(tmp_path, service, provider):
    client = boto3.client("secretsmanager", region_name=REGION, endpoint_url=service.endpoint_url)
    client.create_secret(Name=PARTNER, SecretString=provider.add_key().api_key)  # rotation never deployed

    result = rotate(write(tmp_path, [STRIPE, PARTNER]), service, "--yes")

    assert result.returncode == 1
    assert result.stdout.splitlines()[2:] == [
        f"{STRIPE}: not started",
        f"  reason      no secret {STRIPE} in {REGION}",
        "  what to do  deploy it (`pulumi up`), or check the declaration's security account and region",
        f"{PARTNER}: not started",
        "  reason      rotation is off in AWS, though the declaration rotates it",
        "  what to do  deploy the declared rotation first (`pulumi up`; `secrets-layout preview` shows it): the drill "
        "rotates what AWS has, and starting one now would switch rotation on with whatever the secret last had",
        "",
        "Result: 0 of 2 rotations succeeded",
    ]
    assert result.stderr == ""


def test_secret_rotates_only_the_named_ones(tmp_path, service, provider, calls):
    deploy_api_key(service, provider, STRIPE)
    deploy_api_key(service, provider, PARTNER)

    result = rotate(write(tmp_path, [STRIPE, PARTNER]), service, "--yes", "--secret", PARTNER, "--format", "json")

    assert result.returncode == 0
    assert [item["name"] for item in json.loads(result.stdout)["secrets"]] == [PARTNER]
    assert calls.count(("secretsmanager", "RotateSecret")) == 1


@pytest.mark.parametrize(("names", "message"), [
    (["dev/payments/old-key"], "--secret dev/payments/old-key: {path} does not rotate it (exempt: the vendor has no "
                               "rotation API); the secrets it rotates: dev/payments/stripe-api-key"),
    (["dev/payments/nope"], "--secret dev/payments/nope: not declared in {path}; the secrets it rotates: "
                            "dev/payments/stripe-api-key"),
    ([STRIPE, "dev/payments/nope"], "--secret dev/payments/nope: not declared in {path}; the secrets it rotates: "
                                    "dev/payments/stripe-api-key"),
])
def test_a_secret_named_that_the_declaration_does_not_rotate_is_exit_2_before_any_call(
        tmp_path, service, provider, calls, names, message):
    path = tmp_path / "dev.yaml"
    path.write_text(declaration_text([STRIPE], exempt=["dev/payments/old-key"]))

    result = rotate(path, service, "--yes", *[part for name in names for part in ("--secret", name)])

    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"secrets-layout rotate: error: {message.format(path=path)}\n"
    assert calls == []


# --- confirmation -------------------------------------------------------------------------------------------


class Typed(io.StringIO):
    """A terminal on which the user types `answer`."""

    def isatty(self) -> bool:
        return True


def test_without_a_terminal_and_without_yes_nothing_starts_and_exit_is_2(tmp_path, service, provider, calls):
    deploy_api_key(service, provider, STRIPE)
    before = labels(service, STRIPE)

    result = rotate(write(tmp_path, [STRIPE]), service)  # pytest's stdin is no terminal

    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == ("secrets-layout rotate: error: 1 rotation to start and no terminal to confirm on "
                             "(standard input is not one); pass --yes to start them without asking\n")
    assert ("secretsmanager", "RotateSecret") not in calls
    assert labels(service, STRIPE) == before


@pytest.mark.parametrize(("answer", "code"), [("y\n", 0), ("yes\n", 0), ("n\n", 2), ("\n", 2), ("", 2)])
def test_on_a_terminal_it_asks_first_and_starts_only_on_yes(tmp_path, service, provider, monkeypatch, calls,
                                                              answer, code):
    deploy_api_key(service, provider, STRIPE)
    monkeypatch.setattr(sys, "stdin", Typed(answer))

    result = rotate(write(tmp_path, [STRIPE]), service, "--wait", "60")

    assert result.returncode == code, result.stderr
    assert result.stderr.startswith(
        f"secrets-layout rotate: about to start 1 rotation in account 123456789012 (dev, {REGION}), one after "
        f"another:\n  {STRIPE} (function {FUNCTION})\nEach gives its secret a new value now; readers get it when "
        "their cache refreshes. A rotation, once started, goes on in AWS even if this command stops.\n"
        "Start them? [y/N] ")
    assert (("secretsmanager", "RotateSecret") in calls) == (code == 0)
    if code == 2:
        assert result.stderr.endswith("secrets-layout rotate: not confirmed; nothing was started\n")


def test_the_prompt_reads_a_real_terminal(tmp_path, service, provider):
    """The console script with a pseudo-terminal as standard input: it asks, and starts on `y`."""
    deploy_api_key(service, provider, STRIPE)
    main, follower = pty.openpty()
    try:
        drill = subprocess.Popen([str(COMMAND), "rotate", str(write(tmp_path, [STRIPE])), "--endpoint-url",
                                  service.endpoint_url, "--wait", "60"], stdin=follower, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, env=environment_for(service))
        os.write(main, b"y\n")
        out, err = drill.communicate(timeout=120)
    finally:
        os.close(main)
        os.close(follower)
    assert drill.returncode == 0, err
    assert "Start them? [y/N] " in err and f"{STRIPE}: succeeded in " in out


# --- Ctrl-C -------------------------------------------------------------------------------------------------


def test_ctrl_c_stops_waiting_says_so_in_one_line_and_leaves_the_rotation_running(tmp_path, service, provider):
    provider.new_keys_rejected_for_seconds = math.inf
    deploy_api_key(service, provider, STRIPE)
    deploy_api_key(service, provider, PARTNER)
    drill = subprocess.Popen([str(COMMAND), "rotate", str(write(tmp_path, [STRIPE, PARTNER])), "--yes",
                              "--endpoint-url", service.endpoint_url, "--wait", "600"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment_for(service),
                             start_new_session=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 60
        while not service.invocations and time.monotonic() < deadline:
            time.sleep(0.05)
        assert service.invocations, "the rotation never started"
        os.killpg(drill.pid, signal.SIGINT)
        out, err = drill.communicate(timeout=30)
    finally:
        if drill.poll() is None:
            os.killpg(drill.pid, signal.SIGKILL)
    [version] = [version for version, stages in labels(service, STRIPE).items() if stages == ["AWSPENDING"]]
    assert (drill.returncode, out) == (130, "")
    assert err.splitlines()[-1] == (f"secrets-layout rotate: interrupted: stopped waiting for {STRIPE} (version "
                                    f"{version}); its rotation goes on in AWS, nothing was cancelled; not started: "
                                    f"{PARTNER}")
    assert "Traceback" not in err


# --- when it cannot run -------------------------------------------------------------------------------------


def test_no_credentials_is_exit_2_in_one_line(tmp_path, service, provider, monkeypatch):
    deploy_api_key(service, provider, STRIPE)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)

    result = rotate(write(tmp_path, [STRIPE]), service, "--yes")

    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == ("secrets-layout rotate: cannot run: no AWS credentials found: set AWS_PROFILE (or run "
                             "`aws sso login`), or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, for a role in the security "
                             "account that may rotate these secrets (docs/rotation-drill.md, \"Permissions\")\n")


def test_an_endpoint_that_does_not_answer_is_exit_2_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")

    result = run_main("rotate", str(write(tmp_path, [STRIPE])), "--yes", "--endpoint-url", "http://127.0.0.1:9")

    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (f"secrets-layout rotate: cannot run: secretsmanager DescribeSecret {STRIPE} in {REGION}: "
                             'Could not connect to the endpoint URL: "http://127.0.0.1:9/"\n')


@pytest.mark.parametrize(("arguments", "message"), [
    (("--endpoint-url", "http://admin:hunter22@127.0.0.1:bad"),
     "--endpoint-url 'http://***@127.0.0.1:bad' is not an endpoint URL; write http://HOST[:PORT] or "
     "https://HOST[:PORT]"),
    (("--wait", "0"), "--wait must be a whole number of seconds from 1 to 86400"),
    (("--wait", "86401"), "--wait must be a whole number of seconds from 1 to 86400"),
])
def test_bad_options_are_exit_2_before_any_call(tmp_path, calls, arguments, message):
    result = run_main("rotate", str(write(tmp_path, [STRIPE])), "--yes", *arguments)

    assert (result.returncode, result.stdout, calls) == (2, "", [])
    assert result.stderr == f"secrets-layout rotate: error: {message}\n"
    assert "hunter22" not in result.stderr


def test_an_unreadable_or_invalid_declaration_is_exit_2(tmp_path, calls):
    missing = run_main("rotate", str(tmp_path / "nope.yaml"), "--yes")
    invalid = tmp_path / "dev.yaml"
    invalid.write_text(declaration_text([STRIPE]).replace('security_account: "123456789012"', "security_account: 12"))
    refused = run_main("rotate", str(invalid), "--yes")

    assert (missing.returncode, missing.stdout) == (2, "")
    assert missing.stderr.startswith("secrets-layout rotate: error: ") and "nope.yaml" in missing.stderr
    assert (refused.returncode, refused.stdout) == (2, "")
    assert refused.stderr.startswith(f"secrets-layout rotate: cannot run: {invalid} is not a valid declaration:\n")
    assert "security_account" in refused.stderr
    assert calls == []


# --- the README's example -----------------------------------------------------------------------------------

VARYING = [  # what differs from one run to the next
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "<version>"),
    (re.compile(r"\b\d+\.\d s\b"), "<seconds> s"),
    (re.compile(r"(secret:dev/payments/[a-z-]+)-[A-Za-z0-9]{6}\b"), r"\1-<suffix>"),
    (re.compile(r"127\.0\.0\.1:(\d+|PORT)"), "127.0.0.1:<port>"),
    (re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC"), "<time> UTC"),
]


def without_what_varies(text: str) -> list[str]:
    for pattern, stand_in in VARYING:
        text = pattern.sub(stand_in, text)
    return text.splitlines()


def test_the_readme_example_is_what_the_drill_prints(tmp_path, service_without_retries, provider):
    service = service_without_retries
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- illustrative: [^\n]*tests/test_rotate_moto.py replays this block -->\n```\n(.*?)```\n",
                      readme, re.DOTALL).group(1)
    command, shown = block.split("\n", 1)
    assert command == "$ secrets-layout rotate dev.yaml --yes --endpoint-url http://127.0.0.1:PORT 2>&1"
    deploy_api_key(service, provider, STRIPE)
    deploy_api_key(service, provider, PARTNER, replicas=("us-west-2",))
    write(tmp_path, [STRIPE, PARTNER])
    provider.script("issue", ScriptedAnswer(status=500))

    printed = subprocess.run([str(COMMAND), "rotate", "dev.yaml", "--yes", "--endpoint-url", service.endpoint_url],
                             cwd=tmp_path, env=environment_for(service), stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, timeout=120)

    assert printed.returncode == 1
    assert without_what_varies(printed.stdout) == without_what_varies(shown)
