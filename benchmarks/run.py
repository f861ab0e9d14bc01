"""`make bench`: the performance report of SPEC section 8.

Builds a 1,000-secret declaration (2 replicas, rotation, 2 readers each) and the same layout as
Terraform (benchmarks/generate.py), then measures in one run:

    validate      load_declaration in-process (after imports and a warm-up), and the CLI's
                  `secrets-layout validate FILE` wall time including interpreter start-up
    preview       `secrets-layout preview FILE --policy-config CFG --format json`: wall time
                  and peak memory (RSS summed over its process tree, sampled)
    checkov       `checkov -d DIR --framework terraform` on the equivalent Terraform, wall time
    registration  the layout on the SDK mock engine (secrets_layout.engine.simulation.simulate):
                  through components (SecretsLayout, as __main__.py builds it) and registered
                  with the raw SDK (benchmarks/raw_program.py: the same resources and inputs,
                  no components), both on the same loaded declaration; and the real program
                  __main__.py end to end (load + components)
    scaling       validate and registration at 10,000 secrets against 1,000

and prints each against its target (PASS / FAIL). The exit code is 0 whatever the results:
this is a report. Every measurement runs in a fresh subprocess (this file with --worker), so
memory and caches of one never help another.

    .venv/bin/python benchmarks/run.py [--secrets 1000] [--scale 10000] [--skip-checkov]
                                        [--scale-budget 300] [--full-scale] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import generate  # noqa: E402

BIN = Path(sys.executable).parent
CLI = BIN / "secrets-layout"
DEFAULT_JSON = ROOT / "benchmarks" / "results.json"
CHECKOV_VENV = ROOT / ".venv-checkov"
WORKER_KINDS = ("validate", "program", "components", "raw")

VALIDATE_TARGET_SECONDS = 0.5
"""`secrets-layout validate` of 1,000 secrets through the CLI (issue 22)."""
COMPONENT_OVERHEAD_TARGET = 0.30
SCALE_TARGET_RATIO = 11.0
"""validate and the registration at 10,000 secrets against 1,000 (issue 14)."""
PREVIEW_TARGET_RATIO = 0.3
"""Full preview (dry run + deployment + the pack) against checkov on the same layout (issue 22)."""
PULL_REQUEST_TARGET_RATIO = 0.3
"""`preview --base` with one secret changed, no cache, against checkov (issue 22)."""
CACHED_PULL_REQUEST_TARGET_RATIO = 0.15
"""`preview --base --cache` with one secret changed, the base in the cache, against checkov (issue 22)."""
MEMORY_TARGET_RATIO = 0.5
"""Peak memory of the preview's process tree against checkov's (issue 22)."""
PREVIEW_SCALE_TARGET_RATIO = 10.0
"""The preview of 10,000 secrets in 100 team files against the 1,000-secret preview (issue 22)."""
SCALE_MEMORY_TARGET_MB = 1024
PROGRAM_TARGET_RATIO = 1.0
"""A `--program` preview (the SDK simulation) against the same command of the code before (issue 22: no slower)."""
CHANGED_SHARE = 0.10
"""The larger pull request: this share of the secrets changed."""
SCALE_FILES = 100
"""The scaling declaration as an environment folder of this many team files (issue 14 item 1)."""


# -- subprocesses with their peak memory -----------------------------------------------------------


@dataclass
class Measured:
    """One subprocess: wall seconds, exit code, output, and its peak memory."""

    seconds: float
    returncode: int | None
    stdout: str
    stderr: str
    peak_rss_mb: float
    """Largest resident set of any one process of the tree (getrusage of the waited child)."""
    peak_tree_rss_mb: float
    """Largest sum of resident sets over the process tree, sampled every 0.2 s (when asked for)."""
    cpu_seconds: float = 0.0
    """User + system CPU time of the process and the children it waited for."""
    timed_out: bool = False


def _children_of(pid: int) -> list[int]:
    """Every descendant of pid (from /proc; empty where /proc is missing)."""
    parents: dict[int, list[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stream:
                stat = stream.read().decode(errors="replace")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry))
    found, pending = [], [pid]
    while pending:
        for child in parents.get(pending.pop(), []):
            found.append(child)
            pending.append(child)
    return found


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/statm", "rb") as stream:
            pages = int(stream.read().split()[1])
    except (OSError, ValueError, IndexError):
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def run_measured(
    command: list[str], *, timeout: float, cwd: Path = ROOT, env: dict[str, str] | None = None, sample_tree: bool = False
) -> Measured:
    """Run command; wall time, CPU time, exit code, output and peak memory. Killed (its group) after timeout.

    sample_tree: also sample the RSS summed over the process tree (for commands that start
    helper processes, like the preview's policy pack); costs a little CPU in this process.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL, start_new_session=True
        )
        peak_tree = 0.0
        done = threading.Event()

        def sample() -> None:
            nonlocal peak_tree
            while not done.is_set():
                tree = [process.pid, *_children_of(process.pid)]
                peak_tree = max(peak_tree, sum(_rss_mb(pid) for pid in tree))
                done.wait(0.2)

        sampler = threading.Thread(target=sample, daemon=True)
        if sample_tree:
            sampler.start()
        timer = threading.Timer(timeout, lambda: _kill_group(process.pid))
        timer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            timer.cancel()
            done.set()
            if sample_tree:
                sampler.join()
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        timed_out = seconds >= timeout and process.returncode < 0
        out.seek(0)
        err.seek(0)
        return Measured(
            seconds=seconds,
            returncode=process.returncode,
            stdout=out.read().decode(errors="replace"),
            stderr=err.read().decode(errors="replace"),
            peak_rss_mb=usage.ru_maxrss / 1024,  # Linux: KiB
            peak_tree_rss_mb=max(peak_tree, usage.ru_maxrss / 1024),
            cpu_seconds=usage.ru_utime + usage.ru_stime,
            timed_out=timed_out,
        )


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, 9)  # the group of the process we started (start_new_session)
    except ProcessLookupError:
        pass


# -- workers: one in-process measurement each, in a fresh interpreter ------------------------------


def _prepared_declaration(path: Path):
    """The Declaration in `path`, for the registration benchmarks (untimed).

    `parse_declaration` is the loader without its 1 MiB file bound, so the 10,000-secret file
    (about 6 MB) loads too; `validate` measures the loader itself.
    """
    from secrets_layout.declaration.loader import parse_declaration

    return parse_declaration(path.read_bytes().decode("utf-8"), str(path)).declaration


def _worker(kind: str, path: Path, warmup: Path, repeat: int = 1) -> dict[str, Any]:
    if kind == "validate":
        from secrets_layout.declaration.loader import load_declaration, parse_declaration
        from secrets_layout.declaration.yaml_source import MAX_FILE_BYTES

        load_declaration(warmup)  # imports done, lazy initialisation (credential scanner) done
        over_limit = path.stat().st_size > MAX_FILE_BYTES
        runs = []
        for _ in range(repeat):
            started = time.perf_counter()
            if over_limit:
                # Every check but the size bound: the file is over the 1 MiB a declaration may have.
                loaded = parse_declaration(path.read_bytes().decode("utf-8"), str(path))
            else:
                loaded = load_declaration(path)
            runs.append(time.perf_counter() - started)
        return {"seconds": min(runs), "runs": runs, "secrets": len(loaded.declaration.secrets), "size_limit_bypassed": over_limit}

    from secrets_layout.engine.simulation import simulate

    if kind == "program":
        program = ROOT / "__main__.py"

        def run(declaration_file: Path):
            return simulate(
                program, project="secrets-layout", stack="prod", root_directory=ROOT,
                config={"secrets-layout:declaration": str(declaration_file)},
            )

        run(warmup)
        started = time.perf_counter()
        simulation = run(path)
    else:
        from benchmarks.raw_program import component_program, raw_program

        make = component_program if kind == "components" else raw_program
        simulate(make(_prepared_declaration(warmup)), project="secrets-layout", stack="prod", root_directory=ROOT)
        declaration = _prepared_declaration(path)
        started = time.perf_counter()
        simulation = simulate(make(declaration), project="secrets-layout", stack="prod", root_directory=ROOT)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "resources": len(simulation.resources),
        "custom_resources": sum(1 for resource in simulation.resources if resource.custom),
    }


def measure_worker(kind: str, path: Path, warmup: Path, *, timeout: float, repeat: int = 1) -> dict[str, Any]:
    """Run one worker in a fresh interpreter; its JSON answer plus peak memory, or an error.

    repeat: in-process repetitions (validate only); the answer's `seconds` is the fastest."""
    command = [
        sys.executable, str(Path(__file__).resolve()), "--worker", kind, str(path), "--warmup", str(warmup),
        "--repeat", str(repeat),
    ]
    measured = run_measured(command, timeout=timeout)
    if measured.timed_out:
        return {"error": f"timed out after {timeout:.0f} s", "timed_out": True, "seconds_at_least": timeout}
    lines = [line for line in measured.stdout.splitlines() if line.startswith("{")]
    if measured.returncode != 0 or not lines:
        tail = (measured.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"exit {measured.returncode}: {tail}"}
    answer = json.loads(lines[-1])
    answer["peak_rss_mb"] = round(measured.peak_rss_mb, 1)
    answer["process_cpu_seconds"] = round(measured.cpu_seconds, 2)
    return answer


# -- the measurements ------------------------------------------------------------------------


@dataclass
class Row:
    what: str
    value: str
    target: str = ""
    verdict: str = ""  # PASS | FAIL | INFO | N/A | ERROR
    note: str = ""


@dataclass
class Report:
    started: str
    machine: dict[str, Any]
    secrets: int
    scale: int
    measurements: dict[str, Any] = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s" if value < 100 else f"{value:.0f} s"


def cli_available(command: str) -> tuple[bool, str]:
    """Whether `secrets-layout COMMAND` exists (its --help exits 0)."""
    if not CLI.exists():
        return False, f"{CLI} not found (make install)"
    result = subprocess.run([str(CLI), command, "--help"], capture_output=True, text=True, cwd=ROOT)
    if result.returncode != 0:
        return False, f"secrets-layout {command} not found"
    return True, ""


def find_checkov() -> Path | None:
    explicit = os.environ.get("CHECKOV")
    candidates = [Path(explicit)] if explicit else []
    candidates.append(CHECKOV_VENV / "bin" / "checkov")
    found = shutil.which("checkov")
    if found:
        candidates.append(Path(found))
    return next((candidate for candidate in candidates if candidate.is_file() and os.access(candidate, os.X_OK)), None)


def _no_network_prefix() -> list[str]:
    """`unshare -n` (a network namespace with no interfaces up) where it works, else nothing."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True).returncode == 0:
        return [unshare, "-n"]
    return []


def measure_checkov(terraform_dir: Path, expected_resources: int, *, timeout: float,
                    one_file: bool = False) -> dict[str, Any]:
    """checkov over the Terraform twin. one_file: the twin is one file, whose parse takes longer than
    checkov's HCL parse limit (10 s, `HCL_PARSE_TIMEOUT_SEC`), which is lifted (0: none) so that it reads it."""
    checkov = find_checkov()
    if checkov is None:
        return {"error": "checkov not installed (make bench creates .venv-checkov; or set CHECKOV=/path/to/checkov)"}
    # checkov calls home (guidelines, version check): keep it offline. No network namespace
    # where unshare is refused; then the skip flags and a proxy on a closed local port.
    env = dict(
        os.environ,
        BC_SKIP_MAPPING="TRUE",
        CKV_SKIP_PACKAGE_UPDATE_CHECK="TRUE",
        HTTPS_PROXY="http://127.0.0.1:9",
        HTTP_PROXY="http://127.0.0.1:9",
        NO_PROXY="",
        **({"HCL_PARSE_TIMEOUT_SEC": "0"} if one_file else {}),
    )
    version = subprocess.run([str(checkov), "--version"], capture_output=True, text=True, env=env).stdout.strip()
    command = [
        *_no_network_prefix(), str(checkov), "-d", str(terraform_dir), "--framework", "terraform",
        "--quiet", "--compact", "--skip-download", "-o", "json",
    ]
    measured = run_measured(command, timeout=timeout, cwd=terraform_dir.parent, env=env, sample_tree=True)
    result: dict[str, Any] = {
        "seconds": measured.seconds,
        "cpu_seconds": round(measured.cpu_seconds, 2),
        "peak_rss_mb": round(measured.peak_tree_rss_mb, 1),
        "version": version,
        "isolated_network": bool(_no_network_prefix()),
    }
    if measured.timed_out:
        return {**result, "error": f"timed out after {timeout:.0f} s"}
    try:
        output = json.loads(measured.stdout)
    except ValueError:
        tail = (measured.stderr.strip().splitlines() or ["no output"])[-1]
        return {**result, "error": f"exit {measured.returncode}, no JSON report: {tail}"}
    summary = (output[0] if isinstance(output, list) else output).get("summary", {})
    result.update(
        resources=summary.get("resource_count"),
        passed=summary.get("passed"),
        failed=summary.get("failed"),
        parsing_errors=summary.get("parsing_errors"),
    )
    if summary.get("parsing_errors") or summary.get("resource_count") != expected_resources:
        result["error"] = (
            f"checkov read {summary.get('resource_count')} of {expected_resources} resources "
            f"({summary.get('parsing_errors')} parsing errors): its time is not comparable"
        )
    return result


def measure_preview(declaration: Path, policy_config: Path, *, timeout: float, base: str | None = None,
                    cache: Path | None = None, program: Path | None = None, source: Path | None = None) -> dict[str, Any]:
    """`secrets-layout preview` (with `--base`: run in the declaration's git repository; with `cache`:
    `--cache`; with `program`: `--program`, the SDK simulation). source: another checkout's package
    (`before_checkout`) imported instead of this one (PYTHONPATH comes before the editable install)."""
    available, why = cli_available("preview")
    if not available:
        return {"error": f"not available ({why})", "unavailable": True}
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "preview.json"
        command = [
            str(CLI), "preview", str(declaration), "--policy-config", str(policy_config),
            "--format", "json", "--output", str(report), *(["--base", base] if base else []),
            *(["--cache", str(cache)] if cache else []), *(["--program", str(program)] if program else []),
        ]
        env = dict(os.environ, PYTHONPATH=str(source)) if source is not None else None
        measured = run_measured(command, timeout=timeout, sample_tree=True, env=env,
                                cwd=declaration.parent if base else ROOT)
        result: dict[str, Any] = {
            "seconds": measured.seconds,
            "cpu_seconds": round(measured.cpu_seconds, 2),
            "exit_code": measured.returncode,
            "peak_rss_mb": round(measured.peak_tree_rss_mb, 1),
            "peak_rss_largest_process_mb": round(measured.peak_rss_mb, 1),
        }
        if measured.timed_out:
            return {**result, "error": f"timed out after {timeout:.0f} s"}
        if measured.returncode not in (0, 1) or not report.exists():
            tail = (measured.stderr.strip().splitlines() or ["no output"])[-1]
            return {**result, "error": f"exit {measured.returncode}: {tail}"}
        summary = json.loads(report.read_text()).get("summary", {})
        result.update(
            resources=summary.get("resources"), mandatory=summary.get("mandatory"), advisory=summary.get("advisory"),
            updates=summary.get("update"),
        )
        return result


def _git(repository: Path, *arguments: str) -> None:
    subprocess.run(["git", "-C", str(repository), *arguments], check=True, capture_output=True)


def write_pull_request(n: int, changed: int, directory: Path, *, folder_files: int = 0) -> Path:
    """A git repository whose HEAD~1 holds the n-secret declaration and HEAD the same with `changed`
    secrets changed (generate.changed_declaration_yaml): what `preview --base HEAD~1` of a pull
    request sees. One file, or an environment folder of `folder_files` team files. Returns the
    declaration's path."""
    directory.mkdir(parents=True, exist_ok=True)
    _git(directory, "init", "--quiet", "--initial-branch=main")
    _git(directory, "config", "user.email", "bench@example.invalid")
    _git(directory, "config", "user.name", "bench")
    for message, text in (("base", generate.declaration_yaml(n)), ("change", generate.changed_declaration_yaml(n, changed))):
        if folder_files:
            target = generate.write_folder(generate.folder_declaration(text, folder_files), directory / generate.ENVIRONMENT)
        else:
            target = directory / "bench.yaml"
            target.write_text(text)
        _git(directory, "add", "-A")
        _git(directory, "commit", "--quiet", "--allow-empty", "-m", message)
    return target


def fill_cache(pull_request: Path, policy_config: Path, cache: Path, *, timeout: float) -> dict[str, Any]:
    """What the push to the default branch does: `preview --cache` of the base revision (HEAD~1),
    checked out in a worktree of its own. Untimed: the pull request only reads the cache."""
    repository = pull_request.parent
    checkout = repository.parent / f"{repository.name}-base"
    if not checkout.exists():
        _git(repository, "worktree", "add", "--quiet", "--detach", str(checkout), "HEAD~1")
    return measure_preview(checkout / pull_request.relative_to(repository), policy_config, timeout=timeout, cache=cache)


def before_checkout(revision: str, directory: Path) -> tuple[Path | None, str]:
    """The code at `revision` of this repository (git archive), to measure its preview with this one's
    installed dependencies; (None, why) when git or the revision is missing. A folder instead of a
    revision is such a checkout already (the benchmark run from a copy that is no repository)."""
    if Path(revision).is_dir():
        return Path(revision).resolve(), f"the checkout in {revision}"
    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"],
                                capture_output=True, text=True, check=True).stdout.strip()
        directory.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit], capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(directory)], input=archive, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None, f"{revision} is not a revision of {ROOT}"
    return directory, commit[:12]


def one_file_twin(terraform_dir: Path, directory: Path) -> Path:
    """The same Terraform twin as one file (its files concatenated, main.tf first)."""
    directory.mkdir(parents=True, exist_ok=True)
    files = sorted(terraform_dir.glob("*.tf"), key=lambda path: (path.name != "main.tf", path.name))
    (directory / "main.tf").write_text("\n".join(path.read_text() for path in files))
    return directory


def folder_form_available() -> tuple[bool, str]:
    """Whether this checkout reads an environment folder (secrets_layout/declaration/folder.py,
    issue 14 item 1). The hook of the 10,000-secret preview: without it, 10,000 secrets (5.8 MB)
    cannot be previewed at all, since one declaration file is at most 1 MiB."""
    import importlib.util

    try:
        found = importlib.util.find_spec("secrets_layout.declaration.folder") is not None
    except ModuleNotFoundError:
        found = False
    return (True, "") if found else (False, "this checkout has no environment folders (secrets_layout/declaration/folder.py)")


def measure_cli_validate(declaration: Path, *, timeout: float) -> dict[str, Any]:
    measured = run_measured([str(CLI), "validate", str(declaration)], timeout=timeout)
    if measured.timed_out:
        return {"error": f"timed out after {timeout:.0f} s"}
    if measured.returncode != 0:
        return {"seconds": measured.seconds, "error": f"exit {measured.returncode}: {measured.stdout.strip()[:300]}"}
    return {"seconds": measured.seconds, "cpu_seconds": round(measured.cpu_seconds, 2), "peak_rss_mb": round(measured.peak_rss_mb, 1)}


# -- scaling ---------------------------------------------------------------------------------

SCALE_CAP = 1.25
"""A scaling measurement is stopped at SCALE_CAP x the target (11 x the 1,000-secret time): a run
that reaches the cap has failed the target whatever it would have taken, and the benchmark
stays bounded."""


def fit_growth(n1: int, t1: float, n2: int, t2: float) -> tuple[float, float]:
    """(a, b) of t = a*n + b*n^2 through two points, neither negative."""
    b = (t2 / n2 - t1 / n1) / (n2 - n1)
    a = t1 / n1 - b * n1
    if b < 0:
        return t2 / n2, 0.0
    if a < 0:
        return 0.0, t2 / n2**2
    return a, b


def measure_scaling(kind: str, base: dict[str, Any], *, scale_path: Path, warmup: Path, repeat: int = 1) -> dict[str, Any]:
    """The scale-size time of one worker kind against its base time, stopped at the cap."""
    if "seconds" not in base:
        return {"error": "no base measurement"}
    cap = max(SCALE_CAP * SCALE_TARGET_RATIO * base["seconds"], 60.0)
    answer = measure_worker(kind, scale_path, warmup, timeout=cap, repeat=repeat)
    if "seconds" in answer:
        return {**answer, "measured": True, "ratio": answer["seconds"] / base["seconds"]}
    if answer.get("timed_out"):
        return {**answer, "measured": False, "ratio_at_least": cap / base["seconds"], "cap_seconds": cap}
    return answer


def project_scaling(base: dict[str, Any], probe: dict[str, Any], *, n_probe: int, n_base: int, n_scale: int) -> dict[str, Any]:
    """An estimate only (t = a*n + b*n^2 through two sizes), for what is not run by default."""
    if "seconds" not in base or "seconds" not in probe:
        return {"error": "no base measurement"}
    a, b = fit_growth(n_probe, probe["seconds"], n_base, base["seconds"])
    projected = a * n_scale + b * n_scale**2
    return {
        "measured": False, "projected": True, "probe_n": n_probe, "probe_seconds": probe["seconds"],
        "projected_seconds": projected, "ratio": projected / base["seconds"], "growth_fit": {"a": a, "b": b},
    }


# -- the run ---------------------------------------------------------------------------------


def _verdict(ok: bool | None) -> str:
    return "N/A" if ok is None else "PASS" if ok else "FAIL"


def ratios(run: dict[str, Any], other: dict[str, Any]) -> tuple[float, float, float]:
    """(lowest, median, highest) of run/other: the medians' ratio, and the spread of the ratios of the
    runs taken in the same round (interleaved); the runs' extremes against each other when the rounds
    do not pair up."""
    median = run["seconds"] / other["seconds"]
    mine, theirs = run.get("runs", [run["seconds"]]), other.get("runs", [other["seconds"]])
    paired = [a / b for a, b in zip(mine, theirs)] if len(mine) == len(theirs) else [min(mine) / max(theirs),
                                                                                       max(mine) / min(theirs)]
    return min(paired + [median]), median, max(paired + [median])


def judged(low: float, median: float, high: float, target: float) -> str:
    """PASS or FAIL by the median; "within noise" when the target lies inside the spread of the runs."""
    verdict = _verdict(median <= target)
    return verdict if high <= target or low > target else f"{verdict} (within noise)"


def _spread(run: dict[str, Any]) -> str:
    """Median, spread and CPU of a summarised measurement, for a note."""
    cpu = f"; CPU {_seconds(run['cpu_seconds'])}" if "cpu_seconds" in run else ""
    return f"median of {len(run.get('runs', [1]))}, runs {_seconds(run.get('min', run['seconds']))}-{_seconds(run.get('max', run['seconds']))}{cpu}"


def _ok(run: dict[str, Any]) -> bool:
    return "seconds" in run and "error" not in run


def build_rows(report: Report) -> None:
    m = report.measurements
    n, s = report.secrets, report.scale
    rows = report.rows

    v = m.get("validate", {})
    if "seconds" in v:
        rows.append(Row(f"validate {n:,} secrets (load_declaration, in-process)", _seconds(v["seconds"]), "", "INFO",
                        "fastest of 3, after imports and a warm-up"))
    else:
        rows.append(Row(f"validate {n:,} secrets (load_declaration, in-process)", "-", "", "ERROR", v.get("error", "")))
    c = m.get("validate_cli", {})
    if _ok(c):
        rows.append(Row(f"validate {n:,} secrets through the CLI (incl. interpreter start-up)", _seconds(c["seconds"]),
                        f"<= {VALIDATE_TARGET_SECONDS} s",
                        judged(c.get("min", c["seconds"]), c["seconds"], c.get("max", c["seconds"]), VALIDATE_TARGET_SECONDS),
                        _spread(c)))
    else:
        rows.append(Row(f"validate {n:,} secrets through the CLI", "-", f"<= {VALIDATE_TARGET_SECONDS} s", "ERROR", c.get("error", "")))

    p, k, k1 = m.get("preview", {}), m.get("checkov", {}), m.get("checkov_one_file", {})
    checkov_ok, one_file_ok = _ok(k), _ok(k1)
    for run, what in ((k, "checkov scan of the Terraform twin, split into files"), (k1, "checkov scan of the same twin in one file")):
        rows.append(Row(what + (f" ({run['resources']} resources)" if run.get("resources") else ""),
                        _seconds(run.get("seconds")) if "seconds" in run else "-", "",
                        "INFO" if _ok(run) else "ERROR" if not k.get("skipped") else "N/A",
                        run.get("error", "") or f"checkov {run.get('version', '')}, {run.get('failed', '?')} failed checks; "
                        f"{_spread(run)}; peak {run.get('peak_rss_mb', 0):.0f} MB"))
    changed_share = f"{CHANGED_SHARE:.0%}"
    for key, what, target in (
        ("preview", f"preview {n:,} secrets (CLI, --format json; dry run + deployment + pack)", PREVIEW_TARGET_RATIO),
        ("pull_request_one", f"pull-request preview, 1 of {n:,} secrets changed, no cache (--base HEAD~1)",
         PULL_REQUEST_TARGET_RATIO),
        ("pull_request_cached", "pull-request preview, 1 secret changed, base cached (--base HEAD~1 --cache)",
         CACHED_PULL_REQUEST_TARGET_RATIO),
        ("pull_request_share", f"pull-request preview, {changed_share} of {n:,} secrets changed (--base HEAD~1)", None),
    ):
        run = m.get(key, {})
        wanted = f"<= {target:g}x checkov" if target else ""
        if not _ok(run):
            rows.append(Row(what, "-", wanted, "N/A" if run.get("unavailable") or not run else "ERROR", run.get("error", "not run")))
            continue
        note = (f"{run.get('resources')} resources, {run.get('updates', 0) or 0} updates, {run.get('mandatory')} mandatory / "
                f"{run.get('advisory')} advisory; {_spread(run)}; peak {run['peak_rss_mb']:.0f} MB")
        if checkov_ok:
            low, ratio, high = ratios(run, k)
            m[f"{key}_ratio"] = ratio
            note += f"; ratio spread {low:.2f}-{high:.2f}x"
            if "cpu_seconds" in run and "cpu_seconds" in k:
                note += f"; CPU {run['cpu_seconds'] / k['cpu_seconds']:.2f}x checkov's"
            if one_file_ok:
                note += f"; {ratios(run, k1)[1]:.2f}x checkov on the one-file twin"
            rows.append(Row(what, f"{_seconds(run['seconds'])} = {ratio:.2f}x checkov", wanted,
                            judged(low, ratio, high, target) if target else "INFO", note))
        else:
            rows.append(Row(what, _seconds(run["seconds"]), wanted, "N/A" if target else "INFO", note))
    if "peak_rss_mb" in p and "error" not in p:
        peak = max(run.get("peak_rss_mb", 0) for run in (p, m.get("pull_request_one", {}), m.get("pull_request_share", {}),
                                                        m.get("pull_request_cached", {})))
        note = f"largest single process {p['peak_rss_largest_process_mb']:.0f} MB; full preview {p['peak_rss_mb']:.0f} MB"
        what = "preview peak memory (RSS summed over its process tree, children included; largest of all runs)"
        target = f"<= {MEMORY_TARGET_RATIO:g}x checkov"
        if checkov_ok and k.get("peak_rss_mb"):
            ratio = peak / k["peak_rss_mb"]
            rows.append(Row(what, f"{peak:.0f} MB = {ratio:.2f}x checkov", f"{target} ({k['peak_rss_mb']:.0f} MB)",
                            _verdict(ratio <= MEMORY_TARGET_RATIO), note))
        else:
            rows.append(Row(what, f"{peak:.0f} MB", target, "N/A", note))

    after, before = m.get("program_preview", {}), m.get("program_preview_before", {})
    if after or before:
        what = f"preview --program __main__.py, {n:,} secrets (the SDK simulation), against the code before"
        revision = m.get("program_before_revision", {})
        target = f"<= {PROGRAM_TARGET_RATIO:g}x before"
        if _ok(after) and _ok(before):
            low, ratio, high = ratios(after, before)
            rows.append(Row(what, f"{_seconds(after['seconds'])} = {ratio:.2f}x before", target,
                            judged(low, ratio, high, PROGRAM_TARGET_RATIO),
                            f"before ({revision.get('revision')} at {revision.get('commit')}): {_seconds(before['seconds'])}, "
                            f"{_spread(before)}; after: {_spread(after)}; ratio spread {low:.2f}-{high:.2f}x"))
        else:
            rows.append(Row(what, _seconds(after.get("seconds")) if _ok(after) else "-", target, "ERROR",
                            after.get("error") or before.get("error", "")))

    comp, raw, prog = m.get("components", {}), m.get("raw", {}), m.get("program", {})
    if not (comp or raw or prog):
        rows.append(Row("registration rows", "-", "", "N/A", "not run (--skip-registration)"))
        comp = raw = prog = None
    if comp is not None:
        rows.append(Row(f"raw SDK registration, {n:,} secrets (mock engine)", _seconds(raw.get("seconds")), "", "INFO" if "seconds" in raw else "ERROR",
                        raw.get("error", f"{raw.get('custom_resources')} resources")))
        rows.append(Row(f"components registration, {n:,} secrets (mock engine)", _seconds(comp.get("seconds")), "", "INFO" if "seconds" in comp else "ERROR",
                        comp.get("error", f"{comp.get('resources')} registrations incl. components")))
        if "seconds" in comp and "seconds" in raw:
            overhead = comp["seconds"] / raw["seconds"] - 1
            m["component_overhead"] = overhead
            rows.append(Row("components over raw registration", f"{overhead:+.0%}", f"<= +{COMPONENT_OVERHEAD_TARGET:.0%}",
                            _verdict(overhead <= COMPONENT_OVERHEAD_TARGET)))
        rows.append(Row(f"__main__.py end to end, {n:,} secrets (load + components)", _seconds(prog.get("seconds")), "", "INFO" if "seconds" in prog else "ERROR",
                        prog.get("error", f"peak {prog.get('peak_rss_mb', 0):.0f} MB")))

    for kind, label in (("validate", "validate"), ("components", "components registration"), ("raw", "raw registration")):
        scaled = m.get("scale", {}).get(kind)
        if not scaled:
            continue
        what = f"{label}, {s:,} vs {n:,} secrets"
        target = f"<= {SCALE_TARGET_RATIO:g}x"
        if scaled.get("measured"):
            note = f"{_seconds(scaled['seconds'])} at {s:,}, peak {scaled.get('peak_rss_mb', 0):.0f} MB"
            if scaled.get("size_limit_bypassed"):
                note += "; over the 1 MiB file bound, so parse_declaration (every other check)"
            verdict = _verdict(scaled["ratio"] <= SCALE_TARGET_RATIO)
            rows.append(Row(what, f"{scaled['ratio']:.1f}x", target, verdict if kind != "raw" else "INFO", note))
        elif "ratio_at_least" in scaled:
            rows.append(Row(what, f"> {scaled['ratio_at_least']:.1f}x", target, "FAIL" if kind != "raw" else "INFO",
                            f"stopped after {_seconds(scaled['cap_seconds'])} ({SCALE_CAP:g} x the target)"))
        elif scaled.get("projected"):
            rows.append(Row(what, f"~{scaled['ratio']:.1f}x", "", "INFO",
                            f"estimated, not run (--full-scale runs it): ~{_seconds(scaled['projected_seconds'])} at {s:,} "
                            f"from t = a*n + b*n^2 through {scaled['probe_n']:,} and {n:,}"))
        else:
            rows.append(Row(what, "-", target, "ERROR", scaled.get("error", "")))
    scale = m.get("scale", {})
    if scale:
        for key, what in (("preview_folder", f"preview {s:,} secrets in {SCALE_FILES} files vs {n:,}"),
                          ("pull_request_folder", f"pull-request preview (1 changed), {s:,} secrets in {SCALE_FILES} files vs {n:,}")):
            run, base_run = scale.get(key, {}), m.get("preview" if key == "preview_folder" else "pull_request_one", {})
            target = f"<= {PREVIEW_SCALE_TARGET_RATIO:g}x, <= {SCALE_MEMORY_TARGET_MB / 1024:g} GB"
            if _ok(run) and _ok(base_run):
                low, ratio, high = (run.get("min", run["seconds"]) / base_run["seconds"], run["seconds"] / base_run["seconds"],
                                    run.get("max", run["seconds"]) / base_run["seconds"])
                memory = _verdict(run["peak_rss_mb"] <= SCALE_MEMORY_TARGET_MB)
                rows.append(Row(what, f"{ratio:.1f}x, {run['peak_rss_mb'] / 1024:.2f} GB", target,
                                f"time {judged(low, ratio, high, PREVIEW_SCALE_TARGET_RATIO)}, memory {memory}",
                                f"{_seconds(run['seconds'])} at {s:,} ({_spread(run)}), against the median at {n:,}; "
                                f"ratio spread {low:.1f}-{high:.1f}x"))
            elif run.get("timed_out"):
                rows.append(Row(what, f"> {SCALE_CAP * PREVIEW_SCALE_TARGET_RATIO:g}x", target, "FAIL", run.get("error", "")))
            else:
                rows.append(Row(what, "-", target, "N/A" if run.get("unavailable") else "ERROR",
                                run.get("error", f"not run; one file of {s:,} secrets takes {scale.get('declaration_mb', 0):.1f} MB, over the 1 MiB bound")))


def print_report(report: Report) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=max(140, shutil.get_terminal_size((140, 40)).columns))
    table = Table(title=f"secrets-layout benchmark (SPEC section 8): {report.secrets:,} secrets, scale {report.scale:,}")
    for column in ("measurement", "value", "target", "result", "note"):
        table.add_column(column, overflow="fold")
    styles = {"PASS": "bold green", "FAIL": "bold red", "ERROR": "bold red", "N/A": "yellow", "INFO": "dim"}
    for row in report.rows:
        style = next((styles[word] for word in ("ERROR", "FAIL", "PASS", "N/A", "INFO") if word in row.verdict), "")
        table.add_row(row.what, row.value, row.target, f"[{style}]{row.verdict}[/]" if style else row.verdict, row.note)
    console.print(table)
    machine = report.machine
    console.print(
        f"machine: {machine['cpus']} CPUs ({machine['processor']}), Python {machine['python']}; load average "
        f"{machine['load_average_at_start'][0]:.2f} at start, {machine.get('load_average_at_end', (0,))[0]:.2f} at end"
    )
    if max(machine["load_average_at_start"][0], machine.get("load_average_at_end", (0,))[0]) > 0.5 * (machine["cpus"] or 1) + 1:
        console.print("[yellow]other processes were busy on this machine: wall times are inflated[/]")
    failed = [row.what for row in report.rows if "FAIL" in row.verdict or row.verdict.startswith("ERROR")]
    if failed:
        console.print(f"[bold red]FAIL[/]: {len(failed)} of the targets/measurements: " + "; ".join(failed))
    else:
        console.print("[bold green]All targets met.[/]")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--secrets", type=int, default=1000, help="secrets of the main measurement (default 1000)")
    parser.add_argument("--scale", type=int, default=10000, help="secrets of the scaling measurement (default 10000; 0: skip)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="interleaved runs of each compared measurement (previews, checkov, registrations); "
                             "the median counts, with the spread (default 3)")
    parser.add_argument("--scale-repeat", type=int, default=3, help="runs of each preview at --scale (default 3)")
    parser.add_argument("--before", default="main",
                        help="the revision (or a checkout's folder) whose `preview --program` the current one is compared "
                             "with (default main; '' skips)")
    parser.add_argument("--skip-program", action="store_true", help="no `preview --program` rows (after and before)")
    parser.add_argument("--full-scale", action="store_true",
                        help="also run the raw SDK registration at --scale (default: estimated from two smaller sizes)")
    parser.add_argument("--skip-checkov", action="store_true")
    parser.add_argument("--skip-registration", action="store_true",
                        help="no registration rows (raw, components, __main__.py): the preview and checkov only")
    parser.add_argument("--skip-scale-registration", action="store_true",
                        help="at --scale, only the folder previews (no validate / registration scaling)")
    parser.add_argument("--timeout", type=float, default=900.0, help="limit of each measurement at --secrets (default 900 s)")
    parser.add_argument("--workdir", type=Path, help="where the generated inputs go (default: a temporary folder, removed)")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help=f"results file (default {DEFAULT_JSON.relative_to(ROOT)})")
    parser.add_argument("--worker", choices=WORKER_KINDS, help=argparse.SUPPRESS)
    parser.add_argument("worker_path", nargs="?", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--warmup", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        print(json.dumps(_worker(args.worker, args.worker_path, args.warmup, args.repeat)))
        return 0

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="secrets-layout-bench-"))
    try:
        return _run(args, workdir)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


def _run(args: argparse.Namespace, workdir: Path) -> int:
    n, scale = args.secrets, args.scale
    n_probe = max(n // 2, 1)
    report = Report(
        started=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        machine={
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "processor": _cpu_model(),
            "load_average_at_start": os.getloadavg(),
        },
        secrets=n,
        scale=scale,
    )
    m = report.measurements
    log = lambda message: print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)  # noqa: E731

    log(f"generating {n:,}, {n_probe:,} and {scale:,}-secret inputs in {workdir}")
    main_inputs = generate.write_inputs(n, workdir / f"n{n}")
    warmup = generate.write_inputs(3, workdir / "warmup")["declaration"]
    probe = generate.write_inputs(n_probe, workdir / f"n{n_probe}")["declaration"]
    declaration = main_inputs["declaration"]
    m["declaration_mb"] = declaration.stat().st_size / 2**20
    m["terraform_mb"] = sum(path.stat().st_size for path in main_inputs["terraform"].glob("*.tf")) / 2**20
    expected = generate.expected_resources(n)

    log("validate (in-process load_declaration, fastest of 3)")
    m["validate"] = measure_worker("validate", declaration, warmup, timeout=args.timeout, repeat=3)
    log(f"  {m['validate']}")
    log(f"validate (CLI), {max(args.repeat, 1)} runs")
    m["validate_cli"] = summary([measure_cli_validate(declaration, timeout=args.timeout) for _ in range(max(args.repeat, 1))])
    log(f"  {m['validate_cli']}")

    # The compared measurements run interleaved (the previews, checkov on both twins, the --program
    # previews after and before, the registrations, then again), so that a slow spell of the machine
    # does not land on one side only; each figure is the median of its runs, with their spread.
    changed = max(1, round(CHANGED_SHARE * n))
    log(f"pull requests: 1 and {changed:,} of {n:,} secrets changed (git repositories)")
    pull_requests = {
        "pull_request_one": write_pull_request(n, 1, workdir / "pr-one"),
        "pull_request_share": write_pull_request(n, changed, workdir / "pr-share"),
    }
    one_file = one_file_twin(main_inputs["terraform"], workdir / f"n{n}" / "terraform-one-file")
    before, before_commit = (None, "not asked for (--before '')") if not args.before or args.skip_program else \
        before_checkout(args.before, workdir / "before")
    m["program_before_revision"] = {"revision": args.before, "commit": before_commit}
    runs: dict[str, list[dict[str, Any]]] = {key: [] for key in (
        "preview", "pull_request_one", "pull_request_share", "pull_request_cached", "checkov", "checkov_one_file",
        "program_preview", "program_preview_before", "raw", "components")}
    cache = workdir / "preview-cache"
    log("filling the preview cache: preview --cache of the base revision (untimed, as the push to main)")
    m["cache_fill"] = fill_cache(pull_requests["pull_request_one"], main_inputs["policy_config"], cache, timeout=args.timeout)
    log(f"  {m['cache_fill']}")

    def measured(key: str, round_number: int, measure: Any) -> None:
        log(f"{key}, run {round_number}")
        runs[key].append(measure())
        log(f"  {runs[key][-1]}")

    config = main_inputs["policy_config"]
    for round_number in range(1, max(args.repeat, 1) + 1):
        measured("preview", round_number, lambda: measure_preview(declaration, config, timeout=args.timeout))
        if runs["preview"][-1].get("unavailable"):
            break
        for key, pull_request in pull_requests.items():
            measured(key, round_number, lambda: measure_preview(pull_request, config, timeout=args.timeout, base="HEAD~1"))
        measured("pull_request_cached", round_number, lambda: measure_preview(
            pull_requests["pull_request_one"], config, timeout=args.timeout, base="HEAD~1", cache=cache))
        if not args.skip_checkov:
            measured("checkov", round_number, lambda: measure_checkov(main_inputs["terraform"], sum(expected.values()),
                                                                      timeout=args.timeout))
            measured("checkov_one_file", round_number, lambda: measure_checkov(one_file, sum(expected.values()),
                                                                               timeout=args.timeout, one_file=True))
        if not args.skip_program:
            measured("program_preview", round_number, lambda: measure_preview(
                declaration, config, timeout=args.timeout, program=ROOT / "__main__.py"))
            if before is not None:
                measured("program_preview_before", round_number, lambda: measure_preview(
                    declaration, config, timeout=args.timeout, program=before / "__main__.py", source=before))
        for kind in () if args.skip_registration else ("raw", "components"):
            measured(kind, round_number, lambda: measure_worker(kind, declaration, warmup, timeout=args.timeout))
    for kind in () if args.skip_registration else ("raw", "components"):
        while len(runs[kind]) < max(args.repeat, 1):  # the preview is missing: the registrations still repeat
            measured(kind, len(runs[kind]) + 1, lambda: measure_worker(kind, declaration, warmup, timeout=args.timeout))
    for name, results in runs.items():
        if results:
            m[name] = summary(results)
    if before is None and not args.skip_program:
        m["program_preview_before"] = {"error": f"no code before to compare with: {before_commit}"}
    if args.skip_checkov:
        m["checkov"] = {"skipped": True, "error": "skipped (--skip-checkov)"}
    if not args.skip_registration:
        log("registration: __main__.py end to end")
        m["program"] = measure_worker("program", declaration, warmup, timeout=args.timeout)
        log(f"  {m['program']}")

    if scale:
        scale_path = generate.write_inputs(scale, workdir / f"n{scale}")["declaration"]
        m["scale"] = {"declaration_mb": scale_path.stat().st_size / 2**20}
        folders, why = folder_form_available()
        for key, base_key, label in (("preview_folder", "preview", "full"), ("pull_request_folder", "pull_request_one", "--base, 1 changed")):
            if not folders:
                m["scale"][key] = {"unavailable": True, "error": f"not run: {why}; one file of {scale:,} secrets is "
                                   f"{m['scale']['declaration_mb']:.1f} MB, over the 1 MiB bound of a declaration file"}
                continue
            if "seconds" not in m.get(base_key, {}):
                m["scale"][key] = {"error": "no 1,000-secret measurement to compare with"}
                continue
            cap = max(SCALE_CAP * PREVIEW_SCALE_TARGET_RATIO * m[base_key]["seconds"], 60.0)
            folder = write_pull_request(scale, 1, workdir / f"folder-{key}", folder_files=SCALE_FILES)
            answers = []
            for round_number in range(1, max(args.scale_repeat, 1) + 1):
                log(f"scaling: preview ({label}) of {scale:,} secrets in {SCALE_FILES} files, run {round_number} "
                    f"(stopped at {cap:.0f} s)")
                answer = measure_preview(folder, main_inputs["policy_config"], timeout=cap,
                                         base="HEAD~1" if key == "pull_request_folder" else None)
                if answer.get("error", "").startswith("timed out"):
                    answer["timed_out"] = True
                answers.append(answer)
                log(f"  {answer}")
                if "error" in answer:
                    break
            m["scale"][key] = summary(answers)
        for kind, repeat in () if args.skip_scale_registration or args.skip_registration else (("validate", 3), ("components", 1)):
            log(f"scaling: {kind} at {scale:,} (stopped at {SCALE_CAP:g} x the target)")
            m["scale"][kind] = measure_scaling(kind, m[kind], scale_path=scale_path, warmup=warmup, repeat=repeat)
            log(f"  {m['scale'][kind]}")
        if args.skip_scale_registration or args.skip_registration:
            pass
        elif args.full_scale:
            log(f"scaling: raw at {scale:,}")
            m["scale"]["raw"] = measure_scaling("raw", m["raw"], scale_path=scale_path, warmup=warmup)
        else:
            log(f"scaling: raw at {n_probe:,}, to estimate {scale:,} (--full-scale runs it)")
            probe_answer = measure_worker("raw", probe, warmup, timeout=args.timeout)
            m["scale"]["raw"] = project_scaling(m["raw"], probe_answer, n_probe=n_probe, n_base=n, n_scale=scale)
        if "raw" in m["scale"]:
            log(f"  {m['scale']['raw']}")

    report.machine["load_average_at_end"] = os.getloadavg()
    build_rows(report)
    print_report(report)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(asdict(report), indent=2, default=str) + "\n")
        print(f"results: {args.json}")
    return 0


def summary(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The runs of one measurement as one figure: the median run (its other fields), with `seconds` and
    `cpu_seconds` the medians, `min`/`max` the spread, `runs`/`cpu_runs` every run in order (the rounds
    they were interleaved in) and `peak_rss_mb` the largest; else the first error. Any failed run is
    the figure's error: a median over fewer runs would hide it."""
    good = [result for result in results if "seconds" in result and "error" not in result]
    if not good or len(good) < len(results):
        return next((result for result in results if "error" in result), {"error": "not run"})
    seconds = [result["seconds"] for result in good]
    figure = dict(sorted(good, key=lambda result: result["seconds"])[len(good) // 2])
    figure.update(seconds=statistics.median(seconds), min=min(seconds), max=max(seconds),
                  runs=[round(value, 3) for value in seconds])
    if all("cpu_seconds" in result for result in good):
        figure.update(cpu_seconds=statistics.median(result["cpu_seconds"] for result in good),
                      cpu_runs=[result["cpu_seconds"] for result in good])
    if all("peak_rss_mb" in result for result in good):
        figure["peak_rss_mb"] = max(result["peak_rss_mb"] for result in good)
    return figure


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as stream:
            for line in stream:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


if __name__ == "__main__":
    sys.exit(main())
