"""Reading secret values as JSON and writing them back in their own layout (rotation/secret_form.py). No servers."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rotation_support.lambda_code  # noqa: F401  (puts rotation/ on sys.path)

from secret_form import MalformedSecretValue, dumps_like, looks_like_json, parse_json_object

LAYOUTS = [
    {"separators": (",", ":")},
    {},
    {"indent": 2},
    {"indent": 4, "ensure_ascii": False},
    {"indent": "\t"},
    {"separators": (",", ":"), "ensure_ascii": False},
]
json_leaves = st.none() | st.booleans() | st.integers() | st.text(max_size=12)
json_values = st.recursive(
    json_leaves,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=8,
)
documents = st.dictionaries(st.text(max_size=8), json_values, min_size=1, max_size=5)


@settings(max_examples=100)
@given(document=documents, layout=st.sampled_from(LAYOUTS), padding=st.sampled_from(["", "\n", "  ", "\r\n"]))
def test_a_changed_document_is_written_in_the_layout_it_was_read_in(document, layout, padding):
    original = json.dumps(document, **layout) + padding
    changed = {**document, next(iter(document)): "sk-new-value"}

    written = dumps_like(original, changed)

    assert written == json.dumps(changed, **layout) + padding
    assert list(json.loads(written)) == list(document), "keys keep their order"


@settings(max_examples=100)
@given(text=st.text(max_size=40).map(lambda text: "{" + text))
def test_a_broken_json_value_is_refused_without_quoting_it(text):
    planted = "sk-planted-0123456789"
    value = text + planted
    try:
        parse_json_object(value, "API key")
    except MalformedSecretValue as error:
        assert planted not in str(error)
        assert str(error).startswith("the API key secret value is")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('{"a": 1,}', "the X secret value is not a JSON object: invalid JSON, Expecting property name enclosed in "
         "double quotes at line 1 column 9"),
        ("[1]", "the X secret value is JSON but not an object (it is a list)"),
        ('{"a": Infinity}', "the X secret value is not a JSON object: invalid JSON, Infinity is not a JSON number"),
        ("[" * 100_000, "the X secret value nests JSON too deeply"),
    ],
)
def test_malformed_json_values_are_named_by_position(value, message):
    with pytest.raises(MalformedSecretValue) as raised:
        parse_json_object(value, "X")
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("value", "is_json"),
    [("sk-live-123", False), ("  {\"a\": 1}", True), ('"quoted"', True), ("[1]", True), ("12345", False)],
)
def test_what_counts_as_json(value, is_json):
    assert looks_like_json(value) is is_json
