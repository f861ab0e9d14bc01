"""`secrets-layout init ENV`: the three files a new environment starts from.

    environments/<env>.yaml        the declaration (valid as written; a commented example secret)
    Pulumi.<env>.yaml              the stack file, like Pulumi.prod.yaml
    policies/config/<env>.json     the policy pack's config: allowedAccounts, environment, maximumDays ...

Nothing is ever overwritten unless `force` is given: when any of the three exists, nothing is
written and ScaffoldTargetsExist names the files. Inputs are checked first (ScaffoldInputError),
so a bad account ID or region never leaves half a scaffold behind.

The per-environment choices follow the reference layout in environments/: known environment
names (dev, staging, prod, shared-services) get the seeds' rotation interval, maximumDays and
recovery window; any other name gets SPEC section 5's defaults (maximumDays 90) with 30-day
rotation. Scaffolding prod, staging or shared-services with the seeds' accounts and replicas
reproduces the checked-in Pulumi.<env>.yaml and policies/config/<env>.json exactly.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from string import Template

from secrets_layout.errors import printable
from secrets_layout.models import PROTECTED_ENVIRONMENTS
from secrets_layout.regions import AWS_REGIONS

ENVIRONMENT_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,31}$")
ACCOUNT_ID_PATTERN = re.compile(r"^\d{12}$")
ACCOUNT_NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
ORGANIZATION_ID_PATTERN = re.compile(r"^o-[a-z0-9]{10,32}$")
OWNER_PATTERN = re.compile(r"^[\w.:/=+\-@][\w\s.:/=+\-@]{0,255}$")

PLACEHOLDER_SECURITY_ACCOUNT = "111111111111"
"""The reference layout's security account: a placeholder the generated files tell you to replace."""
DEFAULT_REGION = "us-east-1"
DEFAULT_OWNER = "platform-team"
MINIMUM_RECOVERY_DAYS = 7


@dataclass(frozen=True)
class EnvironmentProfile:
    """How strict a new environment starts: rotation interval, the pack's limit, recovery window."""

    rotation_days: int
    maximum_days: int
    recovery_window_days: int


PROFILES: dict[str, EnvironmentProfile] = {
    "dev": EnvironmentProfile(rotation_days=7, maximum_days=7, recovery_window_days=7),
    "staging": EnvironmentProfile(rotation_days=30, maximum_days=30, recovery_window_days=14),
    "prod": EnvironmentProfile(rotation_days=30, maximum_days=90, recovery_window_days=30),
    "shared-services": EnvironmentProfile(rotation_days=60, maximum_days=90, recovery_window_days=30),
}
DEFAULT_PROFILE = EnvironmentProfile(rotation_days=30, maximum_days=90, recovery_window_days=30)

STRICT_DENY_ENVIRONMENTS = frozenset({"prod"})
"""Where secret-policy-deny-outside is mandatory (SPEC section 5: advisory, mandatory in prod)."""


class ScaffoldError(Exception):
    """`init` cannot scaffold: the message says why and what to do."""


class ScaffoldInputError(ScaffoldError):
    """An invalid environment name, account, region, organization or owner."""


class ScaffoldTargetsExist(ScaffoldError):
    """Some of the files already exist and force was not given; nothing was written."""

    def __init__(self, paths: Sequence[Path], shown: Sequence[str]):
        self.paths = list(paths)
        listed = ", ".join(shown)
        verb = "exists" if len(shown) == 1 else "exist"
        super().__init__(f"{listed} already {verb}; nothing was written. Use --force to overwrite.")


def scaffold_paths(environment: str, root: Path) -> list[Path]:
    """The three files `init` writes, in the order it writes them."""
    root = Path(root)
    return [
        root / "environments" / f"{environment}.yaml",
        root / f"Pulumi.{environment}.yaml",
        root / "policies" / "config" / f"{environment}.json",
    ]


def parse_account_assignment(text: str) -> tuple[str, str]:
    """`--account NAME=ID` -> (name, id). Raises ScaffoldInputError."""
    name, separator, account_id = text.partition("=")
    if not separator:
        raise ScaffoldInputError(f"--account {text}: write NAME=ID, e.g. --account app=222222222222")
    name, account_id = name.strip(), account_id.strip()
    _check_account(name, account_id)
    return name, account_id


def scaffold_environment(
    environment: str,
    root: Path,
    *,
    security_account: str = PLACEHOLDER_SECURITY_ACCOUNT,
    region: str = DEFAULT_REGION,
    accounts: Mapping[str, str] | Sequence[tuple[str, str]] = (),
    replicas: Sequence[str] = (),
    organization_id: str | None = None,
    owner: str = DEFAULT_OWNER,
    force: bool = False,
) -> list[Path]:
    """Write environments/<env>.yaml, Pulumi.<env>.yaml and policies/config/<env>.json under root.

    accounts: consumer accounts, name -> 12-digit ID (or (name, id) pairs, e.g. from --account).
    replicas: default replica regions of every secret (and the pack's allowedRegions with region).
    Returns the paths written. Raises ScaffoldInputError for bad input and ScaffoldTargetsExist
    when a file exists and force is false (then nothing is written).
    """
    account_pairs = list(accounts.items()) if isinstance(accounts, Mapping) else list(accounts)
    _check_inputs(environment, security_account, region, account_pairs, replicas, organization_id, owner)
    contents = render_environment(
        environment,
        security_account=security_account,
        region=region,
        accounts=dict(account_pairs),
        replicas=list(replicas),
        organization_id=organization_id,
        owner=owner,
    )
    root = Path(root)
    targets = scaffold_paths(environment, root)
    if not force:
        existing = [path for path in targets if path.exists() or path.is_symlink()]
        if existing:
            raise ScaffoldTargetsExist(existing, [_shown(path, root) for path in existing])
    return _write_all_or_nothing(list(zip(targets, contents)), root, force=force)


class ScaffoldWriteError(ScaffoldError):
    """A folder or file could not be created (a file where a folder must be, no permission); nothing was written."""


def _write_all_or_nothing(files: list[tuple[Path, str]], root: Path, *, force: bool) -> list[Path]:
    """Every file written, or none: each text goes to a temporary file beside its target first,
    and only when all of them exist are they moved into place (link() refuses a target created
    since the check; rename() replaces one with --force). Folders made on the way are removed again
    when something fails."""
    created_folders: list[Path] = []
    temporaries: list[tuple[Path, Path]] = []
    placed: list[Path] = []
    new_files: list[Path] = []
    current = root
    try:
        for path, text in files:
            current = path
            if force and (path.exists() or path.is_symlink()) and not path.is_file():
                raise ScaffoldWriteError(f"{_shown(path, root)} exists and is not a regular file; nothing was written. "
                                         "Move it away and run init again.")
            for folder in reversed([path.parent, *path.parent.parents]):
                try:
                    folder.mkdir()
                    created_folders.append(folder)
                except FileExistsError:
                    if not folder.is_dir():
                        raise NotADirectoryError(errno.ENOTDIR, "not a folder", os.fspath(folder)) from None
            handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
            temporaries.append((Path(temporary), path))
            with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
                stream.write(text)
            os.chmod(temporary, 0o666 & ~_umask())
        for temporary, path in temporaries:
            current = path
            if force and path.exists():
                os.replace(temporary, path)
            else:
                os.link(temporary, path)
                temporary.unlink()
                new_files.append(path)
            placed.append(path)
    except FileExistsError:
        _undo(temporaries, new_files, created_folders)
        raise ScaffoldTargetsExist([current], [_shown(current, root)]) from None
    except OSError as error:
        _undo(temporaries, new_files, created_folders)
        cause = ("a file is in the way of a folder: move it away" if isinstance(error, NotADirectoryError)
                 else (error.strerror or str(error)).lower())
        failed = Path(os.fspath(error.filename)) if error.filename else current
        if failed.name.startswith(f".{current.name}."):  # our temporary file: the folder refused it
            failed = failed.parent
        where = printable(os.fspath(failed))
        raise ScaffoldWriteError(f"cannot write {_shown(current, root)} ({where}: {cause}); nothing was written") from None
    return placed


def _undo(temporaries: list[tuple[Path, Path]], new_files: list[Path], created_folders: list[Path]) -> None:
    # Files replaced with --force are not restored (a rename fails before it replaces anything);
    # every other trace of this run is removed.
    for path in new_files:
        path.unlink(missing_ok=True)
    for temporary, _ in temporaries:
        temporary.unlink(missing_ok=True)
    for folder in reversed(created_folders):
        with contextlib.suppress(OSError):
            folder.rmdir()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def render_environment(
    environment: str,
    *,
    security_account: str = PLACEHOLDER_SECURITY_ACCOUNT,
    region: str = DEFAULT_REGION,
    accounts: Mapping[str, str] | None = None,
    replicas: Sequence[str] = (),
    organization_id: str | None = None,
    owner: str = DEFAULT_OWNER,
) -> tuple[str, str, str]:
    """The texts of the three files (declaration, stack file, policy config), unchecked."""
    accounts = dict(accounts or {})
    return (
        render_declaration(
            environment,
            security_account=security_account,
            region=region,
            accounts=accounts,
            replicas=replicas,
            organization_id=organization_id,
            owner=owner,
        ),
        render_stack_file(environment, region=region),
        render_policy_config(environment, security_account=security_account, accounts=accounts,
                             regions=[region, *replicas]),
    )


_DECLARATION = Template("""\
# yaml-language-server: $$schema=schema.json
# $environment: the secrets of this environment, held in the security account and read
# cross-account by the accounts below. Check it with `secrets-layout validate`, see the plan
# offline with `secrets-layout preview environments/$environment.yaml`, deploy with
# `pulumi up --stack $environment` (policy pack config: policies/config/$environment.json).
environment: $environment
security_account: "$security_account"      # $security_note
$organization_line
primary_region: $region
$accounts_block
defaults:                             # mappings (rotation, tags) merge key by key; lists and scalars replace
  recovery_window_days: $recovery_window_days
  replicas: [$replicas]
  rotation: {every_days: $rotation_days}
  tags: {owner: $owner}
secrets: []
# An example: replace `secrets: []` above with these lines (uncommented) and adjust them.
# secrets:
#   - name: $environment/orders/database-credentials
#     description: PostgreSQL credentials of the orders service
#     kind: database                  # database | api-key | oauth-token | generic
#     value:                          # generate | from_config | external: never a literal
#       generate: {key: password, length: 32}
#       template: {username: orders, engine: postgres, host: orders-db.internal, port: 5432, dbname: orders}
#     rotation:
#       managed: rds-postgresql-single-user
#       bootstrap: database-reads-secret   # the database's stack takes this password (examples/database-stack)
#       vpc: {subnet_ids: [subnet-0a1b2c3d], security_group_ids: [sg-0a1b2c3d]}
#     readers:
#       - {account: $example_reader, roles: [OrdersServiceRole]}$reader_note
parameters: []                        # non-sensitive configuration for SSM Parameter Store, e.g.
#   - {name: /$environment/orders/log-level, value: info, description: Orders service log level}
""")

_STACK_FILE = Template("""\
# Stack $environment: deploys environments/$environment.yaml into the security account.
# Values that come from config (value: {from_config: NAME}) are set encrypted with:
#   pulumi config set --secret --stack $environment NAME
config:
  aws:region: $region
  secrets-layout:declaration: environments/$environment.yaml
""")


def render_declaration(
    environment: str,
    *,
    security_account: str,
    region: str,
    accounts: Mapping[str, str],
    replicas: Sequence[str] = (),
    organization_id: str | None = None,
    owner: str = DEFAULT_OWNER,
) -> str:
    profile = profile_for(environment)
    if accounts:
        accounts_block = "accounts:                             # this environment's consumer accounts, by name\n"
        accounts_block += "\n".join(f'  {name}: "{account_id}"' for name, account_id in accounts.items())
        example_reader, reader_note = next(iter(accounts)), ""
    else:
        accounts_block = (
            "accounts: {}                          # this environment's consumer accounts by name, "
            f'e.g. {{{environment}-app: "222222222222"}}'
        )
        example_reader = f"{environment}-app"
        reader_note = f"   # a name from accounts: (add {environment}-app there first)"
    if organization_id:
        organization_line = f"organization_id: {organization_id}         # denies principals outside the organization"
    else:
        organization_line = "# organization_id: o-a1b2c3d4e5       # optional: deny principals outside the organization"
    security_note = (
        "the account that holds the secrets: REPLACE this placeholder with yours (quoted: 12 digits)"
        if security_account == PLACEHOLDER_SECURITY_ACCOUNT
        else "the account that holds the secrets (quoted: 12 digits)"
    )
    return _DECLARATION.substitute(
        environment=environment,
        security_account=security_account,
        security_note=security_note,
        organization_line=organization_line,
        region=region,
        accounts_block=accounts_block,
        recovery_window_days=profile.recovery_window_days,
        replicas=", ".join(replicas),
        rotation_days=profile.rotation_days,
        owner=owner,
        example_reader=example_reader,
        reader_note=reader_note,
    )


def render_stack_file(environment: str, *, region: str) -> str:
    return _STACK_FILE.substitute(environment=environment, region=region)


def render_policy_config(
    environment: str,
    *,
    security_account: str,
    accounts: Mapping[str, str],
    regions: Sequence[str],
) -> str:
    """policies/config/<env>.json in --policy-pack-config form, policies in catalog order."""
    profile = profile_for(environment)
    allowed_accounts = list(dict.fromkeys([security_account, *accounts.values()]))
    config = {
        "secret-name-convention": {"enforcementLevel": "mandatory", "environment": environment},
        "secret-recovery-window": {"enforcementLevel": "mandatory", "minimumDays": MINIMUM_RECOVERY_DAYS},
        "secret-rotation-required": {"enforcementLevel": "mandatory"},
        "secret-rotation-max-interval": {"enforcementLevel": "mandatory", "maximumDays": profile.maximum_days},
        "secret-customer-managed-key": {"enforcementLevel": "mandatory"},
        "secret-replica-customer-managed-key": {"enforcementLevel": "mandatory"},
        "secret-policy-no-public-access": {"enforcementLevel": "mandatory"},
        "secret-policy-allowed-accounts": {"enforcementLevel": "mandatory", "allowedAccounts": allowed_accounts},
        "secret-policy-deny-outside": {
            "enforcementLevel": "mandatory" if environment in STRICT_DENY_ENVIRONMENTS else "advisory"
        },
        "secret-required-tags": {
            "enforcementLevel": "mandatory",
            "requiredTags": ["owner", "environment"],
            "environment": environment,
        },
        # Secrets are protected by default only in these environments (models.PROTECTED_ENVIRONMENTS);
        # elsewhere the policy would fail every secret the declaration leaves unprotected.
        "secret-protected": {
            "enforcementLevel": "mandatory" if environment in PROTECTED_ENVIRONMENTS else "disabled"
        },
        "kms-key-rotation-enabled": {"enforcementLevel": "mandatory"},
        "secret-replica-regions-allowed": {
            "enforcementLevel": "advisory",
            "allowedRegions": list(dict.fromkeys(regions)),
        },
        "kms-key-policy-no-public-access": {"enforcementLevel": "mandatory"},
        "kms-key-not-pending-deletion": {"enforcementLevel": "mandatory"},
        "secret-region-allowed": {"enforcementLevel": "advisory", "allowedRegions": list(dict.fromkeys(regions))},
        "secret-replica-no-force-overwrite": {"enforcementLevel": "advisory"},
    }
    return json.dumps(config, indent=2) + "\n"


def profile_for(environment: str) -> EnvironmentProfile:
    return PROFILES.get(environment, DEFAULT_PROFILE)


def _check_inputs(
    environment: str,
    security_account: str,
    region: str,
    accounts: Sequence[tuple[str, str]],
    replicas: Sequence[str],
    organization_id: str | None,
    owner: str,
) -> None:
    if not isinstance(environment, str) or not ENVIRONMENT_PATTERN.match(environment):
        raise ScaffoldInputError(
            f"environment '{environment}' is not a valid name: use a lowercase slug of 1-32 letters, digits "
            "and '-', starting with a letter (dev, staging, prod, shared-services)"
        )
    if not ACCOUNT_ID_PATTERN.match(security_account or ""):
        raise ScaffoldInputError(
            f"security account '{security_account}' is not an AWS account ID: use its 12 digits, e.g. 111111111111"
        )
    _check_region(region, "region")
    names: set[str] = set()
    ids: dict[str, str] = {}
    for name, account_id in accounts:
        _check_account(name, account_id)
        if name in names:
            raise ScaffoldInputError(f"account '{name}' is given twice; give each account once")
        if account_id == security_account:
            raise ScaffoldInputError(
                f"account '{name}' is the security account {account_id}: accounts are the consumer accounts "
                "that read the secrets; remove it"
            )
        if account_id in ids:
            raise ScaffoldInputError(
                f"accounts '{ids[account_id]}' and '{name}' have the same ID {account_id}; give each account one name"
            )
        names.add(name)
        ids[account_id] = name
    seen_regions = {region}
    for replica in replicas:
        _check_region(replica, "replica region")
        if replica in seen_regions:
            what = "the primary region" if replica == region else "given twice"
            raise ScaffoldInputError(f"replica region {replica} is {what}; a replica must be another region")
        seen_regions.add(replica)
    if organization_id is not None and not ORGANIZATION_ID_PATTERN.match(organization_id):
        raise ScaffoldInputError(
            f"organization ID '{organization_id}' is not valid: it looks like o-a1b2c3d4e5 (o- and 10-32 "
            "lowercase letters or digits)"
        )
    if not OWNER_PATTERN.match(owner or ""):
        raise ScaffoldInputError(
            f"owner '{owner}' is not a valid tag value: use up to 256 letters, digits, spaces or _.:/=+-@"
        )


def _check_account(name: str, account_id: str) -> None:
    if not ACCOUNT_NAME_PATTERN.match(name or ""):
        raise ScaffoldInputError(
            f"account name '{name}' is not valid: use lowercase letters, digits and '-' (e.g. prod-app)"
        )
    if not ACCOUNT_ID_PATTERN.match(account_id or ""):
        raise ScaffoldInputError(
            f"account '{name}': '{account_id}' is not an AWS account ID: use its 12 digits, e.g. 222222222222"
        )


def _check_region(region: str, what: str) -> None:
    if region not in AWS_REGIONS:
        raise ScaffoldInputError(f"{what} '{region}' is not an AWS region: use a region code such as us-east-1")


def _shown(path: Path, root: Path) -> str:
    """The path as the user sees it: relative to the root (the working directory for the CLI)."""
    try:
        return os.path.relpath(path, root)
    except ValueError:  # another drive on Windows
        return str(path)
