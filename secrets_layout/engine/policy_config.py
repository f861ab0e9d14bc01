"""Checking a policy pack config file (`--policy-config`) before anything runs.

The format is Pulumi's `--policy-pack-config` JSON: `{"policy-name": "mandatory"}` or
`{"policy-name": {"enforcementLevel": ..., "<property>": value}}`, with `all` setting every
policy's level (https://www.pulumi.com/docs/iac/using-pulumi/crossguard/configuration/).
The policies and their property schemas are the pack's own (policies.catalog.POLICIES).

Everything that would otherwise fail later as a traceback, or silently do nothing, is a
`PolicyConfigProblem` naming the file, the key and the fix: unreadable or non-regular files,
text that is not UTF-8 JSON, NaN/Infinity (not JSON, though Python's json reads them), nesting
deep enough to exhaust the parser's stack, duplicate keys (JSON keeps the last silently), a
name no policy has (a typo'd stricter setting would configure nothing), a property the policy
does not have, and values its schema refuses (wrong type, negative, out of range).
"""

from __future__ import annotations

import difflib
import json
import os
from typing import Any

from secrets_layout.errors import printable
from secrets_layout.files import UnreadableFile, read_bytes, shown

MAX_CONFIG_BYTES = 256 * 1024
MAX_DEPTH = 16
ENFORCEMENT_LEVELS = ("advisory", "mandatory", "remediate", "disabled")
"""Pulumi's enforcement levels (pulumi_policy.EnforcementLevel)."""
ALL = "all"


class PolicyConfigProblem(Exception):
    """A policy config that cannot be used; one `FILE: KEY: problem; fix` line per problem."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


def _catalog() -> dict[str, dict[str, Any]]:
    from secrets_layout.policies.catalog import POLICIES

    return {policy.name: dict(policy.config or {}) for policy in POLICIES}


def check_policy_config(file: str | os.PathLike[str]) -> dict[str, Any]:
    """The parsed config of `file`, or PolicyConfigProblem with every problem found."""
    where = shown(file)
    try:
        raw = read_bytes(file, MAX_CONFIG_BYTES)
    except UnreadableFile as error:
        raise PolicyConfigProblem([f"{error}; pass --policy-config with a JSON file"]) from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise PolicyConfigProblem([f"{where}: larger than {MAX_CONFIG_BYTES // 1024} KiB; a policy config is a "
                                   "small JSON object of policy name -> settings"])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise PolicyConfigProblem([f"{where}:{line}: not UTF-8 text (UTF-16?); save the file as UTF-8"]) from None
    try:
        data = json.loads(text, parse_constant=_refuse_constant, object_pairs_hook=_unique_keys)
    except _Refused as refused:
        raise PolicyConfigProblem([f"{where}: {refused}"]) from None
    except json.JSONDecodeError as error:
        raise PolicyConfigProblem([f"{where}:{error.lineno}:{error.colno}: not valid JSON ({error.msg}); "
                                   "fix the JSON at this position"]) from None
    except RecursionError:
        raise PolicyConfigProblem([f"{where}: nested too deeply to read; a policy config is an object of "
                                   "policy name -> settings"]) from None
    problems = list(_problems(data, where))
    if problems:
        raise PolicyConfigProblem(problems)
    return data


class _Refused(ValueError):
    pass


def _refuse_constant(name: str) -> None:
    raise _Refused(f"{name} is not a JSON number; write a number")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _Refused(f"{_key(key)}: given twice (JSON keeps only the last silently); remove one")
        result[key] = value
    return result


def _key(text: object) -> str:
    return printable(str(text))[:80]


def _depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


def _problems(data: object, where: str):
    if not isinstance(data, dict):
        yield (f"{where}: the policy config must be a JSON object of policy name -> settings, e.g. "
               '{"secret-recovery-window": {"enforcementLevel": "mandatory", "minimumDays": 7}}')
        return
    if _depth(data) > MAX_DEPTH:
        yield f"{where}: nested deeper than {MAX_DEPTH} levels; no policy setting is that deep"
        return
    catalog = _catalog()
    known = sorted(catalog)
    for name, value in data.items():
        if name != ALL and name not in catalog:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            yield (f"{where}: {_key(name)}: no policy of the pack has this name, so this setting would do nothing; "
                   f"{hint}the policies are: {ALL}, {', '.join(known)}")
            continue
        properties = {} if name == ALL else catalog[name]
        if isinstance(value, str):
            value = {"enforcementLevel": value}
        if not isinstance(value, dict):
            yield (f"{where}: {_key(name)}: must be an enforcement level ({', '.join(ENFORCEMENT_LEVELS)}) or an "
                   'object such as {"enforcementLevel": "mandatory"}')
            continue
        for key, setting in value.items():
            path = f"{_key(name)}.{_key(key)}"
            if key == "enforcementLevel":
                if setting not in ENFORCEMENT_LEVELS:
                    yield f"{where}: {path}: must be one of {', '.join(ENFORCEMENT_LEVELS)}"
            elif key not in properties:
                allowed = ["enforcementLevel", *sorted(properties)]
                close = difflib.get_close_matches(str(key), allowed, n=1)
                hint = f"did you mean '{close[0]}'? " if close else ""
                yield (f"{where}: {path}: {name} has no setting of this name, so it would do nothing; "
                       f"{hint}its settings are: {', '.join(allowed)}")
            else:
                yield from _schema_problems(where, path, setting, properties[key])


def _schema_problems(where: str, path: str, value: object, schema: dict[str, Any]):
    import jsonschema  # a dependency of the project; imported here to keep start-up light

    for error in jsonschema.Draft7Validator(schema).iter_errors(value):
        inner = "".join(f"[{part}]" for part in error.path)
        fix = f" — {schema['description']}" if schema.get("description") else ""
        yield f"{where}: {path}{inner}: {printable(error.message)[:200]}{fix}"
