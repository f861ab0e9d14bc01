"""secrets_layout.engine.simulation: a Pulumi program on the SDK's mock engine, every registration recorded."""

from __future__ import annotations

import contextlib
import ast
import inspect
import json
import os
import textwrap
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pulumi_random as random
import pytest

from secrets_layout.engine import sdk_patches
from secrets_layout.engine.fake_cloud import fake_arn_suffix
from secrets_layout.engine.recorded_values import SecretValue, mask
from secrets_layout.engine.simulation import simulate

PROJECT = "demo"


def small_program() -> None:
    """A provider, a protected key, an imported secret, a secret version and exports."""
    provider = aws.Provider("west", region="us-west-2", allowed_account_ids=["111111111111"])
    key = aws.kms.Key("key", enable_key_rotation=True, opts=pulumi.ResourceOptions(provider=provider, protect=True))
    secret = aws.secretsmanager.Secret(
        "secret",
        name="prod/app/token",
        kms_key_id=key.arn,
        opts=pulumi.ResourceOptions(
            provider=provider,
            import_="arn:aws:secretsmanager:us-west-2:111111111111:secret:prod/app/token-AbCdEf",
        ),
    )
    password = random.RandomPassword("password", length=20)
    aws.secretsmanager.SecretVersion(
        "version",
        secret_id=secret.id,
        secret_string=pulumi.Config().require_secret("token"),
        opts=pulumi.ResourceOptions(provider=provider, ignore_changes=["secret_string"], depends_on=[key]),
    )
    pulumi.export("secret_arn", secret.arn)
    pulumi.export("password", password.result)
    pulumi.export("region", pulumi.Config("aws").get("region"))


def run_small(**overrides):
    arguments = {"project": PROJECT, "stack": "prod", "secret_config": {"token": "s3cr3t-token-value"}}
    arguments.update(overrides)
    return simulate(small_program, **arguments)


def test_records_every_registration_with_its_options():
    run = run_small()
    assert [resource.name for resource in run.resources if resource.custom] == [
        resource.name for resource in run.resources
    ]
    assert {resource.name: resource.type for resource in run.resources} == {
        "west": "pulumi:providers:aws",
        "key": "aws:kms/key:Key",
        "secret": "aws:secretsmanager/secret:Secret",
        "password": "random:index/randomPassword:RandomPassword",
        "version": "aws:secretsmanager/secretVersion:SecretVersion",
    }
    key, secret, version = run.get("key"), run.get("secret"), run.get("version")
    provider_urn = run.get("west").urn
    assert key.protect is True and secret.protect is None
    assert key.provider == provider_urn and secret.provider == provider_urn
    assert run.get("password").provider is None
    assert secret.import_id == "arn:aws:secretsmanager:us-west-2:111111111111:secret:prod/app/token-AbCdEf"
    assert version.ignore_changes == ("secretString",)
    assert version.depends_on == (key.urn,)
    assert secret.urn in version.dependencies
    assert version.property_dependencies["secretId"] == (secret.urn,)
    assert version.additional_secret_outputs == ("secretBinary", "secretString", "secretStringWo")
    assert all(resource.parent == run.stack_urn for resource in run.resources)
    assert run.stack_urn == "urn:pulumi:prod::demo::pulumi:pulumi:Stack::demo-prod"
    assert key.urn == "urn:pulumi:prod::demo::aws:kms/key:Key::key"


def test_secret_values_are_wrapped_and_masked():
    run = run_small()
    version = run.get("version")
    assert version.secret_inputs == frozenset({"secretString"})
    assert isinstance(version.inputs["secretString"], SecretValue)
    assert version.inputs["secretString"].reveal() == "s3cr3t-token-value"
    assert repr(version.inputs["secretString"]) == "[secret]" and str(version.inputs["secretString"]) == "[secret]"
    # additional_secret_outputs are applied the way the engine applies them.
    assert isinstance(run.get("password").outputs["result"], SecretValue)
    assert run.secret_outputs == frozenset({"password"})
    recorded = json.dumps(
        [mask({"inputs": r.inputs, "outputs": r.outputs}) for r in run.resources] + [mask(run.outputs)]
    )
    assert "s3cr3t-token-value" not in recorded
    assert run.get("password").outputs["result"].reveal() not in recorded


def test_fake_cloud_answers_are_deterministic_and_derived_from_names():
    first, second = run_small(), run_small()
    assert first.outputs == second.outputs
    key = first.get("key")
    assert key.outputs["arn"] == f"arn:aws:kms:us-west-2:111111111111:key/{key.id}"
    # An adopted secret keeps the identity it was imported with.
    assert first.outputs["secret_arn"] == "arn:aws:secretsmanager:us-west-2:111111111111:secret:prod/app/token-AbCdEf"
    assert first.get("version").id.startswith("arn:aws:secretsmanager:us-west-2:111111111111:secret:prod/app/token-AbCdEf|")
    assert len(first.get("password").outputs["result"].reveal()) == 20


def test_created_secret_arn_suffix_is_derived_from_the_name():
    def program() -> None:
        aws.secretsmanager.Secret("s", name="prod/db/credentials")

    run = simulate(program, project=PROJECT, stack="dev", account_id="999999999999")
    suffix = fake_arn_suffix("prod/db/credentials")
    assert len(suffix) == 6 and suffix.isalpha()
    assert run.get("s").outputs["arn"] == f"arn:aws:secretsmanager:us-east-1:999999999999:secret:prod/db/credentials-{suffix}"


def test_config_with_and_without_namespace_and_default_region():
    run = run_small(config={"aws:region": "eu-central-1", "other": "x"})
    assert run.outputs["region"] == "eu-central-1"
    assert pulumi.runtime.get_config("demo:other") is None, "config is restored after the run"


def test_runs_are_independent():
    """Several runs in one process: fresh settings, config, root stack and monitor each time."""
    first = run_small()
    other = simulate(lambda: pulumi.export("only", "one"), project="other", stack="dev")
    again = run_small()
    assert other.resources == [] and other.outputs == {"only": "one"}
    assert other.stack_urn == "urn:pulumi:dev::other::pulumi:pulumi:Stack::other-dev"
    assert sorted(r.urn for r in first.resources) == sorted(r.urn for r in again.resources)
    assert first.outputs == again.outputs


def test_program_errors_propagate_and_the_next_run_works():
    def broken() -> None:
        aws.kms.Key("k")
        raise RuntimeError("declaration exploded")

    with pytest.raises(RuntimeError, match="declaration exploded"):
        simulate(broken, project=PROJECT, stack="dev")
    assert run_small().get("key").type == "aws:kms/key:Key"


def test_missing_secret_config_fails_like_pulumi():
    with pytest.raises(pulumi.ConfigMissingError, match="demo:token"):
        run_small(secret_config={})


def test_runs_a_program_file_as_the_language_host_does(tmp_path: Path):
    (tmp_path / "helper.py").write_text("NAME = 'from-helper'\n")
    (tmp_path / "__main__.py").write_text(
        textwrap.dedent(
            """
            import os
            import pulumi
            import helper  # the project directory is on sys.path

            pulumi.export("name", helper.NAME)
            pulumi.export("cwd", os.getcwd())
            pulumi.export("stack", pulumi.get_stack())
            pulumi.export("value", pulumi.Config().require("value"))
            """
        )
    )
    before = os.getcwd()
    run = simulate(tmp_path / "__main__.py", project=PROJECT, stack="qa", config={"value": "v"})
    assert run.outputs == {"name": "from-helper", "cwd": str(tmp_path), "stack": "qa", "value": "v"}
    assert os.getcwd() == before


def test_components_are_recorded_with_their_children():
    class Box(pulumi.ComponentResource):
        def __init__(self, name: str) -> None:
            super().__init__("demo:box:Box", name, None, None)
            self.key = aws.kms.Key(f"{name}-key", opts=pulumi.ResourceOptions(parent=self, protect=True))
            self.register_outputs({})

    run = simulate(lambda: Box("b"), project=PROJECT, stack="dev")
    box, key = run.get("b"), run.get("b-key")
    assert box.custom is False and box.id is None
    assert run.children(box) == [key]
    assert key.urn == "urn:pulumi:dev::demo::demo:box:Box$aws:kms/key:Key::b-key"


def test_resources_come_in_a_stable_tree_order():
    class Box(pulumi.ComponentResource):
        def __init__(self, name: str) -> None:
            super().__init__("demo:box:Box", name, None, None)
            for index in range(5):
                aws.kms.Key(f"{name}-key-{index}", opts=pulumi.ResourceOptions(parent=self))
            self.register_outputs({})

    def program() -> None:
        for name in ("b", "a"):
            Box(name)

    orders = {tuple(r.name for r in simulate(program, project=PROJECT, stack="dev").resources) for _ in range(3)}
    assert orders == {
        ("a", *(f"a-key-{i}" for i in range(5)), "b", *(f"b-key-{i}" for i in range(5))),
    }


def test_mask_handles_nested_structures():
    assert mask({"a": [SecretValue("x"), {"b": SecretValue({"c": 1})}], "d": 2}) == {
        "a": ["[secret]", {"b": "[secret]"}],
        "d": 2,
    }


SIMULATION_MODULES = ("simulation", "fake_cloud", "recording_monitor", "sdk_patches", "recorded_values")
"""The simulation and the modules it is made of."""
SDK_ONLY_ENGINE_MODULES = {"secrets_layout.engine.provider_schema", "secrets_layout.engine.sdk_versions",
                           *(f"secrets_layout.engine.{name}" for name in SIMULATION_MODULES)}
"""The engine's modules the simulation may import: each imports only the standard library, the SDKs and
each other."""


def _imported_modules(path: str) -> set[str]:
    tree = ast.parse(Path(path).read_text())
    return {
        alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    } | {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)} | {
        f"{node.module}.{alias.name}" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
        and node.module == "secrets_layout.engine" for alias in node.names}


@pytest.mark.parametrize("module", SIMULATION_MODULES)
def test_simulation_knows_no_components(module: str):
    """It runs programs; it must stay importable without components/ (the preview reuses it): each of its
    modules imports the Pulumi SDK and the engine's SDK-only modules, and those import nothing of the
    project but each other."""
    import importlib.util

    imported = _imported_modules(importlib.util.find_spec(f"secrets_layout.engine.{module}").origin)
    assert not any(name.split(".")[0] in {"components", "policies"} for name in imported)
    assert {name for name in imported if name.startswith("secrets_layout")} - {"secrets_layout.engine"} \
        <= SDK_ONLY_ENGINE_MODULES
    for other in sorted(SDK_ONLY_ENGINE_MODULES - {f"secrets_layout.engine.{name}" for name in SIMULATION_MODULES}):
        imports = _imported_modules(importlib.util.find_spec(other).origin)
        assert not any(name.split(".")[0] in {"components", "policies", "secrets_layout"} for name in imports), other


def test_a_failing_output_fails_the_run_and_the_sdk_wait_is_restored():
    from pulumi.runtime import stack as pulumi_stack

    sdk_wait = pulumi_stack.wait_for_rpcs

    def failing_apply() -> None:
        key = aws.kms.Key("k")
        pulumi.export("broken", key.arn.apply(lambda arn: 1 / 0))

    with pytest.raises(ZeroDivisionError):
        simulate(failing_apply, project=PROJECT, stack="dev")
    assert pulumi_stack.wait_for_rpcs is sdk_wait


def test_outputs_that_depend_on_each_other_all_resolve():
    def chained() -> None:
        previous = aws.kms.Key("k0")
        for index in range(1, 40):
            previous = aws.kms.Key(f"k{index}", description=previous.arn.apply(lambda arn: f"after {arn}"))
        pulumi.export("last", previous.description)

    run = simulate(chained, project=PROJECT, stack="dev")
    assert len(run.by_type("aws:kms/key:Key")) == 40
    assert run.outputs["last"].startswith("after arn:aws:kms:")


def _keys_and_a_read() -> None:
    """Registrations and a read (the SDK captures one stack trace per register, two per read)."""
    provider = aws.Provider("west", region="us-west-2")
    key = aws.kms.Key("k", opts=pulumi.ResourceOptions(provider=provider))
    aws.kms.Alias("a", target_key_id=key.id, name="alias/k", opts=pulumi.ResourceOptions(parent=key))
    aws.secretsmanager.Secret.get("read", "arn:aws:secretsmanager:us-west-2:111111111111:secret:x-AbCdEf")
    pulumi.export("arn", key.arn)


def test_stack_traces_are_not_captured_during_a_run_and_the_sdk_capture_is_restored():
    from pulumi.runtime import resource as pulumi_resource

    sdk_capture = pulumi_resource._get_stack_trace
    seen = []

    def program() -> None:
        seen.append(pulumi_resource._get_stack_trace)
        _keys_and_a_read()

    simulate(program, project=PROJECT, stack="dev")
    assert seen == [sdk_patches._empty_stack_trace]
    assert pulumi_resource._get_stack_trace is sdk_capture


def test_the_sdk_capture_is_restored_when_the_program_fails():
    from pulumi.runtime import resource as pulumi_resource

    sdk_capture = pulumi_resource._get_stack_trace

    def failing() -> None:
        aws.kms.Key("k")
        raise RuntimeError("program failed")

    with pytest.raises(RuntimeError, match="program failed"):
        simulate(failing, project=PROJECT, stack="dev")
    assert pulumi_resource._get_stack_trace is sdk_capture


@pytest.mark.parametrize("mode", ["up", "preview"])
def test_skipping_stack_traces_changes_no_registration(mode: str):
    """The recording monitor keeps a request's `stackTrace` in `stack` only (where a program registered a
    resource: preview --program locates its own resources with it), which no comparison reads."""
    with_traces = simulate(_keys_and_a_read, project=PROJECT, stack="dev", mode=mode, capture_stack_traces=True)
    without = simulate(_keys_and_a_read, project=PROJECT, stack="dev", mode=mode)
    assert with_traces == without
    assert len(without.resources) == 4
    # The SDK's innermost user frame: the program's line for the key and the alias (for a provider, the
    # SDK's own class: pulumi/runtime/resource.py `_get_stack_trace` counts three __init__ frames).
    placed = {resource.type: resource.stack[0] for resource in with_traces.resources if resource.type.startswith("aws:kms")}
    source, first = inspect.getsourcelines(_keys_and_a_read)
    line = {call: first + next(index for index, text in enumerate(source) if call in text)
            for call in ("aws.kms.Key(", "aws.kms.Alias(")}
    assert placed == {"aws:kms/key:Key": f"{__file__}:{line['aws.kms.Key(']}",
                      "aws:kms/alias:Alias": f"{__file__}:{line['aws.kms.Alias(']}"}
    assert all(resource.stack == () for resource in without.resources)


def test_the_sdk_capture_runs_when_its_internals_moved(monkeypatch: pytest.MonkeyPatch):
    """An SDK without `_get_stack_trace` (renamed or removed upstream): the run works, nothing is patched."""
    from pulumi.runtime import resource as pulumi_resource

    monkeypatch.delattr(pulumi_resource, "_get_stack_trace")
    with sdk_patches.no_stack_traces():
        assert not hasattr(pulumi_resource, "_get_stack_trace")
    assert not hasattr(pulumi_resource, "_get_stack_trace")


def test_with_stack_traces_asked_for_the_sdk_captures_them():
    from pulumi.runtime import resource as pulumi_resource

    seen = []

    def program() -> None:
        seen.append(pulumi_resource._get_stack_trace)
        aws.kms.Key("k")

    sdk_capture = pulumi_resource._get_stack_trace
    simulate(program, project=PROJECT, stack="dev", capture_stack_traces=True)
    assert seen == [sdk_capture]


def test_no_full_collection_runs_during_a_run_and_the_thresholds_are_restored():
    """The oldest generation's threshold is out of reach during the run (CPython's gcmodule.c,
    `gc_collect_generations`: a full collection needs the count of younger collections to pass it);
    the young thresholds stay, and the process's own come back after the run."""
    import gc

    before = gc.get_threshold()
    seen = []

    def program() -> None:
        seen.append(gc.get_threshold())
        _keys_and_a_read()

    simulate(program, project=PROJECT, stack="dev")
    assert seen == [(before[0], before[1], sdk_patches.NEVER)]
    assert gc.get_threshold() == before


def test_the_collector_thresholds_are_restored_when_the_program_fails():
    import gc

    before = gc.get_threshold()

    def failing() -> None:
        aws.kms.Key("k")
        raise RuntimeError("program failed")

    with pytest.raises(RuntimeError, match="program failed"):
        simulate(failing, project=PROJECT, stack="dev")
    assert gc.get_threshold() == before


@pytest.mark.parametrize("mode", ["up", "preview"])
def test_skipping_full_collections_changes_no_registration(mode: str, monkeypatch: pytest.MonkeyPatch):
    without_full = simulate(_keys_and_a_read, project=PROJECT, stack="dev", mode=mode)
    monkeypatch.setattr(sdk_patches, "no_full_collections", contextlib.nullcontext)
    with_every_collection = simulate(_keys_and_a_read, project=PROJECT, stack="dev", mode=mode)
    assert with_every_collection == without_full
    assert len(without_full.resources) == 4


@pytest.mark.parametrize("mode", ["up", "preview"])
def test_on_an_untested_sdk_version_nothing_of_the_sdk_is_patched_and_the_run_is_the_same(
        mode: str, monkeypatch: pytest.MonkeyPatch):
    """The patches of SDK internals apply only to the minor version they were tested with
    (engine/sdk_versions.py); any other runs the SDK's own wait and stack trace capture."""
    from pulumi.runtime import resource as pulumi_resource
    from pulumi.runtime import stack as pulumi_stack

    from secrets_layout.engine import sdk_versions

    patched = simulate(_keys_and_a_read, project=PROJECT, stack="dev", mode=mode)
    sdk = (pulumi_stack.wait_for_rpcs, pulumi_resource._get_stack_trace)
    seen = []

    def program() -> None:
        seen.append((pulumi_stack.wait_for_rpcs, pulumi_resource._get_stack_trace))
        _keys_and_a_read()

    monkeypatch.setattr(sdk_versions, "installed_version",
                        lambda distribution: "3.273.0" if distribution == "pulumi" else "1.21.0")
    assert not sdk_versions.is_tested("pulumi")
    unpatched = simulate(program, project=PROJECT, stack="dev", mode=mode)
    assert seen == [sdk]
    assert unpatched == patched


def test_on_the_tested_sdk_version_the_patches_apply():
    from pulumi.runtime import stack as pulumi_stack

    from secrets_layout.engine import sdk_versions

    seen = []
    assert sdk_versions.is_tested("pulumi")
    simulate(lambda: seen.append(pulumi_stack.wait_for_rpcs), project=PROJECT, stack="dev")
    assert seen == [sdk_patches._wait_for_rpcs_together]
