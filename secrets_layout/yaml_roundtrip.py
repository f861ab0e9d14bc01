"""Editing a YAML document as its author wrote it: comments, blank lines, key order, flow style and
quotes kept, through ruamel.yaml's round-trip mode (https://yaml.dev/doc/ruamel.yaml/detail/).

ruamel.yaml keeps the comment at the end of an entry's last line, and the blank lines and comment
lines below it, with the entry's last scalar (its `ca.items`). Removing that entry, or emptying a
list, would drop the blank line that separated the block from what follows; `remove` and
`tail_kept` move those lines to what ends the block instead. The comment at the end of a removed
line goes with the line.

Only `init --from` imports this module: `validate` (what the pre-commit hook runs) never does.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, ScalarString
from ruamel.yaml.tokens import CommentToken
from ruamel.yaml.util import load_yaml_guess_indent

MAPPING_INDENT = 2
NO_WRAPPING = 1 << 16
"""Line width: a long description stays on its line."""


@dataclass(frozen=True)
class Indentation:
    """How a document indents a list: its items' content and their dash (4 and 2: "  - name: x")."""

    sequence: int = 4
    offset: int = 2


def load(text: str) -> tuple[Any, Indentation]:
    """The document (CommentedMap/CommentedSeq and scalars that remember their quotes) and its indentation."""
    _, sequence, offset = load_yaml_guess_indent(text)
    indentation = Indentation() if sequence is None else Indentation(sequence, offset or 0)
    return _parser(indentation).load(text), indentation


def dump(document: Any, indentation: Indentation) -> str:
    stream = io.StringIO()
    _parser(indentation).dump(document, stream)
    return stream.getvalue()


def _parser(indentation: Indentation) -> YAML:
    parser = YAML()  # round-trip, and safe: no Python objects are built from tags
    parser.preserve_quotes = True
    parser.width = NO_WRAPPING
    parser.indent(mapping=MAPPING_INDENT, sequence=indentation.sequence, offset=indentation.offset)
    return parser


def restyled(old: Any, new: str) -> Any:
    """`new` written as `old` was: in the same quotes, or plain."""
    return type(old)(new) if isinstance(old, ScalarString) else new


def quoted(text: str) -> DoubleQuotedScalarString:
    """An account ID must be a string: "111111111111" (a plain 111111111111 is a number)."""
    return DoubleQuotedScalarString(text)


def flow_list(items: list[Any]) -> CommentedSeq:
    """[a, b] on one line."""
    sequence = CommentedSeq(items)
    sequence.fa.set_flow_style()
    return sequence


def remove(container: CommentedMap | CommentedSeq, key: Any) -> None:
    """Delete an entry; what followed it (blank lines, comment lines above the next entry) now follows
    the entry before it."""
    keys = _keys(container)
    position = keys.index(key)
    rest = _take_tail(container, key)
    del container[key]
    if isinstance(container, CommentedMap):
        container.ca.items.pop(key, None)
    if rest and position > 0:
        _put_tail(container, keys[position - 1], rest)


def insert(mapping: CommentedMap, key: str, value: Any, *, after: str | None = None) -> None:
    """A new key after `after` (at the end when None or absent); what followed `after` now follows it."""
    keys = _keys(mapping)
    after = after if after in mapping else (keys[-1] if keys else None)
    rest = _take_tail(mapping, after) if after is not None else ""
    mapping.insert(keys.index(after) + 1 if after is not None else 0, key, value)
    if rest:
        _put_tail(mapping, key, rest)


def keep_items(container: CommentedMap, key: Any, keep: Callable[[Any], bool]) -> None:
    """Delete the items of the list `container[key]` that `keep` refuses; an emptied list is written []."""
    items = container[key]
    with tail_kept(container, key):
        for index in reversed(range(len(items))):
            if not keep(items[index]):
                remove(items, index)
        if not items:
            items.fa.set_flow_style()


def replace_entries(container: CommentedMap, key: Any, entries: dict[str, Any]) -> None:
    """The mapping `container[key]` holds `entries` instead of its own, in its own style; {} when none."""
    mapping = container[key]
    with tail_kept(container, key):
        for name in list(mapping):
            del mapping[name]
            mapping.ca.items.pop(name, None)
        mapping.update(entries)
        if not mapping:
            mapping.fa.set_flow_style()


@contextmanager
def tail_kept(container: CommentedMap | CommentedSeq, key: Any) -> Iterator[None]:
    """Change the value of an entry (empty a list, replace a mapping's entries) and keep what followed
    it below what ends it now."""
    rest = _take_tail(container, key)
    yield
    if rest:
        _put_tail(container, key, rest)


def _keys(collection: CommentedMap | CommentedSeq) -> list[Any]:
    return list(collection) if isinstance(collection, CommentedMap) else list(range(len(collection)))


def _is_block(value: Any) -> bool:
    return isinstance(value, CommentedMap | CommentedSeq) and len(value) > 0 and not value.fa.flow_style()


def _last_key(collection: CommentedMap | CommentedSeq) -> Any:
    return _keys(collection)[-1]


def _slot(container: CommentedMap | CommentedSeq, key: Any) -> tuple[list, int]:
    """Where ruamel.yaml keeps the comment after a scalar (or flow) entry: a mapping's value comment,
    a list item's comment."""
    return container.ca.items.setdefault(key, [None, None, None, None]), 2 if isinstance(container, CommentedMap) else 0


def _take_tail(container: CommentedMap | CommentedSeq, key: Any) -> str:
    """Take the lines below an entry's last line (blank or comments), leaving the comment at its end."""
    value = container[key]
    if _is_block(value):
        rest = _take_tail(value, _last_key(value))
        after = "".join(token.value for token in value.ca.end or [])  # a block list ending in a flow item
        value.ca.end = []
        return rest + after
    slots, position = _slot(container, key)
    token = slots[position]
    if token is None:
        return ""
    line_end, newline, rest = token.value.partition("\n")
    token.value = line_end + newline
    return rest


def _put_tail(container: CommentedMap | CommentedSeq, key: Any, rest: str) -> None:
    value = container[key]
    if _is_block(value):
        _put_tail(value, _last_key(value), rest)
        return
    slots, position = _slot(container, key)
    if slots[position] is None:
        slots[position] = CommentToken("\n" + rest, CommentMark(0), None)
    else:
        slots[position].value += rest
