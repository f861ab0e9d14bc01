"""Several processes of the pack answer one run as one process does (secrets_layout/engine/packs.py).

The pack's verdict depends on the request and its configuration only (pulumi_policy builds the
arguments of every policy afresh from the request, `pulumi_policy/policy.py` ``Analyze``), so spreading
the calls over processes may change the time, never the answer or its order.
"""

from __future__ import annotations

import dataclasses
import os
import signal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policy_support import ROOT, config_file
from secrets_layout.declaration.loader import load_declaration
from secrets_layout.engine.analyzer_client import AnalyzerClient
from secrets_layout.engine.packs import MOST_PACKS, SECRETS_PER_EXTRA_PACK, PolicyPacks, _shares, pack_count
from secrets_layout.engine.programs import evaluate_declaration
from secrets_layout.engine.policy_check import analyzer_resources

SECRET = "aws:secretsmanager/secret:Secret"
ROTATION = "aws:secretsmanager/secretRotation:SecretRotation"


@pytest.mark.parametrize("length, count, sizes", [
    (0, 2, [0, 0]),
    (1, 3, [1, 0, 0]),
    (5, 2, [3, 2]),
    (6, 3, [2, 2, 2]),
    (7, 1, [7]),
])
def test_shares_are_contiguous_and_nearly_equal(length, count, sizes):
    assert [len(share) for share in _shares(list(range(length)), count)] == sizes


@given(st.lists(st.integers()), st.integers(min_value=1, max_value=8))
def test_shares_put_back_together_are_the_resources_in_order(resources, count):
    shares = _shares(resources, count)
    assert len(shares) == count
    assert [item for share in shares for item in share] == resources
    assert max(map(len, shares)) - min(map(len, shares)) <= 1


@pytest.mark.parametrize("cpus, secrets, expected", [
    (1, None, 1), (2, None, 2), (MOST_PACKS + 4, None, MOST_PACKS), (0, None, 1),
    (2, 0, 1), (2, SECRETS_PER_EXTRA_PACK - 1, 1), (2, SECRETS_PER_EXTRA_PACK, 2), (2, 10_000, 2),
    (8, 2 * SECRETS_PER_EXTRA_PACK, 3),
])
def test_one_pack_per_core_and_per_share_of_the_secrets(cpus, secrets, expected):
    assert pack_count(cpus, secrets=secrets) == expected


@pytest.mark.slow
def test_two_packs_give_the_violations_of_one_in_the_same_order():
    """The prod example with its secrets unprotected, one without a recovery window and no rotation
    resource: violations from both Analyze (resource policies) and AnalyzeStack (stack policies)."""
    loaded = load_declaration(ROOT / "environments" / "prod.yaml")
    run = evaluate_declaration(loaded)
    secrets = [resource for resource in run.resources if resource.type == SECRET]
    changed = {secrets[0].urn: {"recoveryWindowInDays": 0}}
    broken = dataclasses.replace(run, resources=[
        dataclasses.replace(resource, protect=False, inputs={**resource.inputs, **changed.get(resource.urn, {})})
        if resource.type == SECRET else resource for resource in run.resources if resource.type != ROTATION])
    inputs, states = analyzer_resources(broken)

    with AnalyzerClient() as one:
        one.configure(config_file=config_file("prod"))
        alone = one.analyze_many(inputs).extend(one.analyze_stack(states))
    with PolicyPacks(2) as packs:
        configured = packs.configure(config_file=config_file("prod"))
        spread = packs.analyze_many(inputs).extend(packs.analyze_stack(states, on=1).result())

    assert configured == one.configured
    assert spread.violations == alone.violations
    assert spread.not_applicable == alone.not_applicable
    assert {violation.policy for violation in alone.violations} == {
        "secret-protected", "secret-recovery-window", "secret-rotation-required"}


# ------------------------------------------------------------------------------------------------
# A pack that crashes or hangs mid-run
# ------------------------------------------------------------------------------------------------

BREAKER = ROOT / "tests" / "broken_pack"


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[-1][0] != "Z"
    except FileNotFoundError:
        return False


@pytest.fixture(scope="module")
def dev_inputs():
    return analyzer_resources(evaluate_declaration(load_declaration(ROOT / "environments" / "dev.yaml")))[0]


@pytest.mark.slow
@pytest.mark.parametrize(("breaks", "rpc_timeout", "error", "within"), [
    (("crash", None), 60, "the policy pack exited (code 3) during Analyze", 20),
    ((None, "crash"), 60, "the policy pack exited (code 3) during Analyze", 20),
    (("hang", None), 3, "the policy pack did not answer Analyze within 3s", 20),
    # One crashed: said at once, not after the other's calls time out.
    (("hang", "crash"), 60, "the policy pack exited (code 3) during Analyze", 20),
], ids=["first crashes", "second crashes", "first hangs", "first hangs, second crashes"])
def test_a_pack_broken_mid_run_fails_the_run_in_bounded_time_and_leaves_no_process(
        monkeypatch, dev_inputs, breaks, rpc_timeout, error, within):
    """Each pack answers 3 Analyze calls, then exits or stops answering (tests/broken_pack)."""
    import time

    from secrets_layout.engine.analyzer_errors import AnalyzerError

    monkeypatch.setenv("PYTHONPATH", f"{ROOT}{os.pathsep}{BREAKER}")
    started = time.monotonic()
    pids = []
    packs = PolicyPacks(2, rpc_timeout=rpc_timeout)
    for client, mode in zip(packs._clients, breaks):
        if mode:
            client._extra_env["PACK_BREAK"] = mode
    with pytest.raises(AnalyzerError) as raised:
        with packs:
            pids.extend(client._process.pid for client in packs._clients)
            packs.configure(config_file=config_file("dev"))
            packs.analyze_many(dev_inputs * 20)
    assert str(raised.value).splitlines()[0] == error
    assert time.monotonic() - started < within
    assert [pid for pid in pids if _alive(pid)] == []


@pytest.mark.slow
def test_the_cli_says_the_pack_crashed_without_a_traceback(monkeypatch):
    """Through the real entry point: exit 1 (the pull request fails: nothing was checked), the
    pack's own words, no Python traceback of ours."""
    from cli_support import assert_no_traceback, run_cli, without_phase_lines

    monkeypatch.setenv("PYTHONPATH", f"{ROOT}{os.pathsep}{BREAKER}")
    monkeypatch.setenv("PACK_BREAK", "crash")
    result = run_cli("preview", str(ROOT / "environments" / "dev.yaml"), timeout=120)
    assert result.returncode == 1
    assert without_phase_lines(result.stderr).startswith(
        "secrets-layout preview: error: the policy pack exited (code 3) during Analyze\n")
    assert result.stdout == ""
    assert_no_traceback(result)


@pytest.mark.slow
def test_the_packs_last_words_cannot_forge_a_workflow_command(monkeypatch):
    """The pack's output is quoted in the error; a line of it must not start a GitHub Actions command
    (issue 20: names and outputs are escaped wherever they are printed)."""
    from cli_support import run_cli

    monkeypatch.setenv("PYTHONPATH", f"{ROOT}{os.pathsep}{BREAKER}")
    monkeypatch.setenv("PACK_BREAK", "crash")
    monkeypatch.setenv("PACK_BREAK_SAY", "::error file=x::forged\n  ::set-output name=a::b\x1b[31mred\n")
    result = run_cli("preview", str(ROOT / "environments" / "dev.yaml"), timeout=120)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines and not any(line.lstrip().startswith("::") for line in lines)
    assert "./::error file=x::forged" in result.stderr and "\x1b" not in result.stderr


def _descendants(pid: int) -> dict[int, str]:
    """Every process under `pid`, with its command line (from /proc: Linux only)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parent = int(stat.read().rsplit(") ", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    found, todo = {}, [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            try:
                with open(f"/proc/{child}/cmdline", "rb") as cmdline:
                    found[child] = cmdline.read().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            todo.append(child)
    return found


@pytest.mark.slow
@pytest.mark.parametrize("signal_number", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_a_preview_killed_mid_run_leaves_no_pack_running(monkeypatch, signal_number):
    """CI cancels a job with SIGINT, then SIGTERM, then SIGKILL; the last two end the preview before
    any cleanup of ours, and a pack (a gRPC server) would serve forever: it stops when its stdin, a
    pipe only the preview holds, ends (pack_host.stop_with_stdin). The pack is made to hang
    (tests/broken_pack) so the signal comes mid-run."""
    import subprocess
    import sys
    import time

    monkeypatch.setenv("PYTHONPATH", f"{ROOT}{os.pathsep}{BREAKER}")
    monkeypatch.setenv("PACK_BREAK", "hang")
    preview = subprocess.Popen([sys.executable, "-m", "secrets_layout.cli", "preview",
                                str(ROOT / "environments" / "dev.yaml")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    packs: dict[int, str] = {}
    try:
        deadline = time.monotonic() + 60
        while not packs and time.monotonic() < deadline:
            time.sleep(0.2)
            packs = {pid: line for pid, line in _descendants(preview.pid).items() if "__main__.py" in line}
        assert packs, "the pack started"
        time.sleep(2)  # into the Analyze calls
        preview.send_signal(signal_number)
        assert preview.wait(timeout=30) == -signal_number
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in packs) and time.monotonic() < deadline:
            time.sleep(0.2)
        left = [pid for pid in packs if _alive(pid)]
    finally:
        preview.kill()
        for pid in packs:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
    assert left == []
