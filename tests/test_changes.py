"""Classifying resources against --base: pure logic over recorded registrations."""

from __future__ import annotations

from datetime import date

import pytest

from secrets_layout.changes import PlannedChange, changed_properties, plan_changes
from secrets_layout.simulation import RegisteredResource, SecretValue

TODAY = date(2026, 11, 25)
SECRET = "aws:secretsmanager/secret:Secret"
VERSION = "aws:secretsmanager/secretVersion:SecretVersion"


def registered(name, type_=SECRET, protect=False, ignore_changes=(), **inputs) -> RegisteredResource:
    return RegisteredResource(
        urn=f"urn:pulumi:prod::secrets-layout::{type_}::{name}", type=type_, name=name, custom=True, id=None,
        parent=None, provider=None, inputs=inputs, outputs={}, secret_inputs=frozenset(), protect=protect,
        ignore_changes=tuple(ignore_changes), import_id=None, depends_on=(), dependencies=(),
        property_dependencies={}, additional_secret_outputs=(), replace_on_changes=(),
        delete_before_replace=None, retain_on_delete=None,
    )


@pytest.mark.parametrize(("before", "after", "expected"), [
    pytest.param({"description": "a"}, {"description": "a"}, (), id="same"),
    pytest.param({"description": "a"}, {"description": "b"}, ("description",), id="changed"),
    pytest.param({}, {"description": "b"}, ("description",), id="added"),
    pytest.param({"description": "a", "tags": {"x": "1"}}, {"tags": {"x": "2"}}, ("description", "tags"), id="removed-and-nested"),
    pytest.param({"secretString": SecretValue("old")}, {"secretString": SecretValue("old")}, (), id="same-secret"),
    pytest.param({"secretString": SecretValue("old")}, {"secretString": SecretValue("new")}, ("secretString",), id="changed-secret"),
])
def test_changed_properties(before, after, expected):
    assert changed_properties(registered("s", **before), registered("s", **after)) == expected


def test_ignored_properties_are_not_changes():
    # The version of a rotating secret ignores secret_string: a rotated value is never written back.
    before = registered("v", VERSION, secretString=SecretValue("deployed"), versionStages=["AWSCURRENT"])
    after = registered("v", VERSION, ignore_changes=("secret_string", "version_stages"),
                       secretString=SecretValue("rotated"), versionStages=["AWSPREVIOUS"])
    assert changed_properties(before, after) == ()


def test_without_base_everything_is_created():
    planned = plan_changes([registered("a"), registered("b")], None, TODAY)
    assert [(change.name, change.change) for change in planned] == [("a", "create"), ("b", "create")]


@pytest.mark.parametrize(("gone", "note"), [
    pytest.param(registered("old", protect=True, recoveryWindowInDays=30.0),
                 "blocked: the resource is protected; `pulumi state unprotect` it first if the deletion is intended",
                 id="protected"),
    pytest.param(registered("old", recoveryWindowInDays=7.0),
                 "recoverable until 2026-12-02 (7-day recovery window), then gone", id="recovery-window"),
    pytest.param(registered("old"), "recoverable until 2026-12-25 (30-day recovery window), then gone", id="aws-default-window"),
    pytest.param(registered("old", recoveryWindowInDays=0.0), "deleted immediately, without recovery", id="force-delete"),
    pytest.param(registered("old", VERSION), None, id="not-a-secret"),
])
def test_deletions_say_what_happens_to_the_secret(gone, note):
    planned = plan_changes([registered("kept")], [registered("kept"), gone], TODAY)
    assert planned == [
        PlannedChange(registered("kept").urn, SECRET, "kept", "same"),
        PlannedChange(gone.urn, gone.type, "old", "delete", (), note),
    ]
