"""Every policy of SPEC section 5 through the analyzer protocol, against the real pack process.

One pack process serves the module (started as the CLI would get it: its own process, port on stdout,
GetAnalyzerInfo, Configure with a --policy-pack-config file, Analyze per resource, AnalyzeStack).
Each policy fires on its failing case with the exact message and stays silent on its passing case.
"""

from __future__ import annotations

import json

import pytest

from policy_support import (
    ENVIRONMENTS,
    KMS_KEY,
    PACK_DIR,
    SECRET,
    SECRET_POLICY,
    SECRET_ROTATION,
    config_file,
    drop,
    key_arn,
    layout,
    policy_document,
    replace,
)
from secrets_layout.engine.analyzer_client import AnalyzerClient
from secrets_layout.engine.analyzer_messages import UNKNOWN, Resource, make_urn
from secrets_layout.engine.policy_config import PolicyConfigError, load_policy_config

pytestmark = pytest.mark.slow

DESCRIPTIONS = {
    "secret-name-convention": "Secret names follow <environment>/<service>/<name>: lowercase [a-z0-9-] segments, "
                              "the first one the environment, and no -XXXXXX suffix.",
    "secret-recovery-window": "Secrets keep a recovery window: set, not 0 (force delete), at least minimumDays and "
                              "at most 30 days.",
    "secret-rotation-required": "Every secret has an enabled SecretRotation, unless its kind tag is generic or a "
                                "rotation-exempt tag gives the reason.",
    "secret-rotation-max-interval": "Secrets rotate at least every maximumDays days; rate() and cron() schedules are "
                                    "judged by the longest gap between two runs, and the rotation window must close "
                                    "before the next one and by midnight UTC.",
    "secret-customer-managed-key": "Secrets are encrypted with a customer managed KMS key of their own region, not "
                                   "the AWS managed key aws/secretsmanager.",
    "secret-replica-customer-managed-key": "Every replica of a secret names its own customer managed KMS key in the "
                                           "replica's region.",
    "secret-policy-no-public-access": "Secret resource policies never allow everyone unless a condition limits the "
                                      "caller (organization, account, principal) or the request to the fixed sources "
                                      "Secrets Manager accepts (aws:SourceAccount, aws:SourceArn, aws:SourceVpc, "
                                      "aws:SourceVpce); block_public_policy is true.",
    "secret-policy-allowed-accounts": "Secret resource policies only grant to principals of the allowed accounts.",
    "secret-policy-deny-outside": "Secret resource policies explicitly deny principals outside the organization or "
                                  "the allowed accounts.",
    "secret-required-tags": "Secrets carry the required tags, and their environment tag is the environment the pack "
                            "is configured for.",
    "secret-protected": "Secrets carry the protect resource option, so that pulumi destroy or a rename cannot delete "
                        "them.",
    "kms-key-rotation-enabled": "KMS keys have automatic key rotation enabled.",
    "secret-replica-regions-allowed": "Secrets are only replicated to the allowed regions.",
    "kms-key-policy-no-public-access": 'KMS key policies never allow everyone ("*", any account or NotPrincipal) '
                                       "unless a condition limits who calls (aws:PrincipalOrgID, aws:PrincipalOrgPaths, "
                                       "aws:PrincipalAccount, kms:CallerAccount or aws:PrincipalArn, with an equality "
                                       "operator and a literal value).",
    "kms-key-not-pending-deletion": "KMS keys are not pending deletion (a deleted key makes every secret it encrypts "
                                    "unreadable).",
    "secret-region-allowed": "Secrets live in an allowed region (their own or their provider's region).",
    "secret-replica-no-force-overwrite": "Secrets do not set force_overwrite_replica_secret, which overwrites an "
                                         "existing secret in a replica region.",
    "generated-credential-strength": "Generated passwords (random passwords, AWS's rotation applications, "
                                     "aws-native generated secret strings) have at least minimumLength characters of "
                                     "every required class and leave out at most maximumExcludedCharacters "
                                     "characters.",
}
DEFAULT_LEVELS = {name: "mandatory" for name in DESCRIPTIONS}
DEFAULT_LEVELS.update({"secret-policy-deny-outside": "advisory", "secret-replica-regions-allowed": "advisory",
                       "secret-region-allowed": "advisory", "secret-replica-no-force-overwrite": "advisory"})
STACK_POLICIES = {"secret-rotation-required", "secret-required-tags", "kms-key-not-pending-deletion"}


@pytest.fixture(scope="module")
def pack():
    with AnalyzerClient(PACK_DIR) as client:
        yield client


def run(pack, env, resources):
    pack.configure(config_file=config_file(env))
    return pack.run(resources)


def urn(env, type_, name):
    return make_urn(type_, name, stack=env)


# ------------------------------------------------------------------------------------------------
# The catalog and the config files
# ------------------------------------------------------------------------------------------------


def test_catalog(pack):
    info = pack.info()
    assert info.name == "secrets-layout"
    assert [p.name for p in info.policies] == list(DESCRIPTIONS)
    for policy in info.policies:
        assert policy.description == DESCRIPTIONS[policy.name]
        assert policy.enforcement_level == DEFAULT_LEVELS[policy.name], policy.name
        assert policy.kind == ("stack" if policy.name in STACK_POLICIES else "resource")
    schema = {p.name: (p.config_schema or {}).get("properties") for p in info.policies}
    assert schema["secret-recovery-window"]["minimumDays"] == {
        "type": "integer", "minimum": 7, "maximum": 30, "default": 7,
        "description": "Shortest recovery window accepted, in days (7-30)."}
    assert schema["secret-rotation-max-interval"]["maximumDays"]["default"] == 90
    assert schema["secret-rotation-max-interval"]["maximumDays"]["maximum"] == 1000
    assert schema["secret-required-tags"]["requiredTags"]["default"] == ["owner", "environment"]
    assert schema["secret-policy-allowed-accounts"]["allowedAccounts"]["items"]["pattern"] == "^[0-9]{12}$"
    assert "default" not in schema["secret-name-convention"]["environment"]
    assert schema["secret-rotation-required"] is None


@pytest.mark.parametrize("env", sorted(ENVIRONMENTS))
def test_config_files(pack, env):
    spec = ENVIRONMENTS[env]
    sent = pack.configure(config_file=config_file(env))
    assert set(sent) == set(DESCRIPTIONS)
    assert sent["secret-rotation-max-interval"] == {"enforcementLevel": "mandatory",
                                                    "properties": {"maximumDays": spec["max_days"]}}
    assert sent["secret-recovery-window"]["properties"] == {"minimumDays": 7}
    assert sent["secret-name-convention"]["properties"] == {"environment": env}
    assert sent["secret-required-tags"]["properties"] == {"requiredTags": ["owner", "environment"], "environment": env}
    assert sent["secret-policy-allowed-accounts"]["properties"]["allowedAccounts"] == [
        "111111111111", *spec["accounts"].values()]
    regions = ["us-east-1", "us-west-2", "eu-west-1"] if env == "prod" else ["us-east-1", "us-west-2"]
    assert sent["secret-replica-regions-allowed"] == {"enforcementLevel": "advisory",
                                                      "properties": {"allowedRegions": regions}}
    assert sent["secret-policy-deny-outside"]["enforcementLevel"] == ("mandatory" if env == "prod" else "advisory")
    assert sent["secret-protected"]["enforcementLevel"] == (
        "disabled" if env in ("dev", "staging") else "mandatory")


@pytest.mark.parametrize("env", sorted(ENVIRONMENTS))
def test_our_layout_passes(pack, env):
    result = run(pack, env, layout(env))
    assert result.violations == []
    assert result.not_applicable == []


# ------------------------------------------------------------------------------------------------
# Each policy: silent on its passing case, fires with the exact message on its failing case
# ------------------------------------------------------------------------------------------------

PROD = layout("prod")
DEV = layout("dev")
SECRET_URN = urn("prod", SECRET, "orders-db")
POLICY_URN = urn("prod", SECRET_POLICY, "orders-db-policy")
ROTATION_URN = urn("prod", SECRET_ROTATION, "orders-db-rotation")
ONLY_ALLOW = json.dumps({"Version": "2012-10-17", "Statement": [
    json.loads(policy_document("prod", "x"))["Statement"][0]]})
PUBLIC = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Sid": "Everyone", "Effect": "Allow", "Principal": "*", "Action": "secretsmanager:GetSecretValue",
     "Resource": "*"}]})
CMK_WHY = ("The AWS managed key's policy cannot be changed, so reader roles in other accounts can never decrypt the "
           "secret and the security team cannot control or audit who uses the key.")

# id, policy, env, passing resources, failing resources, [(urn, level, detail)]
CASES = [
    ("name", "secret-name-convention", "prod", PROD,
     replace(PROD, SECRET, props={"name": "prod/Orders_DB"}),
     [(SECRET_URN, "mandatory",
       'Secret name "prod/Orders_DB" does not follow <environment>/<service>/<name>: it has 2 segments, at least 3 '
       'are needed (<environment>/<service>/<name>); segment "Orders_DB" is not lowercase [a-z0-9-]. Consumers and '
       "IAM policies select secrets by this path (e.g. prod/payments/*), so a name outside it escapes those grants "
       'and reviews. Rename it, e.g. to "prod/orders-db/<name>".')]),
    ("name-environment", "secret-name-convention", "dev", DEV,
     replace(DEV, SECRET, props={"name": "prod/orders/database"}),
     [(urn("dev", SECRET, "orders-db"), "mandatory",
       'Secret name "prod/orders/database" does not follow <environment>/<service>/<name>: the first segment is '
       '"prod", not the environment "dev". Consumers and IAM policies select secrets by this path (e.g. '
       'dev/payments/*), so a name outside it escapes those grants and reviews. Rename it, e.g. to '
       '"dev/prod/orders/database".')]),
    ("recovery-force-delete", "secret-recovery-window", "prod",
     replace(PROD, SECRET, props={"recoveryWindowInDays": 7}),
     replace(PROD, SECRET, props={"recoveryWindowInDays": 0}),
     [(SECRET_URN, "mandatory",
       "recovery_window_in_days is 0, which force-deletes the secret at once with no way to restore it. A deleted "
       "secret must stay restorable for at least 7 days, so that a mistaken delete or `pulumi destroy` can be undone "
       "before consumers break. Set recovery_window_in_days to a value from 7 to 30.")]),
    ("recovery-unset", "secret-recovery-window", "prod", PROD,
     replace(PROD, SECRET, props={"recoveryWindowInDays": None}),
     [(SECRET_URN, "mandatory",
       "recovery_window_in_days is not set (AWS would then use 30 days, but the window must be an explicit, "
       "reviewed choice). A deleted secret must stay restorable for at least 7 days, so that a mistaken delete or "
       "`pulumi destroy` can be undone before consumers break. Set recovery_window_in_days to a value from 7 to 30.")]),
    ("rotation-required", "secret-rotation-required", "prod", PROD,
     drop(PROD, SECRET_ROTATION),
     [(SECRET_URN, "mandatory",
       'Secret "prod/orders/database" has no SecretRotation. A credential that is never rotated stays valid forever '
       "after it leaks. Add an aws.secretsmanager.SecretRotation with secret_id set to this secret and "
       'rotation_rules, or, if it cannot be rotated, tag it kind=generic or rotation-exempt="<reason>".')]),
    ("rotation-required-exempt", "secret-rotation-required", "prod",
     replace(drop(PROD, SECRET_ROTATION), SECRET, props={"tags": {
         "environment": "prod", "kind": "api-key", "owner": "payments", "rotation-exempt": "vendor has no API"}}),
     replace(replace(PROD, SECRET_ROTATION, props={"rotationEnabled": False, "rotationRules": None}), SECRET,
             props={"tags": {"environment": "prod", "kind": "api-key", "owner": "payments", "rotation-exempt": ""}}),
     [(SECRET_URN, "mandatory",
       'Secret "prod/orders/database" has a SecretRotation (orders-db-rotation) that is disabled or has no '
       "rotation_rules (its rotation-exempt tag gives no reason, so it does not count). A credential that is never "
       "rotated stays valid forever after it leaks. Enable it with rotation_rules, or, if the secret cannot be "
       'rotated, tag it kind=generic or rotation-exempt="<reason>".')]),
    ("rotation-interval-cron", "secret-rotation-max-interval", "prod",
     replace(PROD, SECRET_ROTATION, props={"rotationRules": {"scheduleExpression": "cron(0 4 ? * SUN *)",
                                                             "duration": "3h"}}),
     replace(PROD, SECRET_ROTATION, props={"rotationRules": {"scheduleExpression": "cron(0 0 1 */4 ? *)"}}),
     [(ROTATION_URN, "mandatory",
       'The rotation schedule "cron(0 0 1 */4 ? *)" leaves up to 123 days between two rotations (e.g. from '
       "2024-05-01 00:00 to 2024-09-01 00:00 UTC), longer than the maximum of 90 days. A credential that lives longer "
       "stays usable longer after it leaks. Use a schedule whose longest gap is at most 90 days, e.g. "
       "rate(90 days).")]),
    ("rotation-interval-days", "secret-rotation-max-interval", "dev", DEV,
     replace(DEV, SECRET_ROTATION, props={"rotationRules": {"automaticallyAfterDays": 30}}),
     [(urn("dev", SECRET_ROTATION, "orders-db-rotation"), "mandatory",
       "The secret rotates every 30 days (automatically_after_days), longer than the maximum of 7 days. A credential "
       "that lives longer stays usable longer after it leaks. Set automatically_after_days to 7 or less.")]),
    ("customer-managed-key", "secret-customer-managed-key", "prod", PROD,
     replace(PROD, SECRET, props={"kmsKeyId": "alias/aws/secretsmanager"}),
     [(SECRET_URN, "mandatory",
       f'kms_key_id "alias/aws/secretsmanager" is the AWS managed key. {CMK_WHY} Set kms_key_id to the ARN of a '
       "customer managed KMS key (aws.kms.Key) in the secret's region.")]),
    ("customer-managed-key-missing", "secret-customer-managed-key", "prod", PROD,
     replace(PROD, SECRET, props={"kmsKeyId": None}),
     [(SECRET_URN, "mandatory",
       f"The secret has no kms_key_id, so AWS encrypts it with the AWS managed key aws/secretsmanager. {CMK_WHY} Set "
       "kms_key_id to the ARN of a customer managed KMS key (aws.kms.Key) in the secret's region.")]),
    ("replica-key", "secret-replica-customer-managed-key", "prod", PROD,
     replace(PROD, SECRET, props={"replicas": [{"region": "us-west-2"},
                                               {"region": "eu-west-1", "kmsKeyId": key_arn("us-east-1")}]}),
     [(SECRET_URN, "mandatory",
       "Replica 0 (us-west-2) has no kms_key_id, so AWS encrypts the replica with the AWS managed key "
       f"aws/secretsmanager of us-west-2. {CMK_WHY} Set replicas[0].kms_key_id to a customer managed key (or a "
       "multi-Region replica key) in us-west-2."),
      (SECRET_URN, "mandatory",
       f'Replica 1 (eu-west-1) names the key "{key_arn("us-east-1")}" of region us-east-1; a KMS key only encrypts '
       "in its own region, so each replica needs its own key. Set replicas[1].kms_key_id to a customer managed key "
       "(or a multi-Region replica key) in eu-west-1.")]),
    ("no-public-access", "secret-policy-no-public-access", "prod", PROD,
     replace(PROD, SECRET_POLICY, props={"blockPublicPolicy": False, "policy": PUBLIC}),
     [(POLICY_URN, "mandatory",
       "block_public_policy is not true. With it, Secrets Manager itself rejects any policy that would make the "
       "secret public, a second check independent of this pack. Set block_public_policy=True on the SecretPolicy."),
      (POLICY_URN, "mandatory",
       'statement 0 (Everyone) allows secretsmanager:GetSecretValue to everyone: Principal "*" grants every AWS '
       "principal, including anonymous callers, and no condition limits the caller to the organization or to named "
       "accounts, or the request to fixed sources. A public secret policy lets any AWS account read the secret. "
       "Name the reader roles in Principal, or add a Condition with StringEquals on aws:PrincipalOrgID or "
       "aws:PrincipalAccount (who calls), or on aws:SourceAccount, aws:SourceArn, aws:SourceVpc or aws:SourceVpce "
       "(the fixed sources Secrets Manager accepts as not public), to the statement.")]),
    ("no-public-access-source-vpce", "secret-policy-no-public-access", "prod",
     replace(PROD, SECRET_POLICY, props={"policy": json.dumps({"Statement": [
         {"Sid": "Vpce", "Effect": "Allow", "Principal": "*", "Action": "secretsmanager:GetSecretValue",
          "Resource": "*", "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-0a1b2c3d4e5f"}}}]})}),
     replace(PROD, SECRET_POLICY, props={"policy": json.dumps({"Statement": [
         {"Sid": "Vpce", "Effect": "Allow", "Principal": "*", "Action": "secretsmanager:GetSecretValue",
          "Resource": "*", "Condition": {"StringEqualsIfExists": {"aws:SourceVpce": "vpce-0a1b2c3d4e5f"}}}]})}),
     [(POLICY_URN, "mandatory",
       'statement 0 (Vpce) allows secretsmanager:GetSecretValue to everyone: Principal "*" grants every AWS '
       "principal, including anonymous callers, and no condition limits the caller to the organization or to named "
       "accounts, or the request to fixed sources. A public secret policy lets any AWS account read the secret. "
       "Name the reader roles in Principal, or add a Condition with StringEquals on aws:PrincipalOrgID or "
       "aws:PrincipalAccount (who calls), or on aws:SourceAccount, aws:SourceArn, aws:SourceVpc or aws:SourceVpce "
       "(the fixed sources Secrets Manager accepts as not public), to the statement.")]),
    ("allowed-accounts", "secret-policy-allowed-accounts", "prod", PROD,
     replace(PROD, SECRET_POLICY, props={"policy": policy_document(
         "prod", "x", readers={"prod-app": ["AppRole"], "999999999999": ["Intruder"]})}),
     [(POLICY_URN, "mandatory",
       "statement 1 (Read999999999999) allows account 999999999999, which is not one of the allowed accounts "
       "(111111111111, 222222222222, 333333333333). A grant to another environment's or an unknown account lets it "
       "read credentials it must not have. Remove that principal, or add the account to \"allowedAccounts\" in the "
       "policy pack config if it belongs to this environment.")]),
]
DENY_DETAIL = (
    "The resource policy has no explicit Deny for principals outside the organization or the allowed accounts. "
    "Without it, one wrong Allow statement grants the secret to any account. Add {\"Effect\": \"Deny\", "
    "\"Principal\": \"*\", \"Action\": \"secretsmanager:*\", \"Resource\": \"*\", \"Condition\": "
    "{\"StringNotEquals\": {\"aws:PrincipalOrgID\": \"o-...\"}}} (or aws:PrincipalAccount with the allowed accounts).")
CASES += [
    ("deny-outside-prod", "secret-policy-deny-outside", "prod", PROD,
     replace(PROD, SECRET_POLICY, props={"policy": ONLY_ALLOW}),
     [(POLICY_URN, "mandatory", DENY_DETAIL)]),
    ("deny-outside-dev-advisory", "secret-policy-deny-outside", "dev", DEV,
     replace(DEV, SECRET_POLICY, props={"policy": ONLY_ALLOW.replace("222222222222", "444444444444")}),
     [(urn("dev", SECRET_POLICY, "orders-db-policy"), "advisory", DENY_DETAIL)]),
    ("required-tags", "secret-required-tags", "prod", PROD,
     replace(PROD, SECRET, props={"tags": {"environment": "staging", "kind": "database"}}),
     [(SECRET_URN, "mandatory",
       "The secret is missing the required tag owner. Owners and environments are how access reviews, cost reports "
       'and incident response find who is responsible for a secret. Add it to tags, e.g. {"owner": "..."}.'),
      (SECRET_URN, "mandatory",
       'The tag environment is "staging" but this policy pack is configured for environment "prod". A secret tagged '
       "for another environment is missed by this environment's reviews and its grants. Set the tag "
       "environment=\"prod\", or deploy the secret with the other environment's stack.")]),
    ("protected", "secret-protected", "prod", PROD,
     replace(PROD, SECRET, protect=False),
     [(SECRET_URN, "mandatory",
       "The secret is not protected, so `pulumi destroy` or a refactor that renames it deletes the secret and every "
       "credential its consumers use. Set the resource option protect=True (pulumi.ResourceOptions(protect=True)); "
       "remove it deliberately with `pulumi state unprotect` when the secret really must go.")]),
    ("kms-key-rotation", "kms-key-rotation-enabled", "prod", PROD,
     replace(PROD, KMS_KEY, props={"enableKeyRotation": False}),
     [(urn("prod", KMS_KEY, "key-us-east-1"), "mandatory",
       "The KMS key does not have automatic key rotation enabled, so the same key material protects the secrets for "
       "the key's whole life and a leaked or weakened key stays in use. Set enable_key_rotation=True (AWS then "
       "rotates it yearly; rotation_period_in_days can shorten that).")]),
    ("replica-regions", "secret-replica-regions-allowed", "prod", PROD,
     replace(PROD, SECRET, props={"replicas": [{"region": "ap-southeast-1",
                                                "kmsKeyId": key_arn("ap-southeast-1")}]}),
     [(SECRET_URN, "advisory",
       "Replica 0 is in region ap-southeast-1, which is not one of the allowed regions (us-east-1, us-west-2, "
       "eu-west-1). Copies of a secret outside the approved regions escape the data-residency and recovery plan. "
       'Remove the replica, or add the region to "allowedRegions" in the policy pack config.')]),
    ("kms-key-policy", "kms-key-policy-no-public-access", "prod",
     replace(PROD, KMS_KEY, props={"policy": json.dumps({"Statement": [
         {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:*", "Resource": "*",
          "Condition": {"StringEquals": {"kms:CallerAccount": "111111111111"}}}]})}),
     replace(PROD, KMS_KEY, props={"policy": json.dumps({"Statement": [
         {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:*", "Resource": "*",
          "Condition": {"Bool": {"aws:SecureTransport": "true"}}}]})}),
     [(urn("prod", KMS_KEY, "key-us-east-1"), "mandatory",
       'statement 0 of the key policy allows kms:* to everyone: Principal "*" grants every AWS principal, including '
       "anonymous callers, and no condition limits who calls. Whoever may use the key can decrypt every secret it "
       "protects, from any AWS account. Name the principals (the account root arn:aws:iam::<account>:root, or the "
       "roles), or add a Condition with StringEquals on kms:CallerAccount, aws:PrincipalAccount or aws:PrincipalOrgID "
       "and a literal value (an ...IfExists operator, a wildcard or aws:SecureTransport does not limit the "
       "caller).")]),
    ("primary-key-region", "secret-customer-managed-key", "prod", PROD,
     replace(PROD, SECRET, props={"kmsKeyId": key_arn("eu-west-1")}),
     [(SECRET_URN, "mandatory",
       f'kms_key_id "{key_arn("eu-west-1")}" is a key of region eu-west-1, but the secret is in us-east-1. A KMS key '
       "only encrypts in its own region, so each region needs its own key. Set kms_key_id to a customer managed key "
       "(or a multi-Region replica key) in us-east-1.")]),
    ("rotation-window", "secret-rotation-max-interval", "prod",
     replace(PROD, SECRET_ROTATION, props={"rotationRules": {"scheduleExpression": "cron(0 20 ? * SUN *)",
                                                             "duration": "4h"}}),
     replace(PROD, SECRET_ROTATION, props={"rotationRules": {"scheduleExpression": "cron(0 20 ? * SUN *)",
                                                             "duration": "5h"}}),
     [(ROTATION_URN, "mandatory",
       'Secrets Manager rejects the rotation window duration "5h" with the schedule "cron(0 20 ? * SUN *)": the '
       "5-hour window opening at 20:00 UTC runs past the end of the UTC day, so the deployment would fail "
       "(RotationRulesType.Duration: the window must not extend into the next rotation window or the next UTC "
       "day). Shorten duration so that each window closes by midnight UTC and before the next one opens.")]),
    ("kms-key-pending-deletion", "kms-key-not-pending-deletion", "prod", PROD,
     replace(PROD, KMS_KEY, props={"keyState": "PendingDeletion"}),
     [(urn("prod", KMS_KEY, "key-us-east-1"), "mandatory",
       "The KMS key is PendingDeletion: KMS deletes it when the waiting period ends, and every secret it encrypts "
       "becomes unreadable for good (a disabled or pending key already fails every decrypt). Cancel the deletion "
       "(aws kms cancel-key-deletion --key-id <key>, then enable the key), or move the secrets to another customer "
       "managed key before the deletion date.")]),
    ("secret-region", "secret-region-allowed", "prod", PROD,
     replace(PROD, SECRET, props={"region": "ap-southeast-1"}),
     [(SECRET_URN, "advisory",
       "The secret is in region ap-southeast-1, which is not one of the allowed regions (us-east-1, us-west-2, "
       "eu-west-1). A secret outside the approved regions escapes the data-residency and recovery plan. Deploy it "
       'with a provider of an allowed region (region=...), or add ap-southeast-1 to "allowedRegions" in the policy '
       "pack config.")]),
    ("credential-strength", "generated-credential-strength", "prod",
     [*PROD, Resource("random:index/randomPassword:RandomPassword", "orders-db-password",
                      {"length": 32, "special": True, "overrideSpecial": "!#$%&*()-_=+[]{}<>:?"},
                      urn=urn("prod", "random:index/randomPassword:RandomPassword", "orders-db-password"))],
     [*PROD, Resource("random:index/randomPassword:RandomPassword", "orders-db-password", {"length": 20},
                      urn=urn("prod", "random:index/randomPassword:RandomPassword", "orders-db-password"))],
     [(urn("prod", "random:index/randomPassword:RandomPassword", "orders-db-password"), "mandatory",
       "length is 20, shorter than the minimum of 32 characters. A short password, or one drawn from fewer "
       "characters, is found by guessing sooner; AWS's own rotation functions generate 32 characters of every "
       "class. Set length to 32 or more.")]),
    ("force-overwrite", "secret-replica-no-force-overwrite", "prod", PROD,
     replace(PROD, SECRET, props={"forceOverwriteReplicaSecret": True}),
     [(SECRET_URN, "advisory",
       "force_overwrite_replica_secret is true, so replication overwrites a secret of the same name that already "
       "exists in a replica region, and whatever used that secret silently gets this one's value. Set "
       "force_overwrite_replica_secret=False (the default); if a secret of that name is in the way, review and delete "
       "it first.")]),
]


def test_every_policy_has_a_case():
    assert {case[1] for case in CASES} == set(DESCRIPTIONS)


@pytest.mark.parametrize("policy, env, passing, failing, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_policy(pack, policy, env, passing, failing, expected):
    assert run(pack, env, passing).by_policy(policy) == []
    found = run(pack, env, failing).by_policy(policy)
    assert [(v.urn, v.level, v.message) for v in found] == [
        (where, level, f"{DESCRIPTIONS[policy]}\n{detail}") for where, level, detail in expected]
    assert all(v.pack == "secrets-layout" and v.description == DESCRIPTIONS[policy] for v in found)


def test_protect_is_disabled_in_dev_and_staging(pack):
    for env in ("dev", "staging"):
        assert run(pack, env, layout(env, protect=False)).violations == []


def test_kms_rotation_not_applicable_to_asymmetric_keys(pack):
    key = Resource(KMS_KEY, "signing", {"customerMasterKeySpec": "RSA_2048", "keyUsage": "SIGN_VERIFY"})
    result = run(pack, "prod", [key])
    assert result.violations == []
    assert [(n.policy, n.reason) for n in result.not_applicable] == [
        ("kms-key-rotation-enabled", "AWS only rotates symmetric encryption keys automatically; this key is "
                                     "RSA_2048 / SIGN_VERIFY")]


# ------------------------------------------------------------------------------------------------
# Unknown values, missing config, invalid config
# ------------------------------------------------------------------------------------------------


def fresh_stack_preview(env="prod", with_dependencies=True):
    """What a preview of a stack that does not exist yet sends: IDs, ARNs and everything built from them
    are unknown."""
    resources = layout(env)
    for resource in resources:
        props = dict(resource.properties)
        if resource.type == SECRET:
            props.update(kmsKeyId=UNKNOWN, arn=UNKNOWN, id=UNKNOWN,
                         replicas=[{"region": r["region"], "kmsKeyId": UNKNOWN} for r in props["replicas"]])
        elif resource.type == SECRET_POLICY:
            props.update(secretArn=UNKNOWN, policy=UNKNOWN)
        elif resource.type == SECRET_ROTATION:
            props.update(secretId=UNKNOWN, rotationLambdaArn=UNKNOWN)
            if not with_dependencies:
                resource.property_dependencies = {}
        resource.properties = props
    return resources


def test_unknown_values_give_advisories_not_crashes(pack):
    result = run(pack, "prod", fresh_stack_preview())
    assert result.mandatory == []
    found = {(v.policy, v.urn) for v in result.violations}
    # The keys are created in the stack, so they are customer managed although their ARNs are unknown.
    assert found == {
        ("secret-policy-no-public-access", POLICY_URN),
        ("secret-policy-allowed-accounts", POLICY_URN),
        ("secret-policy-deny-outside", POLICY_URN),
    }
    for violation in result.violations:
        assert violation.level == "advisory"
        assert violation.message.startswith(
            f"can't run policy '{violation.policy}' from policy pack 'secrets-layout@v0.0.1' during preview: "
            "cannot check during preview: ")


def test_unlinked_rotation_during_preview_is_advisory(pack):
    result = run(pack, "prod", fresh_stack_preview(with_dependencies=False))
    [violation] = result.by_policy("secret-rotation-required")
    assert violation.level == "advisory" and violation.urn == ""
    assert violation.message.endswith(
        "during preview: cannot check during preview: whether prod/orders/database is rotated depends on values that "
        "are not known yet; the policy runs again during `pulumi up` when it is known")


def test_missing_config_makes_policies_not_applicable(pack):
    pack.configure({})   # only the schema defaults: no environment, accounts or regions
    result = pack.run(PROD)
    assert result.mandatory == [] and result.advisory == []
    reasons = {(n.policy, n.reason) for n in result.not_applicable}
    assert reasons == {
        ("secret-name-convention", 'the config key "environment" is missing (e.g. {"secret-name-convention": '
                                   '{"environment": "prod"}} in the --policy-pack-config file), so the first name '
                                   "segment cannot be checked"),
        ("secret-policy-allowed-accounts", 'the config key "allowedAccounts" is missing (the 12-digit accounts of '
                                           "this environment and the security account), so principals cannot be "
                                           "checked"),
        ("secret-replica-regions-allowed", 'the config key "allowedRegions" is missing, so replica regions cannot be '
                                           "checked"),
        ("secret-region-allowed", 'the config key "allowedRegions" is missing, so the secret\'s region cannot be '
                                  "checked"),
    }


def test_schema_defaults_apply(pack):
    pack.configure({"secret-rotation-max-interval": "mandatory"})
    assert pack.configured["secret-rotation-max-interval"]["properties"] == {"maximumDays": 90}
    assert pack.configured["secret-recovery-window"]["properties"] == {"minimumDays": 7}
    fails = replace(PROD, SECRET_ROTATION, props={"rotationRules": {"automaticallyAfterDays": 91}})
    assert [v.policy for v in pack.run(fails).violations] == ["secret-rotation-max-interval"]


def test_all_sets_every_level(pack):
    pack.configure({"all": "advisory", "secret-name-convention": {"environment": "prod"}})
    result = pack.run(replace(PROD, SECRET, protect=False, props={"name": "Prod/x"}))
    assert {v.policy for v in result.violations} == {"secret-name-convention", "secret-protected"}
    assert {v.level for v in result.violations} == {"advisory"}
    pack.configure({"all": "disabled"})
    assert pack.run(replace(PROD, SECRET, protect=False)).violations == []


@pytest.mark.parametrize("config, error", [
    ({"secret-recovery-window": {"minimumDays": 3}}, "secret-recovery-window: minimumDays: 3 is less than the minimum of 7"),
    ({"secret-rotation-max-interval": {"maximumDays": 1001}},
     "secret-rotation-max-interval: maximumDays: 1001 is greater than the maximum of 1000"),
    ({"secret-rotation-max-interval": {"maximumDays": "90"}}, "maximumDays: '90' is not of type 'integer'"),
    ({"secret-policy-allowed-accounts": {"allowedAccounts": ["12345"]}}, "allowedAccounts.0: '12345' does not match"),
    ({"secret-name-convention": {"environment": "Prod"}}, "environment: 'Prod' does not match"),
    ({"secret-protected": "blocking"}, "'blocking' is not a valid enforcement level"),
    ({"secret-protected": 1}, "must be a string or object"),
])
def test_invalid_config_is_refused(pack, config, error):
    with pytest.raises(PolicyConfigError) as caught:
        pack.configure(config)
    assert error in str(caught.value)


def test_config_files_are_the_cli_format():
    for env in ENVIRONMENTS:
        raw = json.loads(config_file(env).read_text())
        assert set(raw) == set(DESCRIPTIONS)
        assert all(isinstance(v, dict) and v["enforcementLevel"] in ("advisory", "mandatory", "disabled")
                   for v in raw.values())
        assert load_policy_config(config_file(env)) == raw


def test_pack_started_the_way_the_cli_starts_it():
    """`python -u -m pulumi.policy <engine> policies`: runpy on the directory, no package context."""
    with AnalyzerClient(PACK_DIR, launcher="pulumi") as client:
        client.configure(config_file=config_file("prod"))
        assert client.run(PROD).violations == []
        found = client.run(replace(PROD, SECRET, protect=False)).violations
        assert [(v.policy, v.urn) for v in found] == [("secret-protected", SECRET_URN)]
