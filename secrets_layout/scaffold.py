"""`secrets-layout init ENV`: the three files a new environment starts from.

    environments/<env>.yaml        the declaration (valid as written; a commented example secret)
    Pulumi.<env>.yaml              the stack file, like Pulumi.prod.yaml
    policies/config/<env>.json     the policy pack's config: allowedAccounts, environment, maximumDays ...

In a repository without a Pulumi project or policy pack, what `pulumi up --stack <env> --policy-pack
policies --policy-pack-config policies/config/<env>.json` needs besides: Pulumi.yaml, __main__.py,
requirements.txt, the pack folder policies/ and .gitignore lines (secrets_layout/project_files.py).

Beside them, environments/schema.json when the folder has none: the declaration's
`# yaml-language-server: $schema=schema.json` resolves relative to the declaration's own folder
(redhat-developer/yaml-language-server PR #499; vscode-yaml issue #587), so the reference works in
any repository, this one or a user's. An existing schema.json is never replaced.

`--stack STACK` takes the answers `pulumi new` stored in Pulumi.<STACK>.yaml (Pulumi.yaml's
template section) and keeps that stack file; `--from ENV` copies what another environment declares,
a file or a folder, none of its values (secrets_layout/environment_copy.py), with a policy config
allowing the copy's regions. Nothing is ever overwritten unless `force` is given: when a file to write
exists, nothing is written and ScaffoldTargetsExist names the files. Inputs are checked first (ScaffoldInputError),
so a bad account ID or region never leaves half a scaffold behind.

What a new environment starts with never depends on its name (SPEC section 10): every name gets
EnvironmentSettings' defaults, the strict ones (protected, 30-day rotation within maximumDays 90, a
30-day recovery window, a mandatory deny outside the accounts), and a setting is relaxed only when
asked (`init --no-protect`, `--rotation-days` ...). The declaration states `defaults.protect` and the
policy config enforces what it states. Scaffolding the seeds in environments/ with their accounts,
replicas and settings reproduces the checked-in Pulumi.<env>.yaml and policies/config/<env>.json
exactly (tests/test_scaffold.py).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING

from secrets_layout.declaration.folder import TEAM_FILE_SCHEMA
from secrets_layout.declaration.models import Declaration
from secrets_layout.declaration.regions import AWS_REGIONS
from secrets_layout.errors import printable
from secrets_layout.declaration.yaml_source import MAX_FILE_BYTES, YamlSourceError, load_yaml
from secrets_layout.files import StagedFile, UnreadableFile, check_path, read_bytes, stage_file
from secrets_layout.project_files import ProjectFileError, Requirement, installed_requirement, plan_project_files

if TYPE_CHECKING:  # init --from alone reads ruamel.yaml; consumer-policy imports this module too
    from secrets_layout.environment_copy import SourceEnvironment

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


DENY_OUTSIDE_LEVELS = ("mandatory", "advisory")
MAXIMUM_ROTATION_DAYS = 1000
"""Rotation.every_days' bound (declaration models)."""


@dataclass(frozen=True)
class EnvironmentSettings:
    """How strict a new environment starts, whatever its name: the strict values unless asked otherwise.

    None (rotation_days, recovery_window_days, protect): the default, or with `init --from` the
    source's own value, which the copy keeps."""

    rotation_days: int | None = None
    maximum_days: int = 90
    recovery_window_days: int | None = None
    protect: bool | None = None
    deny_outside: str = "mandatory"

    def resolved(self, source: Declaration | None = None) -> EnvironmentSettings:
        """Every field set: given ones as given, the others the source's (init --from) or the defaults."""
        copied = source.defaults if source is not None else None
        rotation = copied.rotation if copied is not None else None
        return replace(
            self,
            rotation_days=_first(self.rotation_days, rotation.every_days if rotation else None, DEFAULT_ROTATION_DAYS),
            recovery_window_days=_first(self.recovery_window_days, copied.recovery_window_days if copied else None,
                                        DEFAULT_RECOVERY_WINDOW_DAYS),
            protect=_first(self.protect, source.protected_by_default if source is not None else None, True),
        )


COMMENT_COLUMN = 38
"""Where the declaration's comments start (0-based), as in the template."""
DEFAULT_ROTATION_DAYS = 30
DEFAULT_RECOVERY_WINDOW_DAYS = 30


def _first(*values):
    return next(value for value in values if value is not None)


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
        raise ScaffoldInputError(f"--account {printable(text)}: write NAME=ID, e.g. --account app=222222222222")
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
    stack_file: bool = True,
    source: SourceEnvironment | None = None,
    settings: EnvironmentSettings = EnvironmentSettings(),
    requirement: Requirement | None = None,
) -> list[Path]:
    """Write environments/<env>.yaml, Pulumi.<env>.yaml and policies/config/<env>.json under root,
    environments/schema.json when there is none, and what the repository lacks to deploy with the
    Pulumi CLI: the project, the policy pack and .gitignore lines (project_files).

    accounts: consumer accounts, name -> 12-digit ID (or (name, id) pairs, e.g. from --account).
    replicas: default replica regions of every secret (and the pack's allowedRegions with region).
    stack_file: false keeps the stack file `pulumi new` wrote (init --stack) instead of writing one.
    source: another environment, file or folder, whose declarations the new one copies (init --from).
    settings: how strict the environment starts (protection, rotation, the pack's limits).
    requirement: how the project's requirements.txt installs secrets-layout (default: as it was installed).
    Returns the paths written. Raises ScaffoldInputError for bad input and ScaffoldTargetsExist
    when a file exists and force is false (then nothing is written).
    """
    account_pairs = list(accounts.items()) if isinstance(accounts, Mapping) else list(accounts)
    _check_inputs(environment, security_account, region, account_pairs, replicas, organization_id, owner)
    if source is not None and (settings.rotation_days is not None or settings.recovery_window_days is not None):
        raise ScaffoldInputError("--rotation-days and --recovery-window-days set the defaults of a new declaration; "
                                 f"a copy (--from {source.environment}) keeps its source's: change them in its "
                                 "defaults: afterwards")
    chosen = settings.resolved(source.declaration if source is not None else None)
    _check_settings(chosen)
    root = Path(root)
    target = dict(environment=environment, security_account=security_account, region=region,
                  accounts=dict(account_pairs), replicas=list(replicas), organization_id=organization_id)
    declarations, regions = (_copied(source, root, protect=chosen.protect, **target) if source is not None
                             else _new_declaration(root, owner=owner, settings=chosen, **target))
    _, stack_path, config_path = scaffold_paths(environment, root)
    files = [*declarations,
             *([(stack_path, render_stack_file(environment, region=region))] if stack_file else []),
             (config_path, render_policy_config(environment, security_account=security_account,
                                                accounts=target["accounts"], regions=regions, settings=chosen)),
             *_absent_schemas(root, team_files=source is not None and source.is_folder)]
    try:
        project = plan_project_files(root, requirement or installed_requirement())
    except ProjectFileError as error:
        raise ScaffoldWriteError(str(error)) from None
    files += project.created
    if not force:
        existing = [path for path, _ in files if path.exists() or path.is_symlink()]
        if existing:
            raise ScaffoldTargetsExist(existing, [_shown(path, root) for path in existing])
    return _write_all_or_nothing(files, root, force=force, updated=project.updated)


def _new_declaration(root: Path, *, environment: str, region: str, replicas: list[str],
                     **options) -> tuple[list[tuple[Path, str]], list[str]]:
    """environments/<env>.yaml, and the regions its policy config allows."""
    _check_not_a_folder(environment, root)
    text = render_declaration(environment, region=region, replicas=replicas, **options)
    return [(scaffold_paths(environment, root)[0], text)], [region, *replicas]


def _copied(source: SourceEnvironment, root: Path, **target) -> tuple[list[tuple[Path, str]], list[str]]:
    """The copy of the source (a file, or a folder of files), and the regions it deploys to."""
    from secrets_layout.environment_copy import CopyError, Target, copy_environment

    if source.is_folder:
        _check_a_new_folder(target["environment"], root)
    else:
        _check_not_a_folder(target["environment"], root)
    try:
        copied = copy_environment(source, Target(**target))
    except CopyError as error:
        raise ScaffoldInputError(str(error)) from None
    return [(root / "environments" / name, text) for name, text in copied.files], copied.regions


def _absent_schemas(root: Path, *, team_files: bool) -> list[tuple[Path, str]]:
    """The JSON schemas the files' `# yaml-language-server: $schema=` lines name, where missing."""
    from secrets_layout.declaration.schema import schema_text

    wanted = [("schema.json", "declaration"), *([(TEAM_FILE_SCHEMA, "team-file")] if team_files else [])]
    return [(path, schema_text(kind)) for name, kind in wanted
            if not ((path := root / "environments" / name).exists() or path.is_symlink())]


def _check_a_new_folder(environment: str, root: Path) -> None:
    """A copy of an environment folder is a new folder: never written into one, nor beside the
    environment's file (declared twice), whatever --force says."""
    file, folder = scaffold_paths(environment, root)[0], root / "environments" / environment
    if os.path.lexists(file):
        raise ScaffoldInputError(
            f"{_shown(file, root)} declares the environment {environment} already; a folder "
            f"{_shown(folder, root)}/ beside it would declare it twice: choose another name; nothing was written")
    if os.path.lexists(folder):
        raise ScaffoldInputError(
            f"{_shown(folder, root)}/ exists; the copy of an environment folder is a new folder: choose another "
            "name, or move the folder away; nothing was written")


def _check_not_a_folder(environment: str, root: Path) -> None:
    """An environment folder environments/<env>/ declares the environment already: a file beside it
    would declare it twice (declaration/folder.declared_twice), whatever --force says."""
    folder = root / "environments" / environment
    if os.path.isdir(folder):
        raise ScaffoldInputError(
            f"{_shown(folder, root)}/ declares the environment {environment} already (an environment folder); "
            f"{_shown(scaffold_paths(environment, root)[0], root)} beside it would declare it twice: add to the "
            "folder, or choose another name; nothing was written")


@dataclass(frozen=True)
class StackAnswers:
    """What `pulumi new` asked (Pulumi.yaml's template section), read from Pulumi.<stack>.yaml."""

    environment: str
    security_account: str | None
    region: str | None
    organization_id: str | None


TEMPLATE_KEYS = {
    "environment": "secrets-layout:environment",
    "security_account": "secrets-layout:securityAccount",
    "region": "aws:region",
    "organization_id": "secrets-layout:organizationId",
}
NO_ORGANIZATION = ("", "none")


def read_stack_answers(root: Path, stack: str) -> StackAnswers:
    """The template's answers in Pulumi.<stack>.yaml. Raises ScaffoldInputError naming the file."""
    file = Path(root) / f"Pulumi.{stack}.yaml"
    shown = _shown(file, Path(root))
    try:
        check_path(file)
    except UnreadableFile as error:  # a stack name too long for a file name, say
        raise ScaffoldInputError(str(error)) from None
    if "/" in stack or not file.is_file():
        raise ScaffoldInputError(f"{shown}: no such stack file; create the stack with `pulumi new` (or "
                                 "`pulumi stack init`) first, or name the environment: secrets-layout init ENV")
    try:
        # As Pulumi reads it: each value the text written (`1:30`, `no`, an account ID 011111111111).
        document = load_yaml(read_bytes(file, MAX_FILE_BYTES).decode("utf-8"), os.fspath(file), scalars_as_text=True)[0] or {}
    except (OSError, UnicodeDecodeError, YamlSourceError) as error:
        raise ScaffoldInputError(f"{shown}: not a readable stack file ({type(error).__name__})") from None
    config = document.get("config") if isinstance(document, dict) else None
    config = config if isinstance(config, dict) else {}
    values: dict[str, str | None] = {}
    for field_name, key in TEMPLATE_KEYS.items():
        value = config.get(key)
        if isinstance(value, dict):  # a secure value ({secure: ...}) or an object: not an answer
            raise ScaffoldInputError(f"{shown}: {key} must be a plain value; set it with `pulumi config set {key} VALUE`")
        values[field_name] = None if value is None else str(value).strip()
    organization = values["organization_id"]
    return StackAnswers(
        environment=values["environment"] or stack,
        security_account=values["security_account"] or None,
        region=values["region"] or None,
        organization_id=None if organization is None or organization.lower() in NO_ORGANIZATION else organization,
    )


class ScaffoldWriteError(ScaffoldError):
    """A folder or file could not be created (a file where a folder must be, no permission); nothing was written."""


def _write_all_or_nothing(files: list[tuple[Path, str]], root: Path, *, force: bool,
                          updated: Sequence[tuple[Path, str]] = ()) -> list[Path]:
    """Every file written, or none: each text goes to a temporary file beside its target first,
    and only when all of them exist are they moved into place (link() refuses a target created
    since the check; rename() replaces one with --force, and each of `updated`, files whose text is
    their own with lines added, last). Folders made on the way are removed again when something fails."""
    replaceable = {path for path, _ in updated}
    files = [*files, *updated]
    created_folders: list[Path] = []
    staged: list[StagedFile] = []
    placed: list[Path] = []
    new_files: list[Path] = []
    current = root
    try:
        for path, text in files:
            current = path
            replacing = force or path in replaceable
            if replacing and (path.exists() or path.is_symlink()) and not path.is_file():
                raise ScaffoldWriteError(f"{_shown(path, root)} exists and is not a regular file; nothing was written. "
                                         "Move it away and run init again.")
            for folder in reversed([path.parent, *path.parent.parents]):
                try:
                    folder.mkdir()
                    created_folders.append(folder)
                except FileExistsError:
                    if not folder.is_dir():
                        raise NotADirectoryError(errno.ENOTDIR, "not a folder", os.fspath(folder)) from None
            staged.append(stage_file(path, text.encode("utf-8")))
        for file in staged:
            current = path = file.destination
            replacing = (force or path in replaceable) and path.exists()
            file.place(replace=replacing)
            if not replacing:
                new_files.append(path)
            placed.append(path)
    except FileExistsError:
        _undo(staged, new_files, created_folders)
        raise ScaffoldTargetsExist([current], [_shown(current, root)]) from None
    except OSError as error:
        _undo(staged, new_files, created_folders)
        cause = ("a file is in the way of a folder: move it away" if isinstance(error, NotADirectoryError)
                 else (error.strerror or str(error)).lower())
        failed = Path(os.fspath(error.filename)) if error.filename else current
        if failed.name.startswith(f".{current.name}."):  # our temporary file: the folder refused it
            failed = failed.parent
        where = printable(os.fspath(failed))
        raise ScaffoldWriteError(f"cannot write {_shown(current, root)} ({where}: {cause}); nothing was written") from None
    except BaseException:
        # Anything else (a target that is not a regular file, an interrupt): no trace left either.
        _undo(staged, new_files, created_folders)
        raise
    return placed


def _undo(staged: list[StagedFile], new_files: list[Path], created_folders: list[Path]) -> None:
    # Files replaced with --force are not restored (a rename fails before it replaces anything);
    # every other trace of this run is removed.
    for path in new_files:
        path.unlink(missing_ok=True)
    for file in staged:
        file.discard()
    for folder in reversed(created_folders):
        with contextlib.suppress(OSError):
            folder.rmdir()


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
$protect_line
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
    settings: EnvironmentSettings = EnvironmentSettings(),
) -> str:
    settings = settings.resolved()
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
        recovery_window_days=settings.recovery_window_days,
        replicas=", ".join(replicas),
        rotation_days=settings.rotation_days,
        owner=owner,
        protect_line=f"  protect: {'true' if settings.protect else 'false'}".ljust(COMMENT_COLUMN) + "# " + (
            "pulumi destroy and replacing changes stop at every secret and key; false only on purpose"
            if settings.protect else "unprotected on purpose (init --no-protect): pulumi destroy deletes"),
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
    settings: EnvironmentSettings = EnvironmentSettings(),
) -> str:
    """policies/config/<env>.json in --policy-pack-config form, policies in catalog order."""
    settings = settings.resolved()
    allowed_accounts = list(dict.fromkeys([security_account, *accounts.values()]))
    config = {
        "secret-name-convention": {"enforcementLevel": "mandatory", "environment": environment},
        "secret-recovery-window": {"enforcementLevel": "mandatory", "minimumDays": MINIMUM_RECOVERY_DAYS},
        "secret-rotation-required": {"enforcementLevel": "mandatory"},
        "secret-rotation-max-interval": {"enforcementLevel": "mandatory", "maximumDays": settings.maximum_days},
        "secret-customer-managed-key": {"enforcementLevel": "mandatory"},
        "secret-replica-customer-managed-key": {"enforcementLevel": "mandatory"},
        "secret-policy-no-public-access": {"enforcementLevel": "mandatory"},
        "secret-policy-allowed-accounts": {"enforcementLevel": "mandatory", "allowedAccounts": allowed_accounts},
        "secret-policy-deny-outside": {"enforcementLevel": settings.deny_outside},
        "secret-required-tags": {
            "enforcementLevel": "mandatory",
            "requiredTags": ["owner", "environment"],
            "environment": environment,
        },
        # Enforces the declaration's defaults.protect; an environment unprotected on purpose (--no-protect)
        # has it disabled, or the policy would fail every secret the declaration chose to leave unprotected.
        "secret-protected": {"enforcementLevel": "mandatory" if settings.protect else "disabled"},
        "kms-key-rotation-enabled": {"enforcementLevel": "mandatory"},
        "secret-replica-regions-allowed": {
            "enforcementLevel": "advisory",
            "allowedRegions": list(dict.fromkeys(regions)),
        },
        "kms-key-policy-no-public-access": {"enforcementLevel": "mandatory"},
        "kms-key-not-pending-deletion": {"enforcementLevel": "mandatory"},
        "secret-region-allowed": {"enforcementLevel": "advisory", "allowedRegions": list(dict.fromkeys(regions))},
        "secret-replica-no-force-overwrite": {"enforcementLevel": "advisory"},
        "generated-credential-strength": {
            "enforcementLevel": "mandatory",
            "minimumLength": 32,
            "requiredClasses": ["lowercase", "uppercase", "digits", "punctuation"],
        },
    }
    return json.dumps(config, indent=2) + "\n"


def _check_settings(settings: EnvironmentSettings) -> None:
    if not 1 <= settings.rotation_days <= MAXIMUM_ROTATION_DAYS:
        raise ScaffoldInputError(f"--rotation-days {settings.rotation_days}: rotate every 1 to {MAXIMUM_ROTATION_DAYS} days")
    if settings.maximum_days < settings.rotation_days:
        raise ScaffoldInputError(
            f"--maximum-days {settings.maximum_days} is shorter than the rotation interval ({settings.rotation_days} "
            "days), so every secret would fail secret-rotation-max-interval; give a maximum at least as long")
    if not MINIMUM_RECOVERY_DAYS <= settings.recovery_window_days <= 30:
        raise ScaffoldInputError(f"--recovery-window-days {settings.recovery_window_days}: AWS keeps a deleted secret "
                                 f"{MINIMUM_RECOVERY_DAYS} to 30 days")
    if settings.deny_outside not in DENY_OUTSIDE_LEVELS:
        raise ScaffoldInputError(f"--deny-outside {settings.deny_outside}: give one of {', '.join(DENY_OUTSIDE_LEVELS)}")


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
            f"environment '{printable(environment)}' is not a valid name: use a lowercase slug of 1-32 letters, digits "
            "and '-', starting with a letter (dev, staging, prod, shared-services)"
        )
    if not ACCOUNT_ID_PATTERN.match(security_account or ""):
        raise ScaffoldInputError(
            f"security account '{printable(security_account)}' is not an AWS account ID: use its 12 digits, e.g. 111111111111"
        )
    _check_region(region, "region")
    names: set[str] = set()
    ids: dict[str, str] = {}
    for name, account_id in accounts:
        _check_account(name, account_id)
        if name in names:
            raise ScaffoldInputError(f"account '{printable(name)}' is given twice; give each account once")
        if account_id == security_account:
            raise ScaffoldInputError(
                f"account '{printable(name)}' is the security account {printable(account_id)}: accounts are the consumer accounts "
                "that read the secrets; remove it"
            )
        if account_id in ids:
            raise ScaffoldInputError(
                f"accounts '{printable(ids[account_id])}' and '{printable(name)}' have the same ID {printable(account_id)}; give each account one name"
            )
        names.add(name)
        ids[account_id] = name
    seen_regions = {printable(region)}
    for replica in replicas:
        _check_region(replica, "replica region")
        if replica in seen_regions:
            what = "the primary region" if replica == region else "given twice"
            raise ScaffoldInputError(f"replica region {printable(replica)} is {what}; a replica must be another region")
        seen_regions.add(replica)
    if organization_id is not None and not ORGANIZATION_ID_PATTERN.match(organization_id):
        raise ScaffoldInputError(
            f"organization ID '{printable(organization_id)}' is not valid: it looks like o-a1b2c3d4e5 (o- and 10-32 "
            "lowercase letters or digits)"
        )
    if not OWNER_PATTERN.match(owner or ""):
        raise ScaffoldInputError(
            f"owner '{printable(owner)}' is not a valid tag value: use up to 256 letters, digits, spaces or _.:/=+-@"
        )


def _check_account(name: str, account_id: str) -> None:
    if not ACCOUNT_NAME_PATTERN.match(name or ""):
        raise ScaffoldInputError(
            f"account name '{printable(name)}' is not valid: use lowercase letters, digits and '-' (e.g. prod-app)"
        )
    if not ACCOUNT_ID_PATTERN.match(account_id or ""):
        raise ScaffoldInputError(
            f"account '{printable(name)}': '{printable(account_id)}' is not an AWS account ID: use its 12 digits, e.g. 222222222222"
        )


def _check_region(region: str, what: str) -> None:
    if region not in AWS_REGIONS:
        raise ScaffoldInputError(f"{what} '{printable(region)}' is not an AWS region: use a region code such as us-east-1")


def _shown(path: Path, root: Path) -> str:
    """The path as the user sees it: relative to the root (the working directory for the CLI)."""
    try:
        return printable(os.path.relpath(path, root))
    except ValueError:  # another drive on Windows
        return printable(str(path))
