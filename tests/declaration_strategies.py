"""Hypothesis strategies for VALID declarations, as the YAML documents an author writes.

`declaration_documents()` draws a small environment (a dict that `yaml.safe_dump` writes as
environments/<env>.yaml) with the layout's variety: one to three regions, secrets whose values are
generated (plaintext, or JSON with a template), read from stack config or put by their owner, rotated
by AWS's applications (single- and multi-user, in and out of a VPC), by the bundled api-key rotator
(http-api-key or oauth2 adapters, so allowed hosts vary), by an existing Lambda, or exempt; readers in
several accounts, some with a deploy role (consumer grants); existing KMS keys for some regions;
defaults (tags, replicas, rotation interval, protect); adoption in both steps; parameters; alerts to a
created or an existing topic; lower environments.

Every part is one small composite, and every text comes from a short list of values that are valid
yet awkward (unicode, the punctuation AWS allows in names, a name long enough to be cut), never from
free text: nothing looks like a credential to the loader's scan, and a shrunk example reads like a
declaration. `features()` names what a validated declaration exercises, so a test can show that the
drawn ones cover the layout. `loaded()`
validates a drawn document through the real loader: a strategy that drew an invalid declaration is a
bug of this module, reported with the loader's issues.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

from secrets_layout.components.rotation_settings import managed_rotation_groups
from secrets_layout.declaration.loader import LoadedDeclaration, load_declaration
from secrets_layout.declaration.models import Declaration, ManagedRotation, Secret, SecretFormat
from secrets_layout.declaration.rules import database_secret_shape
from secrets_layout.errors import DeclarationError

SECURITY_ACCOUNT = "111111111111"
REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "eu-central-1")
CONSUMER_ACCOUNTS = {"app": "222222222222", "data": "333333333333", "ci": "444444444444"}
ENVIRONMENTS = ("dev", "staging", "prod", "shared-services-platform-team")
"""The last is long enough that function and stack names are cut to AWS's limits with a hash."""
SERVICES = ("orders", "payments", "billing")
SECRET_NAMES = ("credentials", "api_key", "db.main@eu", "key+v2=old")
ROLES = ("AppRole", "ReportingRole", "team/EtlRole", "ci/deploy/Runner+Role@ops", "Read,Only=1.x")
DESCRIPTIONS = ("Orders service credentials", "Clé du fournisseur de facturation – ünïcode",
                "Token of a partner integration,\nput by its owner")
TAG_KEYS = ("owner", "cost-center", "data-class")
TAG_VALUES = ("platform-team", "cc-1001", "équipe-données", "")
API_HOSTS = ("api.keys.example", "api.mail-provider.example", "auth.crm-provider.example")
SCHEDULES_AND_WINDOWS = (("rate(30 days)", None), ("rate(12 hours)", "2h"), ("rate(1 day)", None),
                         ("cron(0 4 ? * SUN *)", "3h"), ("cron(0 2 1 * ? *)", None))
EXCLUDED = ('"@/\\', "'", "%&*", "!@#$%&*()-_=+[]{}<>:?")
"""Punctuation to exclude; the last is every special character pulumi_random would use."""
SUBNETS = (["subnet-0a1b2c3d"], ["subnet-0d1e2f3a", "subnet-05a6b7c8"])
SECURITY_GROUPS = (["sg-0a1b2c3d"], ["sg-0f1e2d3c"])


def tags() -> st.SearchStrategy[dict[str, str]]:
    return st.dictionaries(st.sampled_from(TAG_KEYS), st.sampled_from(TAG_VALUES), max_size=2)


def secret_name(environment: str, service: str, name: str, index: int) -> str:
    """<environment>/<service>/<name>-<index>: unique, and never ending like an ARN's six-character suffix."""
    return f"{environment}/{service}/{name}-{index}"


def key_arn(region: str) -> str:
    return f"arn:aws:kms:{region}:{SECURITY_ACCOUNT}:key/5f8a2c1e-3b4d-4e6f-8a9b-{REGIONS.index(region):012d}"


def secret_arn(region: str, name: str) -> str:
    return f"arn:aws:secretsmanager:{region}:{SECURITY_ACCOUNT}:secret:{name}-AbCdEf"


# -- the environment ---------------------------------------------------------------------------

@st.composite
def layout_regions(draw) -> tuple[str, list[str]]:
    """The primary region and up to two regions replicas may go to."""
    regions = draw(st.permutations(REGIONS))[:draw(st.integers(1, 3))]
    return regions[0], regions[1:]


@st.composite
def consumer_accounts(draw) -> dict[str, Any]:
    """Accounts by name, each as its ID or as a mapping, some with a deploy role (consumer grants)."""
    names = draw(st.lists(st.sampled_from(sorted(CONSUMER_ACCOUNTS)), max_size=3, unique=True))
    accounts: dict[str, Any] = {}
    for name in names:
        account_id = CONSUMER_ACCOUNTS[name]
        form = draw(st.sampled_from(["id", "mapping", "deploy-role"]))
        accounts[name] = {"id": account_id} if form == "mapping" else account_id if form == "id" else {
            "id": account_id, "deploy_role_arn": f"arn:aws:iam::{account_id}:role/secrets-layout/deploy"}
    return accounts


@st.composite
def secret_defaults(draw, replica_regions: list[str]) -> dict[str, Any]:
    defaults: dict[str, Any] = {}
    if draw(st.booleans()):
        defaults["recovery_window_days"] = draw(st.integers(7, 30))
    if replica_regions and draw(st.booleans()):
        defaults["replicas"] = draw(st.lists(st.sampled_from(replica_regions), unique=True))
    if draw(st.booleans()):
        defaults["rotation"] = {"every_days": draw(st.integers(1, 90))}
    if draw(st.booleans()):
        defaults["tags"] = draw(tags())
    protect = draw(st.sampled_from([None, True, False]))
    if protect is not None:
        defaults["protect"] = protect
    return defaults


@st.composite
def kms_keys(draw, regions: list[str]) -> dict[str, str]:
    """Existing keys for some of the layout's regions (and now and then one it does not use)."""
    chosen = draw(st.lists(st.sampled_from(REGIONS), max_size=2, unique=True))
    return {region: key_arn(region) for region in chosen if region in regions or draw(st.booleans())}


# -- a secret's value --------------------------------------------------------------------------

@st.composite
def generated(draw, key: str | None) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    if key is not None:
        settings["key"] = key
    if draw(st.booleans()):
        settings["length"] = draw(st.integers(16, 64))
    style = draw(st.sampled_from(["default", "exclude", "no-punctuation"]))
    if style == "exclude":
        settings["exclude_characters"] = draw(st.sampled_from(EXCLUDED))
    elif style == "no-punctuation":
        settings["exclude_punctuation"] = True
    return settings


def template() -> st.SearchStrategy[dict[str, Any]]:
    """Non-secret fields beside a generated value, of every scalar kind."""
    return st.dictionaries(st.sampled_from(["username", "host", "port", "ssl", "weight", "replica"]),
                           st.sampled_from(["app_user", "db.internal", 5432, True, 1.5, None]), max_size=3)


@st.composite
def value_source(draw, *, json: bool) -> dict[str, Any]:
    """generate / from_config / external, for a secret of that format."""
    source = draw(st.sampled_from(["generate", "from_config", "external"]))
    if source == "from_config":
        return {"from_config": draw(st.sampled_from(["appApiKey", "partnerToken", "billing.key"]))}
    if source == "external":
        return {"external": True}
    value: dict[str, Any] = {"generate": draw(generated("password" if json else None))}
    if json and draw(st.booleans()):
        value["template"] = draw(template())
    return value


# -- a secret's rotation -----------------------------------------------------------------------

@st.composite
def interval(draw, inherited: bool) -> dict[str, Any]:
    """every_days or schedule (with a window that fits); nothing when defaults give every_days."""
    form = draw(st.sampled_from(["every_days", "schedule"] + (["inherited"] if inherited else [])))
    if form == "inherited":
        return {}
    if form == "every_days":
        days = draw(st.integers(1, 365))
        window = draw(st.sampled_from([None, "1h", "4h"]))
        return {"every_days": days} | ({"window": window} if window else {})
    schedule, window = draw(st.sampled_from(SCHEDULES_AND_WINDOWS))
    return {"schedule": schedule} | ({"window": window} if window else {})


@st.composite
def vpc(draw) -> dict[str, Any] | None:
    if not draw(st.booleans()):
        return None
    return {"subnet_ids": draw(st.sampled_from(SUBNETS)), "security_group_ids": draw(st.sampled_from(SECURITY_GROUPS))}


@st.composite
def database_secret(draw, name: str, primary: str, inherited_interval: bool) -> dict[str, Any]:
    """kind database, rotated by AWS's application of an engine; multi-user ones name their master."""
    managed = draw(st.sampled_from(list(ManagedRotation)))
    shape = database_secret_shape(managed)
    rotation = {"managed": managed.value, **draw(interval(inherited_interval))}
    placement = draw(vpc())
    if placement:
        rotation["vpc"] = placement
    multi_user = managed.value.endswith("-multi-user")
    # A multi-user function reads its master's ARN from the template, and a template goes with generate.
    value = {"generate": draw(generated("password"))} if multi_user else draw(value_source(json=True))
    if "generate" in value:
        rotation["bootstrap"] = "database-reads-secret"
        fields = {"username": "app_user", "host": f"{name.split('/')[1]}-db.internal", "engine": shape.engines[0]}
        if shape.needs_dbname or draw(st.booleans()):
            fields["dbname"] = "orders"
        if draw(st.booleans()):
            fields["port"] = draw(st.sampled_from([5432, 3306, 1521]))
        if multi_user:
            fields["masterarn"] = secret_arn(primary, f"{name.split('/')[0]}/{name.split('/')[1]}/master")
        value["template"] = fields
    return {"kind": "database", "value": value, "rotation": rotation}


@st.composite
def http_api_key_adapter(draw) -> dict[str, Any]:
    host = draw(st.sampled_from(API_HOSTS))
    adapter = {"type": "http-api-key", "create_url": f"https://{host}/v1/keys",
               "verify_url": f"https://{host}/v1/keys/self"}
    if draw(st.booleans()):
        adapter["revoke_url"] = f"https://{draw(st.sampled_from(API_HOSTS))}/v1/keys"
    if draw(st.booleans()):
        adapter |= {"response_key_field": "secret", "response_key_id_field": "id", "timeout_seconds": 20}
    return adapter


@st.composite
def oauth2_adapter(draw) -> dict[str, Any]:
    host = draw(st.sampled_from(API_HOSTS))
    adapter: dict[str, Any] = {"type": "oauth2-client-credentials", "token_url": f"https://{host}/oauth2/token"}
    if draw(st.booleans()):
        adapter |= {"scope": "contacts.read", "revoke_url": f"https://{host}/oauth2/revoke",
                    "client_auth": "client_secret_post", "verify_grace_seconds": 0}
    return adapter


@st.composite
def bundled_secret(draw, inherited_interval: bool) -> dict[str, Any]:
    """Rotated by the bundled api-key rotator: its adapter's hosts become the function's allowed hosts."""
    oauth = draw(st.booleans())
    rotation = {"function": "api-key-rotator", "adapter": draw(oauth2_adapter() if oauth else http_api_key_adapter()),
                **draw(interval(inherited_interval))}
    placement = draw(vpc())
    if placement:
        rotation["vpc"] = placement
    secret = {"kind": "oauth-token" if oauth else "api-key", "value": draw(value_source(json=oauth)),
              "rotation": rotation}
    if oauth:
        secret["format"] = "json"
    return secret


@st.composite
def lambda_secret(draw, primary: str, inherited_interval: bool) -> dict[str, Any]:
    """Rotated by an existing function (in the primary region of the security account)."""
    json = draw(st.booleans())
    secret = {"kind": draw(st.sampled_from(["generic", "oauth-token", "api-key"])),
              "format": "json" if json else "plaintext", "value": draw(value_source(json=json)),
              "rotation": {"lambda_arn": f"arn:aws:lambda:{primary}:{SECURITY_ACCOUNT}:function:partner-rotator",
                           **draw(interval(inherited_interval))}}
    return secret


@st.composite
def exempt_secret(draw) -> dict[str, Any]:
    return {"kind": "generic", "value": draw(value_source(json=False)),
            "rotation": {"enabled": False, "reason": "the vendor issues keys only through its console"}}


@st.composite
def unrotated_secret(draw) -> dict[str, Any]:
    json = draw(st.booleans())
    return {"kind": "generic", "format": "json" if json else "plaintext", "value": draw(value_source(json=json))}


# -- a whole secret ----------------------------------------------------------------------------

@st.composite
def readers(draw, accounts: dict[str, Any]) -> list[dict[str, Any]]:
    if not accounts:
        return []
    names = draw(st.lists(st.sampled_from(sorted(accounts)), max_size=2, unique=True))
    result = []
    for name in names:
        reader: dict[str, Any] = {"account": name, "roles": draw(st.lists(st.sampled_from(ROLES), min_size=1,
                                                                          max_size=2, unique=True))}
        if draw(st.booleans()):
            reader["stages"] = draw(st.sampled_from([["AWSCURRENT"], ["AWSCURRENT", "AWSPREVIOUS"], ["AWSPENDING"]]))
        result.append(reader)
    return result


@st.composite
def adoption(draw, secret: dict[str, Any], primary: str, environment: str) -> dict[str, Any]:
    """An existing secret, imported: step 1 (`adopt:` with its live settings) or step 2 (import_id alone)."""
    adopted = dict(secret, import_id=secret_arn(primary, secret["name"]))
    if draw(st.booleans()):
        return adopted
    live: dict[str, Any] = {}
    if draw(st.booleans()):
        live["kms_key_id"] = key_arn(primary)
    if draw(st.booleans()):
        live["description"] = draw(st.sampled_from(DESCRIPTIONS))
    if draw(st.booleans()):
        regions = draw(st.lists(st.sampled_from([r for r in REGIONS if r != primary]), max_size=2, unique=True))
        live["replicas"] = [{"region": region, **({"kms_key_id": key_arn(region)} if draw(st.booleans()) else {})}
                            for region in regions]
    if draw(st.booleans()):
        live["tags"] = draw(tags()) | ({"environment": environment} if draw(st.booleans()) else {})
    rotation = secret.get("rotation") or {}
    if rotation.get("enabled", True) and any(method in rotation for method in ("managed", "function", "lambda_arn")):
        live["rotates"] = draw(st.booleans())
    adopted["adopt"] = live
    return adopted


@st.composite
def secret(draw, *, name: str, primary: str, replica_regions: list[str], accounts: dict[str, Any],
           defaults: dict[str, Any], environment: str) -> dict[str, Any]:
    inherited = "rotation" in defaults
    shapes = ["database", "bundled", "lambda", "exempt"] + ([] if inherited else ["unrotated"])
    shape = draw(st.sampled_from(shapes))
    body = draw({"database": database_secret(name, primary, inherited), "bundled": bundled_secret(inherited),
                 "lambda": lambda_secret(primary, inherited), "exempt": exempt_secret(),
                 "unrotated": unrotated_secret()}[shape])
    declared: dict[str, Any] = {"name": name, **body}
    if draw(st.booleans()):
        declared["description"] = draw(st.sampled_from(DESCRIPTIONS))
    declared["readers"] = draw(readers(accounts))
    if replica_regions and draw(st.booleans()):
        declared["replicas"] = draw(st.lists(st.sampled_from(replica_regions), unique=True))
    if draw(st.booleans()):
        declared["tags"] = draw(tags())
    if draw(st.booleans()):
        declared["recovery_window_days"] = draw(st.integers(7, 30))
    if draw(st.booleans()):
        declared["protect"] = draw(st.booleans())
    if "generate" not in declared["value"] and draw(st.integers(0, 3)) == 0:
        declared = draw(adoption(declared, primary, environment))
    return declared


# -- the rest of the environment ---------------------------------------------------------------

@st.composite
def parameters(draw, environment: str) -> list[dict[str, Any]]:
    count = draw(st.integers(0, 2))
    result = []
    for index in range(count):
        parameter: dict[str, Any] = {"name": f"/{environment}/{draw(st.sampled_from(SERVICES))}/setting-{index}",
                                     "value": draw(st.sampled_from(["info", 200, True, "https://api.example.com/v1"]))}
        if draw(st.booleans()):
            parameter["description"] = "A setting of the service"
        if draw(st.booleans()):
            parameter["tags"] = draw(tags())
        result.append(parameter)
    return result


@st.composite
def alerts(draw, layout_regions_used: list[str]) -> dict[str, Any] | None:
    """None, a topic the layout creates (with subscriptions), or an existing topic in a layout region."""
    form = draw(st.sampled_from(["none", "topic", "topic_arn"]))
    if form == "none":
        return None
    if form == "topic_arn":
        region = draw(st.sampled_from(layout_regions_used))
        return {"topic_arn": f"arn:aws:sns:{region}:{SECURITY_ACCOUNT}:security-alerts"}
    topic: dict[str, Any] = {"subscriptions": draw(st.lists(st.sampled_from([
        {"protocol": "email", "endpoint": "secops@example.com"},
        {"protocol": "https", "endpoint": "https://hooks.example.com/rotation"},
        {"protocol": "sqs", "endpoint": f"arn:aws:sqs:us-east-1:{SECURITY_ACCOUNT}:rotation-alerts"},
    ]), max_size=2, unique_by=lambda subscription: subscription["protocol"]))}
    if draw(st.booleans()):
        topic["name"] = "rotation-alerts"
    return {"topic": topic}


def _regions_used(primary: str, secrets: list[dict[str, Any]], defaults: dict[str, Any]) -> list[str]:
    """The layout's regions as the declaration computes them: primary, then replicas (defaults merged)."""
    used = [primary]
    for declared in secrets:
        used.extend(region for region in declared.get("replicas", defaults.get("replicas", [])) if region not in used)
    return used


@st.composite
def declaration_documents(draw, max_secrets: int = 4) -> dict[str, Any]:
    """A valid declaration, as the document written in environments/<env>.yaml."""
    environment = draw(st.sampled_from(ENVIRONMENTS))
    primary, replica_regions = draw(layout_regions())
    accounts = draw(consumer_accounts())
    defaults = draw(secret_defaults(replica_regions))
    secrets = []
    for index in range(draw(st.integers(1, max_secrets))):
        name = secret_name(environment, draw(st.sampled_from(SERVICES)), draw(st.sampled_from(SECRET_NAMES)), index)
        secrets.append(draw(secret(name=name, primary=primary, replica_regions=replica_regions, accounts=accounts,
                                   defaults=defaults, environment=environment)))
    document: dict[str, Any] = {"environment": environment, "security_account": SECURITY_ACCOUNT,
                                "primary_region": primary}
    if draw(st.booleans()):
        document["organization_id"] = "o-a1b2c3d4e5"
    if accounts:
        document["accounts"] = accounts
    regions = _regions_used(primary, secrets, defaults)
    keys = draw(kms_keys(regions))
    if keys:
        document["kms"] = {"keys": keys}
    if defaults:
        document["defaults"] = defaults
    document["secrets"] = secrets
    document["parameters"] = draw(parameters(environment))
    alert_settings = draw(alerts(regions))
    if alert_settings is not None:
        document["alerts"] = alert_settings
    lower = draw(st.lists(st.sampled_from([name for name in ENVIRONMENTS if name != environment]), max_size=2,
                          unique=True))
    if lower:
        document["lower_environments"] = lower
    return document


def loaded(document: dict[str, Any], folder: Path) -> LoadedDeclaration:
    """The document written as folder/<environment>.yaml and read by the real loader; a document the
    loader refuses fails here with its issues (the strategies promise valid declarations)."""
    file = folder / f"{document['environment']}.yaml"
    file.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    try:
        return load_declaration(file)
    except DeclarationError as error:
        raise AssertionError(f"the strategy drew an invalid declaration:\n{error}\n\n{file.read_text()}") from None



def features(declaration: Declaration) -> set[str]:
    """What a validated declaration exercises of the layout, by name (for coverage of the drawn ones)."""
    found = {f"{len(declaration.regions)}-regions"}
    for declared in declaration.secrets:
        found |= _secret_features(declared)
    accounts_read = {reader.account for declared in declaration.secrets for reader in declared.readers}
    if any(len({reader.account for reader in declared.readers}) > 1 for declared in declaration.secrets):
        found.add("readers-of-several-accounts")
    if any(account.deploy_role_arn and name in accounts_read for name, account in declaration.accounts.items()):
        found.add("consumer-grants")
    if set(declaration.kms.keys) & set(declaration.regions):
        found.add("existing-kms-key")
    if set(declaration.kms.keys) - set(declaration.regions):
        found.add("kms-key-of-an-unused-region")
    if declaration.defaults.protect is not None:
        found.add(f"defaults-protect-{str(declaration.defaults.protect).lower()}")
    if declaration.defaults.rotation is not None:
        found.add("defaults-rotation")
    if declaration.defaults.replicas:
        found.add("defaults-replicas")
    if declaration.parameters:
        found.add("parameters")
    if declaration.alerts is not None:
        found.add("alerts-topic" if declaration.alerts.topic is not None else "alerts-topic-arn")
        if declaration.alerts.topic is not None and declaration.alerts.topic.subscriptions:
            found.add("alerts-subscriptions")
    if declaration.lower_environments:
        found.add("lower-environments")
    if len(managed_rotation_groups(declaration.secrets)) > 1:
        found.add("several-rotation-applications")
    return found


def _secret_features(declared: Secret) -> set[str]:
    found = set()
    value, rotation = declared.value, declared.rotation
    if value.generate is not None:
        found.add("generate-json" if declared.effective_format is SecretFormat.JSON else "generate-plaintext")
        if value.template:
            found.add("generate-template")
        if value.generate.exclude_characters:
            found.add("exclude-characters")
        if value.generate.exclude_punctuation:
            found.add("exclude-punctuation")
    if value.from_config or value.external:
        found.add("from-config" if value.from_config else "external")
    if rotation is None:
        found.add("no-rotation")
    elif not rotation.enabled:
        found.add("rotation-disabled")
    else:
        method = rotation.method
        if method == "managed":
            found.add("managed-multi-user" if rotation.managed.value.endswith("-multi-user") else "managed-single-user")
        elif method == "function":
            found.add(f"bundled-{rotation.adapter.type}")
        else:
            found.add("lambda-arn")
        if rotation.vpc is not None:
            found.add(f"{method}-in-vpc")
        found.add("schedule" if rotation.schedule else "every-days")
        if rotation.window:
            found.add("window")
    if declared.replicas:
        found.add("replicas")
    if declared.import_id is not None:
        found.add("adopt-step-1" if declared.adopt is not None else "adopt-step-2")
        if declared.adopt is not None and declared.adopt.rotates:
            found.add("adopt-rotates")
    return found
