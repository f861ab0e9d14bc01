"""Issue 22, item 4: the contract that keeps the plan evaluation honest.

The preview evaluates a declaration's plan without the SDK (secrets_layout/engine/plan_evaluation.py);
`pulumi up` runs the program (secrets_layout/program.py) with it. Here both run on every example (as a
file and split into an environment folder) and on 200 generated declarations (tests/declaration_strategies.py),
as a dry run ("preview") and as a deployment ("up"), and every registration must be identical: URN, type,
name, parent, provider(s), id, inputs as marshalled (secrets with their hidden values, unknowns as the
engine's sentinel), outputs, every resource option, dependencies and property dependencies, in the same
tree order, and the stack outputs (tests/plan_support.py compares; it skips no field).

Also: the comparison catches each kind of difference (a table of mutations of an evaluated run), the
regressions the contract found, and the SDK class profiles the evaluation reads (engine/sdk_classes.py).
"""

from __future__ import annotations

import dataclasses
import functools
import tempfile
from collections import Counter
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pulumi_random as random
import pytest
from hypothesis import HealthCheck, given, settings
from pulumi.config import ConfigMissingError

from declaration_strategies import declaration_documents, features, loaded
from folder_support import split_declaration
from plan_support import assert_same, both_runs, differences, evaluate, simulate_program
from secrets_layout.components.plan.builder import PlanBuilder
from secrets_layout.components.plan.model import FromConfig, Secret
from secrets_layout.components.realize import CUSTOM_TYPES
from secrets_layout.declaration.loader import load_declaration
from secrets_layout.engine.plan_evaluation import evaluate_plan
from secrets_layout.engine.sdk_classes import PROFILES_FILE, derive_profiles, profile, profiles_document
from secrets_layout.engine.recorded_values import UNKNOWN, SecretValue
from secrets_layout.errors import DeclarationError

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(path.stem for path in (ROOT / "environments").glob("*.yaml"))
MODES = ("preview", "up")
FORMS = ("file", "folder")
GENERATED = 200
CONTRACT = settings(max_examples=GENERATED + 10, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
"""A few more examples than GENERATED: hypothesis draws the odd declaration twice (derandomized: always the same)."""
COVERED = {
    "1-regions", "2-regions", "3-regions", "generate-plaintext", "generate-json", "generate-template",
    "exclude-characters", "exclude-punctuation", "from-config", "external", "managed-single-user",
    "managed-multi-user", "managed-in-vpc", "several-rotation-applications", "bundled-http-api-key",
    "bundled-oauth2-client-credentials", "function-in-vpc", "lambda-arn", "rotation-disabled", "no-rotation",
    "every-days", "schedule", "window", "replicas", "readers-of-several-accounts", "consumer-grants",
    "existing-kms-key", "kms-key-of-an-unused-region", "defaults-protect-true", "defaults-protect-false",
    "defaults-rotation", "defaults-replicas", "adopt-step-1", "adopt-step-2", "adopt-rotates", "parameters",
    "alerts-topic", "alerts-subscriptions", "alerts-topic-arn", "lower-environments",
}
"""What the generated declarations must exercise between them (declaration_strategies.features)."""


@pytest.fixture(scope="module")
def example_runs(tmp_path_factory):
    """Both runs of an example in a form and a mode, each computed once for the whole module."""
    folders = tmp_path_factory.mktemp("examples")

    @functools.cache
    def declaration(example: str, form: str):
        source = ROOT / "environments" / f"{example}.yaml"
        return load_declaration(source if form == "file" else split_declaration(source, folders / example))

    @functools.cache
    def runs(example: str, form: str, mode: str):
        return both_runs(declaration(example, form), mode)

    return runs


# -- the contract ----------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("example", EXAMPLES)
def test_every_example_evaluates_as_the_sdk_runs_it(example_runs, example, form, mode):
    sdk, plan = example_runs(example, form, mode)
    assert sdk.resources, "the simulation registered nothing: the comparison would prove nothing"
    assert_same(sdk, plan)


def test_generated_declarations_evaluate_as_the_sdk_runs_them():
    exercised: Counter[str] = Counter()
    compared: set[str] = set()

    @CONTRACT
    @given(declaration_documents())
    def evaluates_as_the_sdk_runs_it(document):
        with tempfile.TemporaryDirectory() as folder:
            declaration = loaded(document, Path(folder))
            for mode in MODES:
                assert_same(*both_runs(declaration, mode))
        exercised.update(features(declaration.declaration))
        compared.add(repr(document))

    evaluates_as_the_sdk_runs_it()
    assert len(compared) >= GENERATED, f"only {len(compared)} different declarations were compared"
    assert COVERED - set(exercised) == set(), "the generated declarations no longer exercise these"


# -- the comparison can fail -----------------------------------------------------------------------

def _changed(resource, **fields):
    return dataclasses.replace(resource, **fields)


def _without_first_dependency(resource):
    return _changed(resource, dependencies=resource.dependencies[1:])


def _property_dependency_moved(resource):
    moved = resource.property_dependencies["secretArn"]
    return _changed(resource, property_dependencies={**resource.property_dependencies, "secretArn": (),
                                                     "policy": moved})


def _other_secret_value(resource):
    return _changed(resource, inputs={**resource.inputs, "secretString": SecretValue("another value")})


def _plain_secret_value(resource):
    return _changed(resource, inputs={**resource.inputs, "secretString": resource.inputs["secretString"].reveal()})


def _whole_number(resource):
    return _changed(resource, inputs={**resource.inputs, "recoveryWindowInDays": 7})


def _known_arn(resource):
    return _changed(resource, outputs={**resource.outputs, "arn": "arn:aws:kms:us-east-1:111111111111:key/made-up"})


def _protected(resource):
    return _changed(resource, protect=True)


def _python_ignore_changes(resource):
    return _changed(resource, ignore_changes=("secret_string", "version_stages"))


VERSION = "dev/payments/stripe-api-key-version (aws:secretsmanager/secretVersion:SecretVersion)"
POLICY = "dev/payments/stripe-api-key-policy (aws:secretsmanager/secretPolicy:SecretPolicy)"
STRIPE_SECRET_URN = ("urn:pulumi:dev::secrets-layout::secrets-layout:secret:ManagedSecret"
                     "$aws:secretsmanager/secret:Secret::dev/payments/stripe-api-key-secret")
MUTATIONS = [
    pytest.param("up", "dev/payments/stripe-api-key-version", _without_first_dependency,
                 [f"{VERSION}: dependencies: SDK ['{STRIPE_SECRET_URN}'] | plan []"],
                 id="a-dependency-dropped"),
    pytest.param("up", "dev/payments/stripe-api-key-policy", _property_dependency_moved,
                 [f"{POLICY}: property_dependencies.secretArn: SDK ['{STRIPE_SECRET_URN}'] | plan []",
                  f"{POLICY}: property_dependencies.policy: SDK [] | plan ['{STRIPE_SECRET_URN}']"],
                 id="a-property-dependency-moved"),
    pytest.param("up", "dev/payments/stripe-api-key-version", _other_secret_value,
                 [f"{VERSION}: inputs.secretString: SDK [secret] | plan [secret] (the hidden values differ)"],
                 id="a-hidden-secret-value"),
    pytest.param("up", "dev/payments/stripe-api-key-version", _plain_secret_value,
                 [f"{VERSION}: inputs.secretString: SDK [secret] | plan a plain value (hidden: the other side keeps it "
                  "secret)"],
                 id="a-secret-sent-plain"),
    pytest.param("up", "dev/payments/stripe-api-key-secret", _whole_number,
                 ["dev/payments/stripe-api-key-secret (aws:secretsmanager/secret:Secret): inputs.recoveryWindowInDays: "
                  "SDK 7.0 | plan 7"], id="an-int-where-the-wire-has-a-float"),
    pytest.param("preview", "dev-kms-us-east-1-key", _known_arn,
                 [f"dev-kms-us-east-1-key (aws:kms/key:Key): outputs.arn: SDK {UNKNOWN!r} | plan "
                  "'arn:aws:kms:us-east-1:111111111111:key/made-up'"], id="an-unknown-made-known"),
    pytest.param("up", "dev/payments/stripe-api-key-secret", _protected,
                 ["dev/payments/stripe-api-key-secret (aws:secretsmanager/secret:Secret): protect: "
                  "SDK False | plan True"],
                 id="an-option"),
    pytest.param("up", "dev/payments/stripe-api-key-version", _python_ignore_changes,
                 [f"{VERSION}: ignore_changes[0]: SDK 'secretString' | plan 'secret_string'",
                  f"{VERSION}: ignore_changes[1]: SDK 'versionStages' | plan 'version_stages'"],
                 id="ignore-changes-by-python-name"),
]


@pytest.mark.parametrize(("mode", "name", "mutation", "expected"), MUTATIONS)
def test_the_comparison_catches_a_changed_registration(example_runs, mode, name, mutation, expected):
    sdk, plan = example_runs("dev", "file", mode)
    changed = dataclasses.replace(plan, resources=[mutation(resource) if resource.name == name else resource
                                                   for resource in plan.resources])
    assert [str(difference) for difference in differences(sdk, changed)] == expected


def test_a_difference_fails_the_contract_with_the_resource_the_field_and_both_values(example_runs):
    sdk, plan = example_runs("dev", "file", "up")
    changed = dataclasses.replace(plan, resources=[
        _other_secret_value(_protected(resource)) if resource.name == "dev/payments/stripe-api-key-version" else resource
        for resource in plan.resources])
    with pytest.raises(AssertionError) as failure:
        assert_same(sdk, changed)
    assert str(failure.value) == (
        "2 difference(s) between the SDK simulation and the plan evaluation (up):\n"
        f"  {VERSION}: inputs.secretString: SDK [secret] | plan [secret] (the hidden values differ)\n"
        f"  {VERSION}: protect: SDK False | plan True")


def test_the_comparison_catches_resources_in_another_order(example_runs):
    sdk, plan = example_runs("dev", "file", "up")
    swapped = [*plan.resources[:2], plan.resources[3], plan.resources[2], *plan.resources[4:]]
    found = differences(sdk, dataclasses.replace(plan, resources=swapped))
    assert [str(difference) for difference in found] == [
        f"resource order: [2]: SDK {sdk.resources[2].urn!r} | plan {sdk.resources[3].urn!r}"]


def test_the_comparison_catches_a_missing_resource_and_a_changed_stack_output(example_runs):
    sdk, plan = example_runs("dev", "file", "up")
    dropped = sdk.resources[-1]
    changed = dataclasses.replace(plan, resources=plan.resources[:-1],
                                  outputs={**plan.outputs, "environment": "prod"})
    assert [str(difference) for difference in differences(sdk, changed)] == [
        f"resource order: missing: SDK {dropped.urn!r} | plan (absent)",
        "stack outputs: outputs.environment: SDK 'dev' | plan 'prod'",
    ]


# -- regressions the contract found ----------------------------------------------------------------

def _declaration(tmp_path: Path, secrets: str, accounts: str = "") -> Path:
    file = tmp_path / "prod.yaml"
    file.write_text('environment: prod\nsecurity_account: "111111111111"\nprimary_region: us-east-1\n'
                    + accounts + "secrets:\n" + secrets)
    return file


def test_a_config_name_with_a_colon_is_read_from_the_project_namespace(tmp_path):
    # The program reads pulumi.Config().require_secret("payments:stripeKey"), which is the key
    # "secrets-layout:payments:stripeKey" (pulumi/config.py, Config.full_key prefixes the bag's name
    # whatever the key holds). The loader refuses such a name (tests/test_declarations_invalid.py); a
    # plan holding one is evaluated as the SDK reads it: given "payments:stripeKey", the key is missing.
    with pytest.raises(DeclarationError, match="a name with a namespace can never be read"):
        load_declaration(_declaration(tmp_path, '  - {name: prod/app/key, value: {from_config: "payments:stripeKey"}}\n'))
    builder = PlanBuilder()
    builder.add("aws:secretsmanager/secretVersion:SecretVersion", "version",
                inputs={"secretId": "arn", "secretString": Secret(FromConfig("payments:stripeKey"))})
    plan = builder.build()
    for mode in MODES:
        with pytest.raises(ConfigMissingError) as evaluation:
            evaluate_plan(plan, project="secrets-layout", stack="prod", mode=mode,
                          secret_config={"payments:stripeKey": "placeholder"})
        assert (evaluation.value.key, evaluation.value.secret) == ("secrets-layout:payments:stripeKey", True)
        with pytest.raises(ConfigMissingError):
            pulumi.Config("secrets-layout").require_secret("payments:stripeKey")


@pytest.mark.parametrize(("accounts", "secrets", "shared_name", "types"), [
    pytest.param("", "  - {name: prod/app/key, value: {generate: {}}}\n"
                     "  - {name: prod/app/key-version, value: {external: true}}\n",
                 "prod/app/key-version", ["aws:secretsmanager/secretVersion:SecretVersion",
                                          "secrets-layout:secret:ManagedSecret"],
                 id="a-secret-named-like-the-version-of-another"),
    pytest.param('accounts:\n  app: {id: "222222222222", deploy_role_arn: "arn:aws:iam::222222222222:role/deploy"}\n',
                 "  - {name: prod/app/key, value: {external: true}, readers: [{account: app, roles: [provider]}]}\n",
                 "prod-consumer-app-provider", ["aws:iam/rolePolicy:RolePolicy", "pulumi:providers:aws"],
                 id="a-reader-role-named-like-the-consumer-provider"),
])
def test_a_registration_named_like_another_of_another_type_is_planned(tmp_path, accounts, secrets, shared_name, types):
    # Two registrations may share a logical name when their types differ: their URNs differ, so the SDK
    # registers both. A plan keys each registration by its type and name (builder.key_of).
    declaration = load_declaration(_declaration(tmp_path, secrets, accounts))
    for mode in MODES:
        sdk, plan = both_runs(declaration, mode)
        assert sorted(resource.type for resource in sdk.resources if resource.name == shared_name) == types
        assert_same(sdk, plan)


def test_reader_roles_whose_names_make_the_same_resource_name_get_one_policy_each(tmp_path):
    # App.Role and App+Role both make "App-Role" (consumer.role_resource_suffix): two RolePolicies of
    # one type and name, which no deployment accepts (a duplicate URN). Each gets a digest of its role.
    accounts = 'accounts:\n  app: {id: "222222222222", deploy_role_arn: "arn:aws:iam::222222222222:role/deploy"}\n'
    secrets = "  - {name: prod/app/key, value: {external: true}, readers: [{account: app, roles: [App.Role, App+Role]}]}\n"
    declaration = load_declaration(_declaration(tmp_path, secrets, accounts))
    for mode in MODES:
        sdk, plan = both_runs(declaration, mode)
        assert_same(sdk, plan)
        policies = {resource.name: resource.inputs["role"] for resource in sdk.resources
                    if resource.type == "aws:iam/rolePolicy:RolePolicy"}
        assert sorted(policies.values()) == ["App+Role", "App.Role"]
        assert all(name.startswith("prod-consumer-app-App-Role-") and len(name) == len("prod-consumer-app-App-Role-") + 8
                   for name in policies)


def test_a_config_name_the_program_reads_itself_is_refused_or_runs_the_same_both_ways(tmp_path):
    # `from_config: declaration` is the program's own config key secrets-layout:declaration (program.py):
    # the preview's placeholder replaces the declaration's path and the program stops ("cannot read the
    # declaration"), as `pulumi up` would after `pulumi config set --secret declaration ...`; the plan
    # evaluation never reads that key and goes on.
    file = _declaration(tmp_path, "  - {name: prod/app/key, value: {from_config: declaration}}\n")
    try:
        declaration = load_declaration(file)
    except DeclarationError:
        return
    for mode in MODES:
        assert_same(*both_runs(declaration, mode))


# -- what the evaluation reads of the SDK's classes ------------------------------------------------

def test_sdk_classes_json_is_what_the_installed_sdk_derives():
    derived = profiles_document(derive_profiles(CUSTOM_TYPES))
    assert PROFILES_FILE.read_text(encoding="utf-8") == derived, (
        "secrets_layout/engine/sdk_classes.json is not the installed SDK's: run `make sdk-classes` and review the diff")


@pytest.mark.parametrize(("cls", "field", "expected"), [
    pytest.param(aws.Provider, "defaults", {"skipCredentialsValidation": False, "skipRegionValidation": True},
                 id="provider-defaults"),
    pytest.param(aws.Provider, "environment_defaults", {"region": ("AWS_REGION", "AWS_DEFAULT_REGION")},
                 id="provider-region-from-the-environment"),
    pytest.param(aws.Provider, "secret_inputs", ("accessKey", "secretKey", "token"), id="provider-credentials-secret"),
    pytest.param(aws.Provider, "additional_secret_outputs", ("accessKey", "secretKey", "token"),
                 id="provider-credentials-secret-outputs"),
    pytest.param(aws.secretsmanager.SecretVersion, "secret_inputs", ("secretBinary", "secretString", "secretStringWo"),
                 id="version-value-secret"),
    pytest.param(aws.secretsmanager.SecretVersion, "additional_secret_outputs",
                 ("secretBinary", "secretString", "secretStringWo"), id="version-value-secret-outputs"),
    pytest.param(aws.secretsmanager.SecretVersion, "json_inputs", (), id="version-nothing-as-json"),
    pytest.param(random.RandomPassword, "additional_secret_outputs", ("bcryptHash", "result"),
                 id="password-result-secret"),
    pytest.param(random.RandomPassword, "secret_inputs", (), id="password-no-secret-input"),
    pytest.param(aws.secretsmanager.Secret, "secret_inputs", (), id="secret-container-no-secret-input"),
    pytest.param(aws.secretsmanager.Secret, "defaults", {}, id="secret-no-defaults"),
])
def test_a_class_profile_holds_what_the_class_does_to_its_inputs(cls, field, expected):
    assert getattr(profile(cls), field) == expected


@pytest.mark.parametrize(("cls", "python_name", "engine_name", "table"), [
    pytest.param(aws.Provider, "allowed_account_ids", "allowedAccountIds", "input_names", id="provider-input"),
    pytest.param(aws.secretsmanager.SecretVersion, "version_stages", "versionStages", "input_names",
                 id="version-input"),
    pytest.param(aws.secretsmanager.SecretVersion, "secret_string", "secretString", "output_names",
                 id="version-output"),
    pytest.param(random.RandomPassword, "bcrypt_hash", "bcryptHash", "output_names", id="password-output"),
])
def test_a_class_profile_translates_python_names(cls, python_name, engine_name, table):
    assert getattr(profile(cls), table)[python_name] == engine_name


@pytest.mark.parametrize(("json_input", "as_json"), [
    pytest.param("allowedAccountIds", True, id="a-list-is-sent-as-json"),
    pytest.param("assumeRoles", True, id="objects-are-sent-as-json"),
    pytest.param("skipRegionValidation", True, id="a-bool-is-sent-as-json"),
    pytest.param("region", False, id="a-string-is-sent-as-it-is"),
])
def test_the_provider_profile_names_the_inputs_sent_as_json(json_input, as_json):
    assert (json_input in profile(aws.Provider).json_inputs) is as_json


@pulumi.input_type
class RenamedTypeArgs:
    def __init__(__self__, *, display_name: pulumi.Input[str]):
        pulumi.set(__self__, "display_name", display_name)

    @property
    @pulumi.getter(name="displayName")
    def display_name(self) -> pulumi.Input[str]:
        return pulumi.get(self, "display_name")


class RenamedType(pulumi.CustomResource):
    """A resource class as the codegen writes one whose type was renamed: it declares its former type."""

    def _internal_init(__self__, resource_name, opts=None, display_name=None, __props__=None):
        __props__ = RenamedTypeArgs.__new__(RenamedTypeArgs)
        __props__.__dict__["display_name"] = display_name
        alias_opts = pulumi.ResourceOptions(aliases=[pulumi.Alias(type_="aws:old/renamedType:RenamedType")])
        opts = pulumi.ResourceOptions.merge(opts, alias_opts)
        super().__init__("aws:new/renamedType:RenamedType", resource_name, __props__, opts)


def test_a_class_that_declares_aliases_is_refused_rather_than_evaluated_without_them():
    # Aliases would change the URNs the engine matches against the state; the evaluation does not model them.
    refusal = "^RenamedType declares aliases, which plan evaluation does not model$"
    with pytest.raises(NotImplementedError, match=refusal):
        profile(RenamedType)
