"""Reading a SecretString as JSON, and writing a changed document back in the form it was found in.

A secret value is at most 65,536 bytes (AWS Secrets Manager quotas,
https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_limits.html). Re-serialising a
compact document with json.dumps's default ", " and ": " adds two bytes per field, so a large compact
secret would grow past the limit at its first rotation and could never rotate; readers that compare
or hash the raw text would also see it change for no reason. So the new value copies the old one's
layout: separators, indentation, escaping of non-ASCII, surrounding white space and key order.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping

# Characters a JSON text can start with that no sensible plaintext key does.
_JSON_OPENERS = ("{", "[", '"')

_LAYOUTS = tuple(
    {"separators": separators, "indent": indent, "ensure_ascii": ensure_ascii}
    for ensure_ascii in (True, False)
    for separators, indent in (
        ((",", ":"), None),
        ((", ", ": "), None),
        ((",", ": "), 2),
        ((",", ": "), 4),
        ((",", ": "), "\t"),
        ((",", ": "), 1),
    )
)
# A document in none of the known layouts is written compactly: never larger than any other layout.
_FALLBACK_LAYOUT = {"separators": (",", ":"), "indent": None, "ensure_ascii": False}


class MalformedSecretValue(ValueError):
    """The secret value cannot be used. Messages give positions and field names, never the value."""


def looks_like_json(secret_string: str) -> bool:
    return secret_string.lstrip().startswith(_JSON_OPENERS)


def parse_json_object(secret_string: str, what: str) -> dict:
    """The JSON object in secret_string; MalformedSecretValue naming only the position if it is not one."""
    try:
        document = json.loads(secret_string, parse_constant=_refuse_constant)
    except json.JSONDecodeError as error:
        raise MalformedSecretValue(
            f"the {what} secret value is not a JSON object: invalid JSON, {error.msg} "
            f"at line {error.lineno} column {error.colno}"
        ) from None
    except ValueError as error:
        raise MalformedSecretValue(f"the {what} secret value is not a JSON object: invalid JSON, {error}") from None
    except RecursionError:
        raise MalformedSecretValue(f"the {what} secret value nests JSON too deeply") from None
    if not isinstance(document, dict):
        raise MalformedSecretValue(
            f"the {what} secret value is JSON but not an object (it is a {type(document).__name__})"
        )
    return document


def dumps_like(original: str, document: Mapping[str, object]) -> str:
    """document serialised in the layout of original (a JSON object text), surrounding white space kept."""
    core = original.strip()
    leading = original[: len(original) - len(original.lstrip())]
    trailing = original[len(original.rstrip()) :]
    parsed = json.loads(core)
    layout = next((layout for layout in _LAYOUTS if json.dumps(parsed, **layout) == core), _FALLBACK_LAYOUT)
    return leading + json.dumps(document, **layout) + trailing


def _refuse_constant(name: str) -> float:
    # json.loads accepts NaN and Infinity, which are not JSON (RFC 8259 section 6) and no reader expects.
    raise ValueError(f"{name} is not a JSON number")


def finite_number(value: object) -> float | None:
    """value as a float if it is a finite JSON number (bool is not one), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None
