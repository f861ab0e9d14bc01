"""Rules that relate several fields: AWS limits, layout rules and "no secret values in git".

Each rule is a small function over the validated declaration that yields `(path, message)`;
the loader turns paths into FILE:LINE:COLUMN. Messages say what is wrong, why, and the fix.
"""

from __future__ import annotations

import json
import re
import string
from dataclasses import dataclass
from typing import Callable, Iterator

from secrets_layout.declaration.credentials import credential_findings
from secrets_layout.errors import Path
from secrets_layout.policies.schedule import (
    RateSchedule,
    ScheduleError,
    parse_schedule,
    secrets_manager_problems,
    window_problems,
)
from secrets_layout.declaration.models import (
    Declaration,
    ManagedRotation,
    OAuth2ClientCredentialsAdapter,
    Rotation,
    Secret,
    SecretFormat,
    SecretKind,
)

Finding = tuple[Path, str]
_AWS_SECRET_ARN = re.compile(r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$")
Rule = Callable[[Declaration], Iterator[Finding]]

MAX_SECRET_VALUE_BYTES = 65536
MAX_TAGS = 50
MAX_WINDOW_HOURS = 24
MAX_PARAMETER_DEPTH = 15
RESERVED_TAGS = ("kind", "managed-by", "rotation-exempt")
"""Tags the layout sets itself; `environment` may be written but must match."""
ADDED_TAGS = ("environment", "kind", "managed-by", "rotation-exempt")
VALUE_SOURCES = ("generate", "from_config", "external")
ROTATION_TAG_PREFIX = "rotation-"
"""The bundled function's settings (rotation/adapters.py); the layout writes them from rotation.adapter."""


@dataclass(frozen=True)
class DatabaseSecretShape:
    """What AWS's rotation function for an engine reads from the secret's JSON."""

    engines: tuple[str, ...]
    """Accepted values of `engine`: the function refuses any other."""
    needs_dbname: bool = False


# "JSON structure of AWS Secrets Manager secrets"
# (https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_secret_json_structure.html) and the
# functions themselves, get_secret_dict() in aws-samples/aws-secrets-manager-rotation-lambdas
# SecretsManager<Engine>Rotation{Single,Multi}User/lambda_function.py: every one requires host, username and
# password and refuses another `engine`; port and dbname default per engine, except Oracle, which requires dbname
# (the service name). Multi-user functions also require masterarn (checked in _rotation_findings).
DATABASE_SECRET_SHAPES: dict[str, DatabaseSecretShape] = {
    "rds-postgresql": DatabaseSecretShape(("postgres", "aurora-postgresql")),
    "rds-mysql": DatabaseSecretShape(("mysql",)),
    "rds-mariadb": DatabaseSecretShape(("mariadb",)),
    "rds-oracle": DatabaseSecretShape(("oracle",), needs_dbname=True),
    "rds-sqlserver": DatabaseSecretShape(("sqlserver",)),
    "redshift": DatabaseSecretShape(("redshift",)),
    "documentdb": DatabaseSecretShape(("mongo",)),
}
DATABASE_PASSWORD_KEY = "password"
"""The JSON key every AWS database rotation function reads and writes the password under."""


def database_secret_shape(managed: ManagedRotation) -> DatabaseSecretShape:
    return DATABASE_SECRET_SHAPES[managed.value.rsplit("-", 2)[0]]


def check_declaration(declaration: Declaration) -> list[Finding]:
    """Every finding of every rule, in rule order."""
    return [finding for rule in RULES for finding in rule(declaration)]


def _secrets(declaration: Declaration) -> Iterator[tuple[Path, Secret]]:
    for index, secret in enumerate(declaration.secrets):
        yield ("secrets", index), secret


def secret_names_start_with_environment(declaration: Declaration) -> Iterator[Finding]:
    prefix = f"{declaration.environment}/"
    for path, secret in _secrets(declaration):
        if not secret.name.startswith(prefix):
            yield path + ("name",), (
                f"secret names start with the environment ('{prefix}...') so that a role's access "
                f"can be scoped by name; rename it to {prefix}<service>/<name>"
            )


def secret_names_are_unique(declaration: Declaration) -> Iterator[Finding]:
    first_index: dict[str, int] = {}
    for path, secret in _secrets(declaration):
        if secret.name in first_index:
            yield path + ("name",), (
                f"duplicate secret name '{secret.name}' (also secrets[{first_index[secret.name]}]); "
                "every secret needs its own name: rename or remove one"
            )
        first_index.setdefault(secret.name, path[1])


def value_comes_from_exactly_one_source(declaration: Declaration) -> Iterator[Finding]:
    for path, secret in _secrets(declaration):
        value = secret.value
        if value.external is False:
            yield path + ("value", "external"), "external is either true or absent; remove it or write external: true"
        given = [source for source in VALUE_SOURCES if getattr(value, source) not in (None, False)]
        if len(given) != 1:
            which = f"it gives {' and '.join(given)}" if given else "it gives none"
            yield path + ("value",), (
                f"value needs exactly one of generate, from_config or external ({which}); "
                "a literal value is never allowed"
            )
        if value.template is not None and value.generate is None:
            yield path + ("value", "template"), "template is the non-secret part of a generated value; add value.generate or remove template"
        is_json = secret.effective_format is SecretFormat.JSON
        if value.template is not None and not is_json:
            yield path + ("value", "template"), "template builds a JSON value; set format: json or remove template"
        if value.generate is not None:
            if is_json and value.generate.key is None:
                yield path + ("value", "generate"), "a JSON secret needs generate.key: the JSON key that receives the generated value (e.g. password)"
            if not is_json and value.generate.key is not None:
                yield path + ("value", "generate", "key"), "generate.key names a JSON field; remove it or set format: json"
            excluded = value.generate.exclude_characters or ""
            if any(character not in string.punctuation for character in excluded):
                yield path + ("value", "generate", "exclude_characters"), (
                    "exclude_characters may only list punctuation (letters and digits keep the value strong); "
                    "remove the letters, digits and spaces"
                )


def value_fits_in_a_secret(declaration: Declaration) -> Iterator[Finding]:
    for path, secret in _secrets(declaration):
        generate = secret.value.generate
        if generate is None:
            continue
        rendered = (
            json.dumps({**(secret.value.template or {}), generate.key or "value": "x" * generate.length})
            if secret.effective_format is SecretFormat.JSON else "x" * generate.length
        )
        size = len(rendered.encode("utf-8"))
        if size > MAX_SECRET_VALUE_BYTES:
            yield path + ("value",), (
                f"the rendered value would be {size} bytes; Secrets Manager stores at most "
                f"{MAX_SECRET_VALUE_BYTES}: shorten the template or the generated length"
            )


def rotation_is_well_formed(declaration: Declaration) -> Iterator[Finding]:
    for path, secret in _secrets(declaration):
        if secret.rotation is not None:
            yield from _rotation_findings(declaration, secret, secret.rotation, path + ("rotation",))


def _rotation_findings(declaration: Declaration, secret: Secret, rotation: Rotation, path: Path) -> Iterator[Finding]:
    if not rotation.enabled:
        if rotation.reason is None:
            yield path + ("reason",), "an exemption from rotation needs a reason (it becomes the rotation-exempt tag); add reason: \"...\""
        configured = [field for field in ("managed", "function", "lambda_arn", "vpc", "adapter", "bootstrap",
                                          "every_days", "schedule", "window")
                      if getattr(rotation, field) is not None]
        if configured:
            yield path, f"rotation is disabled but sets {', '.join(configured)}; remove them or set enabled: true"
        return
    if rotation.reason is not None:
        yield path + ("reason",), "reason documents a disabled rotation; remove it or set enabled: false"
    methods = [field for field in ("managed", "function", "lambda_arn") if getattr(rotation, field) is not None]
    if len(methods) != 1:
        which = f"it gives {' and '.join(methods)}" if methods else "it gives none"
        yield path, f"rotation needs exactly one function: managed:, function: or lambda_arn: ({which})"
    if rotation.managed is not None and (secret.kind is not SecretKind.DATABASE or secret.effective_format is not SecretFormat.JSON):
        yield path + ("managed",), (
            "AWS-managed rotation rotates database credentials stored as JSON; use it with kind: database "
            "and format: json, or rotate with function: api-key-rotator or lambda_arn:"
        )
    if rotation.managed is not None and rotation.managed.value.endswith("-multi-user"):
        master = (secret.value.template or {}).get("masterarn")
        if not (isinstance(master, str) and _AWS_SECRET_ARN.match(master)):
            yield path + ("managed",), (
                "multi-user rotation signs in with a superuser secret to create the alternating user; add "
                "masterarn: <ARN of that secret> to value.template (or use the -single-user function)"
            )
    yield from _adapter_findings(secret, rotation, path)
    yield from _bootstrap_findings(secret, rotation, path)
    if rotation.vpc is not None and rotation.lambda_arn is not None:
        yield path + ("vpc",), "vpc places a function this layout deploys; an existing lambda_arn keeps its own network: remove vpc"
    if rotation.lambda_arn is not None:
        function_region = rotation.lambda_arn.split(":")[3]
        if function_region != declaration.primary_region:
            yield path + ("lambda_arn",), (
                f"the rotation function is in {function_region} but the secret is in {declaration.primary_region}; "
                "Secrets Manager only invokes a function in the secret's own region"
            )
    if rotation.every_days is not None and rotation.schedule is not None:
        # At both keys: either one may be the one to remove.
        yield path + ("every_days",), "give either every_days or schedule, not both; remove this or schedule:"
        yield path + ("schedule",), "give either every_days or schedule, not both; remove this or every_days:"
    elif rotation.every_days is None and rotation.schedule is None:
        yield path, "rotation needs an interval: add every_days: N or schedule: \"rate(...)\" / \"cron(...)\""
    yield from _interval_findings(rotation, path)


def _adapter_findings(secret: Secret, rotation: Rotation, path: Path) -> Iterator[Finding]:
    if rotation.function is not None and rotation.adapter is None:
        yield path + ("function",), (
            "function: api-key-rotator needs to know the provider it rotates with; add adapter: "
            "{type: http-api-key, create_url: https://..., verify_url: https://...} or "
            "{type: oauth2-client-credentials, token_url: https://...} (rotation/README.md lists the settings)"
        )
    if rotation.adapter is not None and rotation.function is None:
        yield path + ("adapter",), (
            "adapter configures the bundled function: api-key-rotator; managed: and lambda_arn: functions take no "
            "adapter: remove it"
        )
    if isinstance(rotation.adapter, OAuth2ClientCredentialsAdapter) and secret.effective_format is not SecretFormat.JSON:
        yield path + ("adapter", "type"), (
            "an oauth2-client-credentials secret is a JSON object (client_id, client_secret, access_token, expires_at); "
            "set format: json"
        )


def _bootstrap_findings(secret: Secret, rotation: Rotation, path: Path) -> Iterator[Finding]:
    generated = secret.value.generate is not None
    if rotation.managed is not None and generated and rotation.bootstrap is None:
        yield path + ("managed",), (
            "the password is generated here, so the database does not know it: readers would get a credential the "
            "database rejects and the first rotation would fail to sign in. Add bootstrap: database-reads-secret "
            "(the database's own stack sets its password from this secret, see examples/database-stack), or put the "
            "database's real password with value: {from_config: NAME} or value: {external: true}"
        )
    if rotation.bootstrap is not None and rotation.managed is None:
        yield path + ("bootstrap",), "bootstrap says how a database learns its first password; it goes with managed: only: remove it"
    elif rotation.bootstrap is not None and not generated:
        yield path + ("bootstrap",), (
            "bootstrap goes with a generated value; from_config and external values already are the database's "
            "password: remove it"
        )


def managed_template_is_complete(declaration: Declaration) -> Iterator[Finding]:
    """The JSON fields AWS's database rotation functions read, for secrets whose template we write."""
    for path, secret in _secrets(declaration):
        rotation, value = secret.rotation, secret.value
        if rotation is None or not rotation.enabled or rotation.managed is None or value.generate is None:
            continue
        shape = database_secret_shape(rotation.managed)
        template = value.template or {}
        where = path + ("value", "template")
        if value.generate.key not in (None, DATABASE_PASSWORD_KEY):
            yield path + ("value", "generate", "key"), (
                f"AWS's {rotation.managed.value} function reads and writes the password under the JSON key "
                f"'{DATABASE_PASSWORD_KEY}'; set generate.key: {DATABASE_PASSWORD_KEY}"
            )
        engine = template.get("engine")
        accepted = " or ".join(shape.engines)
        if engine not in shape.engines:
            yield (where + ("engine",) if "engine" in template else where), (
                f"{rotation.managed.value} rotation refuses a secret whose engine is not {accepted}; "
                f"set engine: {shape.engines[0]} in value.template"
            )
        required = ["host", "username"] + (["dbname"] if shape.needs_dbname else [])
        for field in required:
            if not (isinstance(template.get(field), str) and template[field].strip()):
                why = "the Oracle service name" if field == "dbname" else "where and as whom it signs in"
                yield (where + (field,) if field in template else where), (
                    f"{rotation.managed.value} rotation reads {field} ({why}) from the secret; add {field}: <text> "
                    "to value.template"
                )
        port = template.get("port")
        if port is not None and not (isinstance(port, int) and not isinstance(port, bool) and 1 <= port <= 65535):
            yield where + ("port",), "port is the database's TCP port, a whole number from 1 to 65535; fix it or remove it (the engine's default port is used)"


class _InvalidSchedule(ValueError):
    pass


def _shortest_interval_hours(rotation: Rotation) -> float | None:
    """Hours between two rotations at the closest; a window may not last that long."""
    if rotation.every_days is not None:
        return rotation.every_days * 24.0
    if rotation.schedule is None:
        return None
    try:
        problems = secrets_manager_problems(rotation.schedule)
        schedule = parse_schedule(rotation.schedule)
    except ScheduleError as error:
        raise _InvalidSchedule(
            f"{error.reason}; write rate(N hours|days) (at least 4 hours) or "
            "cron(minutes hours day-of-month month day-of-week year), e.g. cron(0 4 ? * SUN *)"
        ) from None
    if problems:
        raise _InvalidSchedule("; ".join(problems))
    if isinstance(schedule, RateSchedule):
        return schedule.interval_days * 24.0
    times = sorted(schedule.times_of_day)
    gaps = [later - earlier for earlier, later in zip(times, times[1:])]
    return min(gaps) / 60.0 if gaps else 24.0


def _interval_findings(rotation: Rotation, path: Path) -> Iterator[Finding]:
    try:
        interval_hours = _shortest_interval_hours(rotation)
    except _InvalidSchedule as problem:
        yield path + ("schedule",), str(problem)
        return
    if rotation.window is None or interval_hours is None:
        return
    window_hours = int(rotation.window[:-1])
    if not 1 <= window_hours <= MAX_WINDOW_HOURS:
        yield path + ("window",), f"a rotation window is 1h to {MAX_WINDOW_HOURS}h; shorten it"
    elif window_hours >= interval_hours:
        yield path + ("window",), (
            f"the window ({window_hours}h) must be shorter than the time between rotations ({interval_hours:g}h), "
            "or one rotation would still run when the next starts; shorten the window"
        )
    else:
        # `every_days:` with a window is rate(N days) (components/rotation_settings.rotation_rules): it opens at
        # midnight, so only a cron schedule can run past the end of the UTC day.
        for problem in window_problems(rotation.window, rotation.schedule)[:1]:
            yield path + ("window",), f"Secrets Manager refuses this window: {problem}; shorten the window"


def replicas_are_other_regions(declaration: Declaration) -> Iterator[Finding]:
    for path, secret in _secrets(declaration):
        seen: set[str] = set()
        for index, region in enumerate(secret.replicas):
            if region == declaration.primary_region:
                yield path + ("replicas", index), (
                    f"{region} is the primary region; a replica must be another region: remove it"
                )
            elif region in seen:
                yield path + ("replicas", index), f"{region} is listed twice; remove one"
            seen.add(region)


def readers_name_known_accounts(declaration: Declaration) -> Iterator[Finding]:
    """An unknown account once, at its first use, naming the other secrets that use it too."""
    known = ", ".join(sorted(declaration.accounts)) or "none declared"
    uses: dict[str, list[tuple[Path, str]]] = {}
    for path, secret in _secrets(declaration):
        for index, reader in enumerate(secret.readers):
            if reader.account not in declaration.accounts:
                uses.setdefault(reader.account, []).append((path + ("readers", index, "account"), secret.name))
    for account, found in uses.items():
        first, others = found[0][0], [name for _, name in found[1:]]
        also = ""
        if others:
            also = f" (also named by the readers of {', '.join(dict.fromkeys(others))})"
        yield first, f"account '{account}' is not in accounts: ({known}); add it there or fix the name{also}"


def accounts_are_consumers(declaration: Declaration) -> Iterator[Finding]:
    names_by_id: dict[str, str] = {}
    for name, account in declaration.accounts.items():
        if account.id == declaration.security_account:
            yield ("accounts", name), (
                "this is the security account itself; accounts: lists consumer accounts, and readers "
                "never get the security account's own root: remove it"
            )
        elif account.id in names_by_id:
            yield ("accounts", name), f"same account ID as '{names_by_id[account.id]}'; give each account one name"
        names_by_id.setdefault(account.id, name)
        if account.deploy_role_arn is not None and account.deploy_role_arn.split(":")[4] != account.id:
            yield ("accounts", name, "deploy_role_arn"), "deploy_role_arn must be a role in this account; fix the account ID in the ARN"


def tags_within_aws_limits(declaration: Declaration) -> Iterator[Finding]:
    tagged = [(path, secret.tags, True) for path, secret in _secrets(declaration)]
    tagged += [(("parameters", index), parameter.tags, False) for index, parameter in enumerate(declaration.parameters)]
    for path, tags, is_secret in tagged:
        for key, value in tags.items():
            if key.lower().startswith("aws:"):
                yield path + ("tags", key), "tag keys starting with aws: are reserved by AWS; rename the tag"
            if is_secret and key in RESERVED_TAGS:
                yield path + ("tags", key), f"the layout sets the {key} tag itself; remove it"
            elif is_secret and key.startswith(ROTATION_TAG_PREFIX):
                yield path + ("tags", key), (
                    f"{ROTATION_TAG_PREFIX}* tags are the api-key-rotator's settings, which the layout writes from "
                    "rotation.adapter (so they are reviewed in git); move the setting into rotation.adapter and remove the tag"
                )
            if key == "environment" and value != declaration.environment:
                yield path + ("tags", key), (
                    f"the environment tag must be '{declaration.environment}' (policies and cost reports rely on it); fix or remove it"
                )
        total = len(tags.keys() | set(ADDED_TAGS)) + _adapter_tag_count(path, declaration) if is_secret else len(tags)
        if total > MAX_TAGS:
            yield path + ("tags",), f"{total} tags with the layout's own; AWS allows {MAX_TAGS}: remove some"


def _adapter_tag_count(path: Path, declaration: Declaration) -> int:
    rotation = declaration.secrets[path[1]].rotation if path[0] == "secrets" else None
    adapter = rotation.adapter if rotation is not None and rotation.enabled else None
    return len(adapter.model_dump(exclude_none=True)) if adapter is not None else 0


def parameters_are_well_formed(declaration: Declaration) -> Iterator[Finding]:
    prefix = f"/{declaration.environment}/"
    first_index: dict[str, int] = {}
    for index, parameter in enumerate(declaration.parameters):
        path = ("parameters", index, "name")
        if not parameter.name.startswith(prefix):
            yield path, f"parameter names start with '{prefix}' like the secrets of this environment; rename it"
        if parameter.name.strip("/").count("/") + 1 > MAX_PARAMETER_DEPTH:
            yield path, f"Parameter Store allows at most {MAX_PARAMETER_DEPTH} levels; shorten the name"
        if parameter.name in first_index:
            yield path, f"duplicate parameter name (also parameters[{first_index[parameter.name]}]); remove one"
        first_index.setdefault(parameter.name, index)


def kms_keys_are_in_their_region(declaration: Declaration) -> Iterator[Finding]:
    for region, arn in declaration.kms.keys.items():
        key_region = arn.split(":")[3]
        if key_region != region:
            yield ("kms", "keys", region), (
                f"this key is in {key_region}, not {region}; a secret and its replicas need a key in their own region"
            )


def imports_name_their_secret(declaration: Declaration) -> Iterator[Finding]:
    for path, secret in _secrets(declaration):
        if secret.import_id is None:
            continue
        region, name_part = secret.import_id.split(":")[3], secret.import_id.split(":secret:", 1)[1]
        if region != declaration.primary_region:
            yield path + ("import_id",), f"this secret is in {region}; the environment's primary region is {declaration.primary_region}"
        if name_part.rsplit("-", 1)[0] != secret.name:
            yield path + ("import_id",), (
                "import_id adopts an existing secret of the same name; this ARN names another secret: "
                f"use the ARN of {secret.name} or rename the secret"
            )


def adoption_is_well_formed(declaration: Declaration) -> Iterator[Finding]:
    """Adopting an existing secret: two reviewed steps, and never a new value over the live one."""
    for path, secret in _secrets(declaration):
        adopt = secret.adopt
        if secret.import_id is not None and secret.value.generate is not None:
            yield path + ("value", "generate"), (
                "an adopted secret keeps its live value; a generated value would replace the credential its owner "
                "put there: use value: {external: true} (or from_config to set a value on purpose)"
            )
        if adopt is None:
            continue
        if secret.import_id is None:
            yield path + ("adopt",), (
                "adopt describes the live settings of a secret being imported; add import_id: <its ARN> or remove adopt"
            )
        if adopt.rotates and not (secret.rotates and secret.rotation is not None and secret.rotation.method):
            yield path + ("adopt", "rotates"), (
                "the live rotation is imported as the declared rotation's resource; declare the rotation the secret "
                "will have (rotation: {lambda_arn: ..., every_days: N}) or set rotates: false"
            )
        if adopt.kms_key_id is not None and adopt.kms_key_id.split(":")[3] != declaration.primary_region:
            yield path + ("adopt", "kms_key_id"), (
                f"the secret is in {declaration.primary_region}, so its key is too; copy the key ARN shown by "
                "aws secretsmanager describe-secret (KmsKeyId)"
            )
        seen: set[str] = set()
        for index, replica in enumerate(adopt.replicas or []):
            where = path + ("adopt", "replicas", index)
            if replica.region == declaration.primary_region or replica.region in seen:
                yield where + ("region",), f"{replica.region} is the primary region or listed twice; list each live replica once"
            seen.add(replica.region)
            if replica.kms_key_id is not None and replica.kms_key_id.split(":")[3] != replica.region:
                yield where + ("kms_key_id",), f"a replica in {replica.region} is encrypted with a key of {replica.region}; fix the ARN"


def _account_of(arn: str) -> str:
    """The account field of an ARN (arn:partition:service:region:account:resource)."""
    return arn.split(":")[4]


def arns_are_in_the_security_account(declaration: Declaration) -> Iterator[Finding]:
    """The ARNs of what the layout adopts or rotates with name the security account: a mistyped
    security_account (or ARN) is caught here, at the ARN's line, instead of by the deployment.

    A reader's deploy_role_arn is a role of its own account, checked in accounts_are_consumers; KMS
    keys under kms.keys may belong to another account (a key policy can share them)."""
    security = declaration.security_account

    def elsewhere(path: Path, arn: str | None) -> Iterator[Finding]:
        if arn is not None and _account_of(arn) != security:
            yield path, (
                f"this ARN is in account {_account_of(arn)}, but security_account is {security}, and everything "
                "this declaration adopts or rotates with is in the security account: fix the account ID here, or "
                "security_account if that is the one mistyped"
            )

    for path, secret in _secrets(declaration):
        yield from elsewhere(path + ("import_id",), secret.import_id)
        if secret.adopt is not None:
            yield from elsewhere(path + ("adopt", "kms_key_id"), secret.adopt.kms_key_id)
            for index, replica in enumerate(secret.adopt.replicas or []):
                yield from elsewhere(path + ("adopt", "replicas", index, "kms_key_id"), replica.kms_key_id)
        if secret.rotation is not None:
            yield from elsewhere(path + ("rotation", "lambda_arn"), secret.rotation.lambda_arn)


def no_secret_values_in_git(data: dict) -> list[Finding]:
    """Credential-looking literals in templates, parameters and tags.

    Runs on the raw document, before and whatever the models say, so a committed password is
    reported in the same run as any other mistake in the file.
    """
    literals = list(_literals(data))
    findings = credential_findings((key, value) for _, key, value in literals)
    return [
        (path, f"this looks like a credential ({', '.join(reasons)}); secret values never go into git: "
               "use value.generate, value.from_config (pulumi config set --secret) or value.external")
        for (path, _, _), reasons in zip(literals, findings) if reasons
    ]


def _literals(data: dict) -> Iterator[tuple[Path, str, object]]:
    def mapping(node: object) -> dict:
        return node if isinstance(node, dict) else {}

    def items(node: object) -> list:
        return node if isinstance(node, list) else []

    for key, value in mapping(mapping(data.get("defaults")).get("tags")).items():
        yield ("defaults", "tags", key), str(key), value
    for index, secret in enumerate(items(data.get("secrets"))):
        secret = mapping(secret)
        for key, value in mapping(mapping(secret.get("value")).get("template")).items():
            yield ("secrets", index, "value", "template", key), str(key), value
        for key, value in mapping(secret.get("tags")).items():
            yield ("secrets", index, "tags", key), str(key), value
        for key, value in mapping(mapping(secret.get("adopt")).get("tags")).items():
            yield ("secrets", index, "adopt", "tags", key), str(key), value
    for index, parameter in enumerate(items(data.get("parameters"))):
        parameter = mapping(parameter)
        if "value" in parameter:
            yield ("parameters", index, "value"), str(parameter.get("name", "")).rsplit("/", 1)[-1], parameter["value"]
        for key, value in mapping(parameter.get("tags")).items():
            yield ("parameters", index, "tags", key), str(key), value


RULES: tuple[Rule, ...] = (
    secret_names_start_with_environment,
    secret_names_are_unique,
    value_comes_from_exactly_one_source,
    value_fits_in_a_secret,
    rotation_is_well_formed,
    managed_template_is_complete,
    replicas_are_other_regions,
    readers_name_known_accounts,
    accounts_are_consumers,
    tags_within_aws_limits,
    parameters_are_well_formed,
    kms_keys_are_in_their_region,
    imports_name_their_secret,
    adoption_is_well_formed,
    arns_are_in_the_security_account,
)
"""Rules over the validated declaration. `no_secret_values_in_git` runs on the raw document."""
