"""Which input changes make the provider replace a resource instead of updating it.

The installed pulumi_aws and pulumi_random packages ship no schema or bridge metadata (only
pulumi-plugin.json with a name and version), so the replacement rules cannot be read from them.
They come from the providers the Pulumi packages bridge: an input is listed when its Terraform
attribute is `ForceNew: true` (terraform-plugin-sdk) or has a `RequiresReplace` plan modifier
(terraform-plugin-framework); the bridge reports those as replace keys of Diff. Names are the
Pulumi input names (the SDK's camelCase, with the renames pulumi-aws applies, e.g. Lambda
`function_name` is `name` on Function and `function` on Permission); a test checks each name
against the installed SDK's Args class.

Only the types the program registers are listed; a test keeps the table complete for every
example environment, with and without rotation alerts. A type missing from it is diffed as an update with a warning note.
Provider-level replacement (a change of the provider's `region`) is in `PROVIDER_FORCE_NEW`.
"""

from __future__ import annotations

from dataclasses import dataclass

ALL_INPUTS = frozenset({"*"})
"""Every input forces replacement: the resource has no Update at all."""

TF_AWS = "https://github.com/hashicorp/terraform-provider-aws/blob/main/internal/service/"


@dataclass(frozen=True)
class ForceNew:
    properties: frozenset[str]
    source: str
    """Where the rule is written: the provider source file (ForceNew / RequiresReplace)."""

    def forces(self, name: str) -> bool:
        return self.properties is ALL_INPUTS or name in self.properties


FORCE_NEW: dict[str, ForceNew] = {
    "aws:secretsmanager/secret:Secret": ForceNew(
        frozenset({"name", "namePrefix"}), TF_AWS + "secretsmanager/secret.go"),
    "aws:secretsmanager/secretVersion:SecretVersion": ForceNew(
        frozenset({"secretId", "secretBinary", "secretString", "secretStringWoVersion"}),
        TF_AWS + "secretsmanager/secret_version.go"),
    "aws:secretsmanager/secretPolicy:SecretPolicy": ForceNew(
        frozenset({"secretArn"}), TF_AWS + "secretsmanager/secret_policy.go"),
    "aws:secretsmanager/secretRotation:SecretRotation": ForceNew(
        frozenset({"secretId"}), TF_AWS + "secretsmanager/secret_rotation.go"),
    "aws:kms/key:Key": ForceNew(
        frozenset({"customKeyStoreId", "customerMasterKeySpec", "keyUsage", "multiRegion", "xksKeyId"}),
        TF_AWS + "kms/key.go"),
    "aws:kms/alias:Alias": ForceNew(frozenset({"name", "namePrefix"}), TF_AWS + "kms/alias.go"),
    "aws:iam/role:Role": ForceNew(frozenset({"name", "namePrefix", "path"}), TF_AWS + "iam/role.go"),
    "aws:iam/rolePolicy:RolePolicy": ForceNew(
        frozenset({"name", "namePrefix", "role"}), TF_AWS + "iam/role_policy.go"),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": ForceNew(
        frozenset({"role", "policyArn"}), TF_AWS + "iam/role_policy_attachment.go"),
    "aws:lambda/function:Function": ForceNew(
        frozenset({"name", "packageType", "tenancyConfig"}), TF_AWS + "lambda/function.go"),
    # Rotation alerts (components/alerts.py).
    "aws:sns/topic:Topic": ForceNew(frozenset({"name", "namePrefix", "fifoTopic"}), TF_AWS + "sns/topic.go"),
    "aws:sns/topicPolicy:TopicPolicy": ForceNew(frozenset({"arn"}), TF_AWS + "sns/topic_policy.go"),
    "aws:sns/topicSubscription:TopicSubscription": ForceNew(
        frozenset({"endpoint", "protocol", "topic"}), TF_AWS + "sns/topic_subscription.go"),
    "aws:cloudwatch/eventRule:EventRule": ForceNew(
        frozenset({"eventBusName", "name", "namePrefix"}), TF_AWS + "events/rule.go"),
    "aws:cloudwatch/eventTarget:EventTarget": ForceNew(
        frozenset({"eventBusName", "rule", "targetId"}), TF_AWS + "events/target.go"),
    # aws_lambda_permission has no Update function: every argument is ForceNew.
    "aws:lambda/permission:Permission": ForceNew(ALL_INPUTS, TF_AWS + "lambda/permission.go"),
    "aws:serverlessrepository/cloudFormationStack:CloudFormationStack": ForceNew(
        frozenset({"applicationId", "name"}), TF_AWS + "serverlessrepo/cloudformation_stack.go"),
    "aws:ssm/parameter:Parameter": ForceNew(frozenset({"name", "dataType"}), TF_AWS + "ssm/parameter.go"),
    # Every argument of random_password carries a RequiresReplace plan modifier (passwordSchemaV3).
    "random:index/randomPassword:RandomPassword": ForceNew(
        ALL_INPUTS,
        "https://github.com/hashicorp/terraform-provider-random/blob/main/internal/provider/resource_password.go"),
}

PROVIDER_FORCE_NEW: dict[str, ForceNew] = {
    # DiffConfig reports a replacement when the region changes (ForcesProviderReplace), which the
    # engine turns into a replacement of every resource of that provider (step_generator.go,
    # providerChanged / diff: ReplaceKeys ["provider"]).
    "pulumi:providers:aws": ForceNew(frozenset({"region"}), "https://github.com/pulumi/pulumi-aws/pull/4000"),
}


def replacing_properties(type_: str, changed: tuple[str, ...], replace_on_changes: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The changed top-level inputs that force a replacement: the provider's rules plus the
    resource's own `replace_on_changes` option (engine: applyReplaceOnChanges, "*" is every one)."""
    rule = FORCE_NEW.get(type_) or PROVIDER_FORCE_NEW.get(type_)
    heads = {path.split(".", 1)[0].split("[", 1)[0] for path in replace_on_changes}
    return tuple(name for name in changed
                 if (rule is not None and rule.forces(name)) or "*" in heads or name in heads)


def is_known(type_: str) -> bool:
    return type_ in FORCE_NEW or type_ in PROVIDER_FORCE_NEW
