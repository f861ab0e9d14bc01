"""generated-credential-strength: generated passwords have the configured length and classes, and leave
out few characters (issue 23), for every generator a stack may hold."""

from __future__ import annotations

import pytest

from cli_support import run_main
from declaration_support import VALID_SECRET, declaration
from secrets_layout.policies.checks.strength import (
    RANDOM_PASSWORD,
    ROTATION_APPLICATION,
    check_credential_strength,
)
from secrets_layout.policies.findings import CannotCheck
from secrets_layout.policies.resources import NATIVE_ROTATION_SCHEDULE, NATIVE_SECRET, Resource

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
POSTGRES_APP = "arn:aws:serverlessrepo:us-east-1:297356227824:applications/SecretsManagerRDSPostgreSQLRotationSingleUser"


def found(resource_type, props, config=None):
    return [(finding.path, finding.what) for finding in check_credential_strength(Resource(resource_type, props), config or {})]


CASES = [
    # resource, inputs, the path of the one finding (None: it passes)
    ("random, as the layout makes it", RANDOM_PASSWORD, {"length": 32, "special": True, "overrideSpecial": "!#$%&*()-_=+[]{}<>:?"}, None),
    ("random, its defaults", RANDOM_PASSWORD, {"length": 32}, None),
    ("random, too short", RANDOM_PASSWORD, {"length": 16}, ("length",)),
    ("random, no punctuation", RANDOM_PASSWORD, {"length": 32, "special": False}, ("special",)),
    ("random, no uppercase", RANDOM_PASSWORD, {"length": 32, "upper": False}, ("upper",)),
    ("random, no digits (deprecated number)", RANDOM_PASSWORD, {"length": 32, "number": False}, ("numeric",)),
    ("random, empty specials", RANDOM_PASSWORD, {"length": 32, "overrideSpecial": ""}, ("special",)),
    ("random, two specials left", RANDOM_PASSWORD, {"length": 32, "overrideSpecial": "!#"}, ("overrideSpecial",)),
    ("AWS app, its default", ROTATION_APPLICATION, {"applicationId": POSTGRES_APP, "parameters": {}}, None),
    ("AWS app, RDS's characters", ROTATION_APPLICATION,
     {"applicationId": POSTGRES_APP, "parameters": {"excludeCharacters": "\"'/@"}}, None),
    ("AWS app, half the punctuation", ROTATION_APPLICATION,
     {"applicationId": POSTGRES_APP, "parameters": {"excludeCharacters": "!\"#$%&'()*+,-./:;"}},
     ("parameters", "excludeCharacters")),
    ("AWS app, short passwords", ROTATION_APPLICATION,
     {"applicationId": POSTGRES_APP, "parameters": {"passwordLength": "20"}}, ("parameters", "passwordLength")),
    ("another application", ROTATION_APPLICATION,
     {"applicationId": "arn:aws:serverlessrepo:us-east-1:123456789012:applications/mine",
      "parameters": {"excludeCharacters": "!\"#$%&'()*+,-./:;"}}, None),
    ("aws-native secret, defaults", NATIVE_SECRET, {"generateSecretString": {}}, None),
    ("aws-native secret, short", NATIVE_SECRET, {"generateSecretString": {"passwordLength": 20}},
     ("generateSecretString", "passwordLength")),
    ("aws-native secret, no punctuation", NATIVE_SECRET, {"generateSecretString": {"excludePunctuation": True}},
     ("generateSecretString", "excludePunctuation")),
    ("aws-native secret, a value of its own", NATIVE_SECRET, {"secretString": "x"}, None),
    ("aws-native hosted rotation", NATIVE_ROTATION_SCHEDULE,
     {"hostedRotationLambda": {"rotationType": "PostgreSQLSingleUser", "excludeCharacters": "!\"#$%&'()*+,-./:;"}},
     ("hostedRotationLambda", "excludeCharacters")),
]


@pytest.mark.parametrize("resource_type, props, path", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_each_generator_is_judged(resource_type, props, path):
    findings = found(resource_type, props)
    assert [p for p, _ in findings] == ([] if path is None else [path])


def test_the_messages_say_what_and_name_the_input():
    [(_, short)] = found(RANDOM_PASSWORD, {"length": 16})
    assert short == "length is 16, shorter than the minimum of 32 characters."
    [(_, classes)] = found(NATIVE_SECRET, {"generateSecretString": {"excludePunctuation": True}})
    assert classes == ("The generated password leaves out punctuation characters "
                       "(generate_secret_string.exclude_punctuation), one of the required classes (lowercase, "
                       "uppercase, digits, punctuation).")


def test_the_config_sets_the_length_the_classes_and_the_exclusions():
    relaxed = {"minimumLength": 16, "requiredClasses": ["lowercase", "uppercase", "digits"],
               "maximumExcludedCharacters": 20}
    assert found(RANDOM_PASSWORD, {"length": 16, "special": False}, relaxed) == []
    assert found(RANDOM_PASSWORD, {"length": 16, "overrideSpecial": "!#"}, relaxed) == []
    assert [p for p, _ in found(RANDOM_PASSWORD, {"length": 16, "overrideSpecial": "!#"},
                                {"maximumExcludedCharacters": 17, "minimumLength": 16})] == [("overrideSpecial",)]


@pytest.mark.parametrize("props", [{"length": UNKNOWN}, {"length": 32, "special": UNKNOWN},
                                   {"length": 32, "overrideSpecial": UNKNOWN}])
def test_an_unknown_setting_cannot_be_checked_during_a_preview(props):
    with pytest.raises(CannotCheck):
        check_credential_strength(Resource(RANDOM_PASSWORD, props), {})


# -- validate, at the YAML field, with the level from the policy config --------------------------------

def _validated(tmp_path, generate: str, level: str = "mandatory"):
    import json

    # This policy alone, at the level given (Pulumi's "all" sets every other policy's level).
    config = {"all": "disabled", "generated-credential-strength": {"enforcementLevel": level}}
    (tmp_path / "config.json").write_text(json.dumps(config))
    text = declaration(VALID_SECRET).replace("value: {from_config: appApiKey}",
                                             f"value: {{generate: {generate}}}\n    format: plaintext")
    (tmp_path / "prod.yaml").write_text(text)
    return run_main("validate", "--policy-config", str(tmp_path / "config.json"), str(tmp_path / "prod.yaml"))


@pytest.mark.parametrize("generate, field, fix", [
    ("{length: 16}", "secrets[0].value.generate.length", "set `length:` to 32 or more"),
    ("{length: 32, exclude_punctuation: true}", "secrets[0].value.generate.exclude_punctuation",
     "remove `exclude_punctuation: true`"),
])
def test_validate_reports_a_weak_generator_at_its_field(tmp_path, generate, field, fix):
    result = _validated(tmp_path, generate)
    assert result.returncode == 1
    [line] = [line for line in result.stdout.splitlines() if "generated-credential-strength" in line]
    assert f": {field}: mandatory generated-credential-strength: " in line and f"In the declaration: {fix}" in line


def test_the_level_comes_from_the_policy_config(tmp_path):
    advisory = _validated(tmp_path, "{length: 16}", level="advisory")
    assert advisory.returncode == 0 and "advisory generated-credential-strength" in advisory.stdout + advisory.stderr
    disabled = _validated(tmp_path, "{length: 16}", level="disabled")
    assert disabled.returncode == 0 and "generated-credential-strength" not in disabled.stdout + disabled.stderr
    assert _validated(tmp_path, "{length: 32}").returncode == 0
