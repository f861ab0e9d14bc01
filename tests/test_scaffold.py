"""`init ENV`: the three scaffolded files, their validity, and never overwriting without force."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from secrets_layout.declaration.loader import load_declaration, parse_declaration
from secrets_layout.declaration.schema import schema_text
from secrets_layout.environment_copy import SourceEnvironment, read_source
from secrets_layout.engine.policy_config import PolicyInfo, load_policy_config, reconcile_config
from secrets_layout.policies.catalog import BY_NAME, POLICIES
from secrets_layout.scaffold import (
    EnvironmentSettings,
    ScaffoldInputError,
    ScaffoldTargetsExist,
    parse_account_assignment,
    scaffold_environment,
    scaffold_paths,
)

ROOT = Path(__file__).resolve().parent.parent
SECURITY = "111111111111"

# The seeds in environments/, as `init` options: scaffolding them reproduces their stack file and
# (except dev, whose config also allows a spare region) their policy config byte for byte. What is
# less strict than the defaults is asked for (settings), never implied by the environment's name.
SEEDS = {
    "dev": {"accounts": {"dev-app": "444444444444"},
            "settings": EnvironmentSettings(rotation_days=7, maximum_days=7, recovery_window_days=7, protect=False,
                                            deny_outside="advisory")},
    "staging": {"accounts": {"staging-app": "555555555555"}, "replicas": ["us-west-2"],
                "settings": EnvironmentSettings(maximum_days=30, recovery_window_days=14, protect=False,
                                                deny_outside="advisory")},
    "prod": {
        "accounts": {"prod-app": "222222222222", "prod-data": "333333333333"},
        "replicas": ["us-west-2", "eu-west-1"],
        "organization_id": "o-a1b2c3d4e5",
    },
    "shared-services": {
        "accounts": {"shared-ci": "666666666666", "shared-monitoring": "777777777777"},
        "replicas": ["us-west-2"],
        "organization_id": "o-a1b2c3d4e5",
        "settings": EnvironmentSettings(rotation_days=60, deny_outside="advisory"),
    },
}


def seed(environment: str) -> SourceEnvironment:
    """An example environment of environments/ as `init --from` reads it."""
    return read_source(ROOT / "environments", environment)


def relative(paths: list[Path], root: Path) -> list[str]:
    return [str(path.relative_to(root)) for path in paths]


def pack_policies() -> list[PolicyInfo]:
    """The pack's catalog as GetAnalyzerInfo reports it (without starting the pack)."""
    return [
        PolicyInfo(policy.name, policy.description, policy.level, "stack" if policy.stack else "resource",
                   {"properties": dict(policy.config)} if policy.config else None)
        for policy in POLICIES
    ]


def uncommented_example(text: str) -> str:
    """The declaration with its commented example secret put in place of `secrets: []`."""
    lines = text.splitlines()
    start = lines.index("secrets: []")
    end = next(index for index, line in enumerate(lines) if line.startswith("parameters:"))
    example = [line[2:] for line in lines[start + 1 : end] if line.startswith("# ")]
    example = example[example.index("secrets:") :]
    return "\n".join(lines[:start] + example + lines[end:]) + "\n"


# ------------------------------------------------------------------------------------------------
# What is written
# ------------------------------------------------------------------------------------------------


# What a repository without a Pulumi project gets besides (the project, the pack, .gitignore lines):
# tests/test_project_files.py.
PROJECT_FILES = ["Pulumi.yaml", "__main__.py", "requirements.txt", "policies/PulumiPolicy.yaml", "policies/__main__.py",
                 "policies/requirements.txt", ".gitignore"]


def test_writes_the_three_files_and_the_schema_they_reference(tmp_path):
    written = scaffold_environment("qa", tmp_path)
    assert relative(written, tmp_path) == ["environments/qa.yaml", "Pulumi.qa.yaml", "policies/config/qa.json",
                                           "environments/schema.json", *PROJECT_FILES]
    assert written[:3] == scaffold_paths("qa", tmp_path)
    assert all(path.is_file() for path in written)


def test_new_environment_policy_config_exact(tmp_path):
    scaffold_environment(
        "qa",
        tmp_path,
        security_account="999999999999",
        region="eu-central-1",
        accounts=[("qa-app", "888888888888"), ("qa-data", "777777777777")],
        replicas=["eu-west-1"],
    )
    text = (tmp_path / "policies/config/qa.json").read_text()
    assert text.endswith("}\n")
    assert json.loads(text) == {
        "secret-name-convention": {"enforcementLevel": "mandatory", "environment": "qa"},
        "secret-recovery-window": {"enforcementLevel": "mandatory", "minimumDays": 7},
        "secret-rotation-required": {"enforcementLevel": "mandatory"},
        "secret-rotation-max-interval": {"enforcementLevel": "mandatory", "maximumDays": 90},
        "secret-customer-managed-key": {"enforcementLevel": "mandatory"},
        "secret-replica-customer-managed-key": {"enforcementLevel": "mandatory"},
        "secret-policy-no-public-access": {"enforcementLevel": "mandatory"},
        "secret-policy-allowed-accounts": {
            "enforcementLevel": "mandatory",
            "allowedAccounts": ["999999999999", "888888888888", "777777777777"],
        },
        "secret-policy-deny-outside": {"enforcementLevel": "mandatory"},
        "secret-required-tags": {
            "enforcementLevel": "mandatory",
            "requiredTags": ["owner", "environment"],
            "environment": "qa",
        },
        "secret-protected": {"enforcementLevel": "mandatory"},
        "kms-key-rotation-enabled": {"enforcementLevel": "mandatory"},
        "secret-replica-regions-allowed": {"enforcementLevel": "advisory", "allowedRegions": ["eu-central-1", "eu-west-1"]},
        "kms-key-policy-no-public-access": {"enforcementLevel": "mandatory"},
        "kms-key-not-pending-deletion": {"enforcementLevel": "mandatory"},
        "secret-region-allowed": {"enforcementLevel": "advisory", "allowedRegions": ["eu-central-1", "eu-west-1"]},
        "secret-replica-no-force-overwrite": {"enforcementLevel": "advisory"},
        "generated-credential-strength": {
            "enforcementLevel": "mandatory",
            "minimumLength": 32,
            "requiredClasses": ["lowercase", "uppercase", "digits", "punctuation"],
        },
    }
    assert list(json.loads(text)) == list(BY_NAME)
    assert (tmp_path / "Pulumi.qa.yaml").read_text() == (
        "# Stack qa: deploys environments/qa.yaml into the security account.\n"
        "# Values that come from config (value: {from_config: NAME}) are set encrypted with:\n"
        "#   pulumi config set --secret --stack qa NAME\n"
        "config:\n"
        "  aws:region: eu-central-1\n"
        "  secrets-layout:declaration: environments/qa.yaml\n"
    )


@pytest.mark.parametrize("environment", sorted(SEEDS))
def test_seed_stack_files_are_reproduced(tmp_path, environment):
    scaffold_environment(environment, tmp_path, **SEEDS[environment])
    name = f"Pulumi.{environment}.yaml"
    assert (tmp_path / name).read_text() == (ROOT / name).read_text()


@pytest.mark.parametrize("environment", ["staging", "prod", "shared-services"])
def test_seed_policy_configs_are_reproduced(tmp_path, environment):
    scaffold_environment(environment, tmp_path, **SEEDS[environment])
    name = f"policies/config/{environment}.json"
    assert (tmp_path / name).read_text() == (ROOT / name).read_text()


@pytest.mark.parametrize("environment", sorted(SEEDS))
def test_seed_declarations_state_the_protection_their_policy_config_enforces(tmp_path, environment):
    seed = load_declaration(ROOT / "environments" / f"{environment}.yaml").declaration
    config = json.loads((ROOT / "policies" / "config" / f"{environment}.json").read_text())
    assert seed.defaults.protect is not None  # written, not implied
    assert seed.defaults.protect == SEEDS[environment].get("settings", EnvironmentSettings()).resolved().protect
    assert config["secret-protected"]["enforcementLevel"] == ("mandatory" if seed.defaults.protect else "disabled")


# -- no behaviour depends on an environment's name (SPEC section 10) -------------------------------

def with_name_replaced(tmp_path: Path, environment: str, **options) -> dict[str, str]:
    """The three files init writes for `environment`, with its name replaced by ENV."""
    root = tmp_path / environment
    scaffold_environment(environment, root, security_account="999999999999", accounts={f"{environment}-app":
                                                                                         "888888888888"}, **options)
    return {path.name.replace(environment, "ENV"): re.sub(rf"\b{re.escape(environment)}\b", "ENV", path.read_text())
            for path in scaffold_paths(environment, root)}


@pytest.mark.parametrize("environment", ["prod", "production", "prd", "dev", "staging", "shared-services", "qa"])
def test_every_name_starts_protected_and_equally_strict(tmp_path, environment):
    assert with_name_replaced(tmp_path, environment) == with_name_replaced(tmp_path, "acme")
    declaration = load_declaration(tmp_path / environment / "environments" / f"{environment}.yaml").declaration
    assert declaration.defaults.protect is True
    config = json.loads((tmp_path / environment / "policies" / "config" / f"{environment}.json").read_text())
    assert config["secret-protected"] == {"enforcementLevel": "mandatory"}
    assert config["secret-policy-deny-outside"] == {"enforcementLevel": "mandatory"}


@pytest.mark.parametrize(
    ("settings", "protect_line", "protected_level"),
    [
        (EnvironmentSettings(), "  protect: true                       # pulumi destroy and replacing changes stop at "
                                "every secret and key; false only on purpose", "mandatory"),
        (EnvironmentSettings(protect=True), "  protect: true                       # pulumi destroy and replacing "
                                            "changes stop at every secret and key; false only on purpose", "mandatory"),
        (EnvironmentSettings(protect=False), "  protect: false                      # unprotected on purpose "
                                             "(init --no-protect): pulumi destroy deletes", "disabled"),
    ],
    ids=["default", "protect", "no-protect"],
)
def test_protection_is_written_and_enforced_as_chosen(tmp_path, settings, protect_line, protected_level):
    scaffold_environment("production", tmp_path, settings=settings)
    assert protect_line in (tmp_path / "environments/production.yaml").read_text().splitlines()
    config = json.loads((tmp_path / "policies/config/production.json").read_text())
    assert config["secret-protected"] == {"enforcementLevel": protected_level}


@pytest.mark.parametrize(
    ("source", "settings", "expected"),
    [
        ("dev", EnvironmentSettings(), False),  # dev says protect: false, so its copy does too
        ("prod", EnvironmentSettings(), True),
        ("dev", EnvironmentSettings(protect=True), True),
        ("prod", EnvironmentSettings(protect=False), False),
    ],
)
def test_init_from_keeps_the_sources_protection_unless_told(tmp_path, source, settings, expected):
    scaffold_environment("qa", tmp_path, accounts={"qa-app": "888888888888"}, source=seed(source), settings=settings)
    copied = load_declaration(tmp_path / "environments/qa.yaml").declaration
    assert copied.defaults.protect is expected
    assert all(copied.protects(secret) is expected for secret in copied.secrets)
    config = json.loads((tmp_path / "policies/config/qa.json").read_text())
    assert config["secret-protected"] == {"enforcementLevel": "mandatory" if expected else "disabled"}


def test_dev_policy_config_differs_from_the_seed_only_by_its_spare_region(tmp_path):
    scaffold_environment("dev", tmp_path, **SEEDS["dev"])
    ours = json.loads((tmp_path / "policies/config/dev.json").read_text())
    seed = json.loads((ROOT / "policies/config/dev.json").read_text())
    assert ours["secret-replica-regions-allowed"]["allowedRegions"] == ["us-east-1"]
    seed["secret-replica-regions-allowed"]["allowedRegions"] = ["us-east-1"]
    seed["secret-region-allowed"]["allowedRegions"] = ["us-east-1"]
    assert ours == seed


@pytest.mark.parametrize(
    ("environment", "options", "expected"),
    [
        ("qa", {}, {"accounts": {}, "replicas": [], "every_days": 30, "recovery": 30, "organization_id": None}),
        ("dev", {}, {"accounts": {}, "replicas": [], "every_days": 30, "recovery": 30, "organization_id": None}),
        ("dev", SEEDS["dev"], {"accounts": {"dev-app": "444444444444"}, "replicas": [], "every_days": 7, "recovery": 7,
                               "organization_id": None}),
        ("staging", SEEDS["staging"], {"accounts": {"staging-app": "555555555555"}, "replicas": ["us-west-2"],
                                       "every_days": 30, "recovery": 14, "organization_id": None}),
        ("prod", SEEDS["prod"], {"accounts": {"prod-app": "222222222222", "prod-data": "333333333333"},
                                 "replicas": ["us-west-2", "eu-west-1"], "every_days": 30, "recovery": 30,
                                 "organization_id": "o-a1b2c3d4e5"}),
        ("shared-services", SEEDS["shared-services"],
         {"accounts": {"shared-ci": "666666666666", "shared-monitoring": "777777777777"}, "replicas": ["us-west-2"],
          "every_days": 60, "recovery": 30, "organization_id": "o-a1b2c3d4e5"}),
        ("team-b", {"security_account": "123456789012", "region": "ap-southeast-2", "owner": "team b",
                    "accounts": {"team-b-app": "210987654321"}},
         {"accounts": {"team-b-app": "210987654321"}, "replicas": [], "every_days": 30, "recovery": 30,
          "organization_id": None}),
    ],
)
def test_scaffolded_declaration_validates(tmp_path, environment, options, expected):
    scaffold_environment(environment, tmp_path, **options)
    path = tmp_path / "environments" / f"{environment}.yaml"
    text = path.read_text()
    assert text.startswith("# yaml-language-server: $schema=schema.json\n")
    declaration = load_declaration(path).declaration
    assert declaration.environment == environment
    assert declaration.security_account == options.get("security_account", SECURITY)
    assert declaration.primary_region == options.get("region", "us-east-1")
    assert {name: account.id for name, account in declaration.accounts.items()} == expected["accounts"]
    assert declaration.organization_id == expected["organization_id"]
    assert declaration.defaults.replicas == expected["replicas"]
    assert declaration.defaults.rotation.every_days == expected["every_days"]
    assert declaration.defaults.recovery_window_days == expected["recovery"]
    assert declaration.defaults.tags == {"owner": options.get("owner", "platform-team")}
    assert declaration.secrets == [] and declaration.parameters == []
    # The placeholder account says to replace it; a given account does not.
    assert ("REPLACE this placeholder" in text) == ("security_account" not in options)


@pytest.mark.parametrize("environment", ["dev", "prod", "team-b"])
def test_the_commented_example_validates_once_uncommented(tmp_path, environment):
    options = SEEDS.get(environment, {"accounts": {"team-b-app": "210987654321"}})
    scaffold_environment(environment, tmp_path, **options)
    text = (tmp_path / "environments" / f"{environment}.yaml").read_text()
    declaration = parse_declaration(uncommented_example(text), "example.yaml").declaration
    [secret] = declaration.secrets
    assert secret.name == f"{environment}/orders/database-credentials"
    assert secret.rotates and secret.rotation.managed.value == "rds-postgresql-single-user"
    assert [(reader.account, reader.roles) for reader in secret.readers] == [
        (next(iter(options["accounts"])), ["OrdersServiceRole"])
    ]


def test_without_accounts_the_example_says_to_add_its_reader_account(tmp_path):
    scaffold_environment("qa", tmp_path)
    text = (tmp_path / "environments/qa.yaml").read_text()
    assert 'accounts: {}                          # this environment\'s consumer accounts by name, e.g. {qa-app: "222222222222"}\n' in text
    assert "#       - {account: qa-app, roles: [OrdersServiceRole]}   # a name from accounts: (add qa-app there first)\n" in text


@pytest.mark.parametrize("environment", ["qa", *sorted(SEEDS)])
def test_scaffolded_policy_config_is_accepted_by_the_pack_schema(tmp_path, environment):
    options = SEEDS.get(environment, {"accounts": {"qa-app": "888888888888"}})
    scaffold_environment(environment, tmp_path, **options)
    config = load_policy_config(tmp_path / "policies" / "config" / f"{environment}.json")
    sent = reconcile_config(pack_policies(), config)
    assert set(sent) == set(BY_NAME)
    assert sent["secret-name-convention"]["properties"] == {"environment": environment}
    assert sent["secret-policy-allowed-accounts"]["properties"]["allowedAccounts"] == [
        SECURITY, *options["accounts"].values()
    ]
    settings = options.get("settings", EnvironmentSettings()).resolved()
    assert sent["secret-rotation-max-interval"] == {"enforcementLevel": "mandatory",
                                                    "properties": {"maximumDays": settings.maximum_days}}
    assert sent["secret-protected"]["enforcementLevel"] == ("mandatory" if settings.protect else "disabled")
    assert sent["secret-policy-deny-outside"]["enforcementLevel"] == settings.deny_outside


# ------------------------------------------------------------------------------------------------
# Never overwrite without force
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("existing", "message"),
    [
        (["environments/qa.yaml"], "environments/qa.yaml already exists; nothing was written. Use --force to overwrite."),
        (["Pulumi.qa.yaml"], "Pulumi.qa.yaml already exists; nothing was written. Use --force to overwrite."),
        (["policies/config/qa.json"], "policies/config/qa.json already exists; nothing was written. Use --force to overwrite."),
        (["environments/qa.yaml", "policies/config/qa.json"],
         "environments/qa.yaml, policies/config/qa.json already exist; nothing was written. Use --force to overwrite."),
    ],
)
def test_refuses_to_overwrite_and_writes_nothing(tmp_path, existing, message):
    for name in existing:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(f"mine: {name}\n")
    with pytest.raises(ScaffoldTargetsExist) as raised:
        scaffold_environment("qa", tmp_path)
    assert str(raised.value) == message
    assert relative(raised.value.paths, tmp_path) == existing
    for path in scaffold_paths("qa", tmp_path):
        name = str(path.relative_to(tmp_path))
        if name in existing:
            assert path.read_text() == f"mine: {name}\n"
        else:
            assert not path.exists()


def test_force_overwrites(tmp_path):
    for path in scaffold_paths("qa", tmp_path):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("old\n")
    written = scaffold_environment("qa", tmp_path, accounts={"qa-app": "888888888888"}, force=True)
    assert relative(written, tmp_path) == ["environments/qa.yaml", "Pulumi.qa.yaml", "policies/config/qa.json",
                                           "environments/schema.json", *PROJECT_FILES]
    assert load_declaration(tmp_path / "environments/qa.yaml").declaration.accounts["qa-app"].id == "888888888888"
    assert json.loads((tmp_path / "policies/config/qa.json").read_text())["secret-policy-allowed-accounts"][
        "allowedAccounts"] == [SECURITY, "888888888888"]
    assert "aws:region: us-east-1" in (tmp_path / "Pulumi.qa.yaml").read_text()


def test_a_second_init_of_the_same_environment_is_refused(tmp_path):
    scaffold_environment("qa", tmp_path)
    before = {path: path.read_text() for path in scaffold_paths("qa", tmp_path)}
    with pytest.raises(ScaffoldTargetsExist) as raised:
        scaffold_environment("qa", tmp_path, region="eu-west-1")
    assert str(raised.value) == ("environments/qa.yaml, Pulumi.qa.yaml, policies/config/qa.json already exist; "
                                 "nothing was written. Use --force to overwrite.")
    assert {path: path.read_text() for path in scaffold_paths("qa", tmp_path)} == before


def test_a_file_created_after_the_check_is_not_overwritten_and_nothing_is_left_behind(tmp_path, monkeypatch):
    late = tmp_path / "policies/config/qa.json"
    late.parent.mkdir(parents=True)
    late.write_text("created meanwhile\n")
    monkeypatch.setattr(Path, "exists", lambda self: False)  # as if it appeared after the check
    with pytest.raises(ScaffoldTargetsExist) as raised:
        scaffold_environment("qa", tmp_path)
    monkeypatch.undo()
    assert str(raised.value) == "policies/config/qa.json already exists; nothing was written. Use --force to overwrite."
    assert late.read_text() == "created meanwhile\n"
    assert not (tmp_path / "environments/qa.yaml").exists()
    assert not (tmp_path / "Pulumi.qa.yaml").exists()


# ------------------------------------------------------------------------------------------------
# Bad input: a clear message, nothing written
# ------------------------------------------------------------------------------------------------

BAD_ENVIRONMENT = ("environment '{}' is not a valid name: use a lowercase slug of 1-32 letters, digits and '-', "
                   "starting with a letter (dev, staging, prod, shared-services)")


@pytest.mark.parametrize(
    ("environment", "options", "message"),
    [
        ("Prod", {}, BAD_ENVIRONMENT.format("Prod")),
        ("1dev", {}, BAD_ENVIRONMENT.format("1dev")),
        ("", {}, BAD_ENVIRONMENT.format("")),
        ("dev_1", {}, BAD_ENVIRONMENT.format("dev_1")),
        ("../etc", {}, BAD_ENVIRONMENT.format("../etc")),
        ("a" * 33, {}, BAD_ENVIRONMENT.format("a" * 33)),
        ("qa", {"security_account": "12345"},
         "security account '12345' is not an AWS account ID: use its 12 digits, e.g. 111111111111"),
        ("qa", {"security_account": "1111111111111"},
         "security account '1111111111111' is not an AWS account ID: use its 12 digits, e.g. 111111111111"),
        ("qa", {"region": "us-east-9"}, "region 'us-east-9' is not an AWS region: use a region code such as us-east-1"),
        ("qa", {"accounts": {"QA": "222222222222"}},
         "account name 'QA' is not valid: use lowercase letters, digits and '-' (e.g. prod-app)"),
        ("qa", {"accounts": {"qa-app": "22222222222"}},
         "account 'qa-app': '22222222222' is not an AWS account ID: use its 12 digits, e.g. 222222222222"),
        ("qa", {"accounts": {"qa-app": "111111111111"}},
         "account 'qa-app' is the security account 111111111111: accounts are the consumer accounts that read the "
         "secrets; remove it"),
        ("qa", {"accounts": [("qa-app", "222222222222"), ("qa-app", "333333333333")]},
         "account 'qa-app' is given twice; give each account once"),
        ("qa", {"accounts": {"qa-app": "222222222222", "qa-data": "222222222222"}},
         "accounts 'qa-app' and 'qa-data' have the same ID 222222222222; give each account one name"),
        ("qa", {"replicas": ["us-east-1"]},
         "replica region us-east-1 is the primary region; a replica must be another region"),
        ("qa", {"replicas": ["us-west-2", "us-west-2"]},
         "replica region us-west-2 is given twice; a replica must be another region"),
        ("qa", {"replicas": ["mars-1"]},
         "replica region 'mars-1' is not an AWS region: use a region code such as us-east-1"),
        ("qa", {"organization_id": "o-short"},
         "organization ID 'o-short' is not valid: it looks like o-a1b2c3d4e5 (o- and 10-32 lowercase letters or digits)"),
        ("qa", {"owner": "team#1"},
         "owner 'team#1' is not a valid tag value: use up to 256 letters, digits, spaces or _.:/=+-@"),
        ("qa", {"settings": EnvironmentSettings(rotation_days=0)}, "--rotation-days 0: rotate every 1 to 1000 days"),
        ("qa", {"settings": EnvironmentSettings(rotation_days=1001, maximum_days=2000)},
         "--rotation-days 1001: rotate every 1 to 1000 days"),
        ("qa", {"settings": EnvironmentSettings(rotation_days=30, maximum_days=7)},
         "--maximum-days 7 is shorter than the rotation interval (30 days), so every secret would fail "
         "secret-rotation-max-interval; give a maximum at least as long"),
        ("qa", {"settings": EnvironmentSettings(recovery_window_days=6)},
         "--recovery-window-days 6: AWS keeps a deleted secret 7 to 30 days"),
        ("qa", {"settings": EnvironmentSettings(recovery_window_days=31)},
         "--recovery-window-days 31: AWS keeps a deleted secret 7 to 30 days"),
        ("qa", {"settings": EnvironmentSettings(deny_outside="disabled")},
         "--deny-outside disabled: give one of mandatory, advisory"),
        ("qa", {"settings": EnvironmentSettings(rotation_days=7), "source": seed("prod")},
         "--rotation-days and --recovery-window-days set the defaults of a new declaration; a copy (--from prod) "
         "keeps its source's: change them in its defaults: afterwards"),
    ],
)
def test_bad_input_is_refused_before_writing(tmp_path, environment, options, message):
    with pytest.raises(ScaffoldInputError) as raised:
        scaffold_environment(environment, tmp_path, **options)
    assert str(raised.value) == message
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("qa-app=222222222222", ("qa-app", "222222222222")),
        (" qa-app = 222222222222 ", ("qa-app", "222222222222")),
        ("qa-app", "--account qa-app: write NAME=ID, e.g. --account app=222222222222"),
        ("qa-app=2222", "account 'qa-app': '2222' is not an AWS account ID: use its 12 digits, e.g. 222222222222"),
        ("=222222222222", "account name '' is not valid: use lowercase letters, digits and '-' (e.g. prod-app)"),
    ],
)
def test_parse_account_assignment(text, expected):
    if isinstance(expected, tuple):
        assert parse_account_assignment(text) == expected
    else:
        with pytest.raises(ScaffoldInputError) as raised:
            parse_account_assignment(text)
        assert str(raised.value) == expected


# -- the schema reference --------------------------------------------------------------------------
# yaml-language-server resolves a relative `$schema=` of the modeline against the folder of the YAML
# file (redhat-developer/yaml-language-server PR #499 "Support relative path in inline schema
# comment"; redhat-developer/vscode-yaml issue #587: "relative paths is calculated from yaml file path").

def schema_reference(declaration: Path) -> Path:
    [modeline] = [line for line in declaration.read_text().splitlines() if line.startswith("# yaml-language-server:")]
    reference = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", modeline).group(1)
    return declaration.parent / reference


@pytest.mark.parametrize("source", [None, "dev"], ids=["init", "init --from"])
def test_the_schema_reference_resolves_in_a_repository_without_a_schema(tmp_path, source):
    if source:
        (tmp_path / "environments").mkdir()
        (tmp_path / "environments" / "dev.yaml").write_text((ROOT / "environments" / "dev.yaml").read_text())
    scaffold_environment("qa", tmp_path, source=seed("dev") if source else None)
    schema = schema_reference(tmp_path / "environments" / "qa.yaml")
    assert schema.is_file()
    assert schema.read_text() == schema_text()
    jsonschema.Draft202012Validator.check_schema(json.loads(schema.read_text()))


def test_an_existing_schema_is_referenced_and_kept(tmp_path):
    (tmp_path / "environments").mkdir()
    (tmp_path / "environments" / "schema.json").write_text('{"title": "mine"}\n')
    written = scaffold_environment("qa", tmp_path)
    assert relative(written, tmp_path) == ["environments/qa.yaml", "Pulumi.qa.yaml", "policies/config/qa.json",
                                           *PROJECT_FILES]
    assert schema_reference(tmp_path / "environments" / "qa.yaml").read_text() == '{"title": "mine"}\n'


def test_the_repository_declarations_reference_its_schema():
    for declaration in sorted((ROOT / "environments").glob("*.yaml")):
        assert schema_reference(declaration) == ROOT / "environments" / "schema.json", declaration


# -- init --from: structure, never values ----------------------------------------------------------

def scalar_strings(node):
    if isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from scalar_strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from scalar_strings(item)
    else:
        yield str(node)


def source_values(declaration) -> set[str]:
    """Every value of a declaration that belongs to its environment and must not travel: account and
    organization IDs, ARNs, import ids, template and parameter values (hosts, users), rotation
    endpoints and VPC ids, alert endpoints."""
    values = {declaration.security_account, *(account.id for account in declaration.accounts.values())}
    values |= {declaration.organization_id} if declaration.organization_id else set()
    values |= set(declaration.kms.keys.values())
    for secret in declaration.secrets:
        values |= {secret.import_id} if secret.import_id else set()
        template = secret.value.template or {}
        values |= {str(value) for key, value in template.items()
                   if key != "engine" and isinstance(value, str)}
        rotation = secret.rotation
        if rotation is not None:
            values |= {rotation.lambda_arn} if rotation.lambda_arn else set()
            if rotation.vpc is not None:
                values |= {*rotation.vpc.subnet_ids, *rotation.vpc.security_group_ids}
            if rotation.adapter is not None:
                values |= {str(value) for key, value in rotation.adapter.model_dump().items()
                           if key.endswith("_url") and value}
    values |= {str(parameter.value) for parameter in declaration.parameters if len(str(parameter.value)) > 4}
    if declaration.alerts and declaration.alerts.topic:
        values |= {subscription.endpoint for subscription in declaration.alerts.topic.subscriptions}
    return values


@pytest.mark.parametrize("source", sorted(SEEDS))
def test_init_from_copies_the_structure_and_validates(tmp_path, source):
    original = load_declaration(ROOT / "environments" / f"{source}.yaml").declaration
    scaffold_environment("qa", tmp_path, security_account="999999999999", region="eu-central-1",
                         accounts={"qa-app": "888888888888"}, source=seed(source))
    copied = load_declaration(tmp_path / "environments" / "qa.yaml").declaration
    assert copied.environment == "qa" and copied.security_account == "999999999999"
    assert copied.primary_region == "eu-central-1" and copied.organization_id is None
    assert [secret.name for secret in copied.secrets] == [
        "qa" + secret.name[len(source):] for secret in original.secrets]
    for new, old in zip(copied.secrets, original.secrets):
        # The environment's name in a description is the new one's (tests/test_environment_copy.py).
        description = {"Stripe test-mode key of staging": "Stripe test-mode key of qa"}.get(old.description,
                                                                                             old.description)
        assert (new.kind, new.format, new.description) == (old.kind, old.format, description)
        assert new.value.from_config == old.value.from_config and new.value.external == old.value.external
        assert new.value.generate == old.value.generate
        assert sorted(new.value.template or {}) == sorted(old.value.template or {})
        assert (new.rotation.managed, new.rotation.function, new.rotation.enabled) == (
            old.rotation.managed, old.rotation.function, old.rotation.enabled)
        assert new.import_id is None and new.adopt is None
        assert {reader.account for reader in new.readers} <= {"qa-app"}
    assert [parameter.name for parameter in copied.parameters] == [
        "/qa" + parameter.name[len(source) + 1:] for parameter in original.parameters]


@pytest.mark.parametrize("source", sorted(SEEDS))
def test_init_from_copies_no_value_of_its_source(tmp_path, source):
    original = load_declaration(ROOT / "environments" / f"{source}.yaml").declaration
    scaffold_environment("qa", tmp_path, security_account="999999999999", accounts={"qa-app": "888888888888"},
                         source=seed(source))
    text = (tmp_path / "environments" / "qa.yaml").read_text()
    scalars = set(scalar_strings(yaml.safe_load(text)))
    # a short value (a user name "orders") may be a word of a secret's name; a long one may not appear at all
    leaked = {value for value in source_values(original)
              if value in scalars or (len(value) >= 12 and value in text)}
    assert not leaked
    assert source_values(original)  # the check has something to find


def test_init_from_keeps_readers_of_the_renamed_accounts_it_is_given(tmp_path):
    original = load_declaration(ROOT / "environments" / "prod.yaml").declaration
    scaffold_environment("qa", tmp_path, accounts={"qa-app": "888888888888", "qa-data": "777777777777"},
                         source=seed("prod"))
    copied = load_declaration(tmp_path / "environments" / "qa.yaml").declaration
    for new, old in zip(copied.secrets, original.secrets):
        assert [(reader.account, reader.roles) for reader in new.readers] == [
            ("qa" + reader.account[len("prod"):], reader.roles) for reader in old.readers]
    text = (tmp_path / "environments" / "qa.yaml").read_text()
    assert "Readers left out" not in text


def test_init_from_says_what_it_left_out(tmp_path):
    scaffold_environment("qa", tmp_path, source=seed("prod"))
    header = [line for line in (tmp_path / "environments" / "qa.yaml").read_text().splitlines() if line.startswith("#")]
    assert header == [
        "# yaml-language-server: $schema=schema.json",
        "# qa: what environments/prod.yaml declares (secrets-layout init --from prod), none of its values.",
        "# Replace every REPLACE-ME (template values, parameter values, rotation endpoints) before deploying.",
        "# Not copied: account IDs, KMS key ARNs, import_id/adopt, rotation VPCs, alerts.",
        "# Readers left out (no such account here; give --account NAME=ID): prod-app, prod-data.",
        "# Set the from_config values: pulumi config set --secret --stack qa NAME (for sendgridApiKey, stripeApiKey).",
        # The source's own comments follow, as it wrote them.
        "# Production secrets, held in the security account and read cross-account by the prod accounts.",
    ]
