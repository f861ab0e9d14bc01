"""How long `validate` takes on the hostile inputs of issue 20, against its 5-second target.

Each case is a declaration (or a policy config) at the size the issue names: a 1 MiB value of random
letters and digits, of URL fragments and of keywords, a 1 MiB line of 31,000 tag values, and a
200 KiB policy config with 15,000 objects in a list. Each runs through the real CLI (`validate`), three
times; the median and the spread are printed with the target. tests/test_cli_hostile_input.py holds the
same inputs to a generous bound only (a busy machine), so this is where the target is measured.

    .venv/bin/python benchmarks/hostile_input.py
"""

from __future__ import annotations

import json
import random
import statistics
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMAND = ROOT / ".venv" / "bin" / "secrets-layout"
TARGET_SECONDS = 5.0
MEBIBYTE = 1024 * 1024
HEADER = """\
environment: prod
security_account: "111111111111"
primary_region: us-east-1
accounts: {prod-app: "222222222222"}
secrets:
  - name: prod/app/api-key
    kind: api-key
    value: {from_config: appApiKey}
    rotation: {enabled: false, reason: vendor has no API}
"""


def _filled(pattern: str, size: int) -> str:
    if pattern == "random":
        generator = random.Random(20)
        return "".join(generator.choice(string.ascii_letters + string.digits) for _ in range(size))
    return (pattern * (size // len(pattern) + 1))[:size]


def _cases(folder: Path) -> dict[str, list[str]]:
    cases = {}
    for name, pattern in (("1 MiB value, random", "random"), ("1 MiB value, URL fragments", "a://b "),
                          ("1 MiB value, keywords", "password= ")):
        file = folder / f"{pattern.strip(':/= ') or 'value'}.yaml"
        file.write_text(HEADER + f'    description: "{_filled(pattern, MEBIBYTE - len(HEADER) - 200)}"\n')
        cases[name] = ["validate", "--no-policy-config", str(file)]
    generator = random.Random(3)
    items, size = [], 0
    while size < MEBIBYTE - len(HEADER) - 200:
        items.append(f"k{len(items)}: {''.join(generator.choice(string.ascii_letters) for _ in range(24))}")
        size += len(items[-1]) + 2
    line = folder / "line.yaml"
    line.write_text(HEADER + "    tags: {" + ", ".join(items[:-1]) + "}\n")
    cases[f"1 MiB line of {len(items) - 1:,} values"] = ["validate", "--no-policy-config", str(line)]
    config = folder / "config.json"
    config.write_text(json.dumps({"secret-required-tags": {"requiredTags": [{"tag": i} for i in range(15_000)]}}))
    plain = folder / "plain.yaml"
    plain.write_text(HEADER)
    cases["policy config of 15,000 objects"] = ["validate", "--policy-config", str(config), str(plain)]
    return cases


def main() -> int:
    with tempfile.TemporaryDirectory() as temporary:
        for name, arguments in _cases(Path(temporary)).items():
            times = []
            for _ in range(3):
                started = time.monotonic()
                subprocess.run([str(COMMAND), *arguments], capture_output=True, check=False)
                times.append(time.monotonic() - started)
            median = statistics.median(times)
            print(f"{name}: median {median:.2f} s (spread {min(times):.2f}-{max(times):.2f} s); "
                  f"target <= {TARGET_SECONDS:g} s: {'met' if max(times) <= TARGET_SECONDS else 'missed'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
