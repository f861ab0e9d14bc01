"""Which declaration field a policy violation belongs to, and the fix a YAML author reads (pure).

A finding names the input that causes it (its field path); secrets_layout.findings.fields maps it to
the declaration field, read against the loader's source map: a field
counts where it was written, in the secret or inherited from `defaults:` (then at the defaults
line); a violation whose field was not written falls back to its secret's `- name:` item.
"""

from __future__ import annotations

import pytest

from declaration_support import load
from secrets_layout.errors import format_path
from secrets_layout.findings.fields import YAML_FIXES, FixContext, Subject, author_message, locate_field
from secrets_layout.policies.catalog import BY_NAME
from secrets_layout.policies.checks import deletion
from secrets_layout.policies.checks import rotation as rotation_checks
from secrets_layout.policies.findings import Finding
from secrets_layout.policies.resources import KMS_KEY, SECRET, SECRET_ROTATION, Resource
from secrets_layout.policies.resources import SECRET_POLICY as POLICY
from secrets_layout.policies.resources import SECRET_ROTATION as ROTATION

DECLARATION = """\
environment: prod
security_account: "111111111111"
primary_region: us-east-1
accounts:
  prod-app: "222222222222"
  prod-data: "333333333333"
kms:
  keys:
    eu-west-1: arn:aws:kms:eu-west-1:111111111111:key/0a1b2c3d-0000-0000-0000-000000000000
defaults:
  rotation: {every_days: 30}
  replicas: [us-west-2, eu-west-1]
  tags: {owner: platform-team}
  protect: false
secrets:
  - name: prod/app/api-key
    kind: api-key
    value: {from_config: appApiKey}
    rotation: {function: api-key-rotator, every_days: 120, adapter: {type: http-api-key, create_url: "https://keys.example/v1/keys", verify_url: "https://keys.example/v1/keys/self"}}
    readers:
      - {account: prod-app, roles: [AppRole]}
      - account: prod-data
        roles: [DataRole]
    recovery_window_days: 10
    tags: {owner: app-team, environment: prod}
    protect: true

  - name: prod/orders/token
    kind: api-key
    value: {from_config: ordersToken}
    rotation:
      function: api-key-rotator
      schedule: "cron(0 4 ? * SUN#1 *)"
      adapter: {type: http-api-key, create_url: "https://keys.example/v1/keys", verify_url: "https://keys.example/v1/keys/self"}
    replicas: [us-west-2, ap-south-1]

  - name: prod/billing/key
    kind: api-key
    value: {from_config: billingKey}
    rotation: {function: api-key-rotator, adapter: {type: http-api-key, create_url: "https://keys.example/v1/keys", verify_url: "https://keys.example/v1/keys/self"}}
    readers: [{account: prod-app, roles: [BillingRole]}]
"""
VERSION = "aws:secretsmanager/secretVersion:SecretVersion"


def at(*path, option=None, account=None):
    """A finding about this input (or option) of the resource."""
    return Finding(tuple(path), "What is wrong.", "Why it matters.", "How to fix it.", option=option, account=account)


LOCATIONS = [
    # policy, finding, resource type, secret, expected path, line, column
    pytest.param("secret-rotation-max-interval", at("rotationRules", "automaticallyAfterDays"), ROTATION, 0,
                 "secrets[0].rotation.every_days", 19, 43, id="interval-in-the-secret"),
    pytest.param("secret-rotation-max-interval", at("rotationRules", "scheduleExpression"), ROTATION, 1,
                 "secrets[1].rotation.schedule", 33, 7, id="schedule-in-the-secret"),
    pytest.param("secret-rotation-max-interval", at("rotationRules", "automaticallyAfterDays"), ROTATION, 2,
                 "defaults.rotation.every_days", 11, 14, id="interval-inherited-from-defaults"),
    pytest.param("secret-rotation-max-interval", at("rotationRules", "duration"), ROTATION, 1,
                 "secrets[1].rotation", 31, 5, id="window-not-written-to-the-rotation"),
    pytest.param("secret-rotation-required", at(), SECRET, 2, "secrets[2].rotation", 40, 5, id="rotation-key"),
    pytest.param("secret-required-tags", at("tags"), SECRET, 0, "secrets[0].tags", 25, 5, id="tags-of-the-secret"),
    pytest.param("secret-required-tags", at("tags", "environment"), SECRET, 0, "secrets[0].tags.environment", 25, 29,
                 id="environment-tag-entry"),
    pytest.param("secret-required-tags", at("tags"), SECRET, 2, "defaults.tags", 13, 3, id="tags-inherited"),
    pytest.param("secret-recovery-window", at("recoveryWindowInDays"), SECRET, 0, "secrets[0].recovery_window_days",
                 24, 5, id="recovery-window-written"),
    pytest.param("secret-recovery-window", at("recoveryWindowInDays"), SECRET, 1, "secrets[1]", 28, 5,
                 id="recovery-window-default-to-secret"),
    pytest.param("secret-policy-allowed-accounts", at("policy", account="333333333333"), POLICY, 0,
                 "secrets[0].readers[1].account", 22, 9, id="reader-entry-of-the-account"),
    pytest.param("secret-policy-allowed-accounts", at("policy", account="999999999999"), POLICY, 0,
                 "secrets[0].readers", 20, 5, id="account-of-no-reader-to-readers"),
    pytest.param("secret-policy-no-public-access", at("policy", "Statement", 0), POLICY, 0, "secrets[0].readers", 20, 5,
                 id="public-statement-to-readers"),
    pytest.param("secret-protected", at(option="protect"), SECRET, 0, "secrets[0].protect", 26, 5,
                 id="protect-in-the-secret"),
    pytest.param("secret-protected", at(option="protect"), SECRET, 1, "defaults.protect", 14, 3, id="protect-inherited"),
    pytest.param("secret-replica-regions-allowed", at("replicas", 1, "region"), SECRET, 1, "secrets[1].replicas[1]",
                 35, 27, id="replica-entry"),
    pytest.param("secret-replica-regions-allowed", at("replicas", 0, "region"), SECRET, 2, "defaults.replicas[0]",
                 12, 14, id="replica-entry-inherited"),
    pytest.param("secret-replica-customer-managed-key", at("replicas", 1, "kmsKeyId"), SECRET, 2,
                 "kms.keys.eu-west-1", 9, 5, id="replica-key-under-kms"),
    pytest.param("secret-customer-managed-key", at("kmsKeyId"), SECRET, 2, "secrets[2]", 37, 5,
                 id="primary-key-not-given"),
    pytest.param("secret-name-convention", at("name"), SECRET, 1, "secrets[1].name", 28, 5, id="name"),
    pytest.param("secret-region-allowed", at("region"), SECRET, 2, "primary_region", 3, 1, id="secret-region"),
    pytest.param("a-new-policy", at(), VERSION, 0, "secrets[0].value", 18, 5, id="by-resource-type"),
    pytest.param("a-new-policy", at("policy"), POLICY, 1, "secrets[1]", 28, 5, id="field-not-written"),
]


@pytest.fixture(scope="module")
def loaded():
    return load(DECLARATION)


@pytest.mark.parametrize(("policy", "finding", "resource_type", "secret", "path", "line", "column"), LOCATIONS)
def test_a_violation_is_located_at_the_field_that_causes_it(loaded, policy, finding, resource_type, secret, path,
                                                            line, column):
    located = locate_field(Subject(policy, finding, resource_type, secret), loaded.declaration, loaded.source_map)
    assert (format_path(located.path), located.position.line, located.position.column) == (path, line, column)


def test_a_resource_outside_any_secret_is_left_to_the_resource_tracing(loaded):
    assert locate_field(Subject("kms-key-rotation-enabled", at("enableKeyRotation"), KMS_KEY, None), loaded.declaration,
                        loaded.source_map) is None


def test_the_fix_table_names_only_policies_of_the_pack():
    assert set(YAML_FIXES) <= set(BY_NAME)


NO_YAML_FIX = {
    "kms-key-rotation-enabled": "KMS keys are not part of a secret; keys the layout creates always rotate "
                                "(components/kms.py) and tracing places them at kms.keys/the region",
    "kms-key-policy-no-public-access": "KMS keys are not part of a secret (tracing places them)",
    "kms-key-not-pending-deletion": "KMS keys are not part of a secret (tracing places them)",
    "secret-policy-deny-outside": "the layout always writes a deny outside the accounts; placed at readers:",
    "secret-replica-no-force-overwrite": "the layout never sets force_overwrite_replica_secret (components/secret.py); "
                                         "the secret's item is the fallback",
}


def test_every_policy_of_the_pack_has_a_yaml_fix_or_a_reason():
    assert set(BY_NAME) - set(NO_YAML_FIX) <= set(YAML_FIXES)


# --------------------------------------------------------------------------------------------
# Messages: the finding's what and why, the fix in the declaration's terms
# --------------------------------------------------------------------------------------------

def _secret(**props):
    return Resource(SECRET, {"name": "prod/app/key", "recoveryWindowInDays": 7, "tags": {}, **props})


def test_the_protect_message_names_the_yaml_field(loaded):
    [finding] = deletion.check_protected(_secret(), {})
    subject = Subject("secret-protected", finding, SECRET, 1)
    message = author_message(FixContext({}, ("defaults", "protect"), loaded.declaration, subject))
    assert message == (
        "The secret is not protected, so `pulumi destroy` or a refactor that renames it deletes the secret and every "
        "credential its consumers use. In the declaration (defaults.protect, inherited by prod/orders/token): set "
        "`protect: true` on the secret (or remove `protect: false`, here or under `defaults:`); to delete the secret "
        "on purpose later, set `protect: false` in a change of its own first.")
    assert "ResourceOptions" not in message


def test_the_what_and_why_are_the_findings_own_words_and_its_fix_is_replaced(loaded):
    [finding] = rotation_checks.check_rotation_interval(
        Resource(ROTATION, {"rotationRules": {"automaticallyAfterDays": 120}}), {"maximumDays": 90})
    subject = Subject("secret-rotation-max-interval", finding, ROTATION, 0)
    message = author_message(FixContext({"maximumDays": 90}, ("secrets", 0, "rotation", "every_days"),
                                        loaded.declaration, subject))
    assert message == ("The secret rotates every 120 days (automatically_after_days), longer than the maximum of 90 "
                       "days. A credential that lives longer stays usable longer after it leaks. In the declaration: "
                       "set `every_days:` to 90 or less.")
    assert finding.fix not in message


@pytest.mark.parametrize(("path", "fix"), [
    (("secrets", 0, "rotation", "every_days"), "In the declaration: set `every_days:` to 30 or less."),
    (("secrets", 1, "rotation", "schedule"), 'In the declaration: change `schedule:` to one whose longest gap is at '
                                             'most 30 days, e.g. "rate(30 days)", or use `every_days: 30` instead.'),
    (("secrets", 1, "rotation", "window"), "In the declaration: shorten `window:` so that each rotation window closes "
                                           "by midnight UTC and before the next one opens (windows open at midnight "
                                           "for `every_days:`, at the cron hour for `schedule:`)."),
])
def test_the_interval_fix_names_the_field_written_and_the_configured_maximum(loaded, path, fix):
    finding = Finding(("rotationRules",), "The secret rotates too rarely.", "", "Set x.")
    subject = Subject("secret-rotation-max-interval", finding, ROTATION, path[1])
    message = author_message(FixContext({"maximumDays": 30}, path, loaded.declaration, subject))
    assert message == f"The secret rotates too rarely. {fix}"


def test_the_name_fix_suggests_a_name_in_the_convention(loaded):
    subject = Subject("secret-name-convention", Finding(("name",), "Secret name is bad.", "", "Rename it."), SECRET, 0)
    message = author_message(FixContext({}, ("secrets", 0, "name"), loaded.declaration, subject))
    assert message.startswith('Secret name is bad. In the declaration: rename the secret (`name:`), e.g. to '
                              '"prod/app/api-key"')


def test_a_policy_without_a_yaml_fix_keeps_the_findings_message(loaded):
    subject = Subject("a-new-policy", Finding((), "What.", "Why.", "Set something."), SECRET, 0)
    assert author_message(FixContext({}, None, loaded.declaration, subject)) == "What. Why. Set something."
