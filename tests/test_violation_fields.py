"""Which declaration field a policy violation belongs to, and the fix a YAML author reads (pure).

The table (secrets_layout.findings.fields.FIELDS) is read against the loader's source map: a field
counts where it was written, in the secret or inherited from `defaults:` (then at the defaults
line); a violation whose field was not written falls back to its secret's `- name:` item.
"""

from __future__ import annotations

import pytest

from declaration_support import load
from policies import rules
from policies.pack import CATALOG
from secrets_layout.errors import format_path
from secrets_layout.findings.fields import (
    FIELDS,
    YAML_FIXES,
    FixContext,
    Subject,
    author_message,
    locate_field,
    what_and_why,
)

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
SECRET, POLICY, ROTATION = rules.SECRET, rules.SECRET_POLICY, rules.SECRET_ROTATION
VERSION = "aws:secretsmanager/secretVersion:SecretVersion"

LOCATIONS = [
    # policy, message, resource type, secret, expected path, line, column
    pytest.param("secret-rotation-max-interval", "", ROTATION, 0, "secrets[0].rotation.every_days", 19, 43,
                 id="interval-in-the-secret"),
    pytest.param("secret-rotation-max-interval", "", ROTATION, 1, "secrets[1].rotation.schedule", 33, 7,
                 id="schedule-in-the-secret"),
    pytest.param("secret-rotation-max-interval", "", ROTATION, 2, "defaults.rotation.every_days", 11, 14,
                 id="interval-inherited-from-defaults"),
    pytest.param("secret-rotation-required", "", SECRET, 2, "secrets[2].rotation", 40, 5, id="rotation-key"),
    pytest.param("secret-required-tags", "The secret is missing the required tag team.", SECRET, 0, "secrets[0].tags",
                 25, 5, id="tags-of-the-secret"),
    pytest.param("secret-required-tags", 'The tag environment is "staging" but ...', SECRET, 0,
                 "secrets[0].tags.environment", 25, 29, id="environment-tag-entry"),
    pytest.param("secret-required-tags", "missing", SECRET, 2, "defaults.tags", 13, 3, id="tags-inherited"),
    pytest.param("secret-recovery-window", "", SECRET, 0, "secrets[0].recovery_window_days", 24, 5,
                 id="recovery-window-written"),
    pytest.param("secret-recovery-window", "", SECRET, 1, "secrets[1]", 28, 5, id="recovery-window-default-to-secret"),
    pytest.param("secret-policy-allowed-accounts", "statement 1 (ReadProdData) allows account 333333333333, which",
                 POLICY, 0, "secrets[0].readers[1].account", 22, 9, id="reader-entry-of-the-account"),
    pytest.param("secret-policy-allowed-accounts", "allows account 999999999999, which", POLICY, 0,
                 "secrets[0].readers", 20, 5, id="account-of-no-reader-to-readers"),
    pytest.param("secret-protected", "", SECRET, 0, "secrets[0].protect", 26, 5, id="protect-in-the-secret"),
    pytest.param("secret-protected", "", SECRET, 1, "defaults.protect", 14, 3, id="protect-inherited"),
    pytest.param("secret-replica-regions-allowed", "Replica 1 is in region ap-south-1, which", SECRET, 1,
                 "secrets[1].replicas[1]", 35, 27, id="replica-entry"),
    pytest.param("secret-replica-regions-allowed", "Replica 0 is in region us-west-2, which", SECRET, 2,
                 "defaults.replicas[0]", 12, 14, id="replica-entry-inherited"),
    pytest.param("secret-replica-customer-managed-key", "Replica 1 (eu-west-1) uses kms_key_id", SECRET, 2,
                 "kms.keys.eu-west-1", 9, 5, id="replica-key-under-kms"),
    pytest.param("secret-customer-managed-key", "", SECRET, 2, "secrets[2]", 37, 5, id="primary-key-not-given"),
    pytest.param("secret-name-convention", "", SECRET, 1, "secrets[1].name", 28, 5, id="name"),
    pytest.param("secret-region-allowed", "", SECRET, 2, "primary_region", 3, 1, id="secret-region"),
    pytest.param("a-new-policy", "", VERSION, 0, "secrets[0].value", 18, 5, id="unknown-policy-by-resource-type"),
    pytest.param("a-new-policy", "", POLICY, 1, "secrets[1]", 28, 5, id="unknown-policy-field-not-written"),
]


@pytest.fixture(scope="module")
def loaded():
    return load(DECLARATION)


@pytest.mark.parametrize(("policy", "message", "resource_type", "secret", "path", "line", "column"), LOCATIONS)
def test_a_violation_is_located_at_the_field_that_causes_it(loaded, policy, message, resource_type, secret, path,
                                                            line, column):
    located = locate_field(Subject(policy, message, resource_type, secret), loaded.declaration, loaded.source_map)
    assert (format_path(located.path), located.position.line, located.position.column) == (path, line, column)


def test_a_resource_outside_any_secret_is_left_to_the_resource_tracing(loaded):
    assert locate_field(Subject("kms-key-rotation-enabled", "", rules.KMS_KEY, None), loaded.declaration,
                        loaded.source_map) is None


def test_both_tables_name_only_policies_of_the_pack():
    assert set(FIELDS) <= set(CATALOG)
    assert set(YAML_FIXES) <= set(CATALOG)


NOT_A_SECRET_FIELD = {
    "kms-key-rotation-enabled": "KMS keys are not part of a secret; keys the layout creates always rotate "
                                "(components/kms.py) and tracing places them at kms.keys/the region",
    "kms-key-policy-no-public-access": "KMS keys are not part of a secret (tracing places them)",
    "kms-key-not-pending-deletion": "KMS keys are not part of a secret (tracing places them)",
    "secret-policy-deny-outside": "the layout always writes a deny outside the accounts; the policy's resource "
                                  "type places it at readers:",
    "secret-replica-no-force-overwrite": "the layout never sets force_overwrite_replica_secret (components/secret.py); "
                                         "the secret's item is the fallback",
}


def test_every_policy_of_the_pack_has_a_field_and_a_yaml_fix_or_a_reason():
    assert set(CATALOG) - set(NOT_A_SECRET_FIELD) <= set(FIELDS) & set(YAML_FIXES)


# --------------------------------------------------------------------------------------------
# Messages: the pack's what and why, the fix in the declaration's terms
# --------------------------------------------------------------------------------------------

def _secret(**props):
    return rules.Resource(SECRET, {"name": "prod/app/key", "recoveryWindowInDays": 7, "tags": {}, **props})


PACK_MESSAGES = [
    pytest.param(rules.check_protected(_secret(), {})[0],
                 "The secret is not protected, so `pulumi destroy` or a refactor that renames it deletes the secret "
                 "and every credential its consumers use.", id="secret-protected"),
    pytest.param(rules.check_rotation_interval(rules.Resource(ROTATION, {"rotationRules": {"automaticallyAfterDays": 120}}),
                                               {"maximumDays": 90})[0],
                 "The secret rotates every 120 days (automatically_after_days), longer than the maximum of 90 days. "
                 "A credential that lives longer stays usable longer after it leaks.", id="secret-rotation-max-interval"),
    pytest.param(rules.check_recovery_window(_secret(recoveryWindowInDays=3), {"minimumDays": 7})[0],
                 "recovery_window_in_days is 3, below the minimum of 7 days. A deleted secret must stay restorable for "
                 "at least 7 days, so that a mistaken delete or `pulumi destroy` can be undone before consumers break.",
                 id="secret-recovery-window"),
    pytest.param(rules.check_required_tags(_secret(tags={"owner": "a"}), {"requiredTags": ["owner", "team"]})[0],
                 "The secret is missing the required tag team. Owners and environments are how access reviews, cost "
                 "reports and incident response find who is responsible for a secret.", id="secret-required-tags"),
    pytest.param(rules.check_replica_regions(_secret(replicas=[{"region": "ap-south-1"}]), {"allowedRegions": ["us-east-1"]})[0],
                 "Replica 0 is in region ap-south-1, which is not one of the allowed regions (us-east-1). Copies of a "
                 "secret outside the approved regions escape the data-residency and recovery plan.",
                 id="secret-replica-regions-allowed"),
    pytest.param('The secret is in region ap-south-1, which is not one of the allowed regions (us-east-1). A secret '
                 'outside the approved regions escapes the data-residency and recovery plan. Deploy it with a provider '
                 'of an allowed region (region=...), or add ap-south-1 to "allowedRegions" in the policy pack config.',
                 "The secret is in region ap-south-1, which is not one of the allowed regions (us-east-1). A secret "
                 "outside the approved regions escapes the data-residency and recovery plan.",
                 id="secret-region-allowed (its message on the other branch)"),
    pytest.param("One sentence without a fix", "One sentence without a fix", id="no-fix-sentence"),
]


@pytest.mark.parametrize(("pack_message", "kept"), PACK_MESSAGES)
def test_the_pack_fix_is_dropped_and_what_and_why_kept_word_for_word(pack_message, kept):
    assert what_and_why(pack_message) == kept


def test_the_protect_message_names_the_yaml_field(loaded):
    subject = Subject("secret-protected", rules.check_protected(_secret(), {})[0], SECRET, 1)
    message = author_message(subject.message, FixContext({}, ("defaults", "protect"), loaded.declaration, subject))
    assert message == (
        "The secret is not protected, so `pulumi destroy` or a refactor that renames it deletes the secret and every "
        "credential its consumers use. In the declaration (defaults.protect, inherited by prod/orders/token): set `protect: true` on the secret (or "
        "remove `protect: false`, here or under `defaults:`); to delete the secret on purpose later, set "
        "`protect: false` in a change of its own first.")
    assert "ResourceOptions" not in message


@pytest.mark.parametrize(("path", "fix"), [
    (("secrets", 0, "rotation", "every_days"), "In the declaration: set `every_days:` to 30 or less."),
    (("secrets", 1, "rotation", "schedule"), 'In the declaration: change `schedule:` to one whose longest gap is at '
                                             'most 30 days, e.g. "rate(30 days)", or use `every_days: 30` instead.'),
])
def test_the_interval_fix_names_the_field_written_and_the_configured_maximum(loaded, path, fix):
    subject = Subject("secret-rotation-max-interval", "The secret rotates too rarely. Set x.", ROTATION, path[1])
    message = author_message(subject.message, FixContext({"maximumDays": 30}, path, loaded.declaration, subject))
    assert message == f"The secret rotates too rarely. {fix}"


def test_the_name_fix_suggests_a_name_in_the_convention(loaded):
    subject = Subject("secret-name-convention", "Secret name is bad. Rename it.", SECRET, 0)
    message = author_message(subject.message, FixContext({}, ("secrets", 0, "name"), loaded.declaration, subject))
    assert message.startswith('Secret name is bad. In the declaration: rename the secret (`name:`), e.g. to '
                              '"prod/app/api-key"')


def test_a_policy_without_a_yaml_fix_keeps_the_pack_message(loaded):
    subject = Subject("a-new-policy", "What. Why. Set something.", SECRET, 0)
    assert author_message(subject.message, FixContext({}, None, loaded.declaration, subject)) == "What. Why. Set something."
