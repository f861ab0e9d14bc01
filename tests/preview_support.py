"""Declarations with known policy violations, and a throw-away git repository for --base."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROD = (ROOT / "environments" / "prod.yaml").read_text()
DEV = (ROOT / "environments" / "dev.yaml").read_text()

ADOPTED_PARTNER_TOKEN = """
  - name: dev/legacy/partner-token
    description: Partner token created in the console, adopted here
    kind: oauth-token
    value: {external: true}
    rotation: {enabled: false, reason: the partner issues tokens only through its portal}
    readers: [{account: dev-app, roles: [DevAppRole]}]
    import_id: "arn:aws:secretsmanager:us-east-1:111111111111:secret:dev/legacy/partner-token-AbCdEf"
"""
"""A secret of dev that exists in AWS and is imported (entries of a dev declaration, before `parameters:`)."""

STRIPE_ROTATION = """rotation:
      function: api-key-rotator
      adapter:
        type: http-api-key
        create_url: https://api.payments-provider.example/v1/api_keys
        verify_url: https://api.payments-provider.example/v1/api_keys/self
        revoke_url: https://api.payments-provider.example/v1/api_keys
        response_key_field: secret
        response_key_id_field: id
"""
"""The rotation block of dev/payments/stripe-api-key in environments/dev.yaml."""
assert STRIPE_ROTATION in DEV, "environments/dev.yaml changed its Stripe rotation: update STRIPE_ROTATION"


def git(repository: Path, *arguments: str) -> str:
    return subprocess.run(["git", "-C", str(repository), *arguments], check=True, capture_output=True, text=True).stdout


def repository_with(tmp_path: Path, name: str, first: str) -> tuple[Path, Path]:
    """A git repository holding environments/<name>.yaml and this repository's policies/config/ (the
    preview's default policy config is the declaration's repository's) at one commit; returns (repo, file)."""
    repository = tmp_path / "repo"
    (repository / "environments").mkdir(parents=True)
    shutil.copytree(ROOT / "policies" / "config", repository / "policies" / "config")
    git(repository, "init", "--quiet", "--initial-branch=main")
    git(repository, "config", "user.email", "tests@example.invalid")
    git(repository, "config", "user.name", "tests")
    file = repository / "environments" / f"{name}.yaml"
    file.write_text(first)
    git(repository, "add", ".")
    git(repository, "commit", "--quiet", "-m", "first")
    return repository, file


def line_of(text: str, fragment: str) -> int:
    """1-based line of the first line containing `fragment`."""
    return next(number for number, line in enumerate(text.splitlines(), 1) if fragment in line)
