"""The rotation drill's pure parts: which secrets, the waiting loop on a fake clock, what a function's log
and CloudTrail say of one rotation, the report in each format, the line Ctrl-C leaves."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from cloudtrail_records import rotation_record
from secrets_layout.declaration.models import Declaration
from secrets_layout.drill.cli import interrupted_line
from secrets_layout.drill.evidence import Evidence, FunctionWord, function_word, parse_log_event, trail_failure
from secrets_layout.drill.model import DrillReport, LogLine, Outcome, ReplicaState, SecretDrill, TrailFailure
from secrets_layout.drill.run import Whereabouts
from secrets_layout.drill.targets import DrillUsageError, drill_targets
from secrets_layout.drill.waiting import Clock, Look, Pace, Waiting
from secrets_layout.reports.rotate import RENDERERS, render_markdown, render_text

START = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)
ARN = "arn:aws:secretsmanager:us-east-1:111111111111:secret:dev/payments/key-AbCdEf"
OTHER_ARN = "arn:aws:secretsmanager:us-east-1:111111111111:secret:dev/other-XyZabc"
VERSION = "e5f6a7b8-0000-4000-8000-000000000002"
REQUEST = "9f0e1d2c-3b4a-4596-8877-665544332211"
OTHER_REQUEST = "00000000-3b4a-4596-8877-665544332211"
MS = int(START.timestamp() * 1000)


# --- which secrets ------------------------------------------------------------------------------------------

DECLARATION = Declaration.model_validate({
    "environment": "dev", "security_account": "111111111111", "primary_region": "us-east-1",
    "secrets": [
        {"name": "dev/a/key", "value": {"external": True},
         "rotation": {"lambda_arn": "arn:aws:lambda:us-east-1:111111111111:function:f"}},
        {"name": "dev/b/key", "value": {"external": True}, "rotation": {"enabled": False, "reason": "no API"}},
        {"name": "dev/c/key", "value": {"external": True}},
        {"name": "dev/d/key", "value": {"external": True},
         "rotation": {"lambda_arn": "arn:aws:lambda:us-east-1:111111111111:function:f"}},
    ],
})


@pytest.mark.parametrize(("names", "chosen"), [
    ([], ["dev/a/key", "dev/d/key"]),
    (["dev/d/key"], ["dev/d/key"]),
    (["dev/d/key", "dev/a/key", "dev/d/key"], ["dev/a/key", "dev/d/key"]),  # the declaration's order, once each
])
def test_the_secrets_drilled_are_the_rotating_ones_or_those_named(names, chosen):
    assert [secret.name for secret in drill_targets(DECLARATION, names, "dev.yaml")] == chosen


@pytest.mark.parametrize(("names", "message"), [
    (["dev/b/key"], "--secret dev/b/key: dev.yaml does not rotate it (exempt: no API); the secrets it rotates: "
                    "dev/a/key, dev/d/key"),
    (["dev/c/key"], "--secret dev/c/key: dev.yaml does not rotate it (no rotation: declared); the secrets it "
                    "rotates: dev/a/key, dev/d/key"),
    (["dev/x\n::error::y"], "--secret dev/x\\n::error::y: not declared in dev.yaml; the secrets it rotates: "
                            "dev/a/key, dev/d/key"),
])
def test_a_name_the_declaration_does_not_rotate_is_refused(names, message):
    with pytest.raises(DrillUsageError) as refused:
        drill_targets(DECLARATION, names, "dev.yaml")
    assert str(refused.value) == message


def test_a_declaration_without_rotating_secrets_has_nothing_to_drill():
    quiet = DECLARATION.model_copy(update={"secrets": [DECLARATION.secrets[1], DECLARATION.secrets[2]]})
    with pytest.raises(DrillUsageError, match="^dev.yaml declares no secret with rotation enabled: there is nothing "
                                              "to drill$"):
        drill_targets(quiet, [], "dev.yaml")


# --- waiting ------------------------------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.seconds = 0.0
        self.slept: list[float] = []

    def clock(self) -> Clock:
        return Clock(monotonic=lambda: self.seconds, now=lambda: START + timedelta(seconds=self.seconds),
                     sleep=self.sleep)

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.seconds += seconds


def test_looks_come_quickly_first_then_steadily_and_the_last_one_at_the_deadline():
    fake = FakeClock()
    looks: list[Look] = []
    waited = Waiting(fake.clock(), Pace(first=(1, 2), steady=5, trail_every=6)).until(
        lambda look: looks.append(look), started=0.0, seconds=12)
    assert [look.elapsed for look in looks] == [0, 1, 3, 8, 12]
    assert [look.trail_due for look in looks] == [False, False, False, True, False]
    assert (waited.answer, waited.elapsed, fake.slept) == (None, 12, [1, 2, 5, 4])


def test_the_wait_ends_at_the_first_answer():
    fake = FakeClock()
    waited = Waiting(fake.clock(), Pace(first=(1, 1, 2, 3), steady=5)).until(
        lambda look: "rotated" if look.elapsed >= 4 else None, started=0.0, seconds=600)
    assert (waited.answer, waited.elapsed, fake.slept) == ("rotated", 4, [1, 1, 2])


# --- the function's log -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("message", "level", "request_id", "text"), [
    (f"[ERROR]\t2026-11-30T12:00:02.200Z\t{REQUEST}\tcreateSecret failed\n", "ERROR", REQUEST, "createSecret failed"),
    (f"[INFO]\t2026-11-30T12:00:02.200Z\t{REQUEST}\tstarting\n", "INFO", REQUEST, "starting"),
    ("[ERROR] ValueError: Secret version x has no stage\nTraceback (most recent call last):\n  File ...\n",
     "ERROR", None, "ValueError: Secret version x has no stage"),
    (f"2026-11-30T12:00:03.000Z {REQUEST} Task timed out after 3.00 seconds\n", "ERROR", REQUEST,
     "Task timed out after 3.00 seconds"),
    (f"START RequestId: {REQUEST} Version: $LATEST\n", None, REQUEST, f"START RequestId: {REQUEST} Version: $LATEST"),
    (json.dumps({"timestamp": "2026-11-30T12:00:02Z", "level": "ERROR", "message": "setSecret: unable to log in",
                 "logger": "root", "requestId": REQUEST}), "ERROR", REQUEST, "setSecret: unable to log in"),
    ("printed by the function\n", None, None, "printed by the function"),
])
def test_each_lambda_log_format_is_read(message, level, request_id, text):
    line = parse_log_event(MS + 2200, message)
    assert (line.level, line.request_id, line.message, line.time) == (level, request_id, text,
                                                                     START + timedelta(milliseconds=2200))


def lines(*messages: str):
    return [parse_log_event(MS + index, message) for index, message in enumerate(messages)]


def said(level: str, request: str, message: str) -> str:
    return f"[{level}]\t2026-11-30T12:00:02.200Z\t{request}\t{message}\n"


@pytest.mark.parametrize(("log", "failure", "waiting", "unattributed"), [
    # the rotation's own error, by the ARN it names
    ([said("ERROR", REQUEST, f"createSecret failed for secret {ARN}: ProviderError: 500")],
     f"createSecret failed for secret {ARN}: ProviderError: 500", None, None),
    # by the version it names
    ([said("ERROR", REQUEST, f"version {VERSION} is not AWSPENDING")], f"version {VERSION} is not AWSPENDING", None,
     None),
    # by its invocation: the runtime's timeout names no secret, its request id does
    ([said("INFO", REQUEST, f"createSecret: starting for secret {ARN}"),
      f"2026-11-30T12:00:03.000Z {REQUEST} Task timed out after 30.00 seconds\n"],
     "Task timed out after 30.00 seconds", None, None),
    # the first error is kept
    ([said("ERROR", REQUEST, f"first for {ARN}"), said("ERROR", REQUEST, f"second for {ARN}")], f"first for {ARN}",
     None, None),
    # an attempt that waits for the provider is no failure, the runtime's report of it neither
    ([said("WARNING", REQUEST, f"testSecret will be retried for secret {ARN}"),
      f"[ERROR] PendingNotYetAccepted: version {VERSION} was stored 2 s ago\nTraceback ...\n"],
     None, f"testSecret will be retried for secret {ARN}", None),
    # another invocation's error is a hint only
    ([said("ERROR", OTHER_REQUEST, f"createSecret failed for secret {OTHER_ARN}")], None, None,
     f"createSecret failed for secret {OTHER_ARN}"),
    # info lines decide nothing
    ([said("INFO", REQUEST, f"createSecret: stored version {VERSION}")], None, None, None),
])
def test_what_the_functions_log_says_of_the_rotation(log, failure, waiting, unattributed):
    word = function_word(lines(*log), arn=ARN, version=VERSION, group="/aws/lambda/f")
    assert (getattr(word.failure, "text", None), getattr(word.waiting, "text", None),
            getattr(word.unattributed, "text", None)) == (failure, waiting, unattributed)


def test_a_credential_in_a_log_line_is_never_shown():
    leaked = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"
    word = function_word(lines(said("ERROR", REQUEST, f"verify of {VERSION} failed: Bearer {leaked} refused; "
                                                      f"see https://admin:hunter22@keys.example.com/v1")),
                         arn=ARN, version=VERSION, group="/aws/lambda/f")
    assert leaked not in word.failure.text and "hunter22" not in word.failure.text
    assert "https://***@keys.example.com/v1" in word.failure.text


def test_cloudtrail_gives_the_latest_rotation_failed_of_the_secret_since_the_start():
    records = [rotation_record("RotationFailed", ARN, START - timedelta(minutes=5)),
               rotation_record("RotationFailed", ARN, START + timedelta(seconds=30)),
               rotation_record("RotationFailed", OTHER_ARN, START + timedelta(minutes=1)),
               rotation_record("RotationSucceeded", ARN, START + timedelta(minutes=2))]
    found = trail_failure(records, arn=ARN, since=START)
    assert found.time == START + timedelta(seconds=30)
    assert found.message.startswith("Error when executing lambda ")
    assert trail_failure(records[:1], arn=ARN, since=START) is None


@pytest.mark.parametrize(("word", "trail", "failed"), [
    (FunctionWord(), None, False),
    (FunctionWord(failure=LogLine(START, "boom", "g")), None, True),
    (FunctionWord(), TrailFailure(START, "Error when executing lambda"), True),
    # the function said it waits for the provider: Secrets Manager's RotationFailed of that attempt is no verdict
    (FunctionWord(waiting=LogLine(START, "will be retried", "g")), TrailFailure(START, None), False),
    (FunctionWord(unattributed=LogLine(START, "Task timed out", "g")), None, False),
])
def test_what_counts_as_a_failure(word, trail, failed):
    assert Evidence(word, trail).failed is failed


# --- the report ---------------------------------------------------------------------------------------------

REPORT = DrillReport(
    environment="dev", security_account="111111111111", region="us-east-1", wait_seconds=600, started_at=START,
    secrets=(
        SecretDrill("dev/a/key", "us-east-1", Outcome.SUCCEEDED, function="f", version="v2", previous_version="v1",
                    seconds=3.04, current_moved=True, replicas=(ReplicaState("us-west-2", "InSync", True, "ok"),)),
        SecretDrill("dev/d/key", "us-east-1", Outcome.FAILED, function="f", version="v9", previous_version="v8",
                    seconds=1.0, reason="the function logged: boom | bang",
                    rotation_failed=TrailFailure(START, "Error when executing lambda f during createSecret step"),
                    function_error=LogLine(START, "boom | bang", "/aws/lambda/f"), what_to_do="fix it"),
    ),
    notes=("CloudTrail LookupEvents (us-east-1) not read: AccessDenied",),
)


def test_the_text_report():
    assert render_text(REPORT) == """\
secrets-layout rotate: environment dev, account 111111111111, us-east-1; up to 600 s per secret

dev/a/key: succeeded in 3.0 s
  function    f
  version     v2 is AWSCURRENT (was v1)
  replicas    us-west-2 caught up
dev/d/key: failed after 1.0 s
  function    f
  version     v9; AWSCURRENT stays on v8
  reason      the function logged: boom | bang
  CloudTrail  RotationFailed at 2026-11-30 12:00:00 UTC: Error when executing lambda f during createSecret step
  what to do  fix it

Notes:
  CloudTrail LookupEvents (us-east-1) not read: AccessDenied

Result: 1 of 2 rotations succeeded
"""


def test_the_markdown_report_escapes_table_cells():
    rows = render_markdown(REPORT).splitlines()
    assert rows[0] == "## secrets-layout rotate: dev (1 of 2 rotations succeeded)"
    assert rows[7] == ("| `dev/d/key` | failed after 1.0 s | v9; AWSCURRENT stays on v8 | no | - | the function "
                       "logged: boom \\| bang. **What to do:** fix it |")


def test_a_logged_error_stays_inside_its_table_cell():
    """A rotation function logs what it likes: a line break, HTML, a backtick would end the row or the cell."""
    logged = "Traceback (most recent call last):\n  <module> `x` | y"
    drill = SecretDrill("dev/d/key", "us-east-1", Outcome.FAILED, function="f", version="v9", previous_version="v8",
                        seconds=1.0, reason=f"the function logged: {logged}", what_to_do="fix it")
    rows = render_markdown(DrillReport(environment="dev", security_account="111111111111", region="us-east-1",
                                       wait_seconds=600, started_at=START, secrets=(drill,), notes=(logged,))
                           ).splitlines()
    assert rows[6] == ("| `dev/d/key` | failed after 1.0 s | v9; AWSCURRENT stays on v8 | no | - | the function "
                       "logged: Traceback (most recent call last):<br>  &lt;module&gt; `x` \\| y. "
                       "**What to do:** fix it |")
    assert rows[-1] == "- Traceback (most recent call last):<br>  &lt;module&gt; `x` \\| y"


def test_the_json_report():
    document = json.loads(RENDERERS["json"](REPORT))
    assert (document["version"], document["succeeded"], document["summary"]) == (
        1, False, {"secrets": 2, "by_outcome": {"failed": 1, "succeeded": 1}})
    assert document["secrets"][1]["function_error"] == {"time": "2026-11-30T12:00:00Z", "log_group": "/aws/lambda/f",
                                                        "text": "boom | bang"}
    assert document["secrets"][0]["seconds"] == 3.0


# --- Ctrl-C -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("whereabouts", "line"), [
    (Whereabouts(), "secrets-layout rotate: interrupted: nothing was started"),
    (Whereabouts("starting", "dev/a/key", "v2", 0, ["dev/d/key"]),
     "secrets-layout rotate: interrupted: the rotation of dev/a/key may have started (RotateSecret was on its way); "
     "if it did it goes on in AWS, nothing was cancelled; not started: dev/d/key"),
    (Whereabouts("waiting", "dev/d/key", "v9", 1, []),
     "secrets-layout rotate: interrupted: stopped waiting for dev/d/key (version v9); its rotation goes on in AWS, "
     "nothing was cancelled; 1 finished before (not reported)"),
    (Whereabouts("done", None, None, 2, []), "secrets-layout rotate: interrupted: every rotation had finished "
                                             "(not reported)"),
])
def test_ctrl_c_says_what_was_stopped_and_what_goes_on(whereabouts, line):
    assert interrupted_line(whereabouts) == line
