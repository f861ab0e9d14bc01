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

In bounded time, whatever the file holds (it is at most MAX_CONFIG_BYTES): a list is bounded before
its items are looked at, and types are checked before `uniqueItems`, which jsonschema checks by
comparing every pair of items when they cannot be sorted (objects: jsonschema/_utils.py `uniq`);
at most MAX_PROBLEMS_PER_SETTING problems of one setting and MAX_PROBLEMS in all are listed.
No problem repeats a credential-looking name or value (shown as `<credential>`), and a config
whose strings look like credentials is refused: the pack's messages quote its values (a required
tag's name), and the config itself is committed to git.
"""

from __future__ import annotations

import difflib
import itertools
import json
import os
from collections.abc import Iterator
from typing import Any

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
