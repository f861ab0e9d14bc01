"""What a layout costs per month, from the declaration: every price and its date live here.

AWS list prices in USD for us-east-1 (most commercial regions charge the same for these):
- Secrets Manager bills each secret per month, and each replica as a secret of its own;
  API calls per 10,000.
- KMS bills each customer managed key per month (keys given under kms.keys already exist and are
  not counted); a GetSecretValue on a secret encrypted with a customer managed key makes one
  kms:Decrypt request, billed per 10,000.
- Parameter Store standard parameters and their standard throughput are free.
- Rotation Lambda invocations (a few per rotation) stay far inside Lambda's free tier: not counted.
- Rotation alerts (alerts:): EventBridge matches AWS service events on the default bus at no charge and
  bills events sent to another region's bus per million; SNS bills publishes and deliveries per million
  (email per 100,000) after a free tier. Alerts are a handful a month: listed at $0 so the bill shows them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from secrets_layout.declaration.models import Declaration

PRICES_AS_OF = date(2026, 11, 1)
SECRET_PER_MONTH = Decimal("0.40")
SECRETS_MANAGER_PER_10K_CALLS = Decimal("0.05")
KMS_KEY_PER_MONTH = Decimal("1.00")
KMS_PER_10K_REQUESTS = Decimal("0.03")
PARAMETER_PER_MONTH = Decimal("0")
EVENTBRIDGE_CROSS_REGION_PER_MILLION = Decimal("1.00")
SNS_PUBLISHES_PER_MILLION = Decimal("0.50")
ALERTS_PER_MONTH = Decimal("0")


@dataclass(frozen=True)
class CostItem:
    what: str
    monthly_usd: Decimal


@dataclass(frozen=True)
class CostEstimate:
    items: tuple[CostItem, ...]
    prices_as_of: date = PRICES_AS_OF

    @property
    def monthly_usd(self) -> Decimal:
        return sum((item.monthly_usd for item in self.items), Decimal("0"))


def estimate(declaration: Declaration, *, program_secrets: Sequence[tuple[str, int]] = (),
             program_keys: Sequence[str] = ()) -> CostEstimate:
    """The monthly cost of the layout a declaration makes, and of what its program makes beyond it:
    `program_secrets` as (what, copies: the secret and its replicas), `program_keys` as what (a
    customer managed key each)."""
    return CostEstimate(tuple(_key_items(declaration)) + tuple(_secret_items(declaration))
                        + tuple(_parameter_items(declaration)) + tuple(_alert_items(declaration))
                        + tuple(CostItem(what, KMS_KEY_PER_MONTH) for what in program_keys)
                        + tuple(CostItem(what, SECRET_PER_MONTH * copies) for what, copies in program_secrets))


def _key_items(declaration: Declaration):
    for region in declaration.regions:
        if region not in declaration.kms.keys:
            yield CostItem(f"KMS key alias/secrets/{declaration.environment} ({region})", KMS_KEY_PER_MONTH)


def _secret_items(declaration: Declaration):
    for secret in declaration.secrets:
        replicas = secret.deployed_replica_regions
        copies = 1 + len(replicas)
        where = f"{declaration.primary_region}" + "".join(f" + {region}" for region in replicas)
        yield CostItem(f"secret {secret.name} ({where})", SECRET_PER_MONTH * copies)
        calls = sum(reader.requests_per_month or 0 for reader in secret.readers)
        if calls:
            per_10k = SECRETS_MANAGER_PER_10K_CALLS + KMS_PER_10K_REQUESTS
            yield CostItem(f"reads of {secret.name} ({calls:,} GetSecretValue and kms:Decrypt per month)",
                           per_10k * Decimal(calls) / Decimal(10_000))


def _parameter_items(declaration: Declaration):
    if declaration.parameters:
        yield CostItem(f"{len(declaration.parameters)} standard SSM parameters", PARAMETER_PER_MONTH * len(declaration.parameters))


def _alert_items(declaration: Declaration):
    alerts = declaration.alerts
    if alerts is None:
        return
    regions = len(declaration.regions)
    yield CostItem(f"rotation alerts: {regions} EventBridge rules (AWS service events are free; events forwarded "
                   f"between regions ${EVENTBRIDGE_CROSS_REGION_PER_MILLION} per million)", ALERTS_PER_MONTH)
    if alerts.topic is not None:
        name = alerts.topic.name or f"secrets-layout-{declaration.environment}-alerts"
        yield CostItem(f"rotation alerts: SNS topic {name} (${SNS_PUBLISHES_PER_MILLION} per million publishes "
                       "after the free tier)", ALERTS_PER_MONTH)
