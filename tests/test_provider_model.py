"""The fake cloud's model of the providers, read from the installed provider SDKs.

Which outputs a provider computes comes from the SDK (secrets_layout.engine.provider_schema): the
outputs that are not inputs, and the optional inputs whose output is never absent (Terraform's
Optional+Computed). In a dry run (mode "preview") each of them that the inputs do not give is unknown,
as the engine's preview plans it (pulumi/pkg/resource/plugin/provider_plugin.go, Create with
preview=true); in a deployment (mode "up") each gets a deterministic fake value. Explicit inputs always
win over what the provider would compute.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
import pulumi_random as random
import pytest

from secrets_layout.engine.force_new import FORCE_NEW
from secrets_layout.engine.provider_schema import resource_schema, zero_value
from secrets_layout.engine.recorded_values import UNKNOWN, SecretValue
from secrets_layout.engine.simulation import simulate

PROJECT = "demo"
ROTATION = "aws:secretsmanager/secretRotation:SecretRotation"
SECRET_ARN = "arn:aws:secretsmanager:us-west-2:111111111111:secret:prod/app/token-AbCdEf"
LAMBDA_ARN = "arn:aws:lambda:us-west-2:111111111111:function:rotator"


def run(program, mode="up"):
    return simulate(program, project=PROJECT, stack="dev", mode=mode)


# -- the SDK as the source -------------------------------------------------------------------------


@pytest.mark.parametrize(("type_", "computed"), [
    pytest.param(ROTATION, {"region", "rotationEnabled"}, id="optional-and-computed-inputs"),
    pytest.param("aws:secretsmanager/secret:Secret", {"arn", "name", "namePrefix", "policy", "region", "tagsAll"},
                 id="outputs-that-are-not-inputs"),
    pytest.param("aws:iam/rolePolicyAttachment:RolePolicyAttachment", set(), id="nothing-computed"),
    pytest.param("random:index/randomPassword:RandomPassword",
                 {"bcryptHash", "result", "lower", "upper", "number", "numeric", "special",
                  "minLower", "minUpper", "minNumeric", "minSpecial"}, id="random"),
])
def test_computed_outputs_come_from_the_installed_sdk(type_, computed):
    assert resource_schema(type_).computed == computed


@pytest.mark.parametrize("type_", sorted(FORCE_NEW))
def test_the_outputs_that_are_not_inputs_are_the_state_classs_properties_that_are_not_inputs(type_):
    """Two readings of the same SDK agree: the resource's output getters, and its `_<Resource>State` class
    (what `Resource.get` accepts) minus the Args class, for every type the layout registers."""
    import importlib

    from pulumi import _types

    schema = resource_schema(type_)
    package, module_path, name = type_.split(":")
    module = module_path.split("/")[0]
    sdk = importlib.import_module(f"pulumi_{package}" + ("" if module == "index" else f".{module}_" if module == "lambda"
                                                         else f".{module}"))
    defined_in = importlib.import_module(getattr(sdk, name).__module__)
    state = set(_types.input_type_py_to_pulumi_names(getattr(defined_in, f"_{name}State")).values())
    assert state - schema.inputs == set(schema.outputs) - schema.inputs


@pytest.mark.parametrize("type_", ["test:index:Thing", "pulumi:providers:aws", "aws:nosuchmodule/thing:Thing",
                                   "secrets-layout:secret:ManagedSecret", "not-a-token"])
def test_a_type_no_installed_sdk_has_has_no_schema(type_):
    assert resource_schema(type_) is None


def test_kinds_follow_the_sdks_annotations():
    function = resource_schema("aws:lambda/function:Function")
    assert {name: function.outputs[name] for name in
            ("arn", "sourceCodeSize", "architectures", "tagsAll", "ephemeralStorage")} == {
        "arn": "string", "sourceCodeSize": "integer", "architectures": "array", "tagsAll": "object",
        "ephemeralStorage": "object"}
    assert resource_schema("aws:secretsmanager/secretVersion:SecretVersion").outputs["hasSecretStringWo"] == "boolean"


@pytest.mark.parametrize(("kind", "value"), [("string", ""), ("integer", 0), ("number", 0.0), ("boolean", False),
                                             ("array", []), ("object", {}), ("any", None)])
def test_zero_values_by_kind(kind, value):
    assert zero_value(kind) == value


# -- explicit inputs win -----------------------------------------------------------------------------


def _rotation(enabled):
    def program() -> None:
        provider = aws.Provider("west", region="us-west-2")
        aws.secretsmanager.SecretRotation(
            "rotation", secret_id=SECRET_ARN, rotation_enabled=enabled,
            rotation_lambda_arn=None if enabled is False else LAMBDA_ARN,
            rotation_rules=None if enabled is False else {"automatically_after_days": 30},
            opts=pulumi.ResourceOptions(provider=provider))
    return program


@pytest.mark.parametrize(("enabled", "mode", "expected"), [
    pytest.param(False, "up", False, id="disabled-deployed"),
    pytest.param(False, "preview", False, id="disabled-dry-run"),
    pytest.param(True, "up", True, id="enabled-deployed"),
    pytest.param(None, "up", True, id="unset-deployed-the-provider-enables-it"),
    pytest.param(None, "preview", UNKNOWN, id="unset-dry-run-unknown"),
])
def test_an_explicit_input_wins_over_what_the_provider_computes(enabled, mode, expected):
    rotation = run(_rotation(enabled), mode).get("rotation", ROTATION)
    assert rotation.outputs["rotationEnabled"] == expected


def test_an_explicit_nested_input_wins_and_nested_computed_fields_are_added():
    def program() -> None:
        aws.secretsmanager.Secret("s", name="a", replicas=[{"region": "us-west-2", "kms_key_id": "alias/x"}])

    deployed = run(program).get("s").outputs["replicas"]
    assert deployed == [{"region": "us-west-2", "kmsKeyId": "alias/x", "status": "InSync",
                         "statusMessage": "Replication succeeded"}]
    dry_run = run(program, "preview").get("s").outputs["replicas"]
    assert dry_run == [{"region": "us-west-2", "kmsKeyId": "alias/x", "status": UNKNOWN, "statusMessage": UNKNOWN}]


# -- a dry run: computed outputs unknown ---------------------------------------------------------------


def test_every_computed_output_of_a_created_resource_is_unknown_in_a_dry_run_unless_planned():
    def program() -> None:
        provider = aws.Provider("west", region="us-west-2", default_tags={"tags": {"team": "platform"}})
        aws.secretsmanager.Secret("s", name="prod/a", tags={"owner": "me"}, opts=pulumi.ResourceOptions(provider=provider))

    secret = run(program, "preview").get("s")
    assert secret.outputs == {
        "name": "prod/a", "tags": {"owner": "me"},
        # planned by the provider: the region (defaultRegion) and the tags with the provider's defaults
        "region": "us-west-2", "tagsAll": {"team": "platform", "owner": "me"},
        "arn": UNKNOWN, "namePrefix": UNKNOWN, "policy": UNKNOWN,
    }


def test_a_resource_whose_input_is_unknown_still_has_its_computed_outputs_unknown_not_missing():
    """The fake needs the length to make a password; with the length unknown every computed output is
    unknown (or the default the provider plans without it), as the provider plans it, instead of missing
    from the answer."""
    def program() -> None:
        parameter = aws.ssm.Parameter("p", type="String", value="v")
        random.RandomPassword("password", length=parameter.version)

    password = run(program, "preview").get("password")
    assert password.inputs == {"length": UNKNOWN}
    computed = resource_schema("random:index/randomPassword:RandomPassword").computed
    assert {name: password.outputs.get(name, "missing") for name in computed} == {
        # additional secret outputs of RandomPassword
        "result": SecretValue(UNKNOWN), "bcryptHash": SecretValue(UNKNOWN),
        # terraform-provider-random's defaults
        "lower": True, "upper": True, "special": True, "number": True, "numeric": True,
        "minLower": 0, "minUpper": 0, "minNumeric": 0, "minSpecial": 0}


def test_an_adopted_resource_is_read_so_its_outputs_stay_known_in_a_dry_run():
    def program() -> None:
        aws.secretsmanager.Secret("s", name="prod/app/token", opts=pulumi.ResourceOptions(import_=SECRET_ARN))

    secret = run(program, "preview").get("s")
    assert secret.outputs["arn"] == SECRET_ARN and secret.outputs["policy"] == ""
    assert UNKNOWN not in secret.outputs.values()


# -- a deployment: fake values ------------------------------------------------------------------------


def test_every_computed_output_has_a_value_in_a_deployment():
    def program() -> None:
        role = aws.iam.Role("r", assume_role_policy="{}")
        aws.lambda_.Function("f", role=role.arn, runtime="python3.12", handler="h.h",
                             code=pulumi.AssetArchive({"h.py": pulumi.StringAsset("x = 1\n")}))

    deployed = run(program)
    function = deployed.get("f")
    computed = resource_schema("aws:lambda/function:Function").computed
    assert computed <= function.outputs.keys()
    assert UNKNOWN not in function.outputs.values()
    # The fake cloud's handler where it has one; the zero value of the SDK's type otherwise.
    assert function.outputs["arn"] == "arn:aws:lambda:us-east-1:123456789012:function:f"
    assert (function.outputs["sourceCodeSize"], function.outputs["architectures"], function.outputs["lastModified"],
            function.outputs["ephemeralStorage"]) == (0, [], "", {})
    assert deployed.get("r").outputs["createDate"] == ""


def test_a_resource_region_is_its_own_input_else_its_providers():
    def program() -> None:
        provider = aws.Provider("west", region="us-west-2")
        on_west = pulumi.ResourceOptions(provider=provider)
        aws.secretsmanager.Secret("inherits", name="a", opts=on_west)
        aws.secretsmanager.Secret("own", name="b", region="eu-central-1", opts=on_west)

    for mode in ("up", "preview"):
        deployed = run(program, mode)
        assert (deployed.get("inherits").outputs["region"], deployed.get("own").outputs["region"]) == (
            "us-west-2", "eu-central-1"), mode
    assert run(program).get("own").outputs["arn"].startswith("arn:aws:secretsmanager:eu-central-1:")


@pytest.mark.parametrize(("default_tags", "tags", "expected"), [
    pytest.param(None, {"owner": "me"}, {"owner": "me"}, id="no-default-tags"),
    pytest.param({"tags": {"team": "platform", "owner": "default"}}, {"owner": "me"},
                 {"team": "platform", "owner": "me"}, id="resource-tags-win"),
    pytest.param({"tags": {"team": "platform"}}, None, {"team": "platform"}, id="only-default-tags"),
])
def test_tags_all_is_the_providers_default_tags_with_the_resources_tags(default_tags, tags, expected):
    def program() -> None:
        provider = aws.Provider("west", region="us-west-2", default_tags=default_tags)
        aws.kms.Key("k", tags=tags, opts=pulumi.ResourceOptions(provider=provider))

    for mode in ("up", "preview"):
        assert run(program, mode).get("k").outputs["tagsAll"] == expected, mode


def test_a_type_without_an_sdk_echoes_its_inputs():
    def program() -> None:
        pulumi.CustomResource("test:index:Thing", "t", {"size": 1})

    for mode in ("up", "preview"):
        assert run(program, mode).get("t").outputs == {"size": 1}


def test_an_arn_the_fake_cloud_has_no_handler_for_is_an_arn_of_the_types_service():
    def program() -> None:
        provider = aws.Provider("west", region="us-west-2", allowed_account_ids=["111111111111"])
        aws.sqs.Queue("q", opts=pulumi.ResourceOptions(provider=provider))

    assert run(program).get("q").outputs["arn"] == "arn:aws:sqs:us-west-2:111111111111:queue/q"


def test_the_alert_topic_and_rule_have_their_aws_arns_and_what_is_built_from_them_sees_them():
    def program() -> None:
        provider = aws.Provider("west", region="us-west-2", allowed_account_ids=["111111111111"])
        on_west = pulumi.ResourceOptions(provider=provider)
        topic = aws.sns.Topic("t", name="alerts", opts=on_west)
        aws.sns.TopicSubscription("s", topic=topic.arn, protocol="email", endpoint="a@example.com", opts=on_west)
        aws.cloudwatch.EventRule("r", name="rotation-failed", event_pattern="{}", opts=on_west)

    deployed = run(program)
    assert deployed.get("t").outputs["arn"] == "arn:aws:sns:us-west-2:111111111111:alerts"
    assert deployed.get("s").inputs["topic"] == "arn:aws:sns:us-west-2:111111111111:alerts"
    assert deployed.get("r").outputs["arn"] == "arn:aws:events:us-west-2:111111111111:rule/rotation-failed"


@pytest.mark.parametrize("mode", ["up", "preview"])
@pytest.mark.parametrize(("arguments", "expected"), [
    pytest.param({}, {"lower": True, "upper": True, "special": True, "numeric": True, "number": True,
                      "minLower": 0, "minUpper": 0, "minNumeric": 0, "minSpecial": 0}, id="defaults"),
    pytest.param({"special": False, "min_upper": 2}, {"special": False, "minUpper": 2, "lower": True}, id="given-win"),
    pytest.param({"numeric": False}, {"numeric": False, "number": False}, id="numeric-sets-number"),
    pytest.param({"number": False}, {"numeric": False, "number": False}, id="number-sets-numeric"),
])
def test_a_random_passwords_settings_are_the_ones_the_provider_plans(mode, arguments, expected):
    """terraform-provider-random plans its defaults (true, 0) for what the configuration omits, and keeps
    `number` and `numeric` equal; they are known in a dry run too."""
    def program() -> None:
        random.RandomPassword("password", length=20, **arguments)

    outputs = run(program, mode).get("password").outputs
    assert {name: outputs[name] for name in expected} == expected
