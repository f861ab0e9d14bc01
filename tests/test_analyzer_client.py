"""secrets_layout/engine/analyzer_client.py (the process), analyzer_messages.py (the protocol), analyzer_errors.py,
and the config reconciliation the client applies."""

from __future__ import annotations

import os
import textwrap
import time

import pytest

from policy_support import PACK_DIR, SECRET, config_file, layout, replace
from secrets_layout.engine import analyzer_messages
from secrets_layout.engine.analyzer_client import AnalyzerClient, analyze_resources
from secrets_layout.engine.analyzer_errors import AnalyzerError, PolicyPackCrashed, PolicyPackStartError
from secrets_layout.engine.analyzer_messages import UNKNOWN, Provider, Resource, make_urn, secret, to_struct
from secrets_layout.engine.policy_config import PolicyConfigError, PolicyInfo, load_policy_config, reconcile_config


def fake_pack(tmp_path, main: str):
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "PulumiPolicy.yaml").write_text("runtime: python\n")
    (pack / "__main__.py").write_text(textwrap.dedent(main))
    return pack


def gone(pid: int) -> bool:
    for _ in range(50):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        try:
            waited, _ = os.waitpid(pid, os.WNOHANG)
            if waited == pid:
                return True
        except ChildProcessError:
            return True
        time.sleep(0.05)
    return False


CRASHING_POLICY_PACK = """
    import os
    from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy

    def validate(args, report):
        if args.name == "exit":
            os._exit(3)
        if args.name == "raise":
            raise RuntimeError("rule bug")
        report("seen " + args.name)

    PolicyPack("fake", [ResourceValidationPolicy(name="p", description="d", validate=validate,
                                                 enforcement_level=EnforcementLevel.MANDATORY)])
"""


# ------------------------------------------------------------------------------------------------
# Pure parts
# ------------------------------------------------------------------------------------------------


def test_make_urn():
    assert make_urn(SECRET, "db") == "urn:pulumi:dev::secrets-layout::aws:secretsmanager/secret:Secret::db"
    assert make_urn(SECRET, "db", stack="prod", project="p", parent_type="secrets:index:Secret") == (
        "urn:pulumi:prod::p::secrets:index:Secret$aws:secretsmanager/secret:Secret::db")


def test_to_struct_keeps_unknowns_and_nesting():
    struct = to_struct({"a": UNKNOWN, "n": 7, "l": [1, {"b": None}], "t": ("x",), "s": secret("v")})
    assert struct["a"] == UNKNOWN and struct["n"] == 7.0
    assert list(struct["l"])[1]["b"] is None and list(struct["t"]) == ["x"]
    assert struct["s"]["value"] == "v"
    with pytest.raises(TypeError, match=r"properties\.bad: object values cannot be sent"):
        to_struct({"bad": object()})


def test_to_struct_sends_assets_and_archives_like_the_engine():
    import pulumi

    struct = to_struct({"code": pulumi.AssetArchive({"index.py": pulumi.StringAsset("print(1)")}),
                        "file": pulumi.FileArchive("./lambda")})
    sig = "4dabf18193072939515e22adb298388d"
    assert struct["code"][sig] == "0def7320c3a5731c473e5ecbe6d01bc7"
    assert struct["code"]["assets"]["index.py"]["text"] == "print(1)"
    assert struct["file"]["path"] == "./lambda"


POLICIES = [
    PolicyInfo("a", "A", "mandatory", "resource",
               {"properties": {"days": {"type": "integer", "minimum": 1, "default": 5}}, "required": []}),
    PolicyInfo("b", "B", "advisory", "resource", None),
]


def test_reconcile_config_like_the_cli():
    assert reconcile_config(POLICIES) == {"a": {"enforcementLevel": "mandatory", "properties": {"days": 5}},
                                          "b": {"enforcementLevel": "advisory", "properties": {}}}
    merged = reconcile_config(POLICIES, {"a": {"days": 9}, "b": "disabled"})
    assert merged["a"] == {"enforcementLevel": "mandatory", "properties": {"days": 9}}
    assert merged["b"]["enforcementLevel"] == "disabled"
    assert {v["enforcementLevel"] for v in reconcile_config(POLICIES, {"all": "advisory"}).values()} == {"advisory"}
    # the pack's own initial config applies before the file
    assert reconcile_config(POLICIES, None, {"a": {"days": 2}})["a"]["properties"] == {"days": 2}
    with pytest.raises(PolicyConfigError, match="a: days: 0 is less than the minimum of 1"):
        reconcile_config(POLICIES, {"a": {"days": 0}})


def test_load_policy_config_errors(tmp_path):
    path = tmp_path / "c.json"
    with pytest.raises(PolicyConfigError, match="cannot read policy pack config"):
        load_policy_config(path)
    path.write_text("{nope")
    with pytest.raises(PolicyConfigError, match="not valid JSON"):
        load_policy_config(path)
    path.write_text("[1]")
    with pytest.raises(PolicyConfigError, match="must be a JSON object"):
        load_policy_config(path)
    path.write_text("")
    assert load_policy_config(path) == {}
    path.write_text('{"x": "mandatory", "y": {"k": 1}}')
    assert load_policy_config(path) == {"x": {"enforcementLevel": "mandatory"}, "y": {"k": 1}}


# ------------------------------------------------------------------------------------------------
# The process
# ------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_start_analyze_and_shut_down():
    client = AnalyzerClient(PACK_DIR)
    with client:
        assert client.running and client.port
        pid = client.pid
        assert client.info().name == "secrets-layout"
        assert client.plugin_version()
        result = client.analyze(replace(layout("prod"), SECRET, protect=False)[4])  # defaults only
        assert [v.policy for v in result.violations] == ["secret-protected"]
    assert not client.running and gone(pid)
    client.close()  # idempotent


@pytest.mark.slow
def test_secret_values_reach_the_rules_unwrapped():
    resources = layout("prod")
    for resource in resources:
        if resource.type == SECRET:
            resource.properties = dict(resource.properties, name=secret("prod/orders/database"))
    assert analyze_resources(resources, config_file=config_file("prod")).violations == []


@pytest.mark.slow
def test_many_resources_in_one_process():
    resources = []
    for i in range(60):
        resources += layout("prod", logical=f"db-{i}")
    result = analyze_resources(resources, config_file=config_file("prod"))
    assert result.violations == []
    broken = [replace([r], SECRET, protect=False)[0] if r.type == SECRET and r.name.endswith("7") else r
              for r in resources]
    found = analyze_resources(broken, config_file=config_file("prod")).violations
    assert [v.urn for v in found] == [make_urn(SECRET, f"db-{i}", stack="prod") for i in (7, 17, 27, 37, 47, 57)]


def test_missing_pack():
    with pytest.raises(PolicyPackStartError, match="__main__.py is missing"):
        AnalyzerClient("/nonexistent/pack").start()


@pytest.mark.slow
def test_pack_that_fails_to_load(tmp_path):
    pack = fake_pack(tmp_path, "raise RuntimeError('broken policy module')\n")
    with pytest.raises(PolicyPackStartError) as caught:
        AnalyzerClient(pack).start()
    message = str(caught.value)
    assert "exited with code 1 before it printed its port" in message
    assert "RuntimeError: broken policy module" in message


@pytest.mark.slow
def test_pack_that_prints_before_its_port(tmp_path):
    pack = fake_pack(tmp_path, "print('hello')\nimport time\ntime.sleep(30)\n")
    client = AnalyzerClient(pack)
    with pytest.raises(PolicyPackStartError, match="printed 'hello' instead of its port"):
        client.start()
    assert not client.running


@pytest.mark.slow
def test_pack_that_never_starts(tmp_path):
    pack = fake_pack(tmp_path, "import sys, time\nsys.stderr.write('warming up\\n')\ntime.sleep(30)\n")
    # Long enough for the pack's interpreter to start and say it is warming up on a busy machine (make test
    # runs a worker per CPU): 1 s was not, at times.
    client = AnalyzerClient(pack, startup_timeout=5)
    with pytest.raises(PolicyPackStartError) as caught:
        client.start()
    assert "did not print its port within 5s" in str(caught.value)
    assert "warming up" in str(caught.value)
    assert not client.running


@pytest.mark.slow
def test_pack_crash_and_rule_errors_are_reported(tmp_path):
    pack = fake_pack(tmp_path, CRASHING_POLICY_PACK)
    with AnalyzerClient(pack) as client:
        [seen] = client.analyze(Resource("t:m:R", "fine", {})).violations
        assert (seen.policy, seen.level, seen.message, seen.detail) == ("p", "mandatory", "d\nseen fine", "seen fine")
        with pytest.raises(AnalyzerError) as bug:
            client.analyze(Resource("t:m:R", "raise", {}))
        assert "Analyze failed: UNKNOWN" in str(bug.value) and "rule bug" in str(bug.value)
        with pytest.raises(PolicyPackCrashed, match=r"exited \(code 3\) during Analyze"):
            client.analyze_many([Resource("t:m:R", "fine", {}), Resource("t:m:R", "exit", {})])
    with pytest.raises(AnalyzerError, match="not started"):
        client.analyze(Resource("t:m:R", "fine", {}))


def test_a_provider_shared_by_resources_is_converted_once_and_sent_whole(monkeypatch):
    """A preview's thousands of resources share a few Provider objects: each becomes a message once,
    and every request carries the message an unshared conversion gives."""
    from secrets_layout.engine import analyzer_client

    convert = analyzer_messages.provider_message
    converted = []
    monkeypatch.setattr(analyzer_client, "provider_message",
                        lambda provider: converted.append(provider) or convert(provider))
    client = AnalyzerClient(PACK_DIR)
    west = Provider("pulumi:providers:aws", "west", {"region": "us-west-2", "defaultTags": {"tags": {"env": "prod"}}},
                    urn="urn:pulumi:prod::secrets-layout::pulumi:providers:aws::west")
    requests = [client._analyze_request(Resource(SECRET, f"s{index}", {"name": f"prod/s{index}"}, provider=west))
                for index in range(3)]
    assert converted == [west]
    assert [request.provider for request in requests] == [convert(west)] * 3

    equal_but_another = Provider(west.type, west.name, dict(west.properties), urn=west.urn)
    client._analyze_request(Resource(SECRET, "s3", {"name": "prod/s3"}, provider=equal_but_another))
    assert converted == [west, equal_but_another]


def test_the_default_pack_is_the_checkouts_policies_folder():
    """In a checkout or an editable install the pack is policies/ at the repository's top (a wheel's
    is secrets_layout/policies: tests/test_install.py), wherever in the package this module lives."""
    from secrets_layout.engine.analyzer_client import DEFAULT_PACK_DIR

    assert (DEFAULT_PACK_DIR, (DEFAULT_PACK_DIR / "PulumiPolicy.yaml").is_file()) == (PACK_DIR.resolve(), True)
