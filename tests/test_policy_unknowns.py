"""The pack on engine-shaped requests (tests/engine_payloads.py), in preview and up mode.

Specification: a value that is unknown during a preview never makes a mandatory violation; where the
answer is known anyway there is no "cannot check" either; a definite problem is reported the same in
both modes.  Each case below was a misjudgement of the pack on stacks built the way the engine sends
them (issue 10), or is one of the policies added for the coverage comparison.
"""

from __future__ import annotations

import json

import pytest

from engine_payloads import Out, Res, Stack, run
from policy_support import PACK_DIR, config_file
from secrets_layout.engine.analyzer_client import AnalyzerClient

pytestmark = pytest.mark.slow

SECRET = "aws:secretsmanager/secret:Secret"
ROTATION = "aws:secretsmanager/secretRotation:SecretRotation"
TAG = "aws:secretsmanager/tag:Tag"
KEY = "aws:kms/key:Key"
KEY_POLICY = "aws:kms/keyPolicy:KeyPolicy"
EXTERNAL_KEY = "aws:kms/externalKey:ExternalKey"
ROLE = "aws:iam/role:Role"
ACCOUNT = "111111111111"
NAME = "prod/orders/database"
LAMBDA = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:rotator"
TAGS = {"environment": "prod", "owner": "platform-team", "kind": "database"}
BOTH = pytest.mark.parametrize("mode", ["preview", "up"])


def arn(region: str, suffix: str = "AbCdEf", name: str = NAME) -> str:
    return f"arn:aws:secretsmanager:{region}:{ACCOUNT}:secret:{name}-{suffix}"


def key(region: str) -> Res:
    key_arn = f"arn:aws:kms:{region}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-{region.replace('-', '')[:12]:0<12}"
    return Res(KEY, f"key-{region}", {"enableKeyRotation": True, "description": f"secrets {region}"},
               computed={"arn": key_arn, "keyId": key_arn.rsplit("/", 1)[1], "id": key_arn.rsplit("/", 1)[1]},
               provider=region)


def secret(region: str = "us-east-1", logical: str = "db", **inputs) -> Res:
    given = {"name": NAME, "kmsKeyId": Out(f"key-{region}", "arn"), "recoveryWindowInDays": 30,
             "tags": dict(TAGS), **inputs}
    return Res(SECRET, logical, {k: v for k, v in given.items() if v is not None},
               computed={"arn": arn(region), "id": arn(region)}, provider=region, protect=True)


def rotation(secret_id, region: str = "us-east-1", logical: str = "db-rotation", rules=None) -> Res:
    return Res(ROTATION, logical, {"secretId": secret_id, "rotationLambdaArn": LAMBDA,
                                   "rotationRules": rules or {"automaticallyAfterDays": 30}},
               computed={"rotationEnabled": True, "id": arn(region)}, provider=region)


def stack(*resources: Res, regions=("us-east-1",), default_tags=None) -> Stack:
    built = Stack()
    for region in regions:
        inputs = {"region": region}
        if default_tags is not None:
            inputs["defaultTags"] = default_tags
        built.provider(region, **inputs)
    built.provider("bootstrap", region="us-east-1")
    return built.add(*[key(region) for region in regions], *resources)


@pytest.fixture(scope="module")
def pack():
    with AnalyzerClient(PACK_DIR) as client:
        client.configure(config_file=config_file("prod"))
        yield client


def found(pack, built: Stack, mode: str, policy: str):
    return [(v.level, v.urn, v.detail) for v in run(pack, built, mode).by_policy(policy)]


def mandatory(pack, built: Stack, mode: str):
    return [(v.policy, v.detail) for v in run(pack, built, mode).mandatory]


# -- secret-rotation-required ---------------------------------------------------------------------

@BOTH
def test_new_rotation_with_rules_is_enabled_although_rotation_enabled_is_unknown(pack, mode):
    """rotationEnabled is computed (unknown in a preview of a new rotation); rules make it enabled."""
    built = stack(secret(), rotation(Out("db", "id")))
    assert found(pack, built, mode, "secret-rotation-required") == []
    assert mandatory(pack, built, mode) == []


@pytest.mark.parametrize("rules", [
    Out("schedule", "value"),                                           # the whole rules object
    {"automaticallyAfterDays": Out("schedule", "days")},               # a value of the rules
    {"scheduleExpression": Out("schedule", "expression"), "duration": Out("schedule", "window")},
], ids=["rules-unknown", "days-unknown", "expression-and-window-unknown"])
def test_rules_from_another_output_still_mean_rotation_is_on(pack, rules):
    """pulumi-aws: rotation "defaults to enabled when rotation_rules is configured", known or not; only the
    interval check may say it cannot check during preview (issue 20)."""
    schedule = Res(ROLE, "schedule", {}, computed={"value": {"automaticallyAfterDays": 30}, "days": 30,
                                                   "expression": "rate(30 days)", "window": "3h"},
                   provider="bootstrap")
    built = stack(schedule, secret(), rotation(Out("db", "id"), rules=rules))
    assert found(pack, built, "preview", "secret-rotation-required") == []
    [(level, _, detail)] = found(pack, built, "preview", "secret-rotation-max-interval")
    assert level == "advisory" and "during preview" in detail
    assert found(pack, built, "up", "secret-rotation-required") == []
    assert found(pack, built, "up", "secret-rotation-max-interval") == []


@BOTH
def test_secret_without_rotation_is_mandatory_in_both_modes(pack, mode):
    built = stack(secret())
    [(level, urn, detail)] = found(pack, built, mode, "secret-rotation-required")
    assert (level, urn) == ("mandatory", built.urn("db"))
    assert detail.startswith(f'Secret "{NAME}" has no SecretRotation. A credential that is never rotated')


@BOTH
def test_rotation_linked_by_partial_arn_to_a_new_secret(pack, mode):
    """The secret's ARN is unknown in a preview, but a partial ARN names it by region, account and name."""
    partial = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:{NAME}"
    assert found(pack, stack(secret(), rotation(partial)), mode, "secret-rotation-required") == []


@BOTH
def test_partial_arn_of_another_region_does_not_link(pack, mode):
    built = stack(secret(), rotation(f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:{NAME}"))
    assert [(level, urn) for level, urn, _ in found(pack, built, mode, "secret-rotation-required")] == [
        ("mandatory", built.urn("db"))]


@BOTH
def test_same_name_in_two_regions_is_two_secrets(pack, mode):
    regions = ("us-east-1", "eu-west-1")
    both = stack(secret("us-east-1", "db-use1"), secret("eu-west-1", "db-euw1"),
                 rotation(NAME, "us-east-1", "rot-use1"), rotation(NAME, "eu-west-1", "rot-euw1"), regions=regions)
    assert found(pack, both, mode, "secret-rotation-required") == []
    one = stack(secret("us-east-1", "db-use1"), secret("eu-west-1", "db-euw1"),
                rotation(NAME, "us-east-1", "rot-use1"), regions=regions)
    assert [(level, urn) for level, urn, _ in found(pack, one, mode, "secret-rotation-required")] == [
        ("mandatory", one.urn("db-euw1"))]


def test_unlinkable_rotation_in_preview_is_advisory_not_mandatory(pack):
    """A secretId computed from an output with no dependency on a secret: only known after up."""
    built = stack(Res(ROLE, "lookup", {}, computed={"name": NAME}, provider="bootstrap"),
                  secret(), rotation(Out("lookup", "name")))
    [(level, urn, detail)] = found(pack, built, "preview", "secret-rotation-required")
    assert level == "advisory" and "whether prod/orders/database is rotated depends on values" in detail
    assert found(pack, built, "up", "secret-rotation-required") == []


# -- secret-required-tags ---------------------------------------------------------------------------

def owner_from_output():
    return {"tags": {"owner": Out("team", "name"), "environment": "prod"}}


@BOTH
def test_unknown_provider_default_tags_are_not_missing_tags(pack, mode):
    team = Res(ROLE, "team", {}, computed={"name": "platform-team", "arn": f"arn:aws:iam::{ACCOUNT}:role/t"},
               provider="bootstrap")
    built = stack(team, secret(tags={"kind": "database"}), rotation(Out("db", "id")), default_tags=owner_from_output())
    diagnostics = found(pack, built, mode, "secret-required-tags")
    if mode == "preview":
        [(level, _, detail)] = diagnostics
        assert level == "advisory" and "the provider's default tags" in detail
    else:
        assert diagnostics == []
    assert mandatory(pack, built, mode) == []


@BOTH
def test_known_default_tags_without_owner_are_missing_tags(pack, mode):
    built = stack(secret(tags={"kind": "database"}), rotation(Out("db", "id")),
                  default_tags={"tags": {"environment": "prod"}})
    [(level, urn, detail)] = found(pack, built, mode, "secret-required-tags")
    assert (level, urn) == ("mandatory", built.urn("db"))
    assert detail.startswith("The secret is missing the required tag owner.")


@BOTH
def test_secretsmanager_tag_resources_count(pack, mode):
    without_owner = {"environment": "prod", "kind": "database"}
    tag = Res(TAG, "db-owner", {"secretId": Out("db", "id"), "key": "owner", "value": "platform-team"},
              computed={"id": f"{arn('us-east-1')},owner"}, provider="us-east-1")
    tagged = stack(secret(tags=without_owner), rotation(Out("db", "id")), tag)
    assert found(pack, tagged, mode, "secret-required-tags") == []
    untagged = stack(secret(tags=without_owner), rotation(Out("db", "id")))
    assert [level for level, _, _ in found(pack, untagged, mode, "secret-required-tags")] == ["mandatory"]


# -- secret-replica-customer-managed-key --------------------------------------------------------------

@BOTH
def test_aws_managed_replica_key_is_reported_when_the_region_is_unknown(pack, mode):
    peer = Res("aws:ec2/vpc:Vpc", "peer", {"cidrBlock": "10.0.0.0/16"}, computed={"region": "us-west-2"},
               provider="bootstrap")
    replica = {"region": Out("peer", "region"), "kmsKeyId": "alias/aws/secretsmanager"}
    built = stack(peer, secret(replicas=[replica]), rotation(Out("db", "id")))
    [(level, _, detail)] = found(pack, built, mode, "secret-replica-customer-managed-key")
    assert level == "mandatory"
    assert detail.startswith('Replica 0' + (" (us-west-2)" if mode == "up" else "")
                             + ' uses kms_key_id "alias/aws/secretsmanager", the AWS managed key.')


@BOTH
@pytest.mark.parametrize("policy", ["secret-customer-managed-key", "secret-replica-customer-managed-key"])
def test_a_key_created_in_the_stack_is_customer_managed_in_both_modes(pack, mode, policy):
    """An unknown key ARN can only come from a key this stack creates, and no program creates an AWS
    managed key (KMS API_CreateAlias: the alias/aws/ prefix is reserved): no "cannot check" where the
    answer is known."""
    built = stack(secret(replicas=[{"region": "us-west-2", "kmsKeyId": Out("key-us-west-2", "arn")}]),
                  rotation(Out("db", "id")), regions=("us-east-1", "us-west-2"))
    assert found(pack, built, mode, policy) == []


@BOTH
def test_a_known_aws_managed_key_is_still_reported(pack, mode):
    built = stack(secret(kmsKeyId="alias/aws/secretsmanager"), rotation(Out("db", "id")))
    [(level, _, detail)] = found(pack, built, mode, "secret-customer-managed-key")
    assert level == "mandatory" and detail.startswith('kms_key_id "alias/aws/secretsmanager" is the AWS managed key.')


# -- Secrets Manager's schedule limits ----------------------------------------------------------------

@BOTH
@pytest.mark.parametrize("rules, problem", [
    ({"scheduleExpression": "rate(2 hours)"}, "Secrets Manager rotates at most every 4 hours"),
    ({"scheduleExpression": "cron(30 0 * * ? *)"}, "the minutes field must be 0: rotation windows open on the hour"),
])
def test_schedules_secrets_manager_rejects(pack, mode, rules, problem):
    built = stack(secret(), rotation(Out("db", "id"), rules=rules))
    [(level, _, detail)] = found(pack, built, mode, "secret-rotation-max-interval")
    assert level == "mandatory"
    assert detail.startswith(f'Secrets Manager rejects the rotation schedule "{rules["scheduleExpression"]}": '
                             f"{problem}, so the deployment would fail")


@BOTH
def test_schedule_within_limits_passes(pack, mode):
    built = stack(secret(), rotation(Out("db", "id"), rules={"scheduleExpression": "cron(0 4 ? * SUN *)"}))
    assert found(pack, built, mode, "secret-rotation-max-interval") == []


# -- the policies added in version 2 ----------------------------------------------------------------

def key_policy(condition=None) -> str:
    statement = {"Sid": "Everyone", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"}
    if condition:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
         "Action": "kms:*", "Resource": "*"}, statement]})


@BOTH
@pytest.mark.parametrize("resource_type", [KEY, KEY_POLICY])
def test_kms_key_policy_no_public_access(pack, mode, resource_type):
    def policy_resource(document):
        inputs = {"policy": document, "description": "k"} if resource_type == KEY else {
            "policy": document, "keyId": Out("key-us-east-1", "keyId")}
        return Res(resource_type, "open-key", inputs, computed={"id": "open"}, provider="us-east-1")

    closed = policy_resource(key_policy({"StringEquals": {"kms:CallerAccount": ACCOUNT}}))
    assert found(pack, stack(closed), mode, "kms-key-policy-no-public-access") == []
    [(level, _, detail)] = found(pack, stack(policy_resource(key_policy())), mode, "kms-key-policy-no-public-access")
    assert level == "mandatory"
    assert detail.startswith('statement 1 (Everyone) of the key policy allows kms:Decrypt to everyone: Principal "*" '
                             "grants every AWS principal, including anonymous callers, and no condition limits who "
                             "calls. Whoever may use the key can decrypt every secret it protects")
    # a condition that does not limit the caller leaves it public (issue 20)
    not_limited = policy_resource(key_policy({"Bool": {"aws:SecureTransport": "true"}}))
    assert len(found(pack, stack(not_limited), mode, "kms-key-policy-no-public-access")) == 1


@BOTH
def test_kms_key_not_pending_deletion(pack, mode):
    def external(state=None, exists=True):
        computed = {"arn": f"arn:aws:kms:us-east-1:{ACCOUNT}:key/ext", "id": "ext"}
        if state:
            computed["keyState"] = state
        return Res(EXTERNAL_KEY, "imported-material", {"description": "byok"}, computed=computed,
                   provider="us-east-1", exists=exists)

    assert found(pack, stack(external("Enabled")), mode, "kms-key-not-pending-deletion") == []
    assert found(pack, stack(external("Enabled", exists=False)), mode, "kms-key-not-pending-deletion") == []
    [(level, _, detail)] = found(pack, stack(external("PendingDeletion")), mode, "kms-key-not-pending-deletion")
    assert level == "mandatory" and detail.startswith("The KMS key is PendingDeletion: KMS deletes it when the")


@BOTH
def test_secret_region_allowed(pack, mode):
    assert found(pack, stack(secret(), rotation(Out("db", "id"))), mode, "secret-region-allowed") == []
    elsewhere = stack(secret("ap-south-1"), rotation(Out("db", "id"), "ap-south-1"), regions=("ap-south-1",))
    [(level, urn, detail)] = found(pack, elsewhere, mode, "secret-region-allowed")
    assert (level, urn) == ("advisory", elsewhere.urn("db"))
    assert detail.startswith("The secret is in region ap-south-1, which is not one of the allowed regions "
                             "(us-east-1, us-west-2, eu-west-1).")


@BOTH
def test_secret_replica_no_force_overwrite(pack, mode):
    assert found(pack, stack(secret(forceOverwriteReplicaSecret=False)), mode,
                 "secret-replica-no-force-overwrite") == []
    [(level, _, detail)] = found(pack, stack(secret(forceOverwriteReplicaSecret=True)), mode,
                                 "secret-replica-no-force-overwrite")
    assert level == "advisory" and detail.startswith("force_overwrite_replica_secret is true, so replication")
