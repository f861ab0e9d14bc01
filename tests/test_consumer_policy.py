"""`consumer-policy SECRET --account NAME`: the reader role's identity policy, and its refusals."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from components_support import ROLE_POLICY, policy_of, run_components
from secrets_layout.components import SecretsLayout, SecretsLayoutArgs
from secrets_layout.components.policy_documents import decrypt_key_resource
from secrets_layout.consumer_policy import (
    NotAReaderError,
    UnknownAccountError,
    UnknownSecretError,
    consumer_policy,
    consumer_policy_note,
    default_declaration_path,
)
from secrets_layout.declaration.loader import load_declaration, parse_declaration

ROOT = Path(__file__).resolve().parent.parent
PROD_SECRETS = ("prod/database/credentials, prod/orders/mysql-credentials, prod/payments/stripe-api-key, "
                "prod/notifications/sendgrid-api-key, prod/legacy/partner-token")
VIA_SECRETS_MANAGER = {"StringLike": {"kms:ViaService": "secretsmanager.*.amazonaws.com"}}


def example(environment: str):
    return load_declaration(ROOT / "environments" / f"{environment}.yaml")


def inline(text: str, file: str = "environments/test.yaml"):
    return parse_declaration(textwrap.dedent(text), file)


def read_policy(secret_arns, key_arns):
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadSecrets",
                "Effect": "Allow",
                "Action": ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"],
                "Resource": secret_arns,
            },
            {
                "Sid": "DecryptViaSecretsManager",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": key_arns,
                "Condition": VIA_SECRETS_MANAGER,
            },
        ],
    }


KEYED = """\
environment: test
security_account: "111111111111"
primary_region: us-east-1
accounts:
  test-app: "222222222222"
  test-data: "333333333333"
kms:
  keys:
    us-west-2: arn:aws:kms:us-west-2:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab
    eu-west-1: arn:aws:kms:eu-west-1:111111111111:key/abcd1234-ab12-cd34-ef56-abcdef123456
secrets:
  - name: test/app/api-key
    kind: api-key
    value: {from_config: appApiKey}
    rotation: {function: api-key-rotator, every_days: 30, adapter: {type: http-api-key, create_url: "https://api.keys.example/v1/keys", verify_url: "https://api.keys.example/v1/keys/self"}}
    replicas: [us-west-2, eu-west-1]
    readers:
      - {account: test-app, roles: [AppRole]}
      - {account: test-app, roles: [team/BatchRole], stages: [AWSCURRENT, AWSPREVIOUS]}
  - name: test/app/unread
    kind: generic
    value: {external: true}
"""

ONE_API_KEY = """\
environment: test
security_account: "111111111111"
primary_region: us-east-1
accounts:
  test-app: "222222222222"
secrets:
  - name: test/app/api-key
    kind: api-key
    value: {external: true}
    readers:
"""

# A reader that may read only the previous version: it must name the stage.
PREVIOUS_ONLY = ONE_API_KEY + """\
      - {account: test-app, roles: [AuditRole], stages: [AWSPREVIOUS]}
"""

# Roles of one account with different stages: a role in two entries may use the stages of both.
MIXED_STAGES = ONE_API_KEY + """\
      - {account: test-app, roles: [AppRole]}
      - {account: test-app, roles: [AuditRole, AppRole], stages: [AWSPREVIOUS]}
"""


# ------------------------------------------------------------------------------------------------
# The documents
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environment", "secret", "account", "expected"),
    [
        (
            "prod", "prod/database/credentials", "prod-app",
            read_policy(
                [
                    "arn:aws:secretsmanager:eu-west-1:111111111111:secret:prod/database/credentials-??????",
                    "arn:aws:secretsmanager:us-east-1:111111111111:secret:prod/database/credentials-??????",
                    "arn:aws:secretsmanager:us-west-2:111111111111:secret:prod/database/credentials-??????",
                ],
                [
                    "arn:aws:kms:eu-west-1:111111111111:key/*",
                    "arn:aws:kms:us-east-1:111111111111:key/*",
                    "arn:aws:kms:us-west-2:111111111111:key/*",
                ],
            ),
        ),
        (
            "prod", "prod/database/credentials", "prod-data",
            read_policy(
                [
                    "arn:aws:secretsmanager:eu-west-1:111111111111:secret:prod/database/credentials-??????",
                    "arn:aws:secretsmanager:us-east-1:111111111111:secret:prod/database/credentials-??????",
                    "arn:aws:secretsmanager:us-west-2:111111111111:secret:prod/database/credentials-??????",
                ],
                [
                    "arn:aws:kms:eu-west-1:111111111111:key/*",
                    "arn:aws:kms:us-east-1:111111111111:key/*",
                    "arn:aws:kms:us-west-2:111111111111:key/*",
                ],
            ),
        ),
        (
            # replicas: [] overrides the defaults: the primary region only, written as single values.
            "prod", "prod/payments/stripe-api-key", "prod-app",
            read_policy(
                "arn:aws:secretsmanager:us-east-1:111111111111:secret:prod/payments/stripe-api-key-??????",
                "arn:aws:kms:us-east-1:111111111111:key/*",
            ),
        ),
        (
            "staging", "staging/crm/oauth-client-credentials", "staging-app",
            read_policy(
                [
                    "arn:aws:secretsmanager:us-east-1:111111111111:secret:staging/crm/oauth-client-credentials-??????",
                    "arn:aws:secretsmanager:us-west-2:111111111111:secret:staging/crm/oauth-client-credentials-??????",
                ],
                ["arn:aws:kms:us-east-1:111111111111:key/*", "arn:aws:kms:us-west-2:111111111111:key/*"],
            ),
        ),
        (
            "dev", "dev/tools/feature-flag-sdk-key", "dev-app",
            read_policy(
                "arn:aws:secretsmanager:us-east-1:111111111111:secret:dev/tools/feature-flag-sdk-key-??????",
                "arn:aws:kms:us-east-1:111111111111:key/*",
            ),
        ),
        (
            "shared-services", "shared-services/monitoring/grafana-database", "shared-monitoring",
            read_policy(
                [
                    "arn:aws:secretsmanager:us-east-1:111111111111:secret:shared-services/monitoring/grafana-database-??????",
                    "arn:aws:secretsmanager:us-west-2:111111111111:secret:shared-services/monitoring/grafana-database-??????",
                ],
                ["arn:aws:kms:us-east-1:111111111111:key/*", "arn:aws:kms:us-west-2:111111111111:key/*"],
            ),
        ),
    ],
)
def test_policy_for_the_examples(environment, secret, account, expected):
    assert consumer_policy(example(environment), secret, account) == expected


def test_given_keys_are_named_by_key_arn_and_created_keys_by_the_regions_keys():
    # us-east-1: created by the layout (its ID exists only after deployment) -> key/*;
    # us-west-2 and eu-west-1: key ARNs as given (declarations cannot name keys by alias).
    assert consumer_policy(inline(KEYED), "test/app/api-key", "test-app") == read_policy(
        [
            "arn:aws:secretsmanager:eu-west-1:111111111111:secret:test/app/api-key-??????",
            "arn:aws:secretsmanager:us-east-1:111111111111:secret:test/app/api-key-??????",
            "arn:aws:secretsmanager:us-west-2:111111111111:secret:test/app/api-key-??????",
        ],
        [
            "arn:aws:kms:eu-west-1:111111111111:key/abcd1234-ab12-cd34-ef56-abcdef123456",
            "arn:aws:kms:us-east-1:111111111111:key/*",
            "arn:aws:kms:us-west-2:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        ],
    )


# The grant the layout deploys (ConsumerGrants, for an account with deploy_role_arn) against the
# printed policy. Each declaration gives the reader account a deploy role; `OnlyRole` reads one
# secret (its grant must be the printed policy itself), `SharedRole` reads every secret the account
# reads (its grant must cover exactly the union of theirs).
GRANTED = """\
environment: test
security_account: "111111111111"
primary_region: us-east-1
accounts:
  test-app: {id: "222222222222", deploy_role_arn: "arn:aws:iam::222222222222:role/SecretsLayoutDeploy"}
"""

DEPLOYED_AND_PRINTED = {
    "replicas, keys the layout creates": GRANTED + """\
secrets:
  - name: test/app/replicated
    kind: generic
    value: {external: true}
    replicas: [eu-west-1, us-west-2]
    readers: [{account: test-app, roles: [OnlyRole, SharedRole]}]
""",
    "no replicas, while other secrets of the environment have some": GRANTED + """\
secrets:
  - name: test/app/unreplicated
    kind: generic
    value: {external: true}
    readers: [{account: test-app, roles: [OnlyRole, SharedRole]}]
  - name: test/app/elsewhere
    kind: generic
    value: {external: true}
    replicas: [eu-west-1]
    readers: [{account: test-app, roles: [SharedRole]}]
""",
    "keys given in kms.keys": GRANTED + """\
kms:
  keys:
    us-east-1: arn:aws:kms:us-east-1:111111111111:key/0e1d2c3b-4a59-6877-8695-a4b3c2d1e0f9
    us-west-2: arn:aws:kms:us-west-2:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab
secrets:
  - name: test/app/keyed
    kind: generic
    value: {external: true}
    replicas: [us-west-2, eu-west-1]
    readers: [{account: test-app, roles: [OnlyRole, SharedRole], stages: [AWSCURRENT, AWSPREVIOUS]}]
  - name: test/app/keyed-east
    kind: generic
    value: {external: true}
    readers: [{account: test-app, roles: [SharedRole]}]
""",
    "a secret in step 1 of its adoption": GRANTED + """\
secrets:
  - name: test/legacy/adopted
    kind: generic
    value: {external: true}
    readers: [{account: test-app, roles: [OnlyRole, SharedRole]}]
    import_id: "arn:aws:secretsmanager:us-east-1:111111111111:secret:test/legacy/adopted-AbCdEf"
    adopt: {kms_key_id: "arn:aws:kms:us-east-1:111111111111:key/5f8a2c1e-3b4d-4e6f-8a9b-0c1d2e3f4a5b", replicas: []}
""",
}


def deployed_grants(loaded) -> dict[str, dict]:
    """Role -> the read policy ConsumerGrants registers for it, on the mock engine."""
    run = run_components(lambda: SecretsLayout("test", SecretsLayoutArgs(declaration=loaded.declaration)))
    return {resource.inputs["role"]: policy_of(resource) for resource in run.by_type(ROLE_POLICY)
            if resource.name.startswith("test-consumer-")}


def merged(policies: list[dict]) -> dict:
    """One statement per Sid, its resources the union of every policy's (one resource as itself)."""
    resources: dict[str, set[str]] = {}
    for policy in policies:
        for statement in policy["Statement"]:
            found = statement["Resource"]
            resources.setdefault(statement["Sid"], set()).update([found] if isinstance(found, str) else found)
    return {sid: sorted(found) for sid, found in resources.items()}


@pytest.mark.parametrize("declared", list(DEPLOYED_AND_PRINTED.values()), ids=list(DEPLOYED_AND_PRINTED))
def test_the_deployed_grant_is_the_printed_policy(declared):
    loaded = inline(declared)
    grants = deployed_grants(loaded)
    read_by = {
        role: [secret.name for secret in loaded.declaration.secrets
               if any(role in reader.roles for reader in secret.readers)]
        for role in grants
    }
    assert grants["OnlyRole"] == consumer_policy(loaded, read_by["OnlyRole"][0], "test-app")
    assert merged([grants["SharedRole"]]) == merged(
        [consumer_policy(loaded, secret, "test-app") for secret in read_by["SharedRole"]]
    )


def test_the_printed_policy_names_only_the_keys_of_the_secrets_regions():
    # test/app/unreplicated lives in us-east-1 only; the environment also has a key in eu-west-1.
    loaded = inline(DEPLOYED_AND_PRINTED["no replicas, while other secrets of the environment have some"])
    assert consumer_policy(loaded, "test/app/unreplicated", "test-app")["Statement"][1]["Resource"] == (
        "arn:aws:kms:us-east-1:111111111111:key/*"
    )


@pytest.mark.parametrize(
    ("key_arn", "expected"),
    [
        (None, "arn:aws:kms:us-west-2:111111111111:key/*"),
        ("arn:aws:kms:us-west-2:444444444444:key/1234abcd-12ab-34cd-56ef-1234567890ab",
         "arn:aws:kms:us-west-2:444444444444:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
        ("arn:aws:kms:us-west-2:444444444444:alias/secrets/prod", "arn:aws:kms:us-west-2:444444444444:key/*"),
        ("arn:aws-us-gov:kms:us-gov-west-1:444444444444:alias/x", "arn:aws-us-gov:kms:us-gov-west-1:444444444444:key/*"),
    ],
)
def test_decrypt_key_resource(key_arn, expected):
    assert decrypt_key_resource(region="us-west-2", security_account="111111111111", key_arn=key_arn) == expected


@pytest.mark.parametrize("key_arn", ["alias/secrets/prod", "arn:aws:s3:::bucket", "arn:aws:kms:us-west-2:1:grant/x"])
def test_decrypt_key_resource_refuses_what_is_not_a_key_or_alias_arn(key_arn):
    with pytest.raises(ValueError, match="not a KMS key or alias ARN"):
        decrypt_key_resource(region="us-west-2", security_account="111111111111", key_arn=key_arn)


# What the secret's resource policy (policy_documents.stage_condition) really allows, checked request by
# request in tests/test_access_matrix.py: GetSecretValue's VersionStage is optional and a request with a
# VersionId names no stage (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html),
# and `secretsmanager:VersionStage` is in the request context only when the request names a stage
# (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecretsmanager.html). So the
# stage limit binds requests by stage name only; by VersionId a reader of the current value reads any version.
BY_VERSION_ID = (
    "Reading by VersionId is not limited by stage: a request with a VersionId and no stage (what "
    "aws-secretsmanager-caching sends) reads whichever version that is, a rotation's AWSPENDING version "
    "included, and DescribeSecret lists every version's ID."
)


@pytest.mark.parametrize(
    ("loaded", "secret", "account", "note"),
    [
        (lambda: example("prod"), "prod/database/credentials", "prod-data",
         "attach this policy to ReportingRole, EtlRole in prod-data (333333333333). Reading by stage name is "
         "limited to the declared stages: GetSecretValue with VersionStage=AWSCURRENT, or without a stage (the "
         "current value: what ECS and CloudFormation send); a request naming another stage is denied. "
         + BY_VERSION_ID),
        (lambda: inline(KEYED), "test/app/api-key", "test-app",
         "attach this policy to AppRole, team/BatchRole in test-app (222222222222). For AppRole, reading by stage "
         "name is limited to the declared stages: GetSecretValue with VersionStage=AWSCURRENT, or without a stage "
         "(the current value: what ECS and CloudFormation send); a request naming another stage is denied. "
         + BY_VERSION_ID + " For team/BatchRole, reading by stage name is limited to the declared stages: "
         "GetSecretValue with VersionStage=AWSCURRENT or AWSPREVIOUS, or without a stage (the current value: what "
         "ECS and CloudFormation send); a request naming another stage is denied. " + BY_VERSION_ID),
        (lambda: inline(MIXED_STAGES), "test/app/api-key", "test-app",
         "attach this policy to AppRole, AuditRole in test-app (222222222222). For AppRole, reading by stage name "
         "is limited to the declared stages: GetSecretValue with VersionStage=AWSCURRENT or AWSPREVIOUS, or without "
         "a stage (the current value: what ECS and CloudFormation send); a request naming another stage is denied. "
         + BY_VERSION_ID + " For AuditRole, reading is limited to the declared stages: call GetSecretValue with "
         "VersionStage=AWSPREVIOUS (a VersionId may go with it); a request without a stage, or with a VersionId "
         "alone, is denied."),
    ],
)
def test_note(loaded, secret, account, note):
    assert consumer_policy_note(loaded(), secret, account) == note


# README "Adopting an existing secret": in step 1 only the secret is imported, no resource policy is created.
ADOPTION_STEP_1 = (
    "prod/legacy/partner-token is in step 1 of its adoption (import_id with adopt:): the layout has not written "
    "its resource policy yet, so this policy alone gives the roles no access; step 2 (removing adopt:) deploys the "
    "resource policy from readers:. Until then, who may read the secret is up to its owner's resource policy and "
    "key policy."
)


@pytest.mark.parametrize("adopting", [True, False], ids=["step 1: adopt: present", "step 2: adopt: removed"])
def test_note_on_a_secret_being_adopted(adopting):
    text = (ROOT / "environments" / "prod.yaml").read_text()
    if not adopting:
        text = text[: text.index("    adopt:")] + text[text.index("\nparameters:"):]
    loaded = parse_declaration(text, "environments/prod.yaml")
    assert (loaded.declaration.secrets[-1].adopt is not None) is adopting
    note = consumer_policy_note(loaded, "prod/legacy/partner-token", "prod-data")
    assert note.startswith("attach this policy to PartnerSyncRole in prod-data (333333333333). Reading by stage name")
    assert note.endswith(BY_VERSION_ID + (" " + ADOPTION_STEP_1 if adopting else ""))


# ------------------------------------------------------------------------------------------------
# Refusals (exit 1)
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("loaded", "secret", "account", "error", "message"),
    [
        (lambda: example("prod"), "prod/databse/credentials", "prod-app", UnknownSecretError,
         "unknown secret 'prod/databse/credentials' in " + str(ROOT / "environments/prod.yaml")
         + "; did you mean 'prod/database/credentials'? Known secrets: " + PROD_SECRETS + "."),
        (lambda: example("prod"), "zzz", "prod-app", UnknownSecretError,
         "unknown secret 'zzz' in " + str(ROOT / "environments/prod.yaml") + ". Known secrets: " + PROD_SECRETS + "."),
        (lambda: inline("environment: test\nsecurity_account: '111111111111'\nprimary_region: us-east-1\n"),
         "test/app/x", "test-app", UnknownSecretError,
         "unknown secret 'test/app/x': environments/test.yaml declares no secrets"),
        (lambda: inline(KEYED), "test/app/api-key", "test-ap", UnknownAccountError,
         "unknown account 'test-ap' in environments/test.yaml; did you mean 'test-app'? "
         "Known accounts: test-app, test-data."),
        (lambda: inline(KEYED), "test/app/api-key", "billing", UnknownAccountError,
         "unknown account 'billing' in environments/test.yaml. Known accounts: test-app, test-data."),
        (lambda: inline(KEYED), "test/app/api-key", "222222222222", UnknownAccountError,
         "222222222222 is the ID of account 'test-app': give the account's name, --account test-app."),
        (lambda: inline(textwrap.dedent("""\
            environment: test
            security_account: "111111111111"
            primary_region: us-east-1
            secrets:
              - {name: test/app/x, kind: generic, value: {external: true}}
            """)), "test/app/x", "test-app", UnknownAccountError,
         "unknown account 'test-app': environments/test.yaml declares no accounts; add the consumer account "
         "under accounts: and to the secret's readers: first"),
        (lambda: inline(KEYED), "test/app/api-key", "test-data", NotAReaderError,
         "account 'test-data' does not read 'test/app/api-key' (its readers: test-app). Add it to the secret's "
         "readers: first, e.g. readers: [{account: test-data, roles: [RoleName]}] in environments/test.yaml, and "
         "deploy: an identity policy alone grants nothing, because the secret's resource policy allows only the "
         "roles of its readers."),
        (lambda: inline(KEYED), "test/app/unread", "test-app", NotAReaderError,
         "account 'test-app' does not read 'test/app/unread' (it has no readers). Add it to the secret's "
         "readers: first, e.g. readers: [{account: test-app, roles: [RoleName]}] in environments/test.yaml, and "
         "deploy: an identity policy alone grants nothing, because the secret's resource policy allows only the "
         "roles of its readers."),
    ],
)
def test_refusals(loaded, secret, account, error, message):
    declaration = loaded()
    with pytest.raises(error) as raised:
        consumer_policy(declaration, secret, account)
    assert str(raised.value) == message
    with pytest.raises(error):
        consumer_policy_note(declaration, secret, account)


# ------------------------------------------------------------------------------------------------
# The default declaration of a secret (--file not given)
# ------------------------------------------------------------------------------------------------

KNOWN_ENVIRONMENTS = "Known environments: dev, prod, shared-services, staging."


@pytest.mark.parametrize(
    ("secret", "expected"),
    [
        ("prod/database/credentials", ROOT / "environments/prod.yaml"),
        ("shared-services/ci/github-app-key", ROOT / "environments/shared-services.yaml"),
        ("prod/not/declared", ROOT / "environments/prod.yaml"),  # the declaration then says which secrets exist
        ("prdo/database/credentials",
         "unknown secret 'prdo/database/credentials': its first segment names the environment, and there is no "
         f"environments/prdo.yaml; did you mean 'prod'? {KNOWN_ENVIRONMENTS} Name the declaration with --file PATH."),
        ("qa/app/key",
         "unknown secret 'qa/app/key': its first segment names the environment, and there is no "
         f"environments/qa.yaml. {KNOWN_ENVIRONMENTS} Name the declaration with --file PATH."),
        ("../etc/passwd",
         "unknown secret '../etc/passwd': secret names start with their environment (<environment>/<service>/<name>)."
         f" {KNOWN_ENVIRONMENTS} Name the declaration with --file PATH."),
        ("schema/x/y",
         "unknown secret 'schema/x/y': its first segment names the environment, and there is no "
         f"environments/schema.yaml. {KNOWN_ENVIRONMENTS} Name the declaration with --file PATH."),
    ],
)
def test_default_declaration_path(secret, expected):
    if isinstance(expected, Path):
        assert default_declaration_path(secret, ROOT) == expected
    else:
        with pytest.raises(UnknownSecretError) as raised:
            default_declaration_path(secret, ROOT)
        assert str(raised.value) == expected


def test_default_declaration_path_in_an_empty_root(tmp_path):
    with pytest.raises(UnknownSecretError) as raised:
        default_declaration_path("prod/db/x", tmp_path)
    assert str(raised.value) == ("unknown secret 'prod/db/x': its first segment names the environment, and there is "
                                 "no environments/prod.yaml. Name the declaration with --file PATH.")
