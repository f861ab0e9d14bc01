"""Which input changes make the provider replace a resource instead of updating it.

The installed pulumi_aws and pulumi_random packages ship no schema or bridge metadata (only
pulumi-plugin.json with a name and version), so the replacement rules cannot be read from them.
They come from the providers the Pulumi packages bridge: an input replaces the resource when its
Terraform attribute is `ForceNew: true` (terraform-plugin-sdk) or has a `RequiresReplace` plan modifier
(terraform-plugin-framework); the bridge reports those as replace keys of Diff. Each rule cites the line
that writes it, at a pinned commit of terraform-provider-aws / terraform-provider-random (the versions
the search index holds, not necessarily the ones the installed pulumi-aws bridges: the few inputs those
versions do not have are marked unverified, with what the installed SDK's documentation says).

Every input of a listed type is classified: it replaces, updates in place, or replaces only for some
changes (`conditional`: a CustomizeDiff `ForceNewIfChange`). Names are the Pulumi input names (the SDK's
camelCase, with the renames pulumi-aws applies, e.g. Lambda `function_name` is `name` on Function and
`function` on Permission); a test checks that the classified names are exactly the inputs of the
installed SDK's Args class, so an SDK that gains an input fails it until the input is classified here.

pulumi-aws 7 gives every regional resource a `region` input; changing it replaces the resource (`REGION`).
Only the types the program registers are listed; a test keeps the table complete for every example
environment, with and without rotation alerts. A type missing from it is diffed as an update with a
warning note. Provider-level replacement (a change of the provider's `region`) is in `PROVIDER_FORCE_NEW`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

TF_AWS = "hashicorp/terraform-provider-aws"
TF_RANDOM = "hashicorp/terraform-provider-random"


@dataclass(frozen=True)
class Citation:
    url: str
    """The line that writes the rule, at a pinned commit (`.../blob/<commit>/<path>#L<line>`)."""
    verified: bool = True
    """False: the cited source has no such attribute; the rule follows the installed SDK's documentation."""
    note: str = ""


def cite(repository: str, commit: str, path: str) -> Callable[[int], Citation]:
    """Citations of lines of one file at one commit."""
    return lambda line: Citation(f"https://github.com/{repository}/blob/{commit}/{path}#L{line}")


def unverified(url: str, note: str) -> Citation:
    return Citation(url, verified=False, note=note)


@dataclass(frozen=True)
class Conditional:
    """An input that replaces the resource only for some changes (old and new input values)."""

    replaces: Callable[[Any, Any], bool]
    citation: Citation
    description: str


@dataclass(frozen=True)
class ForceNew:
    replaces: Mapping[str, Citation]
    """The inputs whose change replaces the resource, each with where the provider says so."""
    updates: frozenset[str] = frozenset()
    """Every other input: updated in place."""
    conditional: Mapping[str, Conditional] = field(default_factory=dict)
    regional: bool = False
    """A pulumi-aws 7 regional resource: its `region` input replaces it (`REGION`)."""

    @property
    def classified(self) -> frozenset[str]:
        """Every input the rule knows."""
        return frozenset(self.replaces) | self.updates | frozenset(self.conditional) | (
            {"region"} if self.regional else frozenset())

    def forces(self, name: str, old: Any = None, new: Any = None) -> bool:
        """Whether changing input `name` from `old` to `new` replaces the resource."""
        if name in self.replaces or (self.regional and name == "region"):
            return True
        rule = self.conditional.get(name)
        return rule is not None and rule.replaces(old, new)


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


REGION = cite(TF_AWS, "4640a66635ff36287cdb9ce0683daefda6c188c7", "internal/provider/sdkv2/region.go")(91)
"""`forceNewIfRegionChanges`: a change of the top-level `region` replaces the resource (unless it only makes the
provider's region explicit, or drops it: the same region, no diff; classify compares the region in effect).
pulumi-aws 7 says the same: "Changing the value of `region` will force resource replacement."
(https://github.com/pulumi/pulumi-aws/blob/fae7d54aeb5f2e3698ce801e02ba2ba862065f16/docs/enhanced-region-support.md,
"How `region` works")."""

_secret = cite(TF_AWS, "f583d818dd34f1ee2cdd6664b33ef588c860412a", "internal/service/secretsmanager/secret.go")
_secret_version = cite(TF_AWS, "0042e8ea0de293c6cd8b003f89f7f4d2fb5fcf31",
                       "internal/service/secretsmanager/secret_version.go")
_secret_policy = cite(TF_AWS, "01c08000ddb14181b5bd19201d8fca311dc570e4", "internal/service/secretsmanager/secret_policy.go")
_secret_rotation = cite(TF_AWS, "0413c661ec1b94f3033c98f3fbd1e8c1b2725589",
                        "internal/service/secretsmanager/secret_rotation.go")
_kms_key = cite(TF_AWS, "00a35305dc1b297a6fcdecdfbba33f1e63c3da39", "internal/service/kms/key.go")
_kms_alias = cite(TF_AWS, "01c08000ddb14181b5bd19201d8fca311dc570e4", "internal/service/kms/alias.go")
_iam_role = cite(TF_AWS, "0040ea6911af00bea2cca6dbb14e86829826ad8e", "internal/service/iam/role.go")
_iam_role_policy = cite(TF_AWS, "02f97af85f89a04e8ed89f5e8b64a9a67f3cfe07", "internal/service/iam/role_policy.go")
_iam_attachment = cite(TF_AWS, "04c79849dbe7fbe76c3054b364357bcdaade9ac5",
                       "internal/service/iam/role_policy_attachment.go")
_lambda_function = cite(TF_AWS, "0156d84e6bb47e4a5fe0c8e87cf2d14fb1dc3b8c", "internal/service/lambda/function.go")
_lambda_permission = cite(TF_AWS, "04592f03e5d83a5e1504b52a6d07063ffa3f708d", "internal/service/lambda/permission.go")
_sns_topic = cite(TF_AWS, "00a35305dc1b297a6fcdecdfbba33f1e63c3da39", "internal/service/sns/topic.go")
_sns_topic_policy = cite(TF_AWS, "00a35305dc1b297a6fcdecdfbba33f1e63c3da39", "internal/service/sns/topic_policy.go")
_sns_subscription = cite(TF_AWS, "04a2e6e5bc625ec85ea8c678219b483fc674877e",
                         "internal/service/sns/topic_subscription.go")
_event_rule = cite(TF_AWS, "0cdab4ae09a963535e03dde0bff4784afe8e3517", "internal/service/events/rule.go")
_event_target = cite(TF_AWS, "0762c41e2027fcd3cb8340d3e6886c6975fc0a59", "internal/service/events/target.go")
_sar_stack = cite(TF_AWS, "0a7150e2d6c2fb6394897ba6d5b4cfb28e61a40d",
                  "internal/service/serverlessrepo/cloudformation_stack.go")
_ssm_parameter = cite(TF_AWS, "0073593e7d6993ba482409f4dc35438daaa79bb3", "internal/service/ssm/parameter.go")
_random_password = cite(TF_RANDOM, "0117aa60f8ebe02fd51910d8e6883123dadb3cb2", "internal/provider/resource_password.go")

_SDK_DOCS = "https://www.pulumi.com/registry/packages/aws/api-docs/"


def _added_or_removed(old: Any, new: Any) -> bool:
    return bool(old) != bool(new)


FORCE_NEW: dict[str, ForceNew] = {
    "aws:secretsmanager/secret:Secret": ForceNew(
        replaces={"name": _secret(52), "namePrefix": _secret(60),
                  "type": unverified(_SDK_DOCS + "secretsmanager/secret/#type_python",
                                     "managed external secrets' `type` postdates the cited secret.go; the SDK says "
                                     "\"This attribute cannot be changed after creation\"")},
        updates=_names("description forceOverwriteReplicaSecret kmsKeyId policy recoveryWindowInDays replicas tags"),
        regional=True),
    "aws:secretsmanager/secretVersion:SecretVersion": ForceNew(
        replaces={"secretId": _secret_version(60), "secretBinary": _secret_version(65),
                  "secretString": _secret_version(73), "secretStringWoVersion": _secret_version(88)},
        # secret_string_wo is write-only: a new value is written when its version changes.
        updates=_names("secretStringWo versionStages"), regional=True),
    "aws:secretsmanager/secretPolicy:SecretPolicy": ForceNew(
        replaces={"secretArn": _secret_policy(32)}, updates=_names("blockPublicPolicy policy"), regional=True),
    "aws:secretsmanager/secretRotation:SecretRotation": ForceNew(
        replaces={"secretId": _secret_rotation(119)},
        updates=_names("externalSecretRotationMetadatas externalSecretRotationRoleArn rotateImmediately rotationEnabled "
                       "rotationLambdaArn rotationRules"),
        regional=True),
    "aws:kms/key:Key": ForceNew(
        replaces={"customKeyStoreId": _kms_key(63), "customerMasterKeySpec": _kms_key(69), "keyUsage": _kms_key(101),
                  "multiRegion": _kms_key(108), "xksKeyId": _kms_key(124)},
        updates=_names("bypassPolicyLockoutSafetyCheck deletionWindowInDays description enableKeyRotation isEnabled "
                       "policy rotationPeriodInDays tags"),
        regional=True),
    "aws:kms/alias:Alias": ForceNew(
        replaces={"name": _kms_alias(35), "namePrefix": _kms_alias(44)}, updates=_names("targetKeyId"), regional=True),
    # IAM is global: no region.
    "aws:iam/role:Role": ForceNew(
        replaces={"name": _iam_role(128), "namePrefix": _iam_role(136), "path": _iam_role(144)},
        updates=_names("assumeRolePolicy description forceDetachPolicies inlinePolicies managedPolicyArns "
                       "maxSessionDuration permissionsBoundary tags")),
    "aws:iam/rolePolicy:RolePolicy": ForceNew(
        replaces={"name": _iam_role_policy(45), "namePrefix": _iam_role_policy(53), "role": _iam_role_policy(72)},
        updates=_names("policy")),
    # aws_iam_role_policy_attachment has no Update function (line 17: Create, Read and Delete only).
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": ForceNew(
        replaces={"role": _iam_attachment(27), "policyArn": _iam_attachment(32)}),
    "aws:lambda/function:Function": ForceNew(
        replaces={"name": _lambda_function(242), "packageType": _lambda_function(368),
                  "tenancyConfig": _lambda_function(488)},
        updates=_names("architectures capacityProviderConfig code codeSha256 codeSigningConfigArn deadLetterConfig "
                       "description environment ephemeralStorage fileSystemConfig handler imageConfig imageUri "
                       "kmsKeyArn layers loggingConfig memorySize publish publishTo replaceSecurityGroupsOnDestroy "
                       "replacementSecurityGroupIds reservedConcurrentExecutions role runtime s3Bucket s3Key "
                       "s3ObjectVersion skipDestroy snapStart sourceCodeHash sourceKmsKeyArn tags timeout "
                       "tracingConfig vpcConfig")
        # Not in the cited function.go; the SDK documents a retry setting of the provider itself.
        | _names("useResourceTimeoutForPropagation"),
        conditional={"durableConfig": Conditional(
            _added_or_removed, _lambda_function(580),
            "replaced when durable_config is added or removed, updated otherwise (customdiff.ForceNewIfChange)")},
        regional=True),
    # aws_lambda_permission has no Update function (line 42: Create, Read and Delete only).
    "aws:lambda/permission:Permission": ForceNew(
        replaces={"action": _lambda_permission(49), "eventSourceToken": _lambda_permission(55),
                  "function": _lambda_permission(61), "functionUrlAuthType": _lambda_permission(67),
                  "invokedViaFunctionUrl": _lambda_permission(73), "principal": _lambda_permission(78),
                  "principalOrgId": _lambda_permission(83), "qualifier": _lambda_permission(88),
                  "sourceAccount": _lambda_permission(94), "sourceArn": _lambda_permission(100),
                  "statementId": _lambda_permission(106), "statementIdPrefix": _lambda_permission(114)},
        regional=True),
    "aws:serverlessrepository/cloudFormationStack:CloudFormationStack": ForceNew(
        replaces={"applicationId": _sar_stack(60), "name": _sar_stack(74)},
        updates=_names("capabilities parameters semanticVersion tags"), regional=True),
    "aws:ssm/parameter:Parameter": ForceNew(
        replaces={"dataType": _ssm_parameter(72), "name": _ssm_parameter(103)},
        updates=_names("allowedPattern arn description insecureValue keyId overwrite tags type value valueWo "
                       "valueWoVersion"),
        conditional={"tier": Conditional(
            lambda old, new: old == "Advanced" and new == "Standard", _ssm_parameter(161),
            "replaced from Advanced to Standard (AWS cannot downgrade a parameter's tier), updated otherwise")},
        regional=True),
    # Rotation alerts (components/alerts.py).
    "aws:sns/topic:Topic": ForceNew(
        replaces={"fifoTopic": _sns_topic(81), "name": _sns_topic(136), "namePrefix": _sns_topic(143)},
        updates=_names("applicationFailureFeedbackRoleArn applicationSuccessFeedbackRoleArn "
                       "applicationSuccessFeedbackSampleRate archivePolicy contentBasedDeduplication deliveryPolicy "
                       "displayName fifoThroughputScope firehoseFailureFeedbackRoleArn firehoseSuccessFeedbackRoleArn "
                       "firehoseSuccessFeedbackSampleRate httpFailureFeedbackRoleArn httpSuccessFeedbackRoleArn "
                       "httpSuccessFeedbackSampleRate kmsMasterKeyId lambdaFailureFeedbackRoleArn "
                       "lambdaSuccessFeedbackRoleArn lambdaSuccessFeedbackSampleRate policy signatureVersion "
                       "sqsFailureFeedbackRoleArn sqsSuccessFeedbackRoleArn sqsSuccessFeedbackSampleRate tags "
                       "tracingConfig")
        # Not in the cited topic.go; a topic attribute like the others (SetTopicAttributes).
        | _names("maximumMessageSize"),
        regional=True),
    "aws:sns/topicPolicy:TopicPolicy": ForceNew(
        replaces={"arn": _sns_topic_policy(39)}, updates=_names("policy"), regional=True),
    "aws:sns/topicSubscription:TopicSubscription": ForceNew(
        replaces={"endpoint": _sns_subscription(59), "protocol": _sns_subscription(94), "topic": _sns_subscription(132)},
        updates=_names("confirmationTimeoutInMinutes deliveryPolicy endpointAutoConfirms filterPolicy filterPolicyScope "
                       "rawMessageDelivery redrivePolicy replayPolicy subscriptionRoleArn"),
        regional=True),
    "aws:cloudwatch/eventRule:EventRule": ForceNew(
        replaces={"eventBusName": _event_rule(66), "name": _event_rule(101), "namePrefix": _event_rule(109)},
        updates=_names("description eventPattern forceDestroy isEnabled roleArn scheduleExpression state tags"),
        regional=True),
    "aws:cloudwatch/eventTarget:EventTarget": ForceNew(
        replaces={"eventBusName": _event_target(251), "rule": _event_target(416), "targetId": _event_target(485)},
        updates=_names("arn batchTarget deadLetterConfig ecsTarget forceDestroy httpTarget input inputPath "
                       "inputTransformer kinesisTarget redshiftTarget retryPolicy roleArn runCommandTargets "
                       "sagemakerPipelineTarget sqsTarget")
        # Not in the cited target.go; a target block like the others (PutTargets).
        | _names("appsyncTarget"),
        regional=True),
    # Every argument of random_password carries a RequiresReplace plan modifier (passwordSchemaV3, line 544).
    "random:index/randomPassword:RandomPassword": ForceNew(
        replaces={"keepers": _random_password(553), "length": _random_password(563), "special": _random_password(581),
                  "upper": _random_password(591), "lower": _random_password(600), "number": _random_password(610),
                  "numeric": _random_password(622), "minNumeric": _random_password(632),
                  "minUpper": _random_password(642), "minLower": _random_password(652),
                  "minSpecial": _random_password(662), "overrideSpecial": _random_password(672)}),
}

PROVIDER_FORCE_NEW: dict[str, ForceNew] = {
    # DiffConfig reports a replacement when the region changes (ForcesProviderReplace), which the
    # engine turns into a replacement of every resource of that provider (step_generator.go,
    # providerChanged / diff: ReplaceKeys ["provider"]).
    "pulumi:providers:aws": ForceNew({"region": Citation("https://github.com/pulumi/pulumi-aws/pull/4000")}),
}


def replacing_properties(type_: str, changed: tuple[str, ...], replace_on_changes: tuple[str, ...] = (),
                         old_inputs: Mapping[str, Any] | None = None,
                         new_inputs: Mapping[str, Any] | None = None) -> tuple[str, ...]:
    """The changed top-level inputs that force a replacement: the provider's rules plus the
    resource's own `replace_on_changes` option (engine: applyReplaceOnChanges, "*" is every one)."""
    rule = FORCE_NEW.get(type_) or PROVIDER_FORCE_NEW.get(type_)
    heads = {path.split(".", 1)[0].split("[", 1)[0] for path in replace_on_changes}
    old_inputs, new_inputs = old_inputs or {}, new_inputs or {}
    return tuple(name for name in changed
                 if (rule is not None and rule.forces(name, old_inputs.get(name), new_inputs.get(name)))
                 or "*" in heads or name in heads)


def is_regional(type_: str) -> bool:
    rule = FORCE_NEW.get(type_)
    return rule is not None and rule.regional


def is_known(type_: str) -> bool:
    return type_ in FORCE_NEW or type_ in PROVIDER_FORCE_NEW
