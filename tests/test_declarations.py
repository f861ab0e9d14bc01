"""The declaration layer: examples, defaults merging, file-level limits, positions."""

from __future__ import annotations

from pathlib import Path

import pytest

from declaration_support import HEADER, VALID_SECRET, declaration, issues_of, load
from secrets_layout.declaration.loader import load_declaration
from secrets_layout.declaration.models import SecretFormat
from secrets_layout.errors import DeclarationError, format_path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ["dev", "staging", "prod", "shared-services"]


@pytest.mark.parametrize(("environment", "secrets", "parameters"), [
    ("dev", 3, 2), ("staging", 3, 1), ("prod", 5, 3), ("shared-services", 3, 2),
])
def test_example_environment_is_valid(environment, secrets, parameters):
    loaded = load_declaration(ROOT / "environments" / f"{environment}.yaml")
    assert loaded.declaration.environment == environment
    assert (len(loaded.declaration.secrets), len(loaded.declaration.parameters)) == (secrets, parameters)


@pytest.mark.parametrize(("environment", "interval"), [
    ("dev", {"every_days": 7}), ("staging", {"every_days": 30}),
    ("prod", {"every_days": 30}), ("shared-services", {"every_days": 60}),
])
def test_examples_carry_the_seed_rotation_schedule(environment, interval):
    loaded = load_declaration(ROOT / "environments" / f"{environment}.yaml")
    assert loaded.declaration.defaults.rotation.model_dump(exclude_none=True, exclude_defaults=True) == interval


def test_prod_replicates_to_two_regions_in_the_security_account():
    prod = load_declaration(ROOT / "environments" / "prod.yaml").declaration
    assert prod.security_account == "111111111111"
    assert prod.regions == ["us-east-1", "us-west-2", "eu-west-1"]


MERGE_CASES = [
    pytest.param("", "replicas", ["us-west-2"], id="list-inherited"),
    pytest.param("    replicas: []\n", "replicas", [], id="list-replaced"),
    pytest.param("", "tags", {"owner": "platform-team", "team": "core"}, id="mapping-inherited"),
    pytest.param("    tags: {owner: payments}\n", "tags", {"owner": "payments", "team": "core"}, id="mapping-merged-own-key-wins"),
    pytest.param("", "recovery_window_days", 14, id="scalar-inherited"),
    pytest.param("    recovery_window_days: 7\n", "recovery_window_days", 7, id="scalar-replaced"),
]

DEFAULTS = """\
defaults:
  recovery_window_days: 14
  replicas: [us-west-2]
  rotation: {every_days: 30, window: 2h}
  tags: {owner: platform-team, team: core}
"""
ADAPTER = 'adapter: {type: http-api-key, create_url: "https://api.keys.example/v1/keys", verify_url: "https://api.keys.example/v1/keys/self"}'
"""The bundled function's settings, which every function: api-key-rotator rotation declares."""
SECRET_WITHOUT_ROTATION = """\
secrets:
  - name: prod/app/api-key
    kind: api-key
    value: {from_config: appApiKey}
"""


@pytest.mark.parametrize(("override", "field", "expected"), MERGE_CASES)
def test_defaults_merge_into_each_secret(override, field, expected):
    text = declaration(DEFAULTS + SECRET_WITHOUT_ROTATION + f"    rotation: {{function: api-key-rotator, {ADAPTER}}}\n" + override)
    secret = load(text).declaration.secrets[0]
    assert getattr(secret, field) == expected


@pytest.mark.parametrize(("rotation", "expected"), [
    pytest.param("{function: api-key-rotator}", {"function": "api-key-rotator", "every_days": 30, "window": "2h"},
                 id="keys-merged"),
    pytest.param('{function: api-key-rotator, schedule: "rate(10 days)"}',
                 {"function": "api-key-rotator", "schedule": "rate(10 days)", "window": "2h"},
                 id="own-schedule-replaces-inherited-every-days"),
    pytest.param("{enabled: false, reason: vendor console only}", {"enabled": False, "reason": "vendor console only"},
                 id="disabled-drops-inherited-schedule"),
])
def test_rotation_merges_key_by_key(rotation, expected):
    rotation = rotation.replace("{function: api-key-rotator", "{function: api-key-rotator, " + ADAPTER)
    text = declaration(DEFAULTS + SECRET_WITHOUT_ROTATION + f"    rotation: {rotation}\n")
    secret = load(text).declaration.secrets[0]
    assert secret.rotation.model_dump(exclude_none=True, exclude_unset=True, exclude={"adapter"}, mode="json") == expected


def test_inherited_method_is_dropped_when_the_secret_names_another():
    defaults = "defaults:\n  rotation: {managed: rds-mysql-single-user, vpc: {subnet_ids: [subnet-0a1b2c3d], security_group_ids: [sg-0a1b2c3d]}, every_days: 30}\n"
    text = declaration(defaults + SECRET_WITHOUT_ROTATION + f"    rotation: {{function: api-key-rotator, {ADAPTER}}}\n")
    rotation = load(text).declaration.secrets[0].rotation
    assert (rotation.method, rotation.vpc, rotation.every_days) == ("function", None, 30)


def test_an_error_in_an_inherited_value_is_reported_once_at_defaults():
    text = declaration("defaults:\n  rotation: {every_days: 0}\n" + VALID_SECRET.replace(", every_days: 30", "") + VALID_SECRET.replace(", every_days: 30", "").split("\n", 1)[1].replace("prod/app/api-key", "prod/app/other-key"))
    issues = issues_of(text)
    assert [(issue.line, issue.path, issue.message) for issue in issues] == [
        (7, "defaults.rotation.every_days", "must be at least 1 — Rotate every N days (1-1000)."),
    ]


def test_a_rule_on_an_inherited_value_points_at_the_defaults_line():
    text = declaration("defaults:\n  replicas: [us-east-1]\n" + VALID_SECRET)
    issues = issues_of(text)
    assert [(issue.line, issue.path) for issue in issues] == [(7, "secrets[0].replicas[0]")]


# Protection never depends on the environment's name (SPEC section 10): defaults.protect decides,
# true when omitted; a secret's own protect wins over it.
@pytest.mark.parametrize(("environment", "defaults_protect", "protect", "expected"), [
    ("prod", None, None, True), ("production", None, None, True), ("prd", None, None, True),
    ("staging", None, None, True), ("dev", None, None, True),
    ("dev", False, None, False), ("prod", False, None, False), ("production", True, None, True),
    ("prod", None, False, False), ("dev", False, True, True), ("qa", True, False, False),
])
def test_protect_is_the_declarations_never_the_names(environment, defaults_protect, protect, expected):
    header = HEADER.replace("environment: prod", f"environment: {environment}")
    defaults = f"defaults:\n  protect: {str(defaults_protect).lower()}\n" if defaults_protect is not None else ""
    body = VALID_SECRET.replace("prod/", f"{environment}/") + (f"    protect: {str(protect).lower()}\n" if protect is not None else "")
    loaded = load(header + defaults + body)
    assert loaded.declaration.protects(loaded.declaration.secrets[0]) is expected
    # The keys the layout creates follow defaults.protect alone.
    assert loaded.declaration.protected_by_default is (defaults_protect is not False)


@pytest.mark.parametrize(("kind", "format_line", "expected"), [
    ("database", "", SecretFormat.JSON), ("api-key", "", SecretFormat.PLAINTEXT),
    ("api-key", "    format: json\n", SecretFormat.JSON), ("generic", "", SecretFormat.PLAINTEXT),
])
def test_format_defaults_to_json_for_databases(kind, format_line, expected):
    text = declaration(SECRET_WITHOUT_ROTATION.replace("kind: api-key", f"kind: {kind}") + format_line)
    assert load(text).declaration.secrets[0].effective_format is expected


def test_secret_position_is_its_list_item():
    loaded = load(declaration(VALID_SECRET + VALID_SECRET.split("\n", 1)[1].replace("prod/app/api-key", "prod/app/other-key")))
    assert (loaded.secret_position("prod/app/other-key").line, loaded.secret_position("prod/app/api-key").line) == (12, 7)


@pytest.mark.parametrize(("content", "line", "message"), [
    pytest.param(b"", 1, "a declaration is a mapping with environment:, security_account:, secrets: ...; see environments/schema.json", id="empty"),
    pytest.param(b"- just\n- a list\n", 1, "a declaration is a mapping with environment:, security_account:, secrets: ...; see environments/schema.json", id="list"),
    pytest.param(b"environment: prod\n---\nenvironment: dev\n", 2,
                 "YAML syntax error: but found another document; a declaration is one YAML document: remove the second '---'", id="two-documents"),
    pytest.param(b"environment: prod\nsecurity_account: \xff\n", 2, "not UTF-8 text; save the file as UTF-8", id="not-utf8"),
    pytest.param(b"environment: !!python/object:os.system ls\n", 1,
                 "unsupported YAML tag tag:yaml.org,2002:python/object:os.system; write a plain value (quote it to make it text)", id="python-tag"),
    pytest.param(b"environment: prod\n" + b"# padding\n" * 110_000, 1,
                 "file is larger than 1024 KiB; split it: an environment may be a folder with _environment.yaml "
                 "and a file of secrets per team", id="over-1-mib"),
    pytest.param(b"a: &a [*a]\n", 1, "nesting deeper than 64 levels (a recursive alias?); flatten the document", id="recursive-alias"),
])
def test_file_level_problems(tmp_path, content, line, message):
    file = tmp_path / "env.yaml"
    file.write_bytes(content)
    with pytest.raises(DeclarationError) as raised:
        load_declaration(file)
    assert [(issue.line, issue.message) for issue in raised.value.issues] == [(line, message)]
    assert raised.value.issues[0].file == str(file)


def test_merge_keys_work_and_positions_follow_the_anchor():
    text = declaration("""\
        secrets:
          - &base
            name: prod/app/api-key
            kind: api-key
            value: {from_config: appApiKey}
            rotation: {function: api-key-rotator, every_days: 30, adapter: {type: http-api-key, create_url: "https://k.example/v1", verify_url: "https://k.example/v1/self"}}
          - <<: *base
            name: prod/app/other-key
            recovery_window_days: 3
        """)
    assert [(issue.line, issue.path) for issue in issues_of(text)] == [(14, "secrets[1].recovery_window_days")]


@pytest.mark.parametrize(("path", "text"), [
    (("secrets", 0, "rotation", "every_days"), "secrets[0].rotation.every_days"),
    (("tags", "team.name"), 'tags["team.name"]'),
    ((), "(document)"),
])
def test_paths_read_like_the_yaml(path, text):
    assert format_path(path) == text


def test_the_entry_point_other_programs_import_is_the_loaders():
    """README "From another Pulumi program": `from secrets_layout.declaration import load_declaration`."""
    import secrets_layout.declaration as package
    from secrets_layout.declaration import Declaration
    from secrets_layout.declaration import load_declaration as entry_point
    from secrets_layout.declaration.models import Declaration as model

    assert (entry_point, Declaration) == (load_declaration, model)
    with pytest.raises(AttributeError, match="has no attribute 'loader_cache'"):
        package.loader_cache  # noqa: B018 (the attribute access is the test)
