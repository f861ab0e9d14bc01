"""The policy pack config (`--policy-config`, Pulumi's `--policy-pack-config` file): read, checked and
reconciled with the pack's defaults, here and nowhere else.

The format is Pulumi's `--policy-pack-config` JSON: `{"policy-name": "mandatory"}` or
`{"policy-name": {"enforcementLevel": ..., "<property>": value}}`, with `all` setting every
policy's level (https://www.pulumi.com/docs/iac/using-pulumi/crossguard/configuration/).
The policies and their property schemas are the pack's own (policies.catalog.POLICIES).

Three steps, each one function:

- checking (`check_policy_config`): everything that would otherwise fail later as a traceback, or
  silently do nothing, is a `PolicyConfigProblem` naming the file, the key and the fix (below);
- reading as the Pulumi CLI reads it (`load_policy_config`): what the analyzer client sends a pack
  it was given a file for, `PolicyConfigError` for what the CLI refuses;
- reconciling as the CLI does before it calls `Configure` (`reconcile_config`): every policy's
  default level and config-schema defaults, the pack's initial config, then the file, validated
  against each policy's schema. `reconciled_config` checks a file and reconciles it with this
  package's own pack (what `validate` applies); the preview checks it, and its analyzer client reads
  and reconciles it with what the running pack says of itself (`GetAnalyzerInfo`).

What the check refuses: unreadable or non-regular files, text that is not UTF-8 JSON, NaN/Infinity
(not JSON, though Python's json reads them), nesting deep enough to exhaust the parser's stack,
duplicate keys (JSON keeps the last silently), a name no policy has (a typo'd stricter setting would
configure nothing), a property the policy does not have, and values its schema refuses (wrong type,
negative, out of range).

In bounded time, whatever the file holds (it is at most MAX_CONFIG_BYTES): a list is bounded before
its items are looked at, and types are checked before `uniqueItems`, which jsonschema checks by
comparing every pair of items when they cannot be sorted (objects: jsonschema/_utils.py `uniq`);
at most MAX_PROBLEMS_PER_SETTING problems of one setting and MAX_PROBLEMS in all are listed.
No problem repeats a credential-looking name or value (shown as `<credential>`), and a config
whose strings look like credentials is refused: the pack's messages quote its values (a required
tag's name), and the config itself is committed to git.

Reading and reconciling need neither gRPC nor the Pulumi SDK, so `validate` loads neither.
"""

from __future__ import annotations

import difflib
import itertools
import json
import math
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Optional, Union

from secrets_layout.engine.analyzer_errors import AnalyzerError
from secrets_layout.errors import printable
from secrets_layout.files import UnreadableFile, read_bytes, shown

MAX_CONFIG_BYTES = 256 * 1024
MAX_DEPTH = 16
MAX_LIST_ITEMS = 1000
"""More than any setting needs (AWS allows 50 tags on a secret; accounts and regions are fewer)."""
MAX_PROBLEMS_PER_SETTING = 3
MAX_PROBLEMS = 20
ENFORCEMENT_LEVELS = ("advisory", "mandatory", "remediate", "disabled")
"""Pulumi's enforcement levels (pulumi_policy.EnforcementLevel)."""
ALL = "all"


class PolicyConfigProblem(Exception):
    """A policy config that cannot be used; one `FILE: KEY: problem; fix` line per problem."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


def _catalog() -> dict[str, dict[str, Any]]:
    """Each policy of the pack by name, with the schemas of its properties."""
    return {policy.name: dict((policy.config_schema or {}).get("properties", {})) for policy in pack_policies()}


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
    problems = _listed(_problems(data, where), where, MAX_PROBLEMS) or list(_credentials(data, where))
    if problems:
        raise PolicyConfigProblem(_redacted(problems))
    return data


def _listed(problems: Iterator[str], where: str, most: int, more: str = "more problems follow") -> list[str]:
    """The first `most` problems, and a line saying there are more (the rest are never worked out)."""
    listed = list(itertools.islice(problems, most + 1))
    return listed if len(listed) <= most else [*listed[:most], f"{where}: {more}; fix these first"]


def _redacted(problems: list[str]) -> list[str]:
    """The problems with every credential-looking name or value replaced by `<credential>`."""
    from secrets_layout.declaration.credentials import redact_text

    cache: dict[str, bool] = {}
    return [redact_text(problem, cache) for problem in problems]


def _credentials(data: dict[str, Any], where: str) -> Iterator[str]:
    """A problem for each name or value (a required tag's name, say) that looks like a credential."""
    from secrets_layout.declaration.credentials import CREDENTIAL_PLACEHOLDER, credential_findings

    strings = list(_strings(data, ()))
    texts = sorted({text for _, text in strings})
    flagged = {text: reasons for text, reasons in zip(texts, credential_findings(("value", text) for text in texts))
               if reasons}
    for path, text in strings:
        if text in flagged:
            shown_path = "".join(f"[{part}]" if isinstance(part, int) else
                                 f"{'.' if index else ''}{CREDENTIAL_PLACEHOLDER if part in flagged else _key(part)}"
                                 for index, part in enumerate(path))
            yield (f"{where}: {shown_path}: looks like a credential ({', '.join(flagged[text])}); a policy config is "
                   "committed to git and its values are printed in reports: remove it")


def _strings(value: object, path: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Every key and string value of the config, with where it is."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield path + (key,), key
            yield from _strings(item, path + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, path + (index,))
    elif isinstance(value, str):
        yield path, value


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
    """A name from the file as a problem shows it: escaped, cut short, never a credential."""
    from secrets_layout.declaration.credentials import CREDENTIAL_PLACEHOLDER, credential_texts

    return CREDENTIAL_PLACEHOLDER if credential_texts([str(text)]) else printable(str(text))[:80]


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
            elif isinstance(setting, list) and len(setting) > MAX_LIST_ITEMS:
                yield f"{where}: {path}: {len(setting)} items; a policy setting holds at most {MAX_LIST_ITEMS}"
            else:
                yield from _listed(_schema_problems(where, path, setting, properties[key]), f"{where}: {path}",
                                   MAX_PROBLEMS_PER_SETTING, more="more problems")


def _schema_problems(where: str, path: str, value: object, schema: dict[str, Any]) -> Iterator[str]:
    """The schema's objections, in two rounds: everything but `uniqueItems` first (types, forms,
    ranges: one pass over the items), and `uniqueItems` only on items that passed, which then sort."""
    import jsonschema  # a dependency of the project; imported here to keep start-up light

    for stage in (_without_unique_items(schema), schema):
        errors = jsonschema.Draft7Validator(stage).iter_errors(value)
        first = next(errors, None)
        if first is None:
            continue
        for error in itertools.chain([first], errors):
            inner = "".join(f"[{part}]" for part in error.path)
            fix = f" — {schema['description']}" if schema.get("description") else ""
            yield f"{where}: {path}{inner}: {printable(error.message)[:200]}{fix}"
        return


def _without_unique_items(schema: object) -> object:
    if isinstance(schema, dict):
        return {key: _without_unique_items(value) for key, value in schema.items() if key != "uniqueItems"}
    if isinstance(schema, list):
        return [_without_unique_items(value) for value in schema]
    return schema


# --------------------------------------------------------------------------------------------
# Reading and reconciling as the Pulumi CLI does
# --------------------------------------------------------------------------------------------


class PolicyConfigError(AnalyzerError, ValueError):
    """The policy pack configuration is invalid (what ``pulumi preview`` would refuse)."""


@dataclass(frozen=True)
class PolicyInfo:
    name: str
    description: str
    enforcement_level: str
    kind: str                                   # "resource" | "stack" | "unknown"
    config_schema: Optional[Dict[str, Any]]     # {"properties": {...}, "required": [...]} or None


def whole_numbers(value: Any) -> Any:
    """Undo protobuf's double-only numbers for display: 7.0 -> 7."""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: whole_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [whole_numbers(v) for v in value]
    return value


def _parse_config(data: Any, source: str) -> Dict[str, Dict[str, Any]]:
    """The CLI's parsing of a ``--policy-pack-config`` document: policy -> level string or object."""
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise PolicyConfigError(f"{source}: the policy pack config must be a JSON object of policy name -> config")
    result: Dict[str, Dict[str, Any]] = {}
    for name, value in data.items():
        if isinstance(value, str):
            entry: Dict[str, Any] = {"enforcementLevel": value}
        elif isinstance(value, Mapping):
            entry = dict(value)
        else:
            raise PolicyConfigError(f"{source}: parsing {name!r}: {value!r} is not a valid value; "
                                    "must be a string or object")
        level = entry.get("enforcementLevel")
        if level is not None and level not in ENFORCEMENT_LEVELS:
            raise PolicyConfigError(f"{source}: parsing enforcement level for {name!r}: {level!r} is not a valid "
                                    f"enforcement level ({', '.join(ENFORCEMENT_LEVELS)})")
        if entry:
            result[name] = entry
    return result


def load_policy_config(path: Union[str, os.PathLike]) -> Dict[str, Dict[str, Any]]:
    """Read a ``--policy-pack-config`` file: ``{"policy": "mandatory" | {"enforcementLevel": ..., key: value}}``.

    String values are normalised to ``{"enforcementLevel": value}``.  Raises :class:`PolicyConfigError`.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise PolicyConfigError(f"cannot read policy pack config {path}: {error.strerror or error}") from None
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except ValueError as error:
        raise PolicyConfigError(f"{path}: not valid JSON: {error}") from None
    return _parse_config(data, str(path))


def _apply(result: Dict[str, Dict[str, Any]], config: Mapping[str, Mapping[str, Any]]) -> None:
    everything = config.get("all", {})
    if everything.get("enforcementLevel"):
        for entry in result.values():
            entry["enforcementLevel"] = everything["enforcementLevel"]
    for name, given in config.items():
        entry = result.setdefault(name, {"enforcementLevel": None, "properties": {}})
        for key, value in given.items():
            if key == "enforcementLevel":
                entry["enforcementLevel"] = value
            else:
                entry["properties"][key] = value


def reconcile_config(policies: Sequence[PolicyInfo], config: Optional[Mapping[str, Any]] = None,
                     initial: Optional[Mapping[str, Any]] = None) -> Dict[str, Dict[str, Any]]:
    """What the CLI sends to ``Configure``: every policy's default level and schema defaults, then the
    pack's initial config, then ``config`` (``"all"`` sets every level), validated against each
    policy's config schema.  Returns ``{policy: {"enforcementLevel": str, "properties": dict}}``.
    Raises :class:`PolicyConfigError` with every schema error, as ``pulumi preview`` refuses to run.
    """
    import jsonschema  # a dependency of the project; imported here to keep start-up light

    result: Dict[str, Dict[str, Any]] = {}
    for policy in policies:
        defaults = {}
        for key, schema in ((policy.config_schema or {}).get("properties") or {}).items():
            if isinstance(schema, Mapping) and "default" in schema:
                defaults[key] = schema["default"]
        result[policy.name] = {"enforcementLevel": policy.enforcement_level, "properties": defaults}
    if initial:
        _apply(result, _parse_config(initial, "initial config"))
    if config:
        _apply(result, _parse_config(config, "policy pack config"))
    errors = []
    for policy in policies:
        if not policy.config_schema:
            continue
        schema: Dict[str, Any] = {"type": "object"}
        if policy.config_schema.get("properties"):
            schema["properties"] = policy.config_schema["properties"]
        if policy.config_schema.get("required"):
            schema["required"] = policy.config_schema["required"]
        validator = jsonschema.Draft7Validator(schema)
        for error in sorted(validator.iter_errors(result[policy.name]["properties"]), key=lambda e: list(e.path)):
            where = ".".join(str(p) for p in error.path)
            errors.append(f"{policy.name}: {where + ': ' if where else ''}{error.message}")
    if errors:
        raise PolicyConfigError("policy pack configuration is invalid:\n  " + "\n  ".join(errors))
    for name, entry in result.items():
        if entry["enforcementLevel"] is None:
            entry["enforcementLevel"] = "advisory"
        entry["properties"] = whole_numbers(entry["properties"])
    return result


def pack_policies() -> list[PolicyInfo]:
    """This package's pack as `GetAnalyzerInfo` describes it: each policy's name, level, kind and schema."""
    from secrets_layout.policies.catalog import POLICIES

    return [PolicyInfo(policy.name, policy.description, policy.level, "stack" if policy.stack else "resource",
                       {"properties": dict(policy.config)} if policy.config else None)
            for policy in POLICIES]


def reconciled_config(config_file: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """The file checked (`check_policy_config`) and reconciled with this package's pack as
    `pulumi preview --policy-pack-config` does (`reconcile_config`).

    Raises PolicyConfigProblem for a file the check refuses, PolicyConfigError for one the schemas refuse.
    """
    return reconcile_config(pack_policies(), check_policy_config(config_file))
