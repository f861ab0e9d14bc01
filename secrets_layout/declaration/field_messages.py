"""Pydantic's validation errors, rewritten as `PATH: message` with the fix.

The fix usually comes from the field's own `description` in models.py, so the text a user reads
here, in their editor (through schema.json) and in the docs is the same.
"""

from __future__ import annotations

import difflib
import types
import typing

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from secrets_layout.errors import Path

_TYPE_NAMES = {
    "string_type": "text",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "float_type": "a number",
    "list_type": "a list (one '- item' per line, or [a, b])",
    "dict_type": "a mapping (key: value lines)",
    "model_type": "a mapping (key: value lines)",
    "model_attributes_type": "a mapping (key: value lines)",
}


def _unwrap(annotation: object) -> tuple[object, str | None]:
    """Strip Annotated/Optional; return the inner type and a description found on the way."""
    description = None
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            for meta in getattr(annotation, "__metadata__", ()):
                if isinstance(meta, FieldInfo) and meta.description:
                    description = description or meta.description
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            candidates = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
            annotation = candidates[0] if len(candidates) == 1 else annotation
            if len(candidates) != 1:
                return annotation, description
        else:
            return annotation, description


def describe(root: type[BaseModel], path: Path) -> tuple[str | None, type[BaseModel] | None]:
    """The description of the field at `path`, and the model that holds it (for unknown keys)."""
    annotation: object = root
    description: str | None = None
    holder: type[BaseModel] | None = None
    for part in path:
        annotation, _ = _unwrap(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel) and isinstance(part, str):
            holder = annotation
            field = annotation.model_fields.get(part)
            if field is None:
                return None, holder
            _, inner_description = _unwrap(field.annotation)
            description = field.description or inner_description
            annotation = field.annotation
        elif typing.get_origin(annotation) in (list, dict):
            annotation = typing.get_args(annotation)[-1]
            _, inner_description = _unwrap(annotation)
            description = inner_description or description
            holder = None
        else:
            return description, None
    return description, holder


def _model_at(root: type[BaseModel], path: Path) -> type[BaseModel] | None:
    if not path:
        return root
    _, holder = describe(root, path + ("\0",))
    return holder


def message_for(root: type[BaseModel], error: dict, path: Path) -> str:
    """One line that says what is wrong with the value at `path` and how to fix it."""
    kind = error["type"]
    context = error.get("ctx") or {}
    description, _ = describe(root, path)
    hint = f" — {description}" if description else ""
    if kind == "missing":
        return f"required field '{path[-1]}' is missing; add it{hint}"
    if kind == "extra_forbidden":
        model = _model_at(root, path[:-1])
        allowed = sorted(model.model_fields) if model else []
        unknown = str(path[-1])
        close = difflib.get_close_matches(unknown, allowed, n=1)
        suggestion = f"did you mean '{close[0]}'? " if close else ""
        return f"unknown field '{unknown}'; {suggestion}allowed fields: {', '.join(allowed)}"
    if kind in _TYPE_NAMES:
        expected = _TYPE_NAMES[kind]
        if kind == "string_type" and isinstance(error.get("input"), int) and description and "12-digit" in description:
            return 'an account ID must be quoted ("111111111111") so YAML keeps it a 12-digit string'
        if kind == "string_type" and isinstance(error.get("input"), int | float | bool):
            return f"must be {expected}; quote the value{hint}"
        return f"must be {expected}{hint}"
    if kind in ("enum", "literal_error"):
        expected = context.get("expected", "")
        choices = [choice.strip(" '") for choice in expected.replace(" or ", ", ").split(",") if choice.strip()]
        given = error.get("input")
        close = difflib.get_close_matches(str(given), choices, n=1) if isinstance(given, str) else []
        suggestion = f"; did you mean '{close[0]}'?" if close else ""
        return f"must be one of: {', '.join(choices)}{suggestion}"
    if kind == "greater_than_equal":
        return f"must be at least {context['ge']}{hint}"
    if kind == "less_than_equal":
        return f"must be at most {context['le']}{hint}"
    if kind == "string_too_short":
        return "must not be empty" if context.get("min_length") == 1 else f"must be at least {context['min_length']} characters{hint}"
    if kind == "string_too_long":
        return f"must be at most {context['max_length']} characters{hint}"
    if kind == "too_short":
        return f"must have at least {context['min_length']} item(s){hint}"
    if kind == "too_long":
        return f"must have at most {context['max_length']} item(s){hint}"
    if kind == "string_pattern_mismatch":
        return f"is not in the expected form{hint}" if hint else f"must match {context.get('pattern')}"
    if kind == "value_error":
        return str(context.get("error", error["msg"]))
    return f"{error['msg'][:1].lower()}{error['msg'][1:]}{hint}"
