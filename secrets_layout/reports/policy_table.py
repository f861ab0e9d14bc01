"""The policy pack's table, rendered from its registry (policies/catalog.py) for README.md and
policies/README.md, between the markers below; tests/test_policy_table.py fails when a README's table
differs from the registry, and `make policy-table` writes them again."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from secrets_layout.policies.catalog import POLICIES
from secrets_layout.policies.definition import PolicyDefinition

START = "<!-- policy-table: generated from policies/catalog.py by `make policy-table` -->"
END = "<!-- policy-table: end -->"


def _type_name(token: str) -> str:
    """`aws:secretsmanager/secretPolicy:SecretPolicy` -> `secretsmanager.SecretPolicy`."""
    _, module, name = token.split(":")
    return f"{module.split('/')[0]}.{name}"


def _resources(policy: PolicyDefinition, provider: str) -> str:
    names = [_type_name(token) for token in policy.resource_types if token.split(":")[0] == provider]
    return ", ".join(names) or "-"


def _config(policy: PolicyDefinition) -> str:
    if not policy.config:
        return "-"
    shown = []
    for key, schema in policy.config.items():
        default = schema.get("default")
        if isinstance(default, list):
            default = "[" + ", ".join(str(item) for item in default) + "]"
        shown.append(f"{key} ({default})" if default is not None else key)
    return ", ".join(shown)


def render() -> str:
    """The table, one row per policy in catalog order."""
    lines = [START,
             "| policy | checks | aws resources | aws-native resources | config (default) | level |",
             "|---|---|---|---|---|---|"]
    for policy in POLICIES:
        scope = " (the stack)" if policy.stack else ""
        checks = policy.description + "".join(f" Not covered: {gap}." for gap in policy.not_covered)
        lines.append(f"| {policy.name} | {checks} | {_resources(policy, 'aws')}{scope} | "
                     f"{_resources(policy, 'aws-native')} | {_config(policy)} | {policy.level} |")
    lines.append(END)
    return "\n".join(lines)


def with_table(text: str) -> str:
    """`text` with the part between the markers replaced by the table. Raises ValueError without them."""
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        raise ValueError("no policy-table markers")
    return text[:start] + render() + text[end + len(END):]


def main(arguments: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m secrets_layout.reports.policy_table",
                                     description="Write the policy table into the files between their markers.")
    parser.add_argument("files", nargs="+", type=Path)
    for file in parser.parse_args(arguments).files:
        try:
            file.write_text(with_table(file.read_text(encoding="utf-8")), encoding="utf-8")
        except (OSError, ValueError) as error:
            print(f"{file}: {error}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
