"""`secrets-layout consumer-policy SECRET --account NAME`: the reader role's side of a cross-account read.

Reading a secret of the security account from another account needs two grants: the secret's
resource policy (the layout writes it from `readers:`) and an identity policy on the reader role
in its own account. This module gives the second one, for consumer teams to attach when the
layout does not write it for them (accounts without `deploy_role_arn`).

The document is `components.policy_documents.reader_identity_policy`, the function whose
document ConsumerGrants deploys for accounts with `deploy_role_arn`, so what the command prints
and what the layout writes never differ (tests/test_consumer_policy.py compares them). For one
secret it allows:

- secretsmanager:GetSecretValue and DescribeSecret on the secret in its primary region and in
  every replica region, by name: `arn:aws:secretsmanager:<region>:<security account>:secret:<name>-??????`
  (AWS appends "-" and six random characters; `?` matches exactly one, so `prod/db` never
  matches `prod/db-old`, and the policy can be attached before the secret exists);
- kms:Decrypt on the key of each of those regions, only through Secrets Manager
  (`kms:ViaService`). Keys are named by key ARN when `kms.keys` gives one; the keys the layout
  creates (their IDs exist only after deployment) and keys given by alias are named
  `arn:aws:kms:<region>:<security account>:key/*`, because IAM never resolves an alias ARN in
  `Resource` (see `decrypt_key_resource`). `kms:RequestAlias` cannot narrow it instead: Secrets
  Manager calls Decrypt with the key ID recorded in the secret, never with an alias, so the key
  would be absent and the grant would allow nothing. The ViaService pattern names every region
  (`secretsmanager.*.amazonaws.com`) but the key resources are regional, and a key is only ever
  used by Secrets Manager in its own region, so the effect is exactly "Secrets Manager in that
  region". Decrypt through Secrets Manager happens only inside GetSecretValue of a secret the
  role may read, and only with keys whose key policy grants the reader's account: the key
  wildcard opens nothing else.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from secrets_layout.components.policy_documents import CURRENT_STAGE, reader_identity_policy
from secrets_layout.declaration.loader import LoadedDeclaration
from secrets_layout.declaration.models import Reader, Secret
from secrets_layout.scaffold import ENVIRONMENT_PATTERN


class ConsumerPolicyError(Exception):
    """The policy cannot be given (exit 1): the message names what is known and what to do."""


class UnknownSecretError(ConsumerPolicyError):
    """No secret of that name in the declaration (or no declaration for its environment)."""


class UnknownAccountError(ConsumerPolicyError):
    """No account of that name under `accounts:`."""


class NotAReaderError(ConsumerPolicyError):
    """The account exists but is not among the secret's readers."""


def consumer_policy(loaded: LoadedDeclaration, secret_name: str, account_name: str) -> dict[str, Any]:
    """The IAM identity policy a reader role of `account_name` needs to read `secret_name`.

    Raises UnknownSecretError, UnknownAccountError or NotAReaderError (all ConsumerPolicyError).
    """
    secret, _ = _reader_entries(loaded, secret_name, account_name)
    return reader_identity_policy(loaded.declaration, [secret])


def consumer_policy_note(loaded: LoadedDeclaration, secret_name: str, account_name: str) -> str:
    """What to do with the policy, for stderr: which roles, and which GetSecretValue requests the
    secret's resource policy lets them make.

    The resource policy's stage condition (components.policy_documents.stage_condition) can only
    bind a request that names a stage: `secretsmanager:VersionStage` is in the request context only
    then, and a request by VersionId names none (GetSecretValue API reference: VersionStage is
    optional). So a reader with AWSCURRENT, which must be allowed requests without a stage, can read
    any version by its ID; the note says so instead of promising that other stages are denied.
    tests/test_access_matrix.py checks each sentence with an IAM evaluator.
    """
    secret, entries = _reader_entries(loaded, secret_name, account_name)
    # A role in several entries is allowed by each entry's statement: the union of their stages.
    stages_by_role: dict[str, list[str]] = {}
    for entry in entries:
        for role in entry.roles:
            known = stages_by_role.setdefault(role, [])
            known.extend(stage for stage in entry.stages if stage not in known)
    roles_by_stages: dict[tuple[str, ...], list[str]] = {}
    for role, stages in stages_by_role.items():
        roles_by_stages.setdefault(tuple(stages), []).append(role)
    account_id = loaded.declaration.account_id(account_name)
    note = f"attach this policy to {', '.join(stages_by_role)} in {account_name} ({account_id})."
    if len(roles_by_stages) == 1:
        note += f" {_what_may_be_read(next(iter(roles_by_stages)), lead='Reading')}"
    else:
        for stages, roles in roles_by_stages.items():
            note += f" For {' and '.join(roles)}, {_what_may_be_read(stages, lead='reading')}"
    if secret.adopt is not None:
        # Step 1 imports the secret alone (components/secret.py ManagedSecret._adopt): no resource policy.
        note += (
            f" {secret.name} is in step 1 of its adoption (import_id with adopt:): the layout has not written its "
            "resource policy yet, so this policy alone gives the roles no access; step 2 (removing adopt:) deploys "
            "the resource policy from readers:. Until then, who may read the secret is up to its owner's resource "
            "policy and key policy."
        )
    return note


def _what_may_be_read(stages: tuple[str, ...], *, lead: str) -> str:
    if CURRENT_STAGE in stages:
        return (
            f"{lead} by stage name is limited to the declared stages: GetSecretValue with "
            f"VersionStage={' or '.join(stages)}, or without a stage (the current value: what ECS and "
            "CloudFormation send); a request naming another stage is denied. Reading by VersionId is not "
            "limited by stage: a request with a VersionId and no stage (what aws-secretsmanager-caching sends) "
            "reads whichever version that is, a rotation's AWSPENDING version included, and DescribeSecret "
            "lists every version's ID."
        )
    return (
        f"{lead} is limited to the declared stages: call GetSecretValue with VersionStage={' or '.join(stages)} "
        "(a VersionId may go with it); a request without a stage, or with a VersionId alone, is denied."
    )


def default_declaration_path(secret_name: str, root: Path = Path(".")) -> Path:
    """environments/<env>.yaml for a secret named <env>/...; the CLI's default for --file.

    Raises UnknownSecretError when the first segment names no declaration under root.
    """
    environment = secret_name.split("/", 1)[0]
    directory = Path(root) / "environments"
    path = directory / f"{environment}.yaml"
    if ENVIRONMENT_PATTERN.match(environment) and path.is_file():
        return path
    known = sorted(candidate.stem for candidate in directory.glob("*.yaml"))
    if ENVIRONMENT_PATTERN.match(environment):
        message = (
            f"unknown secret '{secret_name}': its first segment names the environment, and there is no "
            f"environments/{environment}.yaml{_did_you_mean(environment, known)}"
        )
    else:
        message = (
            f"unknown secret '{secret_name}': secret names start with their environment "
            "(<environment>/<service>/<name>)."
        )
    if known:
        message += f" Known environments: {', '.join(known)}."
    raise UnknownSecretError(message + " Name the declaration with --file PATH.")


def _reader_entries(loaded: LoadedDeclaration, secret_name: str, account_name: str) -> tuple[Secret, list[Reader]]:
    declaration = loaded.declaration
    secret = next((secret for secret in declaration.secrets if secret.name == secret_name), None)
    if secret is None:
        names = [secret.name for secret in declaration.secrets]
        if not names:
            raise UnknownSecretError(f"unknown secret '{secret_name}': {loaded.file} declares no secrets")
        raise UnknownSecretError(
            f"unknown secret '{secret_name}' in {loaded.file}{_did_you_mean(secret_name, names)} "
            f"Known secrets: {', '.join(names)}."
        )
    if account_name not in declaration.accounts:
        names = list(declaration.accounts)
        by_id = {account.id: name for name, account in declaration.accounts.items()}
        if account_name in by_id:
            raise UnknownAccountError(
                f"{account_name} is the ID of account '{by_id[account_name]}': give the account's name, "
                f"--account {by_id[account_name]}."
            )
        if not names:
            raise UnknownAccountError(
                f"unknown account '{account_name}': {loaded.file} declares no accounts; add the consumer "
                "account under accounts: and to the secret's readers: first"
            )
        raise UnknownAccountError(
            f"unknown account '{account_name}' in {loaded.file}{_did_you_mean(account_name, names)} "
            f"Known accounts: {', '.join(names)}."
        )
    entries = [reader for reader in secret.readers if reader.account == account_name]
    if not entries:
        readers = list(dict.fromkeys(reader.account for reader in secret.readers))
        who = f"its readers: {', '.join(readers)}" if readers else "it has no readers"
        raise NotAReaderError(
            f"account '{account_name}' does not read '{secret_name}' ({who}). Add it to the secret's "
            f"readers: first, e.g. readers: [{{account: {account_name}, roles: [RoleName]}}] in {loaded.file}, "
            "and deploy: an identity policy alone grants nothing, because the secret's resource policy "
            "allows only the roles of its readers."
        )
    return secret, entries


def _did_you_mean(name: str, known: list[str]) -> str:
    """'; did you mean 'x'?' for a close match, else '.' (the sentence's end either way)."""
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else "."
