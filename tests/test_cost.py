"""The monthly cost estimate: prices per item, replicas billed as secrets, reads when declared."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from declaration_support import VALID_SECRET, declaration, load
from secrets_layout.declaration.cost import estimate
from secrets_layout.declaration.loader import load_declaration

ROOT = Path(__file__).resolve().parents[1]


def test_one_secret_one_key():
    cost = estimate(load(declaration(VALID_SECRET)).declaration)
    assert [(item.what, item.monthly_usd) for item in cost.items] == [
        ("KMS key alias/secrets/prod (us-east-1)", Decimal("1.00")),
        ("secret prod/app/api-key (us-east-1)", Decimal("0.40")),
    ]
    assert cost.monthly_usd == Decimal("1.40")


@pytest.mark.parametrize(("extra", "expected_total"), [
    pytest.param("    replicas: [us-west-2]\n", Decimal("2.80"), id="replica-is-a-secret-and-a-key"),
    pytest.param("    readers: [{account: prod-app, roles: [AppRole], requests_per_month: 100000}]\n",
                 Decimal("2.20"), id="declared-reads"),
])
def test_items_that_add_cost(extra, expected_total):
    body = VALID_SECRET.replace("    readers: [{account: prod-app, roles: [AppRole]}]\n", "") + extra
    assert estimate(load(declaration(body)).declaration).monthly_usd == expected_total


def test_existing_keys_are_not_billed_again():
    kms = 'kms:\n  keys: {us-east-1: "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"}\n'
    assert estimate(load(declaration(kms + VALID_SECRET)).declaration).monthly_usd == Decimal("0.40")


def test_prod_example_cost():
    cost = estimate(load_declaration(ROOT / "environments" / "prod.yaml").declaration)
    # 3 keys; 3 secrets with 2 replicas each, one without, and partner-token being adopted with its
    # live replicas (none) rather than the declared ones (11 secrets); 50,000 reads.
    assert cost.monthly_usd == Decimal("3.00") + Decimal("0.40") * 11 + Decimal("0.08") * 5


@pytest.mark.parametrize(("adopting", "expected"), [
    (True, "secret prod/legacy/partner-token (us-east-1)"),
    (False, "secret prod/legacy/partner-token (us-east-1 + us-west-2 + eu-west-1)"),
])
def test_an_adopted_secret_is_billed_for_the_replicas_it_has(adopting, expected):
    """While adopted (step 1) the secret keeps its live replicas; the declared ones come with the migration."""
    text = (ROOT / "environments" / "prod.yaml").read_text(encoding="utf-8")
    if not adopting:
        start = text.index("    adopt:")
        text = text[:start] + text[text.index("\nparameters:") + 1:]
    items = [item.what for item in estimate(load(text).declaration).items]
    assert expected in items
