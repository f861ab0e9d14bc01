"""A declaration: environments/<env>.yaml (or an environment folder) read with positions, checked
against the models and the organisation's rules, and turned into the validated `Declaration` the
components build from.

    yaml_source    YAML nodes -> data with file:line:column for every value
    folder         one file, or a folder of files that teams own
    models         the pydantic models (and, generated from them, schema)
    loader         load_declaration: read, merge defaults, validate, check rules and credentials
    rules, credentials, field_messages, regions, cost, revision

`from secrets_layout.declaration import load_declaration` is the entry point other Pulumi programs
use; it is resolved on first use, so importing one module of this package does not load them all.
"""

from __future__ import annotations

from typing import Any

_ENTRY_POINTS = {"load_declaration": "loader", "Declaration": "models"}


def __getattr__(name: str) -> Any:
    if name not in _ENTRY_POINTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f"{__name__}.{_ENTRY_POINTS[name]}"), name)


__all__ = sorted(_ENTRY_POINTS)
