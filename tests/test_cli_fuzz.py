"""Issue 11: looking for the rest of its kind, through the CLI entry point (`main()`).

- Any YAML document built from tags and scalar forms (YAML 1.1 numbers, booleans, timestamps,
  tags on scalars, mappings and sequences, anchors, merges, control characters) in any slot of
  a declaration: `validate` exits 0, 1 or 2, never with a traceback, in bounded time, and never
  prints the credential planted in it.
- Any policy config (JSON of any shape, NaN, any bytes): `preview --policy-config` exits 2 for a
  bad one and goes on for a good one (to the declaration, here an invalid one: exit 1); never a traceback.
- Any file name: printed on one line, with no control character and no workflow command.

Deterministic (derandomize) and bounded (max_examples), so they run in `make test` without flakiness.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli_support import run_main
from declaration_support import VALID_SECRET, declaration

FUZZ = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
PLANTED = ("AKIAIOSFODNN7EXAMPLE", "ghp_abcdefghijklmnopqrstuvwxyz0123456789")
SECONDS_PER_RUN = 15

TAGS = ["", "!!str ", "!!int ", "!!float ", "!!bool ", "!!null ", "!!timestamp ", "!!binary ", "!!merge ", "!!set ",
        "!!omap ", "!!pairs ", "!!map ", "!!seq ", "!custom ", "!!python/object:os.system ", "!<tag:yaml.org,2002:int> "]
SCALAR_FORMS = st.one_of(
    st.from_regex(r"\A[-+]?(0|[1-9][0-9_]{0,6}|0[0-7_]{1,6}|0x[0-9a-fA-F_]{1,6}|0b[01_]{1,6})\Z"),
    st.from_regex(r"\A[-+]?[0-9]{1,3}(:[0-5]?[0-9]){1,6}(\.[0-9]{0,3})?\Z"),
    st.from_regex(r"\A[-+]?([0-9]{0,4}\.[0-9_]{0,4}([eE][-+][0-9]{1,4})?|\.(inf|Inf|INF|nan|NaN|NAN))\Z"),
    st.sampled_from(["yes", "No", "ON", "off", "y", "maybe", '""', "~", "null", "true", "2024-02-30", "2024-01-01",
                     "2001-12-14t21:59:43.10-05:00", "notatime", "1" * 40, ":".join(["59"] * 60), "<<", "=", "&a x",
                     "*a", "&a {<<: *a}", "[*a]", "{x: 1}", "[1, 2]", "{? [a]: b}", "'\\x00'", '"\\x07"', "|\n  x"]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12).map(json.dumps),
)
SLOTS = [
    ("every_days: 30", "every_days: {}"),
    ("roles: [AppRole]", "roles: [{}]"),
    ("kind: api-key", "kind: api-key\n    description: {}"),
    ("kind: api-key", "kind: api-key\n    tags: {{owner: {}}}"),
    ("kind: api-key", "kind: api-key\n    tags: {{{}: x}}"),
    ("kind: api-key", "kind: api-key\n    replicas: [{}]"),
    ("kind: api-key", "kind: api-key\n    recovery_window_days: {}"),
    ("kind: api-key", "kind: api-key\n    {}: 1"),
    ("value: {from_config: appApiKey}", "format: json\n    value: {{generate: {{key: password}}, template: {{port: {}}}}}"),
    ("primary_region: us-east-1", "primary_region: {}"),
    ('prod-app: "222222222222"', '{}: "222222222222"'),
    ("name: prod/app/api-key", "name: {}"),
    ("rotation: {function: api-key-rotator, every_days: 30}", "rotation: {{enabled: false, reason: {}}}"),
    ("kind: api-key", "kind: api-key\n    <<: {}"),
]


@st.composite
def scalars(draw) -> tuple[str, bool]:
    """A scalar as written in YAML, and whether a credential was planted in it."""
    form = draw(SCALAR_FORMS)
    planted = draw(st.booleans())
    if planted:
        credential = draw(st.sampled_from(PLANTED))
        separator = draw(st.sampled_from(["", " ", "-", "/", ":", "_"]))
        form = draw(st.sampled_from([credential, f"{form}{separator}{credential}", f"{credential}{separator}{form}"]))
        if draw(st.booleans()):
            form = json.dumps(form)
    return draw(st.sampled_from(TAGS)) + form, planted


@FUZZ
@given(scalar=scalars(), slot=st.sampled_from(SLOTS), header_credential=st.booleans())
def test_any_tag_or_scalar_form_is_a_message_not_a_traceback(scalar, slot, header_credential):
    text, _ = scalar
    written, replacement = slot
    document = declaration(VALID_SECRET).replace(written, replacement.format(text))
    if header_credential:
        document = document.replace("prod-app: \"222222222222\"", f"{PLANTED[0]}: \"222222222222\"")
    with tempfile.TemporaryDirectory() as folder:
        file = Path(folder) / "prod.yaml"
        file.write_text(document, encoding="utf-8", errors="surrogatepass")
        started = time.monotonic()
        for output in ("text", "json"):
            result = run_main("validate", "--format", output, str(file))
            assert result.returncode in (0, 1, 2), result
            assert "Traceback" not in result.stdout + result.stderr
            for credential in PLANTED:
                assert credential not in result.stdout + result.stderr, document
        assert time.monotonic() - started < SECONDS_PER_RUN


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=10),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(
        st.sampled_from(["enforcementLevel", "minimumDays", "maximumDays", "allowedAccounts", "requiredTags",
                         "allowedRegions", "environment", "x"]) | st.text(max_size=6), children, max_size=3),
    max_leaves=12,
)
POLICY_NAMES = st.sampled_from(["all", "secret-recovery-window", "secret-rotation-max-interval", "secret-protected",
                                "secret-policy-allowed-accounts", "secret-required-tags", "secret-recovery-windw"])
LEVELS = st.sampled_from(["advisory", "mandatory", "remediate", "disabled", "Mandatory", ""])
CONFIGS = st.one_of(
    st.dictionaries(POLICY_NAMES | st.text(max_size=8), LEVELS | JSON_VALUES, max_size=4).map(json.dumps),
    JSON_VALUES.map(json.dumps),
)
CONFIG_BYTES = st.one_of(
    CONFIGS.map(str.encode),
    CONFIGS.map(lambda text: text.encode("utf-16")),
    CONFIGS.map(lambda text: text.encode("utf-16-le")),
    st.binary(max_size=64),
    st.integers(1, 5000).map(lambda depth: ("[" * depth + "]" * depth).encode()),
)


@FUZZ
@given(content=CONFIG_BYTES)
def test_any_policy_config_is_refused_with_exit_2_or_accepted(content):
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "config.json"
        config.write_bytes(content)
        # An invalid declaration: an accepted config goes on to it (exit 1) without running the simulation.
        invalid = Path(folder) / "prod.yaml"
        invalid.write_text("environment: prod\n")
        result = run_main("preview", str(invalid), "--policy-config", str(config))
    assert "Traceback" not in result.stdout + result.stderr
    if result.returncode == 2:
        assert result.stderr.startswith("secrets-layout preview: error: invalid policy config:\n  ")
        assert str(config) in result.stderr
    else:
        assert result.returncode == 1 and result.stdout.startswith(f"{invalid}:1:1: "), result


FILE_NAMES = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00"),
                     min_size=1, max_size=40).filter(lambda name: name not in (".", "..") and len(name.encode()) < 200)


@FUZZ
@given(name=FILE_NAMES, exists=st.booleans())
def test_any_file_name_is_printed_on_one_line_without_control_characters(name, exists):
    with tempfile.TemporaryDirectory() as folder:
        if exists:
            (Path(folder) / name).write_text(declaration(VALID_SECRET))
        result = run_main("validate", "--", name, cwd=Path(folder))
    output = result.stdout if exists else result.stderr
    assert result.returncode == (0 if exists else 2)
    assert output.count("\n") == 1 and output.endswith("\n")
    assert not any(ord(character) < 32 or 0x7F <= ord(character) <= 0x9F or character in "\u2028\u2029"
                   for character in output[:-1])
    assert not output.startswith("::")
