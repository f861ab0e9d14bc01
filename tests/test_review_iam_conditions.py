"""A condition's values read once (review/iam.PreparedValues) decide every operator exactly as comparing
value by value does (review/iam._compares): a key policy may list every secret of the layout in one
condition, and each secret's check then costs a set lookup instead of a walk of the list."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from secrets_layout.policies.resource_policy import Condition
from secrets_layout.review.iam import PreparedValues, _compares

TEXT = st.text(alphabet="ab*?:/", max_size=5)
VALUES = st.lists(st.one_of(TEXT, st.integers(-2, 2), st.booleans()), max_size=6)
OPERATORS = st.sampled_from(["stringequals", "stringlike", "arnequals", "arnlike"])


@given(values=VALUES, operator=OPERATORS, value=TEXT)
def test_the_prepared_values_match_as_the_values_one_by_one(values, operator, value):
    prepared = PreparedValues.of(Condition(operator, "aws:principalarn", tuple(values)))
    assert prepared.matched(operator, value) == any(_compares(operator, wanted, value) for wanted in values)


def test_operators_the_prepared_values_do_not_decide_are_compared_one_by_one():
    prepared = PreparedValues.of(Condition("StringEqualsIgnoreCase", "aws:principalarn", ("A",)))
    assert prepared.matched("stringequalsignorecase", "a") is None
    assert prepared.matched("bool", "true") is None


def test_a_policy_variable_makes_the_condition_unknown():
    assert PreparedValues.of(Condition("StringLike", "aws:principalarn", ("arn:aws:iam::1:role/${aws:username}",))).variable
    assert not PreparedValues.of(Condition("StringLike", "aws:principalarn", ("arn:aws:iam::1:role/*",))).variable
