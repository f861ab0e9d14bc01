"""Fast unit tests of the pure checks (policies/checks/), without a pack process.

A check returns findings; ``said`` renders them as the pack reports them (what, why, fix)."""

from __future__ import annotations

import json

import pytest

from secrets_layout.policies.catalog import BY_NAME
from secrets_layout.policies.checks import access, deletion, keys, links, naming, regions, tagging
from secrets_layout.policies.checks import rotation as rotation_checks
from secrets_layout.policies.findings import CannotCheck, NotApplicable
from secrets_layout.policies.resources import KMS_KEY, SECRET, SECRET_POLICY, SECRET_ROTATION, Resource
from policy_support import key_arn, policy_document, secret_props

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def said(check, resource, config):
    """The check's findings as the pack reports them."""
    return [finding.message for finding in check(resource, config)]


def stack_said(check, resources, config):
    """A stack check's (urn, message) violations and what it left undecided."""
    verdict = check(resources, config)
    return [(urn, finding.message) for urn, finding in verdict.findings], verdict.undecided
PROD = {"environment": "prod"}


def secret(**changes):
    props = secret_props("prod")
    for key, value in changes.items():
        if value is None:
            props.pop(key, None)
        else:
            props[key] = value
    return Resource(SECRET, props, urn="urn:secret", name="db", protect=True)


def secret_policy(document, block=True):
    return Resource(SECRET_POLICY, {"secretArn": "arn", "blockPublicPolicy": block, "policy": document}, urn="urn:pol")


def rotation(rules_value=None, **props):
    props.setdefault("secretId", "arn:aws:secretsmanager:us-east-1:111111111111:secret:prod/orders/database-AbCdEf")
    if rules_value is not None:
        props["rotationRules"] = rules_value
    return Resource(SECRET_ROTATION, props, urn="urn:rot", name="rot")


# -- secret-name-convention ----------------------------------------------------------------------

@pytest.mark.parametrize("name", ["prod/orders/database", "prod/payments/stripe-api-key", "prod/a/b/c/d",
                                  "prod/legacy/partner-token", "prod/x/keys-abcde"])
def test_good_names(name):
    assert said(naming.check_secret_name, secret(name=name), PROD) == []


@pytest.mark.parametrize("name, problem", [
    ("prod/orders", "it has 2 segments, at least 3 are needed"),
    ("prod", "it has 1 segment, at least 3 are needed"),
    ("staging/orders/db", 'the first segment is "staging", not the environment "prod"'),
    ("prod/Orders/db", 'segment "Orders" is not lowercase [a-z0-9-]'),
    ("prod/orders/db_main", 'segment "db_main" is not lowercase'),
    ("prod//db", 'segment "" is not lowercase'),
    ("prod/orders/db-abc123", 'it ends in "-abc123", a hyphen and 6 characters'),
])
def test_bad_names(name, problem):
    [message] = said(naming.check_secret_name, secret(name=name), PROD)
    assert problem in message and f'Secret name "{name}"' in message and "Rename it" in message


def test_name_suggestions():
    assert naming.suggest_name("Prod/Orders_DB", "prod") == "prod/orders-db/<name>"
    assert naming.suggest_name("orders/db", "prod") == "prod/orders/db"
    assert naming.suggest_name("prod/orders/db-abc123", "prod") == "prod/orders/dbabc123"


def test_name_needs_environment_and_a_fixed_name():
    with pytest.raises(NotApplicable) as caught:
        said(naming.check_secret_name, secret(), {})
    assert '"environment" is missing' in caught.value.reason
    with pytest.raises(CannotCheck) as unknown:
        said(naming.check_secret_name, secret(name=UNKNOWN), PROD)
    assert unknown.value.message.startswith("cannot check during preview: ")
    [message] = said(naming.check_secret_name, secret(name=None), PROD)
    assert message.startswith("The secret has no explicit name.")


# A secret named by name_prefix gets the prefix and 26 characters of [0-9a-f] (terraform-plugin-sdk
# helper/id PrefixedUniqueId, which terraform-provider-aws's create.Name calls). Decision (README, "The
# policy pack"): it passes when every name made that way follows the convention.
@pytest.mark.parametrize("prefix, problem", [
    ("prod/orders/db-", None),
    ("prod/orders/", None),
    ("prod/", "it has 2 segments"),
    ("prod/Orders/db-", 'segment "Orders" is not lowercase'),
    ("prod/orders/db_", 'is not lowercase'),
    ("staging/orders/db-", 'the first segment is "staging"'),
])
def test_name_prefix_follows_the_convention_when_every_generated_name_does(prefix, problem):
    messages = said(naming.check_secret_name, secret(name=None, namePrefix=prefix), PROD)
    if problem is None:
        assert messages == []
    else:
        [message] = messages
        assert message.startswith(f'The secret is named by name_prefix "{prefix}" and a 26-character suffix')
        assert problem in message and 'Set name_prefix to "prod/<service>/<name>-"' in message


def test_an_unknown_name_prefix_cannot_be_checked():
    with pytest.raises(CannotCheck):
        said(naming.check_secret_name, secret(name=None, namePrefix=UNKNOWN), PROD)


# -- secret-recovery-window ----------------------------------------------------------------------

@pytest.mark.parametrize("value, config, expected", [
    (30, {}, None), (7, {}, None), (7.0, {"minimumDays": 7.0}, None), (14, {"minimumDays": 14}, None),
    (None, {}, "recovery_window_in_days is not set"),
    (0, {}, "recovery_window_in_days is 0, which force-deletes"),
    (6, {}, "recovery_window_in_days is 6, below the minimum of 7 days"),
    (10, {"minimumDays": 14}, "below the minimum of 14 days"),
    (31, {}, "AWS accepts at most 30 days"),
    (7.5, {}, "not a whole number of days"),
    ("7", {}, "not a whole number of days"),
])
def test_recovery_window(value, config, expected):
    messages = said(deletion.check_recovery_window, secret(recoveryWindowInDays=value), config)
    if expected is None:
        assert messages == []
    else:
        [message] = messages
        assert expected in message and "Set recovery_window_in_days to a value from" in message


def test_recovery_window_unknown():
    with pytest.raises(CannotCheck):
        said(deletion.check_recovery_window, secret(recoveryWindowInDays=UNKNOWN), {})


# -- secret-rotation-max-interval ----------------------------------------------------------------

@pytest.mark.parametrize("rotation_rules, maximum, violates", [
    ({"automaticallyAfterDays": 30}, 30, False),
    ({"automaticallyAfterDays": 31}, 30, True),
    ({"automaticallyAfterDays": 30.0}, 30, False),
    ({"scheduleExpression": "rate(7 days)"}, 7, False),
    ({"scheduleExpression": "rate(8 days)"}, 7, True),
    ({"scheduleExpression": "cron(0 4 ? * SUN *)"}, 7, False),
    ({"scheduleExpression": "cron(0 0 ? * 2#1 *)"}, 30, True),       # first Monday: up to 35 days
    ({"scheduleExpression": "cron(0 0 1 * ? *)"}, 30, True),          # monthly: 31 days
    ({"scheduleExpression": "cron(0 0 1 * ? *)"}, 31, False),
    ({"scheduleExpression": "cron(0 0 1 */3 ? *)"}, 90, True),        # quarterly: 92 days
    ({"scheduleExpression": "rate(12 hours)", "duration": "2h"}, 1, False),
])
def test_rotation_interval(rotation_rules, maximum, violates):
    messages = said(rotation_checks.check_rotation_interval, rotation(rotation_rules), {"maximumDays": maximum})
    assert bool(messages) is violates


def test_rotation_interval_messages():
    [days] = said(rotation_checks.check_rotation_interval, rotation({"automaticallyAfterDays": 30}), {"maximumDays": 7})
    assert days.startswith("The secret rotates every 30 days (automatically_after_days), longer than the maximum "
                           "of 7 days.")
    [finite] = said(rotation_checks.check_rotation_interval, rotation({"scheduleExpression": "cron(0 0 1 * ? 2030)"}), {})
    assert finite.startswith('The rotation schedule "cron(0 0 1 * ? 2030)" stops running after 2030-12-01 00:00 UTC')
    [invalid] = said(rotation_checks.check_rotation_interval, rotation({"scheduleExpression": "cron(0 0 1 * * *)"}), {})
    assert invalid.startswith('The rotation schedule "cron(0 0 1 * * *)" cannot be judged: exactly one of')
    [both] = said(rotation_checks.check_rotation_interval, 
        rotation({"automaticallyAfterDays": 1, "scheduleExpression": "rate(1 day)"}), {})
    assert "sets both" in both
    [none] = said(rotation_checks.check_rotation_interval, rotation(), {})
    assert none.startswith("The rotation has no rotation_rules")
    assert said(rotation_checks.check_rotation_interval, rotation(rotationEnabled=False), {}) == []
    with pytest.raises(CannotCheck):
        said(rotation_checks.check_rotation_interval, rotation({"scheduleExpression": UNKNOWN}), {})


# -- keys ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("key, ok", [
    (key_arn("us-east-1"), True), ("alias/secrets/prod", True), ("1234abcd-12ab-34cd-56ef-1234567890ab", True),
    (None, False), ("", False), ("alias/aws/secretsmanager", False),
    ("arn:aws:kms:us-east-1:111111111111:alias/aws/secretsmanager", False),
])
def test_customer_managed_key(key, ok):
    props = {"kmsKeyId": key} if key is not None else {"kmsKeyId": None}
    assert (said(keys.check_customer_managed_key, secret(**props), {}) == []) is ok


def test_replica_keys():
    good = secret(replicas=[{"region": "us-west-2", "kmsKeyId": key_arn("us-west-2")},
                            {"region": "eu-west-1", "kmsKeyId": "alias/secrets/prod"}])
    assert said(keys.check_replica_keys, good, {}) == []
    assert said(keys.check_replica_keys, secret(replicas=[]), {}) == []
    bad = secret(replicas=[{"region": "us-west-2"}, {"region": "eu-west-1", "kmsKeyId": key_arn("us-east-1")},
                           {"region": "ap-south-1", "kmsKeyId": "alias/aws/secretsmanager"}])
    messages = said(keys.check_replica_keys, bad, {})
    assert [m.split(" ")[1] for m in messages] == ["0", "1", "2"]
    # an unknown key is one this stack creates: customer managed (no program creates an AWS managed key)
    assert said(keys.check_replica_keys, secret(replicas=[{"region": "us-west-2", "kmsKeyId": UNKNOWN}]), {}) == []
    with pytest.raises(CannotCheck):
        said(keys.check_replica_keys, secret(replicas=[{"region": UNKNOWN, "kmsKeyId": key_arn("us-west-2")}]), {})
    # a definite problem is reported next to an unknown elsewhere
    mixed = secret(replicas=[{"region": "us-west-2", "kmsKeyId": UNKNOWN}, {"region": "eu-west-1"}])
    assert len(said(keys.check_replica_keys, mixed, {})) == 1


# -- resource policies -----------------------------------------------------------------------------

PUBLIC = json.dumps({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "secretsmanager:*"}]})


def test_no_public_access():
    assert said(access.check_no_public_access, secret_policy(policy_document("prod", "x")), {}) == []
    assert len(said(access.check_no_public_access, secret_policy(PUBLIC), {})) == 1
    [block] = said(access.check_no_public_access, secret_policy(policy_document("prod", "x"), block=None), {})
    assert block.startswith("block_public_policy is not true")
    # a Secret's inline policy is checked too; "{}" means no policy
    assert len(said(access.check_no_public_access, secret(policy=PUBLIC), {})) == 1
    assert said(access.check_no_public_access, secret(policy="{}"), {}) == []
    assert said(access.check_no_public_access, secret(), {}) == []
    [bad] = said(access.check_no_public_access, secret_policy("{oops"), {})
    assert bad.startswith("The resource policy cannot be read: the policy is not valid JSON")
    with pytest.raises(CannotCheck):
        said(access.check_no_public_access, secret_policy(UNKNOWN), {})
    with pytest.raises(CannotCheck):
        said(access.check_no_public_access, secret_policy(policy_document("prod", "x"), block=UNKNOWN), {})


def test_allowed_accounts():
    config = {"allowedAccounts": ["111111111111", "222222222222", "333333333333"]}
    assert said(access.check_allowed_accounts, secret_policy(policy_document("prod", "x")), config) == []
    foreign = policy_document("prod", "x", readers={"prod-app": ["AppRole"], "444444444444": ["DevRole"]})
    [message] = said(access.check_allowed_accounts, secret_policy(foreign), config)
    assert "allows account 444444444444, which is not one of the allowed accounts" in message
    with pytest.raises(NotApplicable):
        said(access.check_allowed_accounts, secret_policy(foreign), {})


def test_deny_outside():
    assert said(access.check_deny_outside, secret_policy(policy_document("prod", "x")), {}) == []
    assert said(access.check_deny_outside, secret_policy(policy_document("prod", "x", organization=None)), {}) == []
    no_deny = json.dumps({"Statement": [json.loads(policy_document("prod", "x"))["Statement"][0]]})
    [message] = said(access.check_deny_outside, secret_policy(no_deny), {})
    assert message.startswith("The resource policy has no explicit Deny for principals outside")
    assert said(access.check_deny_outside, secret(), {}) == []


# -- tags, protect, KMS rotation, regions ------------------------------------------------------------

def test_required_tags():
    config = {"requiredTags": ["owner", "environment"], "environment": "prod"}

    def tags_said(resource):
        return stack_said(tagging.check_required_tags, [resource], config)

    assert tags_said(secret()) == ([], None)
    [(_, missing)], _ = tags_said(secret(tags={"environment": "prod", "owner": ""}))
    assert missing.startswith("The secret is missing the required tag owner.")
    [(_, wrong)], _ = tags_said(secret(tags={"environment": "dev", "owner": "x"}))
    assert wrong.startswith('The tag environment is "dev" but this policy pack is configured for environment "prod"')
    # provider default tags count, as AWS applies them
    with_defaults = secret(tags={"environment": "prod"})
    with_defaults.provider_props = {"region": "us-east-1", "defaultTags": json.dumps({"tags": {"owner": "team"}})}
    assert tags_said(with_defaults) == ([], None)
    # without an environment configured only presence is checked
    assert stack_said(tagging.check_required_tags, [secret(tags={"environment": "dev", "owner": "x"})], {}) == ([], None)
    for unknown in (secret(tags=UNKNOWN), secret(tags={"environment": UNKNOWN, "owner": "x"})):
        violations, undecided = tags_said(unknown)
        assert violations == [] and undecided.startswith("cannot check during preview: the tags of secret ")


def test_protected():
    assert said(deletion.check_protected, secret(), {}) == []
    unprotected = secret()
    unprotected.protect = False
    [message] = said(deletion.check_protected, unprotected, {})
    assert message.startswith("The secret is not protected")


def test_key_rotation():
    key = Resource(KMS_KEY, {"enableKeyRotation": True})
    assert said(keys.check_key_rotation, key, {}) == []
    assert len(said(keys.check_key_rotation, Resource(KMS_KEY, {}), {})) == 1
    assert len(said(keys.check_key_rotation, Resource(KMS_KEY, {"enableKeyRotation": False}), {})) == 1
    with pytest.raises(NotApplicable):
        said(keys.check_key_rotation, Resource(KMS_KEY, {"customerMasterKeySpec": "RSA_2048", "keyUsage": "SIGN_VERIFY"}), {})
    with pytest.raises(NotApplicable):
        said(keys.check_key_rotation, Resource(KMS_KEY, {"customKeyStoreId": "cks-1234"}), {})
    with pytest.raises(CannotCheck):
        said(keys.check_key_rotation, Resource(KMS_KEY, {"enableKeyRotation": UNKNOWN}), {})


def test_replica_regions():
    config = {"allowedRegions": ["us-east-1", "us-west-2"]}
    assert said(regions.check_replica_regions, secret(replicas=[{"region": "us-west-2"}]), config) == []
    [message] = said(regions.check_replica_regions, secret(replicas=[{"region": "eu-west-1"}]), config)
    assert message.startswith("Replica 0 is in region eu-west-1, which is not one of the allowed regions")
    with pytest.raises(NotApplicable):
        said(regions.check_replica_regions, secret(), {})


# -- secret-rotation-required --------------------------------------------------------------------------

def _stack(*rotations, secret_resource=None):
    return [secret_resource or secret(), *rotations]


def test_rotation_required_links():
    arn = secret_props("prod")["arn"]
    by_arn = rotation({"automaticallyAfterDays": 30}, secretId=arn)
    by_partial_arn = rotation({"automaticallyAfterDays": 30}, secretId=arn[:-7])
    by_name = rotation({"automaticallyAfterDays": 30}, secretId="prod/orders/database")
    by_dependency = rotation({"automaticallyAfterDays": 30}, secretId=UNKNOWN)
    by_dependency.property_dependencies = {"secretId": ("urn:secret",)}
    for linked in (by_arn, by_partial_arn, by_name, by_dependency):
        assert stack_said(rotation_checks.check_rotation_required, _stack(linked), {}) == ([], None)


def test_rotation_required_violations():
    violations, undecided = stack_said(rotation_checks.check_rotation_required, _stack(), {})
    assert undecided is None
    assert violations == [("urn:secret", 'Secret "prod/orders/database" has no SecretRotation. A credential that is '
                                         "never rotated stays valid forever after it leaks. Add an "
                                         "aws.secretsmanager.SecretRotation with secret_id set to this secret and "
                                         "rotation_rules, or, if it cannot be rotated, tag it kind=generic or "
                                         'rotation-exempt="<reason>".')]
    other = rotation({"automaticallyAfterDays": 30}, secretId="prod/other/secret")
    assert len(stack_said(rotation_checks.check_rotation_required, _stack(other), {})[0]) == 1
    disabled = rotation(secretId="prod/orders/database", rotationEnabled=False)
    [(urn, message)] = stack_said(rotation_checks.check_rotation_required, _stack(disabled), {})[0]
    assert "has a SecretRotation (rot) that is disabled" in message


def test_rotation_exemptions():
    generic = secret(tags={"kind": "generic", "owner": "x", "environment": "prod"})
    assert stack_said(rotation_checks.check_rotation_required, _stack(secret_resource=generic), {}) == ([], None)
    exempt = secret(tags={"kind": "api-key", "rotation-exempt": "vendor cannot rotate", "owner": "x"})
    assert stack_said(rotation_checks.check_rotation_required, _stack(secret_resource=exempt), {}) == ([], None)
    no_reason = secret(tags={"kind": "api-key", "rotation-exempt": " ", "owner": "x"})
    [(_, message)] = stack_said(rotation_checks.check_rotation_required, _stack(secret_resource=no_reason), {})[0]
    assert "(its rotation-exempt tag gives no reason, so it does not count)" in message


def test_rotation_required_unknowns_are_undecided():
    unlinked = rotation({"automaticallyAfterDays": 30}, secretId=UNKNOWN)
    violations, undecided = stack_said(rotation_checks.check_rotation_required, _stack(unlinked), {})
    assert violations == []
    assert undecided.startswith("cannot check during preview: whether prod/orders/database is rotated depends on values")


def test_catalog_is_complete():
    assert set(BY_NAME) == {
        "secret-name-convention", "secret-recovery-window", "secret-rotation-required",
        "secret-rotation-max-interval", "secret-customer-managed-key", "secret-replica-customer-managed-key",
        "secret-policy-no-public-access", "secret-policy-allowed-accounts", "secret-policy-deny-outside",
        "secret-required-tags", "secret-protected", "kms-key-rotation-enabled", "secret-replica-regions-allowed",
        "kms-key-policy-no-public-access", "kms-key-not-pending-deletion", "secret-region-allowed",
        "secret-replica-no-force-overwrite", "generated-credential-strength"}


def test_pack_modules_import_nothing_of_ours():
    """policies/ runs in its own process and in other teams' stacks: no secrets_layout, no components;
    the pure modules do not even import Pulumi."""
    import ast
    import sys
    from pathlib import Path

    root = Path(naming.__file__).parent.parent
    wrappers = {"pack.py", "__main__.py"}
    for path in [*root.glob("*.py"), *root.glob("checks/*.py")]:
        imported = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                imported.add(node.module.split(".")[0])
        allowed = set(sys.stdlib_module_names) | {"policies"}
        if path.name in wrappers:
            allowed |= {"pulumi", "pulumi_policy"}
        assert imported <= allowed, (path.name, imported - allowed)


# -- which resource names which secret ----------------------------------------------------------------

ARN = "arn:aws:secretsmanager:us-east-1:111111111111:secret:prod/orders/database-AbCdEf"
PARTIAL = "arn:aws:secretsmanager:us-east-1:111111111111:secret:prod/orders/database"
EAST = {"region": "us-east-1"}
WEST = {"region": "eu-west-1"}


def placed(resource, provider, urn="urn:provider:east"):
    resource.provider_props, resource.provider_urn = provider, urn
    return resource


@pytest.mark.parametrize("secret_props_, secret_provider, secret_id, rotation_provider, expected", [
    ({}, EAST, ARN, EAST, True),                                    # the known ARN
    ({}, EAST, PARTIAL, EAST, True),                                # partial ARN of the known ARN
    ({}, EAST, "prod/orders/database", EAST, True),                 # name, same region
    ({}, EAST, "prod/orders/database", WEST, False),                # name, another region: another secret
    ({"arn": UNKNOWN, "id": UNKNOWN}, EAST, PARTIAL, WEST, True),   # new secret: partial ARN by region and name
    ({"arn": UNKNOWN, "id": UNKNOWN}, WEST, PARTIAL, WEST, False),  # new secret elsewhere
    ({"arn": UNKNOWN, "id": UNKNOWN}, EAST, ARN, EAST, None),       # a full ARN of a new secret: not known yet
    ({"arn": UNKNOWN, "name": UNKNOWN}, EAST, "prod/orders/database", EAST, None),
    ({"arn": UNKNOWN, "id": UNKNOWN}, {"region": UNKNOWN}, "prod/orders/database", WEST, None),
])
def test_secret_links(secret_props_, secret_provider, secret_id, rotation_provider, expected):
    target = placed(secret(**secret_props_), secret_provider,
                    "urn:provider:east" if secret_provider is EAST else "urn:provider:other")
    rot = placed(rotation({"automaticallyAfterDays": 30}, secretId=secret_id), rotation_provider,
                 "urn:provider:east" if rotation_provider is EAST else "urn:provider:west")
    found = links.secret_links([target, rot], (SECRET_ROTATION,))
    verdict = True if found.linked.get("urn:secret") else None if found.maybe.get("urn:secret") else False
    assert verdict is expected


@pytest.mark.parametrize("props, enabled", [
    ({"rotationRules": {"automaticallyAfterDays": 30}, "rotationEnabled": UNKNOWN}, True),
    ({"rotationRules": {"scheduleExpression": "rate(10 days)"}}, True),
    ({"rotationRules": {"automaticallyAfterDays": 30}, "rotationEnabled": False}, False),
    # pulumi-aws: rotation "defaults to enabled when rotation_rules is configured", known or not (issue 20)
    ({"rotationRules": UNKNOWN, "rotationEnabled": UNKNOWN}, True),
    ({"rotationRules": {"automaticallyAfterDays": UNKNOWN}}, True),
    ({"rotationRules": {"scheduleExpression": UNKNOWN, "duration": UNKNOWN}}, True),
    ({"rotationRules": {}}, False),
    ({"rotationEnabled": True}, False),
])
def test_rotation_enabled(props, enabled):
    assert rotation_checks.rotation_enabled(Resource(SECRET_ROTATION, props)) is enabled


def test_rules_unknown_during_a_preview_leave_nothing_undecided_at_the_stack():
    """Only the interval check may say "cannot check during preview" about unknown rules."""
    unknown_rules = rotation(UNKNOWN, secretId="prod/orders/database")
    assert stack_said(rotation_checks.check_rotation_required, _stack(unknown_rules), {}) == ([], None)
    with pytest.raises(CannotCheck):
        said(rotation_checks.check_rotation_interval, unknown_rules, {})


@pytest.mark.parametrize("rules_value, problem", [
    ({"automaticallyAfterDays": 30}, None),
    ({"scheduleExpression": "rate(4 hours)"}, None),
    ({"scheduleExpression": "rate(3 hours)"}, "Secrets Manager rotates at most every 4 hours"),
    ({"scheduleExpression": "cron(15 2 * * ? *)"}, "the minutes field must be 0"),
])
def test_rotation_interval_applies_secrets_manager_limits(rules_value, problem):
    messages = said(rotation_checks.check_rotation_interval, rotation(rules_value), {"maximumDays": 90})
    assert (messages == []) if problem is None else (len(messages) == 1 and problem in messages[0])


def test_automatically_after_days_above_1000_is_rejected():
    [message] = said(rotation_checks.check_rotation_interval, rotation({"automaticallyAfterDays": 1001}), {"maximumDays": 1000})
    assert message == ("automatically_after_days is 1001; Secrets Manager accepts 1 to 1000 days, so the deployment "
                       "would fail. Set automatically_after_days to 1000 or less.")


# -- the secret's own key in its region ------------------------------------------------------------------

@pytest.mark.parametrize("key, own_region, provider_region, problem", [
    (key_arn("us-east-1"), None, "us-east-1", None),
    (key_arn("eu-west-1"), None, "us-east-1", 'is a key of region eu-west-1, but the secret is in us-east-1'),
    # pulumi-aws 7: a resource's own `region` input wins over its provider's
    (key_arn("eu-west-1"), "eu-west-1", "us-east-1", None),
    (key_arn("us-east-1"), "eu-west-1", "us-east-1", 'is a key of region us-east-1, but the secret is in eu-west-1'),
    ("alias/secrets/prod", None, "us-east-1", None),           # an alias resolves in the secret's region
    ("1234abcd-12ab-34cd-56ef-1234567890ab", "eu-west-1", "us-east-1", None),
    (key_arn("eu-west-1"), None, None, None),                  # nothing says where the secret is
])
def test_the_secrets_own_key_is_in_its_region(key, own_region, provider_region, problem):
    props = {"kmsKeyId": key, **({"region": own_region} if own_region else {})}
    resource = secret(**props)
    resource.provider_props = {"region": provider_region} if provider_region else None
    findings = keys.check_customer_managed_key(resource, {})
    if problem is None:
        assert findings == []
    else:
        [finding] = findings
        assert problem in finding.what and finding.path == ("kmsKeyId",)
        assert finding.fix.startswith("Set kms_key_id to a customer managed key (or a multi-Region replica key) in")


def test_an_unknown_region_with_a_known_key_of_a_region_cannot_be_checked():
    resource = secret(kmsKeyId=key_arn("eu-west-1"), region=UNKNOWN)
    with pytest.raises(CannotCheck):
        keys.check_customer_managed_key(resource, {})


# -- the rotation window (RotationRulesType.Duration) ------------------------------------------------------

@pytest.mark.parametrize("rotation_rules, problem", [
    ({"scheduleExpression": "rate(10 days)", "duration": "24h"}, None),          # rate in days: opens at midnight
    ({"scheduleExpression": "rate(10 days)", "duration": "25h"}, "whole hours from 1h to 24h"),
    ({"scheduleExpression": "rate(10 days)", "duration": "0h"}, "whole hours from 1h to 24h"),
    ({"scheduleExpression": "rate(10 days)", "duration": "3 hours"}, "whole hours from 1h to 24h"),
    ({"scheduleExpression": "rate(6 hours)", "duration": "6h"}, None),
    ({"scheduleExpression": "rate(6 hours)", "duration": "7h"}, "runs into the next one, which opens 6 hours later"),
    ({"scheduleExpression": "cron(0 20 ? * SUN *)", "duration": "4h"}, None),
    ({"scheduleExpression": "cron(0 20 ? * SUN *)", "duration": "5h"},
     "the 5-hour window opening at 20:00 UTC runs past the end of the UTC day"),
    ({"scheduleExpression": "cron(0 0,12 * * ? *)", "duration": "12h"}, None),
    ({"scheduleExpression": "cron(0 4,16 * * ? *)", "duration": "12h"},
     "the 12-hour window opening at 16:00 UTC runs past the end of the UTC day"),
    ({"scheduleExpression": "cron(0 4,12 * * ? *)", "duration": "9h"},
     "the 9-hour window opening at 04:00 UTC runs into the next one, which opens at 12:00 UTC"),
    ({"automaticallyAfterDays": 30, "duration": "3h"}, None),
    ({"automaticallyAfterDays": 30, "duration": "30h"}, "whole hours from 1h to 24h"),
])
def test_the_rotation_window_closes_before_the_next_and_by_midnight(rotation_rules, problem):
    findings = rotation_checks.check_rotation_interval(rotation(rotation_rules), {"maximumDays": 90})
    if problem is None:
        assert findings == []
    else:
        [finding] = findings
        assert finding.path == ("rotationRules", "duration")
        assert problem in finding.what and "so the deployment would fail" in finding.what


def test_an_unknown_window_cannot_be_checked():
    with pytest.raises(CannotCheck):
        rotation_checks.check_rotation_interval(rotation({"scheduleExpression": "rate(1 day)", "duration": UNKNOWN}), {})
