"""The declaration format (SPEC section 3) as pydantic models.

These models are the single source of truth for environments/<env>.yaml: the loader validates
against them, components read them, and environments/schema.json is generated from them.
Per-field limits live here; rules that relate several fields (layout rules, the credential
scan, sizes) live in `secrets_layout.declaration.rules`, which reports them with exact field paths.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from secrets_layout.declaration.regions import AWS_REGIONS

MANAGED_BY = "secrets-layout"

SECRET_NAME_CHARACTERS = re.compile(r"^[A-Za-z0-9/_+=.@-]+$")
# AWS appends "-" and six random characters to every secret ARN; a name that already ends that
# way makes partial-ARN lookups ambiguous, so AWS advises against it.
ARN_SUFFIX_LOOKALIKE = re.compile(r"-[A-Za-z0-9]{6}$")


class DeclarationModel(BaseModel):
    """Shared base: unknown keys are errors, values are immutable once validated."""

    model_config = ConfigDict(extra="forbid", frozen=True)


AccountId = Annotated[
    str,
    StringConstraints(pattern=r"^\d{12}$"),
    Field(description='A 12-digit AWS account ID, quoted ("111111111111") so YAML keeps it a string.'),
]
EnvironmentName = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,31}$"),
    Field(description="Another environment's slug, as its declaration's environment: says it."),
]
AccountName = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$"),
    Field(description="A name for a consumer account: lowercase letters, digits and '-'."),
]


def _must_be_region(value: object) -> object:
    if isinstance(value, str) and value not in AWS_REGIONS:
        raise ValueError(f"'{value}' is not an AWS region; use a region code such as us-east-1")
    return value


Region = Annotated[
    str,
    BeforeValidator(_must_be_region),
    Field(description="An AWS region code, e.g. us-east-1.", json_schema_extra={"enum": sorted(AWS_REGIONS)}),
]
RoleName = Annotated[
    str,
    # ASCII only: IAM names are [\w+=,.@-] in ASCII (https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html),
    # while Python's \w would also accept a Cyrillic letter that looks Latin.
    StringConstraints(pattern=r"^(?:[A-Za-z0-9_+=,.@-]+/)*[A-Za-z0-9_+=,.@-]{1,64}$"),
    Field(description="An IAM role name in the reader account (ASCII letters, digits and _+=,.@-), optionally with its path (team/AppRole)."),
]
VersionStage = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,256}$"),
    Field(description="A staging label: AWSCURRENT, AWSPREVIOUS, AWSPENDING or a label of your own."),
]
LambdaArn = Annotated[
    str,
    StringConstraints(pattern=r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9$_-]+)?$"),
    Field(description="The ARN of an existing Lambda function, e.g. arn:aws:lambda:us-east-1:111111111111:function:rotator."),
]
KmsKeyArn = Annotated[
    str,
    StringConstraints(pattern=r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+$"),
    Field(
        description=(
            "The key ARN (arn:aws:kms:<region>:<account>:key/<id>) of an existing customer managed key in "
            "that region; not an alias: IAM grants and key policies match keys by key ARN only."
        )
    ),
]
TagKey = Annotated[
    str,
    StringConstraints(min_length=1, max_length=128, pattern=r"^[\w\s.:/=+\-@]+$"),
    Field(description="Tag key: 1-128 letters, digits, spaces or _.:/=+-@, not starting with aws:."),
]
TagValue = Annotated[
    str,
    StringConstraints(max_length=256, pattern=r"^[\w\s.:/=+\-@]*$"),
    Field(description="Tag value: up to 256 letters, digits, spaces or _.:/=+-@."),
]
Tags = Annotated[dict[TagKey, TagValue], Field(max_length=50)]


class SecretKind(str, Enum):
    DATABASE = "database"
    API_KEY = "api-key"
    OAUTH_TOKEN = "oauth-token"
    GENERIC = "generic"


class SecretFormat(str, Enum):
    JSON = "json"
    PLAINTEXT = "plaintext"


class ManagedRotation(str, Enum):
    """AWS-provided rotation functions, deployed from the Serverless Application Repository."""

    RDS_POSTGRESQL_SINGLE_USER = "rds-postgresql-single-user"
    RDS_POSTGRESQL_MULTI_USER = "rds-postgresql-multi-user"
    RDS_MYSQL_SINGLE_USER = "rds-mysql-single-user"
    RDS_MYSQL_MULTI_USER = "rds-mysql-multi-user"
    RDS_MARIADB_SINGLE_USER = "rds-mariadb-single-user"
    RDS_MARIADB_MULTI_USER = "rds-mariadb-multi-user"
    RDS_ORACLE_SINGLE_USER = "rds-oracle-single-user"
    RDS_ORACLE_MULTI_USER = "rds-oracle-multi-user"
    RDS_SQLSERVER_SINGLE_USER = "rds-sqlserver-single-user"
    RDS_SQLSERVER_MULTI_USER = "rds-sqlserver-multi-user"
    REDSHIFT_SINGLE_USER = "redshift-single-user"
    REDSHIFT_MULTI_USER = "redshift-multi-user"
    DOCUMENTDB_SINGLE_USER = "documentdb-single-user"
    DOCUMENTDB_MULTI_USER = "documentdb-multi-user"


class BundledFunction(str, Enum):
    """Rotation functions whose code ships in this repository (rotation/)."""

    API_KEY_ROTATOR = "api-key-rotator"


class Account(DeclarationModel):
    """A consumer account. Written either as its ID or as a mapping with a deploy role."""

    id: AccountId
    deploy_role_arn: str | None = Field(
        None,
        pattern=r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$",
        description=(
            "Optional role in that account which the deployment may assume to attach read "
            "permissions to the reader roles (the consumer side of cross-account access)."
        ),
    )


def _account_from_id(value: object) -> object:
    """`prod-app: "222222222222"` is short for `prod-app: {id: "222222222222"}`."""
    return value if isinstance(value, dict) else {"id": value}


AccountEntry = Annotated[Account, BeforeValidator(_account_from_id, json_schema_input_type=AccountId | Account)]


class KmsSettings(DeclarationModel):
    keys: dict[Region, KmsKeyArn] = Field(
        default_factory=dict,
        description=(
            "Existing customer managed keys by region. Regions not listed get a new key with "
            "rotation on and the alias alias/secrets/<environment>."
        ),
    )


class Generate(DeclarationModel):
    """A random value created at deploy time and kept stable across deploys."""

    key: str | None = Field(
        None,
        min_length=1,
        max_length=128,
        description="For format json: the JSON key that receives the generated value (e.g. password).",
    )
    length: int = Field(32, ge=16, le=4096, strict=True, description="Length of the generated value (16-4096).")
    exclude_characters: str | None = Field(
        None,
        max_length=64,
        description=(
            "Punctuation that the value must not contain (databases often reject \" @ / \\). "
            "Default for kind database: the characters RDS rejects."
        ),
    )
    exclude_punctuation: bool = Field(False, description="Letters and digits only.")


TemplateScalar = str | int | float | bool | None

PROGRAM_CONFIG_NAMESPACE = "secrets-layout"
PROGRAM_SETTINGS = frozenset({"declaration", "environment"})
"""The program's own stack config (secrets_layout/program.py): never a secret's value."""


class ValueSource(DeclarationModel):
    """Where the value comes from. Exactly one of generate, from_config, external: never a literal."""

    generate: Generate | None = Field(None, description="Generate a random value at deploy time.")
    template: dict[Annotated[str, StringConstraints(min_length=1)], TemplateScalar] | None = Field(
        None,
        description=(
            "With generate and format json: the non-secret fields stored beside the generated key "
            "(username, engine, host, port, dbname)."
        ),
    )
    from_config: str | None = Field(
        None,
        pattern=r"^[A-Za-z][A-Za-z0-9_.:-]*$",
        description=(
            "Read the value from the stack's secret config: pulumi config set --secret NAME. NAME has no "
            "namespace (the program reads secrets-layout:NAME) and is not one of the program's own "
            "settings (declaration, environment)."
        ),
    )
    external: bool | None = Field(
        None,
        description="true: the secret is a container only; its owner puts the value, no version is managed.",
    )

    @field_validator("from_config")
    @classmethod
    def _readable_config_name(cls, name: str | None) -> str | None:
        # The program reads pulumi.Config().require_secret(NAME), i.e. the key secrets-layout:NAME
        # (pulumi/config.py, Config.full_key prefixes the project's namespace whatever NAME holds).
        if name is not None and ":" in name:
            raise ValueError(f"the program reads {PROGRAM_CONFIG_NAMESPACE}:<name>, so a name with a namespace can "
                             "never be read; write the name alone and set it with pulumi config set --secret NAME")
        if name in PROGRAM_SETTINGS:
            raise ValueError(f"{name} is the program's own setting ({PROGRAM_CONFIG_NAMESPACE}:{name}); name the "
                             "secret's config value something else")
        return name


def _no_literal_value(value: object) -> object:
    # The literal itself is never repeated in the message: it may be the secret.
    if not isinstance(value, dict):
        raise ValueError(
            "a literal value is never allowed (it would be committed to git); write "
            "value: {generate: {...}}, value: {from_config: NAME} or value: {external: true}"
        )
    return value


ValueSourceEntry = Annotated[ValueSource, BeforeValidator(_no_literal_value, json_schema_input_type=ValueSource)]


class Vpc(DeclarationModel):
    subnet_ids: list[Annotated[str, StringConstraints(pattern=r"^subnet-[0-9a-f]{8,17}$")]] = Field(
        min_length=1, description="Subnets the rotation function runs in (it must reach the database)."
    )
    security_group_ids: list[Annotated[str, StringConstraints(pattern=r"^sg-[0-9a-f]{8,17}$")]] = Field(
        min_length=1, description="Security groups of the rotation function."
    )


# The bundled function reads its settings from the secret's `rotation-<setting>` tags
# (rotation/adapters.py); tag values allow letters, digits, spaces and _.:/=+-@ only, and the
# function refuses a URL with user:password in it, so an endpoint is kept to that alphabet.
_ENDPOINT = re.compile(r"^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9_.:/=+-]*)?$")
ENDPOINT_PATTERN = _ENDPOINT.pattern


def _https_endpoint(value: str) -> str:
    if not _ENDPOINT.match(value) or not urlsplit(value).hostname or len(value) > 256:
        raise ValueError(
            "must be an https URL of at most 256 characters made of letters, digits and _.:/=+- "
            "(e.g. https://api.provider.example/v1/keys): no http (the credential would travel in clear "
            "text), no user:password@, no ?query or #fragment (the URL travels as a tag value)"
        )
    return value


Endpoint = Annotated[
    str,
    AfterValidator(_https_endpoint),
    Field(
        description="An https endpoint of the provider, e.g. https://api.provider.example/v1/keys.",
        json_schema_extra={"pattern": ENDPOINT_PATTERN, "maxLength": 256},
    ),
]
TagText = Annotated[str, StringConstraints(min_length=1, max_length=256, pattern=r"^[\w\s.:/=+\-@]+$")]


VerifyGraceSeconds = Annotated[
    int | None,
    Field(
        None,
        ge=0,
        le=3600,
        description=(
            "How long after a new credential is stored a 401/403 at verify is tested again rather than final "
            "(default 300; 0: final at once), for providers whose new credentials take time to work everywhere."
        ),
    ),
]


class HttpApiKeyAdapter(DeclarationModel):
    """Rotation through the provider's key API (rotation/README.md, "The provider contract for http-api-key")."""

    type: Literal["http-api-key"] = Field(description="http-api-key: POST create_url issues a key, GET verify_url checks one.")
    create_url: Endpoint = Field(description="POST here (authenticated with the current key) issues a new key.")
    verify_url: Endpoint = Field(description="GET with a key as bearer: 2xx when it works; its JSON names the key id.")
    revoke_url: Endpoint | None = Field(None, description="DELETE <revoke_url>/<key id> revokes a key (default: create_url).")
    response_key_field: TagText | None = Field(None, description="Field of the create answer holding the new key (default api_key).")
    response_key_id_field: TagText | None = Field(None, description="Field holding the key id (default key_id).")
    timeout_seconds: int | None = Field(None, ge=1, le=300, description="Per HTTP request (default 10).")
    verify_grace_seconds: VerifyGraceSeconds = None


class OAuth2ClientCredentialsAdapter(DeclarationModel):
    """A new access token from the RFC 6749 token endpoint on every rotation (the client secret stays)."""

    type: Literal["oauth2-client-credentials"] = Field(description="oauth2-client-credentials: the client credentials grant.")
    token_url: Endpoint = Field(description="The RFC 6749 token endpoint.")
    scope: TagText | None = Field(None, description="Space-separated scopes to request.")
    verify_url: Endpoint | None = Field(None, description="GET with the new token as bearer: 2xx when it works.")
    revoke_url: Endpoint | None = Field(None, description="RFC 7009 revocation endpoint; without it old tokens lapse.")
    client_auth: Literal["client_secret_basic", "client_secret_post"] | None = Field(
        None, description="How the client authenticates at the token endpoint (default client_secret_basic)."
    )
    timeout_seconds: int | None = Field(None, ge=1, le=300, description="Per HTTP request (default 10).")
    verify_grace_seconds: VerifyGraceSeconds = None


ADAPTER_MODELS: dict[str, type[DeclarationModel]] = {
    "http-api-key": HttpApiKeyAdapter,
    "oauth2-client-credentials": OAuth2ClientCredentialsAdapter,
}


def _known_adapter(value: object) -> object:
    """Say which adapters exist, and which fields each takes, before pydantic picks one by `type`."""
    if not isinstance(value, dict):
        return value
    kind = value.get("type")
    model = ADAPTER_MODELS.get(kind) if isinstance(kind, str) else None
    if model is None:
        raise ValueError(
            "adapter needs type: http-api-key (create_url, verify_url) or oauth2-client-credentials (token_url); "
            f"it gives {'no type' if kind is None else repr(kind)}"
        )
    return value


Adapter = Annotated[
    Annotated[HttpApiKeyAdapter | OAuth2ClientCredentialsAdapter, Field(discriminator="type")],
    BeforeValidator(_known_adapter),
]


def _is_union_tag(location: tuple, index: int) -> bool:
    return index > 0 and location[index - 1] == "adapter" and location[index] in ADAPTER_MODELS


def without_union_tags(location: tuple) -> tuple:
    """A validation error's location as written in YAML: pydantic adds the member tag of a
    discriminated union (`adapter.http-api-key.create_url`), which is no key of the document."""
    return tuple(part for index, part in enumerate(location) if not _is_union_tag(location, index))


def union_member(location: tuple) -> tuple[type[BaseModel], tuple] | None:
    """The union member an error is in and the location within it, for messages that name its fields."""
    for index in range(len(location) - 1, 0, -1):
        if _is_union_tag(location, index):
            return ADAPTER_MODELS[location[index]], tuple(location[index + 1:])
    return None


class Bootstrap(str, Enum):
    """How the database learns the first (generated) password of a managed rotation."""

    DATABASE_READS_SECRET = "database-reads-secret"


class Rotation(DeclarationModel):
    """How and how often the value rotates. Exactly one of managed, function, lambda_arn."""

    enabled: bool = Field(True, description="false documents an exemption; then reason is required.")
    reason: str | None = Field(
        None, min_length=1, max_length=256, description="Why this secret does not rotate (with enabled: false)."
    )
    managed: ManagedRotation | None = Field(
        None, description="An AWS-provided rotation function (database secrets, format json)."
    )
    function: BundledFunction | None = Field(None, description="A rotation function bundled in this repository.")
    lambda_arn: LambdaArn | None = Field(None, description="An existing rotation function.")
    vpc: Vpc | None = Field(None, description="Network placement of a managed or bundled rotation function.")
    adapter: Adapter | None = Field(
        None,
        description=(
            "Required with function: api-key-rotator: how the function talks to the provider. "
            "{type: http-api-key, create_url, verify_url[, revoke_url]} or "
            "{type: oauth2-client-credentials, token_url[, scope, verify_url, revoke_url]}; https endpoints. "
            "Delivered to the function as the secret's rotation-<setting> tags."
        ),
    )
    bootstrap: Bootstrap | None = Field(
        None,
        description=(
            "Required with managed: and a generated value: how the database gets that first password. "
            "database-reads-secret: the database's own stack sets its master password from this secret "
            "(examples/database-stack). With from_config or external the value already is the database's password."
        ),
    )
    every_days: int | None = Field(None, ge=1, le=1000, strict=True, description="Rotate every N days (1-1000).")
    schedule: str | None = Field(
        None, description='A rate() (at least 4 hours) or cron() expression, e.g. "cron(0 4 ? * SUN *)".'
    )
    window: str | None = Field(
        None,
        pattern=r"^[0-9]{1,4}h$",
        description="Rotation window, e.g. 3h; shorter than the interval between rotations.",
    )

    @property
    def method(self) -> str | None:
        """Which of managed / function / lambda_arn is set."""
        return next((field for field in ("managed", "function", "lambda_arn") if getattr(self, field)), None)


class Reader(DeclarationModel):
    """Roles in a consumer account that may read the secret."""

    account: AccountName = Field(description="A name from accounts:.")
    roles: list[RoleName] = Field(min_length=1, description="Role names in that account.")
    stages: list[VersionStage] = Field(
        default_factory=lambda: ["AWSCURRENT"],
        min_length=1,
        description=(
            "Version stages the roles may name when they read (default [AWSCURRENT]). With AWSCURRENT they "
            "also read without a stage, and so any version by its VersionId alone: the limit binds stage names."
        ),
    )
    requests_per_month: int | None = Field(
        None, ge=0, strict=True, description="Expected GetSecretValue calls per month, for the cost estimate."
    )


SecretName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=512),
    Field(description="The secret's name: <environment>/<service>/<name>, 1-512 of A-Za-z0-9/_+=.@-."),
]


class SecretDefaults(DeclarationModel):
    """Fields applied to every secret that does not set them. Mappings merge; lists and scalars replace."""

    recovery_window_days: int | None = Field(None, ge=7, le=30, strict=True, description="Days a deleted secret can be restored (7-30).")
    replicas: list[Region] | None = Field(None, description="Regions the secret is replicated to.")
    rotation: Rotation | None = Field(None, description="Rotation settings, merged key by key into each secret's.")
    tags: Tags | None = Field(None, description="Tags, merged key by key into each secret's.")
    protect: bool | None = Field(
        None,
        description=(
            "Pulumi protect of every secret and of the keys the layout creates: the engine refuses to delete or "
            "replace them (pulumi destroy too). true when omitted; false only when written here."
        ),
    )


class LiveReplica(DeclarationModel):
    """A replica the existing secret has today."""

    region: Region
    kms_key_id: KmsKeyArn | None = Field(None, description="Its key ARN today; omit when it uses the AWS managed key.")


class Adopt(DeclarationModel):
    """Step 1 of adopting an existing secret (with import_id): its settings as they are today.

    While `adopt:` is present only the secret itself is imported, with these values, and no
    resource policy, version or new rotation is created, so the import changes nothing. A field
    left out is not known: it is ignored (ignore_changes) until the migration. Step 2 removes
    `adopt:`; the preview then shows every change the migration makes.
    """

    kms_key_id: KmsKeyArn | None = Field(None, description="The secret's key ARN today (omit if unknown: then ignored).")
    description: str | None = Field(None, max_length=2048, description="Its description today (omit if unknown).")
    replicas: list[LiveReplica] | None = Field(None, description="Its replicas today ([] for none; omit if unknown).")
    tags: Tags | None = Field(None, description="Its tags today, all of them (omit if unknown).")
    rotates: bool = Field(
        False,
        description=(
            "true: the secret already rotates; its rotation is imported unchanged and replaced by the "
            "declared rotation in the migration."
        ),
    )


class Secret(DeclarationModel):
    name: SecretName
    description: str | None = Field(None, max_length=2048, description="Up to 2048 characters.")
    kind: SecretKind = Field(SecretKind.GENERIC, description="database | api-key | oauth-token | generic.")
    format: SecretFormat | None = Field(
        None, description="json | plaintext (default json for kind database, plaintext otherwise)."
    )
    value: ValueSourceEntry = Field(description="Where the value comes from. Never a literal secret.")
    rotation: Rotation | None = Field(None, description="Rotation settings (merged over defaults.rotation).")
    readers: list[Reader] = Field(default_factory=list, description="Who may read the secret, across accounts.")
    replicas: list[Region] = Field(default_factory=list, description="Regions the secret is replicated to.")
    recovery_window_days: int = Field(30, ge=7, le=30, strict=True, description="Days a deleted secret can be restored (7-30).")
    tags: Tags = Field(default_factory=dict, description="Tags (merged over defaults.tags).")
    protect: bool | None = Field(None, description="Pulumi protect of this secret (default: defaults.protect, true when omitted).")
    import_id: str | None = Field(
        None,
        pattern=r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$",
        description="ARN of an existing secret to adopt instead of creating one (first with adopt:, then without).",
    )
    adopt: Adopt | None = Field(
        None,
        description=(
            "With import_id: the live settings of the secret, so that importing it changes nothing. "
            "Remove it afterwards to migrate the secret to the declared settings."
        ),
    )

    @field_validator("name")
    @classmethod
    def _aws_secret_name(cls, name: str) -> str:
        if not SECRET_NAME_CHARACTERS.match(name):
            raise ValueError(
                "a secret name may only contain letters, digits and / _ + = . @ -; rename it"
            )
        if ARN_SUFFIX_LOOKALIKE.search(name):
            raise ValueError(
                "a secret name must not end with '-' and six characters: AWS appends such a "
                "suffix to every ARN, so partial-ARN lookups become ambiguous; rename it"
            )
        return name

    @property
    def effective_format(self) -> SecretFormat:
        if self.format is not None:
            return self.format
        return SecretFormat.JSON if self.kind is SecretKind.DATABASE else SecretFormat.PLAINTEXT

    @property
    def rotates(self) -> bool:
        return self.rotation is not None and self.rotation.enabled

    @property
    def deployed_replica_regions(self) -> list[str]:
        """The replica regions the deployment holds: the live ones while the secret is being adopted."""
        if self.adopt is not None:
            return [replica.region for replica in self.adopt.replicas or []]
        return list(self.replicas)


def _scalar_as_text(value: object) -> object:
    """SSM stores text: `port: 5432` and `enabled: true` mean the strings "5432" and "true"."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


ParameterValue = Annotated[
    str,
    BeforeValidator(_scalar_as_text, json_schema_input_type=str | int | float | bool),
    StringConstraints(min_length=1, max_length=4096),
]


class Parameter(DeclarationModel):
    """Non-sensitive configuration, stored in SSM Parameter Store as a String."""

    name: str = Field(
        pattern=r"^/[A-Za-z0-9_.\-/]{1,1010}$",
        description="/<environment>/<service>/<name>: letters, digits and _.-/ (at most 15 levels).",
    )
    value: ParameterValue = Field(description="The value (1-4096 characters). Never a credential.")
    description: str | None = Field(None, max_length=1024, description="Up to 1024 characters.")
    tags: Tags = Field(default_factory=dict, description="Tags of the parameter.")


# SNS endpoints by protocol (https://docs.aws.amazon.com/sns/latest/api/API_Subscribe.html).
_SUBSCRIPTION_ENDPOINTS = {
    "email": (re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$"), "an email address"),
    "email-json": (re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$"), "an email address"),
    "https": (re.compile(r"^https://[^\s]+$"), "an https:// URL"),
    "sqs": (re.compile(r"^arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,80}(\.fifo)?$"), "an SQS queue ARN"),
    "lambda": (re.compile(r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9$_-]+)?$"),
               "a Lambda function ARN"),
    "sms": (re.compile(r"^\+[1-9]\d{6,14}$"), "a phone number in E.164 form (+15555550100)"),
}


class AlertSubscription(DeclarationModel):
    """Who hears about failed rotations: one subscription of the alert topic."""

    protocol: Literal["email", "email-json", "https", "sqs", "lambda", "sms"] = Field(
        description="SNS protocol. email and https subscriptions must be confirmed by their owner before they receive."
    )
    endpoint: str = Field(
        min_length=1, max_length=2048,
        description="Address for the protocol: email address, https:// URL, SQS queue ARN, Lambda ARN or +E.164 number.",
    )

    @model_validator(mode="after")
    def _endpoint_fits_protocol(self) -> AlertSubscription:
        pattern, what = _SUBSCRIPTION_ENDPOINTS[self.protocol]
        if not pattern.match(self.endpoint):
            raise ValueError(f"protocol {self.protocol} needs {what} as its endpoint")
        # SNS delivers to https://user:password@host with basic authentication; written here, the
        # password (or a token as the user) is in git, as an adapter endpoint's would be (_https_endpoint).
        if self.protocol == "https" and "@" in urlsplit(self.endpoint).netloc:
            raise ValueError("an https endpoint must not carry user:password@ (it would be in git, and in the "
                             "subscription for anyone who may list it): authenticate the endpoint another way, or "
                             "subscribe it outside the declaration and give the topic as topic_arn")
        return self


class AlertTopic(DeclarationModel):
    """An SNS topic the layout creates, encrypted with the environment's key in the primary region."""

    name: str | None = Field(
        None, pattern=r"^[A-Za-z0-9_-]{1,256}$",
        description="Topic name (default secrets-layout-<environment>-alerts).",
    )
    subscriptions: list[AlertSubscription] = Field(default_factory=list, description="Who is told.")


class Alerts(DeclarationModel):
    """EventBridge rules for failed and abandoned rotations in every region, sent to one SNS topic.

    Exactly one of topic (create one) or topic_arn (use an existing one)."""

    topic: AlertTopic | None = Field(None, description="Create a topic (with its subscriptions).")
    topic_arn: str | None = Field(
        None, pattern=r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$",
        description=(
            "An existing topic; its region must be one of the layout's. Its owner must let events.amazonaws.com "
            "publish (README: rotation alerts)."
        ),
    )

    @model_validator(mode="after")
    def _one_topic(self) -> Alerts:
        if (self.topic is None) == (self.topic_arn is None):
            raise ValueError("give exactly one of topic: {subscriptions: [...]} (create one) or topic_arn: (use yours)")
        return self


class Declaration(DeclarationModel):
    """One environment's secrets layout: environments/<env>.yaml."""

    environment: str = Field(
        pattern=r"^[a-z][a-z0-9-]{0,31}$",
        description="Lowercase slug (dev, prod, shared-services); the first segment of every secret name.",
    )
    security_account: AccountId = Field(description='The 12-digit ID of the account that holds the secrets, quoted: "111111111111".')
    organization_id: str | None = Field(
        None,
        pattern=r"^o-[a-z0-9]{10,32}$",
        description="AWS Organizations ID: adds a deny for principals outside the organization.",
    )
    primary_region: Region = Field(description="Region of the primary secrets.")
    accounts: dict[AccountName, AccountEntry] = Field(
        default_factory=dict, description="The consumer accounts of this environment, by name."
    )
    kms: KmsSettings = Field(default_factory=KmsSettings, description="Encryption keys.")
    defaults: SecretDefaults = Field(default_factory=SecretDefaults, description="Applied to every secret.")
    secrets: list[Secret] = Field(default_factory=list, description="The secrets of this environment.")
    parameters: list[Parameter] = Field(
        default_factory=list, description="Non-sensitive configuration for SSM Parameter Store."
    )
    alerts: Alerts | None = Field(
        None, description="Alert an SNS topic when a rotation fails or is abandoned, in every region of the layout."
    )
    lower_environments: list[EnvironmentName] = Field(
        default_factory=list,
        description=(
            "Environments a change reaches before this one, declared beside it (e.g. [dev, staging]). Each secret "
            "here should have a counterpart there (the same <service>/<name>) that rotates the same way, so its "
            "rotation runs there first: validate and preview report a difference (advisory), and audit a rotation "
            "that has not succeeded there within its interval."
        ),
    )

    @field_validator("lower_environments")
    @classmethod
    def _other_environments(cls, names: list[str], info: ValidationInfo) -> list[str]:
        if info.data.get("environment") in names:
            raise ValueError("an environment is not lower than itself; remove its own name")
        if len(set(names)) != len(names):
            raise ValueError("each environment once; remove the repeated name")
        return names

    @field_validator("alerts")
    @classmethod
    def _alert_topic_in_layout(cls, alerts: Alerts | None, info: ValidationInfo) -> Alerts | None:
        # EventBridge targets must be in the rule's region, and the layout has providers only in its
        # own regions (components/alerts.py).
        if alerts is None or alerts.topic_arn is None or "primary_region" not in info.data:
            return alerts
        regions = {info.data["primary_region"]}
        regions.update(region for secret in info.data.get("secrets", []) for region in secret.replicas)
        region = alerts.topic_arn.split(":")[3]
        if region not in regions:
            raise ValueError(
                f"the topic_arn is in {region}, which is not a region of this layout ({', '.join(sorted(regions))}); "
                "use a topic in one of them, or write topic: to create one"
            )
        return alerts

    @property
    def regions(self) -> list[str]:
        """The primary region first, then every replica region in order of first use."""
        ordered = [self.primary_region]
        for secret in self.secrets:
            ordered.extend(region for region in secret.replicas if region not in ordered)
        return ordered

    @property
    def protected_by_default(self) -> bool:
        """`defaults.protect`, true unless written false: protection never depends on the environment's
        name, and is off only when a declaration says so."""
        return self.defaults.protect is not False

    def protects(self, secret: Secret) -> bool:
        # The loader has merged defaults.protect into every secret that does not set protect itself.
        return self.protected_by_default if secret.protect is None else secret.protect

    def account_id(self, name: str) -> str:
        return self.accounts[name].id


class TeamFile(DeclarationModel):
    """One team's file of an environment folder (environments/<env>/<team>.yaml): its secrets and
    parameters; the environment's settings and `defaults:` are in the folder's _environment.yaml."""

    secrets: list[Secret] = Declaration.model_fields["secrets"]
    parameters: list[Parameter] = Declaration.model_fields["parameters"]
