"""The platform team's docs scenarios (docs/adopting.md, moving-a-secret.md, rotation-exemptions.md,
policy-limits.md, retiring-a-secret.md, and README.md's review example): each is a pull request on a
fabricated git history, the declaration (and policy config) as on `main`, then the change on a branch.

tests/test_docs_platform.py checks what each preview does (change kinds, violations, exit code);
tests/test_console_blocks.py replays the page's output block for it (`<!-- replayed: ID -->`).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from cli_support import ROOT
from preview_support import ADOPTED_PARTNER_TOKEN
from preview_support import STRIPE_ROTATION as DEV_STRIPE_ROTATION

DEV = (ROOT / "environments" / "dev.yaml").read_text()
STAGING = (ROOT / "environments" / "staging.yaml").read_text()
PROD = (ROOT / "environments" / "prod.yaml").read_text()
DEV_POLICY = (ROOT / "policies" / "config" / "dev.json").read_text()

PARTNER_TOKEN = ADOPTED_PARTNER_TOKEN
ROTATING_PARTNER_TOKEN = PARTNER_TOKEN.replace(
    "rotation: {enabled: false, reason: the partner issues tokens only through its portal}",
    'rotation: {lambda_arn: "arn:aws:lambda:us-east-1:111111111111:function:partner-rotator"}')
ADOPT = """    adopt:
      kms_key_id: "arn:aws:kms:us-east-1:111111111111:key/5f8a2c1e-3b4d-4e6f-8a9b-0c1d2e3f4a5b"
      description: Partner token (owned by the partner team)
      replicas: []
      tags: {owner: partner-team, environment: dev}
      rotates: true
"""
# A secret that does not rotate, whose live tags lack `environment`: step 1 keeps the live tags.
ADOPT_UNTAGGED = """    adopt:
      kms_key_id: "arn:aws:kms:us-east-1:111111111111:key/5f8a2c1e-3b4d-4e6f-8a9b-0c1d2e3f4a5b"
      description: Partner token (owned by the partner team)
      replicas: []
      tags: {owner: partner-team}
"""
FLAG_KEY = """
  - name: dev/tools/feature-flag-sdk-key
    description: Client-side SDK key of the feature flag service; it cannot be rotated by API
    kind: generic
    value: {external: true}
    rotation: {enabled: false, reason: the vendor issues SDK keys only through its console}
    readers: [{account: dev-app, roles: [DevAppRole]}]
"""
STAGING_FLAG_KEY = (FLAG_KEY.replace("dev/tools/", "staging/tools/")
                    .replace("dev-app, roles: [DevAppRole]", "staging-app, roles: [StagingAppRole]"))
STRIPE_ROTATION = "    " + DEV_STRIPE_ROTATION + "    readers: [{account: dev-app, roles: [PaymentsRole]}]\n"
SENDGRID = PROD[PROD.index("  - name: prod/notifications/sendgrid-api-key"):PROD.index("  - name: prod/legacy/partner-token")]


def _insert_before_parameters(text: str, block: str) -> str:
    return text.replace("\nparameters:", f"{block}\nparameters:", 1)


def _without(text: str, block: str) -> str:
    assert block in text
    return text.replace(block, "", 1)


def _policy_limit(maximum_days: int) -> str:
    config = json.loads(DEV_POLICY)
    config["secret-rotation-max-interval"]["maximumDays"] = maximum_days
    return json.dumps(config, indent=2) + "\n"


@dataclass(frozen=True)
class Scenario:
    id: str
    doc: str
    file: str
    base: dict[str, str]
    head: dict[str, str | None]
    changes: dict[str, str] = field(default_factory=dict)
    """resource name -> its step ("replace blocked" for a blocked one); every other resource is `same`."""
    violations: tuple[str, ...] = ()
    """(level policy) of every violation, in the report's order."""
    exit_code: int = 0
    invalid: bool = False
    """The declaration is refused before anything runs; the page shows the located errors."""


ADOPTED = _insert_before_parameters(DEV, ROTATING_PARTNER_TOKEN + ADOPT)
EXEMPT_STRIPE = DEV.replace(STRIPE_ROTATION, "    rotation: {enabled: false, reason: the provider's sandbox keys cannot be rotated by API}\n"
                                             "    readers: [{account: dev-app, roles: [PaymentsRole]}]\n")
UNPROTECTED_SENDGRID = PROD.replace(
    "    tags: {owner: messaging-team}\n", "    tags: {owner: messaging-team}\n    protect: false\n", 1)
REPORTING_AND_REPLICA = PROD.replace(
    "      - {account: prod-app, roles: [OrdersServiceRole]}\n",
    "      - {account: prod-app, roles: [OrdersServiceRole]}\n      - {account: prod-data, roles: [ReportingRole]}\n").replace(
    "    readers: [{account: prod-app, roles: [PaymentsRole]}]\n    replicas: []",
    "    readers: [{account: prod-app, roles: [PaymentsRole]}]\n    replicas: [us-west-2]")
"""README "Policy statements, and who can read each secret": prod-data's reporting role reads the orders
database, the Stripe key is replicated to us-west-2."""

SCENARIOS = [
    Scenario(
        "adopt-step-1", "adopting.md", "environments/dev.yaml",
        base={"environments/dev.yaml": DEV}, head={"environments/dev.yaml": ADOPTED},
        changes={"dev/legacy/partner-token-secret": "import", "dev/legacy/partner-token-rotation": "import",
                 "dev/legacy/partner-token": "create"},
    ),
    Scenario(
        "adopt-step-1-live-settings-judged", "adopting.md", "environments/dev.yaml",
        base={"environments/dev.yaml": DEV},
        head={"environments/dev.yaml": _insert_before_parameters(DEV, PARTNER_TOKEN + ADOPT_UNTAGGED)},
        changes={"dev/legacy/partner-token-secret": "import", "dev/legacy/partner-token": "create"},
        violations=("mandatory secret-rotation-required", "mandatory secret-required-tags"), exit_code=1,
    ),
    Scenario(
        "adopt-step-2", "adopting.md", "environments/dev.yaml",
        base={"environments/dev.yaml": ADOPTED},
        head={"environments/dev.yaml": _insert_before_parameters(DEV, ROTATING_PARTNER_TOKEN)},
        changes={"dev/legacy/partner-token-secret": "update", "dev/legacy/partner-token-policy": "create"},
    ),
    Scenario(
        "move-add-to-staging", "moving-a-secret.md", "environments/staging.yaml",
        base={"environments/staging.yaml": STAGING},
        head={"environments/staging.yaml": _insert_before_parameters(STAGING, STAGING_FLAG_KEY)},
        changes={"staging/tools/feature-flag-sdk-key": "create", "staging/tools/feature-flag-sdk-key-secret": "create",
                 "staging/tools/feature-flag-sdk-key-policy": "create"},
    ),
    Scenario(
        "move-remove-from-dev", "moving-a-secret.md", "environments/dev.yaml",
        base={"environments/dev.yaml": DEV}, head={"environments/dev.yaml": _without(DEV, FLAG_KEY)},
        changes={"dev/tools/feature-flag-sdk-key": "delete", "dev/tools/feature-flag-sdk-key-secret": "delete",
                 "dev/tools/feature-flag-sdk-key-policy": "delete"},
    ),
    Scenario(
        "move-keeping-the-old-name", "moving-a-secret.md", "environments/staging.yaml",
        base={"environments/staging.yaml": STAGING},
        head={"environments/staging.yaml": _insert_before_parameters(
            STAGING, FLAG_KEY.replace("dev-app, roles: [DevAppRole]", "staging-app, roles: [StagingAppRole]"))},
        invalid=True, exit_code=1,
    ),
    Scenario(
        "exempt-from-rotation", "rotation-exemptions.md", "environments/dev.yaml",
        base={"environments/dev.yaml": DEV}, head={"environments/dev.yaml": EXEMPT_STRIPE},
        changes={"dev/payments/stripe-api-key-rotation": "delete", "dev/payments/stripe-api-key-secret": "update",
                 "dev/payments/stripe-api-key-version": "update",
                 # the last secret of dev using the bundled function: the function goes with it
                 **{f"dev-rotation-api-key-rotator{part}": "delete"
                    for part in ("", "-role", "-policy", "-logs", "-function", "-permission")}},
    ),
    Scenario(
        "lower-the-rotation-limit", "policy-limits.md", "environments/dev.yaml",
        base={"environments/dev.yaml": DEV, "policies/config/dev.json": DEV_POLICY},
        head={"policies/config/dev.json": _policy_limit(5)},
        # once, at the defaults: line both rotating secrets inherit (issue 21: each problem once)
        violations=("mandatory secret-rotation-max-interval",), exit_code=1,
    ),
    Scenario(
        "retire-protected", "retiring-a-secret.md", "environments/prod.yaml",
        base={"environments/prod.yaml": PROD}, head={"environments/prod.yaml": _without(PROD, SENDGRID)},
        changes={"prod/notifications/sendgrid-api-key-secret": "delete blocked",
                 "prod/notifications/sendgrid-api-key-version": "delete blocked",
                 "prod/notifications/sendgrid-api-key": "delete", "prod/notifications/sendgrid-api-key-policy": "delete",
                 "prod/notifications/sendgrid-api-key-rotation": "delete",
                 # the readers leave the key policies; the function no longer calls the mail provider
                 **{f"prod-kms-{region}-key": "update" for region in ("us-east-1", "us-west-2", "eu-west-1")},
                 "prod-rotation-api-key-rotator-function": "update"},
        exit_code=1,  # the engine refuses the protected deletions
    ),
    Scenario(
        "review-a-reader-and-a-replica", "README.md", "environments/prod.yaml",
        base={"environments/prod.yaml": PROD}, head={"environments/prod.yaml": REPORTING_AND_REPLICA},
        changes={"prod/orders/mysql-credentials-policy": "update", "prod/payments/stripe-api-key-secret": "update"},
    ),
    Scenario(
        "retire-step-1-unprotect", "retiring-a-secret.md", "environments/prod.yaml",
        base={"environments/prod.yaml": PROD}, head={"environments/prod.yaml": UNPROTECTED_SENDGRID},
        violations=("mandatory secret-protected",), exit_code=1,
    ),
]



def history(repository: Path, scenario: Scenario) -> Path:
    """main holds the base files and the policy configs; branch `change` holds the pull request."""
    repository.mkdir()
    shutil.copytree(ROOT / "policies" / "config", repository / "policies" / "config")
    git = lambda *arguments: subprocess.run(["git", "-C", str(repository), *arguments], check=True, capture_output=True)  # noqa: E731
    git("init", "--quiet", "--initial-branch=main")
    git("config", "user.email", "docs@example.invalid")
    git("config", "user.name", "docs")
    for files in (scenario.base, scenario.head):
        for path, text in files.items():
            target = repository / path
            if text is None:
                target.unlink()
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        git("add", "--all")
        git("commit", "--quiet", "--allow-empty", "-m", "change")
        if files is scenario.base:
            git("checkout", "--quiet", "-b", "change")
    return repository


def command(scenario: Scenario) -> list[str]:
    environment = Path(scenario.file).stem
    return ["preview", scenario.file, "--base", "main", "--policy-config", f"policies/config/{environment}.json"]
