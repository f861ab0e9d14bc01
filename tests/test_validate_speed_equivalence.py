"""What validate computes faster (issue 14, item 2) gives the answers the slower way gave.

Credentials: `credentials.might_fire` clears a `key: "value"` line without running detect-secrets
when no plugin can fire on it. It is derived from the plugins' own patterns (pinned below, so an
upgrade of detect-secrets that changes them fails here first), and checked against the plugins
themselves: over generated lines, over every string literal of the test suite, and on a table.
"""

from __future__ import annotations

import ast
import math
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secrets_layout.declaration import credentials
from secrets_layout.declaration.credentials import credential_findings, credential_texts, might_fire

TESTS = Path(__file__).parent


@pytest.fixture(scope="module")
def plugins():
    from detect_secrets.settings import default_settings, get_plugins

    with default_settings():
        yield list(get_plugins())


def fired(plugins, line: str) -> list[str]:
    """Every plugin that reports something in the line, before any heuristic filter."""
    return sorted({type(plugin).__name__ for plugin in plugins
                   if plugin.analyze_line(filename="declaration.yaml", line=line, line_number=1)})


def reference_findings(plugins, literals) -> list[list[str]]:
    """credential_findings as it was before the prefilter: every string scanned by every plugin."""
    result = []
    for key, value in literals:
        if value is None or isinstance(value, bool) or value == "":
            result.append([])
            continue
        reasons = ["credential field name"] if credentials.is_credential_key(key) else []
        if isinstance(value, str) and not credentials._AWS_ARN.match(value):
            reasons.extend(credentials._line_findings(plugins, credentials._scanned_line(key, value)))
        result.append(reasons)
    return result


PINNED_PATTERNS = {
    "ArtifactoryDetector": 2, "AWSKeyDetector": 2, "AzureStorageKeyDetector": 1, "BasicAuthDetector": 1,
    "CloudantDetector": 4, "DiscordBotTokenDetector": 1, "GitHubTokenDetector": 1, "GitLabTokenDetector": 7,
    "Base64HighEntropyString": 0, "HexHighEntropyString": 0, "IbmCloudIamDetector": 1, "IbmCosHmacDetector": 1,
    "IPPublicDetector": 1, "JwtTokenDetector": 1, "KeywordDetector": 0, "MailchimpDetector": 1, "NpmDetector": 1,
    "OpenAIDetector": 1, "PrivateKeyDetector": 8, "PypiTokenDetector": 2, "SendGridDetector": 1, "SlackDetector": 2,
    "SoftlayerDetector": 2, "SquareOAuthDetector": 1, "StripeDetector": 1, "TelegramBotTokenDetector": 1,
    "TwilioKeyDetector": 2,
}


def test_the_plugins_are_those_the_prefilter_was_derived_from(plugins):
    """might_fire was derived from detect-secrets 1.5.0's default plugins; a new plugin, another
    pattern or another entropy limit means deriving it again (see the comment on _MIGHT_FIRE)."""
    import detect_secrets.plugins.keyword as keyword
    from importlib.metadata import version

    assert version("detect-secrets") == "1.5.0"
    assert {type(plugin).__name__: len(getattr(plugin, "denylist", ())) for plugin in plugins} == PINNED_PATTERNS
    limits = {type(plugin).__name__: plugin.entropy_limit for plugin in plugins if hasattr(plugin, "entropy_limit")}
    assert limits == {"Base64HighEntropyString": 4.5, "HexHighEntropyString": 3.0}
    assert keyword.DENYLIST == ("api_?key", "auth_?key", "service_?key", "account_?key", "db_?key", "database_?key",
                                "priv_?key", "private_?key", "client_?key", "db_?pass", "database_?pass", "key_?pass",
                                "password", "passwd", "pwd", "secret", "contraseña", "contrasena")
    # Shannon entropy is at most log2(distinct characters): the bounds might_fire relies on.
    assert 2 ** 4.5 > 22 and math.log2(8) == 3.0


def test_the_plugins_run_under_detect_secrets_default_settings(monkeypatch):
    """As a scan runs them, whatever settings the process holds (verification, say, would call out)."""
    from detect_secrets.plugins.aws import AWSKeyDetector
    from detect_secrets.settings import get_settings, transient_settings

    seen = []
    analyze_line = AWSKeyDetector.analyze_line

    def recording(self, *args, **kwargs):
        seen.append(sorted(get_settings().plugins))
        return analyze_line(self, *args, **kwargs)

    monkeypatch.setattr(AWSKeyDetector, "analyze_line", recording)
    with transient_settings({"plugins_used": []}):
        assert credential_findings([("value", "AKIAIOSFODNN7EXAMPLF")]) == [["AWS Access Key"]]
        assert credential_texts(["AKIAIOSFODNN7EXAMPLF"]) == {"AKIAIOSFODNN7EXAMPLF"}
    assert seen == [sorted(PINNED_PATTERNS)] * 2


ONE_PER_PLUGIN = [
    # (value, the plugin that fires on `value: "<value>"`)
    ("AKCp5bh3c1XuUfYx9Q2mNzR", "ArtifactoryDetector"),
    ("AKIAIOSFODNN7EXAMPLF", "AWSKeyDetector"),
    ("https://admin:hunter2@db.example.com", "BasicAuthDetector"),
    ("ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8", "GitHubTokenDetector"),
    ("glpat-" + "a1B2c3D4e5F6g7H8i9J0", "GitLabTokenDetector"),
    ("8.8.4.4", "IPPublicDetector"),
    ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", "JwtTokenDetector"),
    ("-----BEGIN RSA PRIVATE KEY-----", "PrivateKeyDetector"),
    ("xoxb-1-a", "SlackDetector"),
    ("sk_live_" + "a1B2c3D4e5F6g7H8i9J0k1L2", "StripeDetector"),
    ("AC" + "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6", "TwilioKeyDetector"),
    ("f3a9c1e7b2d8046a", "HexHighEntropyString"),
    ("Zx8Qp2Lm7Vt4Rk9Wn3Yb6Hc1Jd5Gf0Sa", "Base64HighEntropyString"),
    ("my_password: hunter2", "KeywordDetector"),
]


@pytest.mark.parametrize(("value", "plugin"), ONE_PER_PLUGIN)
def test_a_line_a_plugin_fires_on_passes_the_prefilter(plugins, value, plugin):
    line = credentials._scanned_line("value", value)
    assert plugin in fired(plugins, line)
    assert might_fire(line)


@pytest.mark.parametrize("value", [
    "svc-00000.db.prod.internal", "platform-team", "svc_00000_app", "cc-1001", "111111111111", "payments",
    "Database credentials of the svc-00000 service (payments team)", "2024-01-31", "v1.2",
    "deadbeef",  # 8 hex digits but 6 distinct: at most 2.6 bits, under the hex limit of 3.0
])
def test_a_line_no_plugin_fires_on_is_cleared(plugins, value):
    line = credentials._scanned_line("value", value)
    assert fired(plugins, line) == []
    assert not might_fire(line)


_FRAGMENTS = ["AKC", "AP", "AKIA", "ghp_", "glpat-", "://", "@", ":", ".", "eyJ", "xoxb-", "sk_live_", "AC", "SK",
              "pass", "PWD", "secret", "api_key", "contraseña", "BEGIN RSA PRIVATE KEY", "_authToken=", "//", "=",
              "8", "25", "192.", "1.", "\\", '"', "'", " ", "-", "_", "T3BlbkFJ", "sq0csp-", "SG.", "pypi-", "us1"]
_TOKEN_CHARACTERS = string.ascii_letters + string.digits + "+/=_-\\."
_tokens = st.text(alphabet=_TOKEN_CHARACTERS, min_size=6, max_size=70)
_hex = st.text(alphabet=string.hexdigits, min_size=6, max_size=40)
_pieces = st.one_of(st.sampled_from(_FRAGMENTS), _tokens, _hex, st.text(max_size=6),
                    st.integers(0, 300).map(str))
_values = st.lists(_pieces, max_size=8).map("".join)
_keys = st.one_of(st.sampled_from(["value", "password", "host", "description", "aws_key", "cloudant_pwd",
                                   "ibm_cloud_api_key", "softlayer_api_key", "cos_secret_access_key", "tag"]),
                  _values)


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(key=_keys, value=_values)
def test_the_prefilter_never_clears_a_line_a_plugin_fires_on(plugins, key, value):
    line = credentials._scanned_line(key, value)
    if fired(plugins, line):
        assert might_fire(line), line


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(key=_keys, value=_values)
def test_a_plugin_left_out_of_a_line_never_fires_on_it(plugins, key, value):
    """credentials._may_fire: the keyword and npm plugins only get lines holding what their patterns need."""
    line = credentials._scanned_line(key, value)
    for plugin in plugins:
        if not credentials._may_fire(plugin, line):
            assert not plugin.analyze_line(filename="declaration.yaml", line=line, line_number=1), (plugin, line)


@settings(max_examples=300, deadline=None)
@given(literals=st.lists(st.tuples(_keys, st.one_of(_values, st.none(), st.booleans(), st.integers())), max_size=6))
def test_credential_findings_equal_the_scan_of_every_string(plugins, literals):
    assert credential_findings(literals) == reference_findings(plugins, literals)


def _test_suite_strings() -> list[str]:
    """Every string literal of the tests: the credential-looking ones the suite was written with."""
    found: set[str] = set()
    for file in sorted(TESTS.rglob("*.py")):
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and 0 < len(node.value) < 2000:
                found.add(node.value)
    return sorted(found)


def test_the_test_suites_literals_get_the_findings_they_got_before(plugins):
    texts = _test_suite_strings()
    assert len(texts) > 1000
    literals = [(key, text) for text in texts for key in ("value", "password", "description")]
    new, old = credential_findings(literals), reference_findings(plugins, literals)
    assert new == old
    flagged = sum(1 for reasons in old if set(reasons) - {"credential field name"})
    assert flagged > 50  # the comparison covers real findings, not only cleared lines
    for text in texts:
        line = credentials._scanned_line("value", text)
        assert might_fire(line) or not fired(plugins, line), text


def test_redaction_flags_what_the_scan_flags(plugins):
    texts = _test_suite_strings()
    expected = {text for text in texts if not credentials._AWS_ARN.match(text)
                and credentials._line_findings(plugins, credentials._scanned_line("value", text))}
    assert credential_texts(texts) == expected


# YAML: the composer with memoised tags builds the node graph PyYAML's own CSafeLoader builds, and
# load_yaml builds the data PyYAML's safe loader builds, with the positions of the nodes it composed.

REPOSITORY = TESTS.parent
DECLARATIONS = sorted((REPOSITORY / "environments").glob("*.yaml"))


def _nodes(node, seen=None):
    """The node graph as comparable tuples (aliases: the anchored node once, then its position)."""
    import yaml

    seen = set() if seen is None else seen
    where = (node.start_mark.line, node.start_mark.column, node.end_mark.line, node.end_mark.column)
    if id(node) in seen:
        return ("alias", where)
    seen.add(id(node))
    if isinstance(node, yaml.ScalarNode):
        return (node.tag, node.value, node.style, where)
    if isinstance(node, yaml.SequenceNode):
        return (node.tag, where, [_nodes(item, seen) for item in node.value])
    return (node.tag, where, [(_nodes(key, seen), _nodes(value, seen)) for key, value in node.value])


def _compose_both(text: str):
    import yaml

    from secrets_layout.declaration import yaml_source

    return yaml.compose(text, Loader=yaml.CSafeLoader), yaml.compose(text, Loader=yaml_source._Loader)


_scalars = st.one_of(
    st.text(max_size=12), st.integers(-10**6, 10**6), st.booleans(), st.none(),
    st.sampled_from(["yes", "No", "~", "null", "0777", "1:30", "0x1F", "1_000", ".nan", "-.inf", "2024-01-31",
                     "12.5", "1e3", "=", "<<", "on", "OFF", "!", "'quoted'", "0b101", "+12", "-0"]),
)


def _nested(scalars):
    """Documents of lists and mappings (text and integer keys) around `scalars`."""
    return st.recursive(
        scalars,
        lambda children: st.one_of(st.lists(children, max_size=4),
                                   st.dictionaries(st.one_of(st.text(max_size=8), st.integers(0, 99)), children, max_size=4)),
        max_leaves=25,
    )


_documents = _nested(_scalars)


@settings(max_examples=400, deadline=None)
@given(document=_documents, flow=st.sampled_from([None, True, False]))
def test_memoised_tags_compose_the_graph_pyyaml_composes(document, flow):
    import yaml

    text = yaml.safe_dump(document, default_flow_style=flow, allow_unicode=True)
    plain, memoised = _compose_both(text)
    assert _nodes(memoised) == _nodes(plain)


@pytest.mark.parametrize("text", [
    "a: &x {b: 1, c: [yes, ~, 0o17]}\nd: *x\ne: {<<: *x, b: 2}\n",
    "- !!str 12\n- !!int '7'\n- ! plain\n- '1.5'\n- 1.5\n- \"true\"\n- true\n- =\n",
    "key: |\n  literal\n  text\nother: >\n  folded\n",
    "? complex\n: value\n[1, 2]: flow key\n",
    *(file.read_text(encoding="utf-8") for file in DECLARATIONS),
], ids=lambda text: text[:20])
def test_memoised_tags_compose_the_graph_pyyaml_composes_on_a_table(text):
    plain, memoised = _compose_both(text)
    assert _nodes(memoised) == _nodes(plain)


def test_a_loader_with_path_resolvers_keeps_pyyamls_own_resolution():
    import yaml

    from secrets_layout.declaration import yaml_source

    class WithPaths(yaml_source._Loader):
        pass

    yaml.add_path_resolver("!team", ["a"], dict, Loader=WithPaths)
    assert "resolve" not in vars(WithPaths("x: 1"))
    assert "resolve" in vars(yaml_source._Loader("x: 1"))
    assert yaml.compose("a: {b: 1}", Loader=WithPaths).value[0][1].tag == "!team"


def _reference_positions(node, path=(), values=None, keys=None):
    """Where each path was written, walked from PyYAML's own composition (no aliases or merges)."""
    import yaml

    values = {} if values is None else values
    keys = {} if keys is None else keys
    values.setdefault(path, (node.start_mark.line, node.start_mark.column))
    if isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _reference_positions(item, path + (index,), values, keys)
    elif isinstance(node, yaml.MappingNode):
        constructor = yaml.constructor.SafeConstructor()
        for key_node, value_node in node.value:
            key = constructor.construct_object(key_node)
            key = key if isinstance(key, str | int) and not isinstance(key, bool) else str(key_node.value)
            keys[path + (key,)] = (key_node.start_mark.line, key_node.start_mark.column)
            _reference_positions(value_node, path + (key,), values, keys)
    return values, keys


_plain_documents = _nested(st.one_of(st.text(max_size=12), st.integers(-10**6, 10**6), st.booleans(), st.none()))


@settings(max_examples=400, deadline=None)
@given(document=_plain_documents, flow=st.sampled_from([None, True, False]))
def test_load_yaml_reads_what_pyyaml_reads_where_pyyaml_composed_it(document, flow):
    import yaml

    from secrets_layout.declaration.yaml_source import load_yaml

    text = yaml.safe_dump(document, default_flow_style=flow, allow_unicode=True)
    data, source_map = load_yaml(text, "x.yaml")
    assert data == yaml.load(text, Loader=yaml.CSafeLoader)  # (not always `document`: U+0085 reads back as a space)
    values, keys = _reference_positions(yaml.compose(text, Loader=yaml.CSafeLoader))
    assert {path: (mark.line, mark.column) for path, mark in source_map.values.items()} == values
    assert {path: (mark.line, mark.column) for path, mark in source_map.keys.items()} == keys


# Defaults: _Copies gives the source map SourceMap.alias gives.

def _merged_both_ways(text: str, monkeypatch):
    from secrets_layout.declaration import loader
    from secrets_layout.declaration.yaml_source import load_yaml

    data, fast_map = load_yaml(text, "x.yaml")
    fast = loader.merge_defaults(data, fast_map)

    class ByAlias(loader._Copies):
        def alias(self, source, target):
            self.source_map.alias(source, target, self.origin)

    data, reference_map = load_yaml(text, "x.yaml")
    with monkeypatch.context() as patch:
        patch.setattr(loader, "_Copies", ByAlias)
        reference = loader.merge_defaults(data, reference_map)
    return (fast, _marks(fast_map.values), _marks(fast_map.keys)), \
        (reference, _marks(reference_map.values), _marks(reference_map.keys))


def _marks(table: dict) -> list:
    """A table of positions, comparable across loads (a Mark has no equality of its own)."""
    return [(path, mark.name, mark.line, mark.column) for path, mark in table.items()]


@pytest.mark.parametrize("file", DECLARATIONS, ids=lambda file: file.name)
def test_defaults_merge_to_the_same_positions(file, monkeypatch):
    fast, reference = _merged_both_ways(file.read_text(encoding="utf-8"), monkeypatch)
    assert fast == reference


_rotation = st.fixed_dictionaries({}, optional={
    "every_days": st.integers(1, 90), "schedule": st.just("rate(10 days)"), "enabled": st.booleans(),
    "managed": st.just("rds-postgresql-single-user"), "function": st.just("api-key-rotator"),
    "lambda_arn": st.just("arn:aws:lambda:us-east-1:111111111111:function:f"), "window": st.just("3h"),
    "adapter": st.fixed_dictionaries({"type": st.just("http-api-key")}), "bootstrap": st.just("database-reads-secret"),
    "vpc": st.fixed_dictionaries({"subnet_ids": st.just(["subnet-1"])}),
})
_tags = st.dictionaries(st.sampled_from(["owner", "team", "cost-center", "service"]), st.text(max_size=5), max_size=3)
_fields = {"rotation": _rotation, "tags": _tags, "replicas": st.lists(st.sampled_from(["us-west-2", "eu-west-1"])),
           "recovery_window_days": st.integers(0, 30), "description": st.text(max_size=8)}


@settings(max_examples=200, deadline=None)
@given(defaults=st.fixed_dictionaries({}, optional=_fields),
       secrets=st.lists(st.fixed_dictionaries({"name": st.text(max_size=5)}, optional=_fields), max_size=5),
       flow=st.sampled_from([None, True, False]))
def test_defaults_merge_to_the_same_positions_whatever_they_hold(defaults, secrets, flow):
    import yaml

    text = yaml.safe_dump({"defaults": defaults, "secrets": secrets}, default_flow_style=flow)
    with pytest.MonkeyPatch.context() as monkeypatch:
        fast, reference = _merged_both_ways(text, monkeypatch)
    assert fast == reference


# Characters that case folding maps onto the words' ASCII letters (re.IGNORECASE matches them).
_FOLDING = "ſKıİkKSsPpAaCcDdXx"


@settings(max_examples=2000, deadline=None)
@given(text=st.text(alphabet=_FOLDING + "ervicontashlbwd_ 0-:", max_size=30))
def test_the_first_letter_lookahead_changes_no_match(text):
    import re

    words = r"(?:api|auth|service|account|db|database|priv|private|client)_?key"
    plain = re.compile(rf"xox|pass|pwd|secret|contrase|{words}", re.IGNORECASE)
    assert bool(credentials._MIGHT_FIRE[2].search(text)) == bool(plain.search(text))


# Environment folders: a team file's positions are numbered on as before.

def _reference_add_items(target, other, offsets):
    """SourceMap.add_items's table copy as it was written before: one `moved` call per entry."""
    def moved(path):
        if len(path) < 2 or path[0] not in offsets or not isinstance(path[1], int):
            return None
        return (path[0], path[1] + offsets[path[0]], *path[2:])

    for table, other_table in ((target.values, other.values), (target.keys, other.keys)):
        for path, mark in other_table.items():
            if moved(path) is not None:
                table[moved(path)] = mark


_team_items = st.lists(st.fixed_dictionaries({"name": st.text(max_size=4)}, optional=_fields), max_size=4)


@settings(max_examples=200, deadline=None)
@given(secrets=_team_items, parameters=_team_items, other=st.dictionaries(st.sampled_from(["x", "7"]), st.integers(-1000, 1000)),
       offsets=st.fixed_dictionaries({"secrets": st.integers(0, 50), "parameters": st.integers(0, 50)}))
def test_team_file_positions_move_as_before(secrets, parameters, other, offsets):
    import yaml

    from secrets_layout.declaration.yaml_source import SourceMap, load_yaml

    text = yaml.safe_dump({"secrets": secrets, "parameters": parameters, **other})
    _, team = load_yaml(text, "team.yaml")
    fast, reference = SourceMap("settings.yaml"), SourceMap("settings.yaml")
    fast.add_items(team, offsets)
    _reference_add_items(reference, team, offsets)
    assert _marks(fast.values) == _marks(reference.values) and _marks(fast.keys) == _marks(reference.keys)


# credential_findings works out each key's verdict and each (key, value)'s scanned line once per call
# (round 2): repeated keys, repeated values, ARNs among them and non-strings must give what the
# per-literal reference gives.
_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-master-AbCdEf"


@pytest.mark.parametrize("literals", [
    [("password", "hunter2"), ("password", "hunter2"), ("db_password", "hunter2")],
    [("masterarn", _ARN), ("masterarn", _ARN), ("secret", _ARN), ("secret", "x")],
    [("token", None), ("token", True), ("token", ""), ("token", 3), ("token", "ghp_" + "a" * 36)],
    [("host", "db.internal"), ("host", "db.internal"), ("aws_key", "AKIA" + "B" * 16), ("tag", "AKIA" + "B" * 16)],
    [],
], ids=["repeated-keyword", "arns", "non-strings", "repeated-values", "empty"])
def test_credential_findings_with_repeats_equal_the_reference_on_a_table(plugins, literals):
    assert credential_findings(literals) == reference_findings(plugins, literals)


_few_keys = st.sampled_from(["password", "masterarn", "host", "aws_key", "tag"])
_few_values = st.one_of(st.sampled_from([_ARN, "hunter2", "AKIA" + "B" * 16, "db.internal", ""]), _values,
                        st.none(), st.booleans(), st.integers())


@settings(max_examples=200, deadline=None)
@given(literals=st.lists(st.tuples(_few_keys, _few_values), max_size=12))
def test_credential_findings_with_repeats_equal_the_reference(plugins, literals):
    assert credential_findings(literals) == reference_findings(plugins, literals)
