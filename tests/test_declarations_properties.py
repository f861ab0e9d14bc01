"""Property tests: whatever YAML comes in, the answer is a clean DeclarationError or a declaration,
never a traceback, and an invalid file never passes."""

from __future__ import annotations

import contextlib
import io
import re
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from secrets_layout.cli import main
from secrets_layout.declaration.loader import parse_declaration
from secrets_layout.errors import DeclarationError

ROOT = Path(__file__).resolve().parents[1]
PROD = yaml.safe_load((ROOT / "environments" / "prod.yaml").read_text())
REQUIRED = {"environment", "security_account", "primary_region"}
FREE_FORM_MAPPINGS = {"tags", "accounts", "template", "keys"}
ERROR_LINE = re.compile(r"^.+:\d+:\d+: \S.*: .+$")

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
documents = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)


def _rejects(text: str) -> list:
    try:
        parse_declaration(text, "random.yaml")
    except DeclarationError as error:
        assert error.issues, "a DeclarationError always carries its issues"
        for issue in error.issues:
            assert issue.line >= 1 and issue.column >= 1 and issue.message
        return error.issues
    raise AssertionError("an invalid declaration was accepted")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_random_text_is_rejected_cleanly(text):
    _rejects(text)


@settings(max_examples=200, deadline=None)
@given(documents)
def test_random_yaml_documents_are_rejected_cleanly(document):
    assume(not (isinstance(document, dict) and REQUIRED <= document.keys()))
    _rejects(yaml.safe_dump(document))


def _model_mappings(node, path=()):
    """Paths of mappings in the example that are model objects (unknown keys are errors there)."""
    if isinstance(node, dict):
        if not path or path[-1] not in FREE_FORM_MAPPINGS:
            yield path
        for key, value in node.items():
            yield from _model_mappings(value, path + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _model_mappings(value, path + (index,))


MAPPING_PATHS = list(_model_mappings(PROD))


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(MAPPING_PATHS), st.from_regex(r"[a-z][a-z_]{0,10}", fullmatch=True))
def test_an_unknown_key_anywhere_is_reported_at_that_key(path, key):
    document = yaml.safe_load(yaml.safe_dump(PROD))
    target = document
    for part in path:
        target = target[part]
    assume(key not in target)
    unknown = f"x_{key}"
    target[unknown] = "surprise"
    issues = _rejects(yaml.safe_dump(document, sort_keys=False))
    expected_path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path + (unknown,)).lstrip(".")
    assert any(issue.path == expected_path and issue.message.startswith(f"unknown field '{unknown}'") for issue in issues)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_the_cli_answers_random_files_with_exit_1_and_error_lines(document):
    assume(not (isinstance(document, dict) and REQUIRED <= document.keys()))
    with tempfile.TemporaryDirectory() as folder:
        file = Path(folder) / "random.yaml"
        file.write_text(yaml.safe_dump(document))
        output = io.StringIO()
        with contextlib.redirect_stdout(output):
            code = main(["validate", str(file)])
    assert code == 1
    lines = output.getvalue().splitlines()
    assert lines and all(ERROR_LINE.match(line) for line in lines)
