"""How long Ctrl-C takes to end a preview, at random moments of its run (issue 21: within one second).

A preview of a generated declaration (default 300 secrets, as the issue measured) is started as a
terminal starts it and its process group is sent SIGINT at a random moment between its start and its
usual end (a first, uninterrupted run gives that); the time from the signal to the preview's exit is
measured. Prints each interrupt, then the median, the spread and the worst, against the 1-second target.

    .venv/bin/python benchmarks/interrupts.py [--secrets N] [--interrupts K] [--seed S]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.generate import declaration_yaml, policy_config  # noqa: E402

COMMAND = ROOT / ".venv" / "bin" / "secrets-layout"
TARGET_SECONDS = 1.0


def _as_from_a_terminal() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _repository(folder: Path, secrets: int) -> list[str]:
    (folder / ".git").mkdir(parents=True)
    (folder / "environments").mkdir()
    (folder / "policies" / "config").mkdir(parents=True)
    (folder / "environments" / "prod.yaml").write_text(declaration_yaml(secrets))
    (folder / "policies" / "config" / "prod.json").write_text(json.dumps(policy_config()))
    return [str(COMMAND), "preview", "environments/prod.yaml", "--policy-config", "policies/config/prod.json"]


def _start(command: list[str], folder: Path) -> subprocess.Popen:
    return subprocess.Popen(command, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, preexec_fn=_as_from_a_terminal)


def measure(secrets: int, interrupts: int, seed: int) -> int:
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        command = _repository(folder, secrets)
        started = time.monotonic()
        whole = _start(command, folder)
        whole.communicate()
        duration = time.monotonic() - started
        print(f"a whole preview of {secrets} secrets: {duration:.1f} s (exit {whole.returncode})")
        chosen = random.Random(seed)
        moments = sorted(chosen.uniform(0.1, duration * 0.9) for _ in range(interrupts))
        taken = []
        for moment in moments:
            preview = _start(command, folder)
            time.sleep(moment)
            sent = time.monotonic()
            try:
                os.killpg(preview.pid, signal.SIGINT)
            except ProcessLookupError:
                pass
            _, stderr = preview.communicate()
            taken.append(time.monotonic() - sent)
            last = (stderr.strip().splitlines() or [""])[-1]
            print(f"  at {moment:5.2f} s: ended {taken[-1]:.2f} s later, exit {preview.returncode}: {last}", flush=True)
    median = statistics.median(taken)
    spread = (min(taken), max(taken))
    met = max(taken) <= TARGET_SECONDS
    print(f"Ctrl-C to exit over {len(taken)} interrupts: median {median:.2f} s, spread {spread[0]:.2f}-"
          f"{spread[1]:.2f} s; target <= {TARGET_SECONDS:g} s every time: {'met' if met else 'missed'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--secrets", type=int, default=300, help="secrets of the declaration (default 300)")
    parser.add_argument("--interrupts", type=int, default=20, help="interrupts at random moments (default 20)")
    parser.add_argument("--seed", type=int, default=20, help="the moments' random seed (default 20)")
    arguments = parser.parse_args(argv)
    return measure(arguments.secrets, arguments.interrupts, arguments.seed)


if __name__ == "__main__":
    sys.exit(main())
