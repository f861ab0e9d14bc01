"""YAML that remembers where every value came from.

PyYAML's own loaders lose positions, silently keep the last of two equal keys and expand
aliases without limit. This module composes the node graph (PyYAML's C composer when present)
and builds plain Python data from it itself, so that:
- every mapping key and value has its line and column in a `SourceMap`;
- a duplicate key is an error at the second occurrence;
- anchors, aliases and `<<` merge keys work, but their expansion is bounded;
- nesting depth is bounded, so hostile input cannot exhaust the stack;
- YAML 1.1 forms that read as something else than they look (`0777` is octal 511, `59:59` is
  base-60 3599, `.nan`) and tags this format has no use for are refused with a located message,
  never handed to PyYAML's constructors, some of which raise (KeyError, AttributeError,
  OverflowError) or take quadratic time on hostile input (PyYAML lib/yaml/constructor.py,
  SafeConstructor.construct_yaml_bool/_int/_float/_timestamp; YAML 1.1 types
  https://yaml.org/type/int.html and https://yaml.org/type/float.html).
"""

from __future__ import annotations

import functools
import io
import math
import re
from dataclasses import dataclass, field

import yaml
from yaml.constructor import ConstructorError, SafeConstructor

from secrets_layout.errors import Path, printable

try:
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # pragma: no cover - libyaml is part of the PyYAML wheels we install
    from yaml import SafeLoader as _SafeLoader

MAX_FILE_BYTES = 1024 * 1024
MAX_ALIAS_EXPANSION = 10_000
"""Nodes that aliases may add on top of the document's own nodes."""
MAX_DEPTH = 64

MAX_NUMBER_CHARACTERS = 32
"""No field takes a number this long; refusing it early keeps int() and base-60 arithmetic cheap."""

_MERGE_TAG = "tag:yaml.org,2002:merge"
_STR_TAG = "tag:yaml.org,2002:str"
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_PLAIN_TAGS = {"tag:yaml.org,2002:map": "mapping", "tag:yaml.org,2002:seq": "sequence"}
_DECIMAL_INT = re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$")
# What YAML 1.1 (and so PyYAML's resolver, lib/yaml/resolver.py) reads as a number although
# YAML 1.2 and most people read it otherwise; https://yaml.org/type/int.html and /float.html.
_SURPRISING_NUMBERS = (
    (re.compile(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$"),
     "YAML 1.1 reads numbers with ':' as base 60 (PyYAML reads 1:30 as 90)"),
    (re.compile(r"^[-+]?0[0-7_]+$"), "YAML 1.1 reads a number with a leading 0 as octal (PyYAML reads 0777 as 511)"),
    (re.compile(r"^[-+]?0b[01_]+$"), "YAML 1.1 reads 0b... as a binary number"),
    (re.compile(r"^[-+]?0x[0-9a-fA-F_]+$"), "0x... is a hexadecimal number"),
    (re.compile(r"_"), "YAML 1.1 drops the '_' in numbers (PyYAML reads 1_000 as 1000)"),
)


@dataclass(frozen=True)
class Position:
    line: int
    column: int
    file: str = ""
    """The file the position is in: with an environment folder, one of several."""


@dataclass
class SourceMap:
    """Where each path of the loaded data was written. Lines and columns start at 1.

    The tables hold PyYAML's marks as the parser made them (zero-based); a Position is made only
    for the few paths that are looked up, which keeps loading a large declaration fast.
    """

    file: str
    values: dict[Path, yaml.Mark] = field(default_factory=dict)
    keys: dict[Path, yaml.Mark] = field(default_factory=dict)
    binary: list[Path] = field(default_factory=list)
    """Where `!!binary` values were written (bytes, which text fields accept): the credential scan reads them."""
    items: dict[tuple[str, int], tuple[str, int]] = field(default_factory=dict)
    """Environment folder: a merged `secrets[i]`/`parameters[i]` -> (its file, its index there).
    Empty for one file, where the two are the same."""

    def locate(self, path: Path) -> Position:
        """The position of `path`, or of its nearest ancestor that was written in the file."""
        for end in range(len(path), -1, -1):
            mark = self.values.get(path[:end])
            if mark is not None:
                return _position(mark)
        return Position(1, 1, self.file)

    def locate_key(self, path: Path) -> Position:
        """The position of the mapping key that introduces `path` (its value's, if it has no key)."""
        mark = self.keys.get(path)
        return _position(mark) if mark is not None else self.locate(path)

    def local_path(self, path: Path) -> Path:
        """`path` as written in its own file: a team file's `secrets[0]`, not the merged `secrets[12]`."""
        origin = self.items.get(path[:2]) if len(path) >= 2 else None
        return (path[0], origin[1], *path[2:]) if origin else path

    def file_of(self, path: Path) -> str:
        """The file that declares the item `path` is in (the settings file for anything else)."""
        origin = self.items.get(path[:2]) if len(path) >= 2 else None
        return origin[0] if origin else self.file

    def add_items(self, other: "SourceMap", offsets: dict[str, int]) -> None:
        """Take a team file's `secrets:` and `parameters:` items, numbered on after `offsets` (per section)."""
        def moved(path: Path) -> Path | None:
            if len(path) < 2 or path[0] not in offsets or not isinstance(path[1], int):
                return None
            return (path[0], path[1] + offsets[path[0]], *path[2:])

        # One comprehension per table, not a call of `moved` per entry: a team file of 100 secrets
        # has some 3,000 positions, an environment of 10,000 secrets 300,000.
        for table, other_table in ((self.values, other.values), (self.keys, other.keys)):
            table.update({(path[0], path[1] + offsets[path[0]], *path[2:]): mark for path, mark in other_table.items()
                          if len(path) >= 2 and path[0] in offsets and isinstance(path[1], int)})
        self.binary.extend(target for target in map(moved, other.binary) if target is not None)
        for section, offset in offsets.items():
            count = sum(1 for path in other.values if len(path) == 2 and path[0] == section)
            self.items.update({(section, offset + index): (other.file, index) for index in range(count)})

    def known_prefix(self, path: Path) -> Path:
        """The longest prefix of `path` that was written in the file."""
        for end in range(len(path), -1, -1):
            if path[:end] in self.values:
                return path[:end]
        return ()

    def within(self, prefix: Path) -> "SourceMap":
        """The positions under `prefix` only: a small map to copy from many times."""
        size = len(prefix)

        def under(table: dict[Path, yaml.Mark]) -> dict[Path, yaml.Mark]:
            return {path: position for path, position in table.items() if path[:size] == prefix}

        return SourceMap(self.file, under(self.values), under(self.keys), items=self.items)

    def alias(self, source: Path, target: Path, origin: "SourceMap | None" = None) -> None:
        """Record that the data at `target` was copied from `source` (inherited defaults).

        `origin` holds the positions under `source` (default: this map); pass a `within` map when
        copying the same small subtree many times, so each copy costs its own size only.
        """
        origin = origin or self
        for table, origin_table in ((self.values, origin.values), (self.keys, origin.keys)):
            table.update({target + path[len(source):]: position for path, position in origin_table.items()
                          if path[: len(source)] == source})


class _Loader(_SafeLoader):
    """The safe loader, with each tag resolved once per distinct question.

    The composer asks for the tag of every node (PyYAML yaml/_yaml.pyx, CParser._compose_scalar_node:
    `self.resolve(ScalarNode, value, (plain_implicit, quoted_implicit))`), and BaseResolver.resolve
    (lib/yaml/resolver.py) tries the implicit resolvers' regular expressions on every plain scalar,
    although a declaration repeats the same keys and values thousands of times. Without path
    resolvers (the safe loader has none) the answer depends on those three arguments alone, and
    descend_resolver/ascend_resolver, which the composer calls around every node, return at once.
    A cache and builtins in their place keep the composer from entering Python frames for them.
    With path resolvers, PyYAML's own methods run.
    """

    def __init__(self, stream):
        super().__init__(stream)
        if not self.yaml_path_resolvers:
            self.resolve = functools.lru_cache(maxsize=None)(super().resolve)
            self.descend_resolver = {}.get  # (parent node, index) -> ignored
            self.ascend_resolver = tuple  # () -> ignored


class YamlSourceError(Exception):
    """A document that cannot be read as YAML; carries the position and a message with the fix."""

    def __init__(self, position: Position, path: Path, message: str):
        self.position = position
        self.path = path
        self.message = message
        super().__init__(message)


def _position(mark: yaml.Mark | None) -> Position:
    # The mark's name is the file it was read from (load_yaml names the stream).
    return Position(mark.line + 1, mark.column + 1, mark.name) if mark is not None else Position(1, 1)


class _NamedText(io.StringIO):
    """Text that PyYAML's parsers read as a stream named after its file, so every mark carries the
    file's name (CParser and yaml.reader.Reader take `stream.name`); with an environment folder, the
    marks of several files end up in one source map."""

    def __init__(self, text: str, name: str):
        super().__init__(text)
        self.name = name


def load_yaml(text: str, file: str, *, scalars_as_text: bool = False) -> tuple[object, SourceMap]:
    """Parse one YAML document into plain data and the positions of everything in it.

    scalars_as_text: every scalar is the text written, never a YAML 1.1 number, boolean or date (nor
    refused as one): how Pulumi reads a stack file's config values (YAML 1.2 with go-yaml v3, where
    `1:30`, `0777` and `no` are text, and a config value is the scalar's text,
    https://www.pulumi.com/docs/iac/concepts/config/)."""
    try:
        root = yaml.compose(_NamedText(text, file), Loader=_Loader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = error.problem or error.context or "invalid YAML"
        fix = ("a declaration is one YAML document: remove the second '---'" if "another document" in problem
               else "fix the YAML at this position")
        raise YamlSourceError(_position(mark), (), f"YAML syntax error: {problem}; {fix}") from None
    except yaml.reader.ReaderError as error:
        raise YamlSourceError(_text_position(text, error.position), (), _unreadable_character(error.character)) from None
    except yaml.YAMLError as error:
        raise YamlSourceError(Position(1, 1), (), f"YAML error: {error}") from None
    source_map = SourceMap(file)
    if root is None:
        return None, source_map
    builder = _Builder(source_map, scalars_as_text=scalars_as_text)
    return builder.build(root, (), depth=0), source_map


def _text_position(text: str, index: int) -> Position:
    line_start = text.rfind("\n", 0, index) + 1
    return Position(text.count("\n", 0, index) + 1, index - line_start + 1)


def _unreadable_character(character: int | str) -> str:
    code = character if isinstance(character, int) else ord(character)
    if code == 0:
        return ("a NUL character (U+0000) is not allowed in YAML; if the file is UTF-16, save it as UTF-8, "
                "otherwise remove the character")
    return f"the control character U+{code:04X} is not allowed in YAML; remove it or write it as an escape in a quoted string"


class _Builder:
    def __init__(self, source_map: SourceMap, *, scalars_as_text: bool = False):
        self.source_map = source_map
        self.scalars_as_text = scalars_as_text
        self.values = source_map.values
        self.keys = source_map.keys
        self.constructor = SafeConstructor()
        self.seen_nodes: set[int] = set()
        self.alias_expansion = 0
        self.merging: set[int] = set()

    def build(self, node: yaml.Node, path: Path, depth: int) -> object:
        if depth > MAX_DEPTH:
            raise YamlSourceError(
                _position(node.start_mark), path[:4],
                f"nesting deeper than {MAX_DEPTH} levels (a recursive alias?); flatten the document",
            )
        if id(node) in self.seen_nodes:
            self.alias_expansion += 1
            if self.alias_expansion > MAX_ALIAS_EXPANSION:
                raise YamlSourceError(
                    _position(node.start_mark), path[:4],
                    f"aliases expand to more than {MAX_ALIAS_EXPANSION} extra values; "
                    "write the repeated part out or use fewer nested aliases",
                )
        else:
            self.seen_nodes.add(id(node))
        self.values.setdefault(path, node.start_mark)
        # Scalars first and plain text without a table lookup: most nodes of a declaration are these.
        if isinstance(node, yaml.ScalarNode):
            return node.value if node.tag == _STR_TAG or self.scalars_as_text else self._scalar(node, path)
        if node.tag not in _PLAIN_TAGS:
            shape = "mapping" if isinstance(node, yaml.MappingNode) else "sequence"
            raise YamlSourceError(
                _position(node.start_mark), path,
                f"unsupported YAML tag {_shown_tag(node.tag)} on a {shape}; remove the tag (this format reads "
                f"plain {shape}s only and would otherwise drop what the tag means)",
            )
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path, depth)
        return [self.build(item, path + (index,), depth + 1) for index, item in enumerate(node.value)]

    def _scalar(self, node: yaml.ScalarNode, path: Path) -> object:
        if node.tag == _STR_TAG:  # most values: skip the constructor table
            return node.value
        construct = SafeConstructor.yaml_constructors.get(node.tag)
        if construct is None or node.tag == _MERGE_TAG:
            raise YamlSourceError(
                _position(node.start_mark), path,
                f"unsupported YAML tag {_shown_tag(node.tag)}; write a plain value (quote it to make it text)",
            )
        if node.tag in (_INT_TAG, _FLOAT_TAG):
            self._check_number(node, path)
        try:
            value = construct(self.constructor, node)
        except Exception as error:  # noqa: BLE001 - PyYAML's constructors raise KeyError, AttributeError, ...
            problem = getattr(error, "problem", None) or f"not a valid {_shown_tag(node.tag)} value"
            raise YamlSourceError(_position(node.start_mark), path, f"{problem}; quote it to make it text") from None
        if isinstance(value, bytes):
            self.source_map.binary.append(path)
        if isinstance(value, float) and not math.isfinite(value):
            raise YamlSourceError(
                _position(node.start_mark), path,
                "not a finite number (.nan and .inf cannot be stored in JSON or sent to AWS); "
                "write a number, or quote it to make it text",
            )
        return value

    @staticmethod
    def _check_number(node: yaml.ScalarNode, path: Path) -> None:
        # The value itself is never repeated: a number may be a PIN or a key.
        text = node.value
        if len(text) > MAX_NUMBER_CHARACTERS:
            raise YamlSourceError(
                _position(node.start_mark), path,
                f"a number longer than {MAX_NUMBER_CHARACTERS} characters; no field takes one: "
                "shorten it, or quote it to make it text",
            )
        if node.tag == _INT_TAG and _DECIMAL_INT.match(text):
            return
        for form, meaning in _SURPRISING_NUMBERS:
            if form.search(text):
                raise YamlSourceError(
                    _position(node.start_mark), path,
                    f"{meaning}; write a plain decimal number, or quote the value to make it text",
                )

    def _mapping(self, node: yaml.MappingNode, path: Path, depth: int) -> dict:
        result: dict = {}
        explicit_keys: set = set()
        inherited: list[tuple[yaml.Node, Path]] = []
        for key_node, value_node in node.value:
            tag = key_node.tag
            if tag == _MERGE_TAG:
                inherited.append((value_node, path))
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                raise YamlSourceError(_position(key_node.start_mark), path, "a mapping key must be a plain value")
            key = key_node.value if tag == _STR_TAG or self.scalars_as_text else self._scalar(key_node, path)
            if key.__class__ is not str and (not isinstance(key, str | int) or isinstance(key, bool)):
                key = str(key_node.value)
            key_path = path + (key,)
            if key in explicit_keys:
                first = _position(self.keys[key_path])
                raise YamlSourceError(
                    _position(key_node.start_mark), key_path,
                    f"duplicate key '{key}' (first at line {first.line}); YAML would silently keep only "
                    "the last one: remove or rename one of them",
                )
            explicit_keys.add(key)
            # setdefault: keys written in the mapping itself keep their position over merged ones
            self.keys.setdefault(key_path, key_node.start_mark)
            result[key] = self.build(value_node, key_path, depth + 1)
        for merge_node, merge_path in inherited:
            self._merge(merge_node, merge_path, result, depth)
        return result

    def _merge(self, merge_node: yaml.Node, path: Path, into: dict, depth: int) -> None:
        """`<<: *base` or `<<: [*a, *b]`: keys written in the mapping itself win, then earlier sources."""
        sources = merge_node.value if isinstance(merge_node, yaml.SequenceNode) else [merge_node]
        for source in sources:
            if not isinstance(source, yaml.MappingNode):
                raise YamlSourceError(_position(source.start_mark), path, "'<<' merges mappings only; point it at a mapping anchor")
            if id(source) in self.merging:
                raise YamlSourceError(
                    _position(merge_node.start_mark), path,
                    "this '<<' merges a mapping into itself (a recursive alias); point it at another mapping",
                )
            if depth > MAX_DEPTH:
                raise YamlSourceError(
                    _position(merge_node.start_mark), path[:4],
                    f"'<<' merges nested deeper than {MAX_DEPTH} levels; flatten the document",
                )
            self.merging.add(id(source))
            try:
                merged = self._mapping(source, path, depth + 1)
            finally:
                self.merging.discard(id(source))
            self.alias_expansion += len(merged)
            for key, value in merged.items():
                into.setdefault(key, value)


def _shown_tag(tag: str) -> str:
    """A tag as PyYAML resolved it, escaped and cut short: it is text from the file."""
    return printable(tag[:80])
