"""Classifying resources against --base: the engine's step for each resource, as pure logic over
recorded registrations (pulumi/pulumi pkg/resource/deploy/step_generator.go and step.go)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pulumi
import pytest

from secrets_layout.engine.changes import PROTECTED_DELETE, PROTECTED_REPLACE, PlannedChange, changed_properties, plan_changes
from secrets_layout.engine.classify import OptionChange
from secrets_layout.engine.recorded_values import RegisteredResource, SecretValue

TODAY = date(2026, 11, 25)
SECRET = "aws:secretsmanager/secret:Secret"
VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
FUNCTION = "aws:lambda/function:Function"
PERMISSION = "aws:lambda/permission:Permission"
PASSWORD = "random:index/randomPassword:RandomPassword"
COMPONENT = "secrets-layout:secret:ManagedSecret"
AWS = "pulumi:providers:aws"
PREFIX = "urn:pulumi:prod::secrets-layout::"


def registered(logical_name, type_=SECRET, protect=False, ignore_changes=(), custom=True, provider=None, parent=None,
               import_id=None, aliases=(), replace_on_changes=(), read=False, **inputs) -> RegisteredResource:
    parent_type = parent.split("::")[2].split("$")[-1] + "$" if parent else ""
    return RegisteredResource(
        urn=f"{PREFIX}{parent_type}{type_}::{logical_name}", type=type_, name=logical_name, custom=custom, id=None,
        parent=parent, provider=provider, inputs=inputs, outputs={}, secret_inputs=frozenset(), protect=protect,
        ignore_changes=tuple(ignore_changes), import_id=import_id, depends_on=(), dependencies=(),
        property_dependencies={}, additional_secret_outputs=(), replace_on_changes=tuple(replace_on_changes),
        delete_before_replace=None, retain_on_delete=None, read=read, aliases=tuple(aliases),
    )


def only(current, base):
    """The single change of `current` against `base` (one resource each side, same URN)."""
    return plan_changes([current], [base], TODAY)[0]


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


def test_a_nested_ignore_changes_path_keeps_the_rest_of_the_property_compared():
    """processIgnoreChanges resets only the path's value to the old one."""
    before = registered("s", tags={"owner": "a", "cost": "1"})
    ignoring_owner = registered("s", ignore_changes=("tags.owner",), tags={"owner": "b", "cost": "1"})
    also_cost = registered("s", ignore_changes=("tags.owner",), tags={"owner": "b", "cost": "2"})
    assert (changed_properties(before, ignoring_owner), changed_properties(before, also_cost)) == ((), ("tags",))


def archive(tmp_path, text, folder="code"):
    directory = tmp_path / folder
    directory.mkdir(exist_ok=True)
    (directory / "handler.py").write_text(text)
    return pulumi.AssetArchive({"handler.py": pulumi.FileAsset(str(directory / "handler.py"))})


@pytest.mark.parametrize(("before_text", "after_text", "expected"), [
    pytest.param("print(1)\n", "print(1)\n", (), id="same-content-other-object-and-path"),
    pytest.param("print(1)\n", "print(2)\n", ("code",), id="content-changed"),
])
def test_archives_compare_by_content_like_the_engine(tmp_path, before_text, after_text, expected):
    """Archive.Equals compares content hashes (pulumi/pulumi sdk/go/common/resource/archive.go)."""
    before = registered("f", FUNCTION, code=archive(tmp_path, before_text, "before"))
    after = registered("f", FUNCTION, code=archive(tmp_path, after_text, "after"))
    assert changed_properties(before, after) == expected


def test_an_unreadable_asset_is_a_change_as_in_the_engine(tmp_path):
    """EnsureHash failing on either side makes the engine treat the assets as different."""
    missing = pulumi.FileAsset(str(tmp_path / "gone.py"))
    assert changed_properties(registered("f", FUNCTION, code=missing), registered("f", FUNCTION, code=missing)) == ("code",)


@pytest.mark.parametrize(("base", "current", "change", "replace_properties", "blocked"), [
    pytest.param(registered("s", description="a"), registered("s", description="a"), "same", (), False, id="same"),
    pytest.param(registered("s", description="a"), registered("s", description="b"), "update", (), False, id="update"),
    pytest.param(registered("s", name="a"), registered("s", name="b"), "replace", ("name",), False,
                 id="secret-name-is-force-new"),
    pytest.param(registered("s", protect=True, name="a"), registered("s", protect=True, name="b"), "replace",
                 ("name",), True, id="protected-replace-is-blocked"),
    pytest.param(registered("s", protect=True, name="a"), registered("s", protect=False, name="b"), "replace",
                 ("name",), False, id="unprotect-and-replace-in-one-update-is-allowed"),
    pytest.param(registered("v", VERSION, secretString=SecretValue("a")), registered("v", VERSION, secretString=SecretValue("b")),
                 "replace", ("secretString",), False, id="version-value-is-force-new"),
    pytest.param(registered("p", PERMISSION, principal="a"), registered("p", PERMISSION, principal="b"), "replace",
                 ("principal",), False, id="permission-has-no-update"),
    pytest.param(registered("r", PASSWORD, length=32.0), registered("r", PASSWORD, length=40.0), "replace",
                 ("length",), False, id="every-random-password-input-requires-replace"),
    pytest.param(registered("f", FUNCTION, timeout=30.0), registered("f", FUNCTION, timeout=60.0), "update", (),
                 False, id="function-timeout-updates-in-place"),
    pytest.param(registered("s", description="a"), registered("s", description="b", replace_on_changes=("description",)),
                 "replace", ("description",), False, id="replace-on-changes-option"),
    pytest.param(registered("c", COMPONENT, custom=False), registered("c", COMPONENT, custom=False), "same", (), False,
                 id="component"),
])
def test_steps(base, current, change, replace_properties, blocked):
    planned = only(current, base)
    assert (planned.change, planned.replace_properties, planned.blocked) == (change, replace_properties, blocked)


def test_a_replaced_secret_is_called_out_with_its_recovery_window():
    planned = only(registered("s", name="b", recoveryWindowInDays=7.0), registered("s", name="a", recoveryWindowInDays=7.0))
    assert planned.note == ("REPLACES THE SECRET: a new secret with a new ARN is created; the old one is "
                            "recoverable until 2026-12-02 (7-day recovery window), then gone")


def test_a_blocked_replacement_says_how_to_unblock_it():
    planned = only(registered("s", protect=True, name="b"), registered("s", protect=True, name="a"))
    assert planned.note.startswith(PROTECTED_REPLACE + "; REPLACES THE SECRET")


@pytest.mark.parametrize(("before", "after", "expected"), [
    pytest.param(True, False, (OptionChange("protect", True, False),), id="unprotect"),
    pytest.param(False, True, (OptionChange("protect", False, True),), id="protect"),
    pytest.param(True, True, (), id="unchanged"),
])
def test_a_protect_change_is_a_same_step_with_a_changed_option(before, after, expected):
    """The engine writes a protect change with a SameStep (pkg/backend/snapshot.go mustWrite: Protect)."""
    planned = only(registered("s", protect=after), registered("s", protect=before))
    assert (planned.change, planned.changed_options, planned.shown) == ("same", expected, bool(expected))


def test_unprotecting_warns_that_deletion_becomes_possible():
    planned = only(registered("s", protect=False), registered("s", protect=True))
    assert planned.note == "unprotected: after this deployment the engine lets it be deleted or replaced"


def providers(region_before, region_after, name_after="prod-us-west-2"):
    old = registered("prod-us-east-1", AWS, region=region_before)
    new = registered(name_after, AWS, region=region_after)
    return old, new


@pytest.mark.parametrize(("region_after", "change", "replace_properties"), [
    pytest.param("us-west-2", "replace", ("provider",), id="other-region-replaces"),
    pytest.param("us-east-1", "same", (), id="same-config-under-another-name"),
])
def test_a_provider_change_replaces_when_diffconfig_says_so(region_after, change, replace_properties):
    """providerChanged: DiffConfig of pulumi-aws asks for a replacement when `region` changes (pulumi-aws #4000)."""
    old_provider, new_provider = providers("us-east-1", region_after)
    base = [old_provider, registered("s", provider=old_provider.urn, name="x")]
    current = [new_provider, registered("s", provider=new_provider.urn, name="x")]
    planned = {change.name: change for change in plan_changes(current, base, TODAY)}["s"]
    assert (planned.change, planned.replace_properties) == (change, replace_properties)
    assert planned.changed_options == (OptionChange("provider", old_provider.urn, new_provider.urn),)


def test_a_provider_replaced_by_region_is_itself_replaced():
    old_provider = registered("p", AWS, region="us-east-1")
    assert only(registered("p", AWS, region="eu-west-1"), old_provider).replace_properties == ("region",)


@pytest.mark.parametrize(("base", "change", "note"), [
    pytest.param([], "import", "adopts the existing resource 'arn:x'; its live settings must match the declaration, "
                 "or the import fails", id="not-in-state"),
    pytest.param([registered("s", import_id="arn:x")], "same", None, id="already-imported-with-that-id"),
    pytest.param([registered("s", import_id="arn:old")], "import", None, id="other-import-id"),
    pytest.param([registered("s", read=True)], "import", None, id="was-read-external"),
])
def test_import(base, change, note):
    """isImport := goal.Custom && goal.ID != "" && (!hasOld || old.External || oldImportID != goal.ID)."""
    planned = plan_changes([registered("s", import_id="arn:x")], base, TODAY)[0]
    assert planned.change == change
    if note is not None:
        assert planned.note == note


def test_a_resource_without_import_id_is_never_an_import():
    assert plan_changes([registered("s")], [], TODAY)[0].change == "create"


def test_without_base_everything_is_created_or_imported():
    planned = plan_changes([registered("a"), registered("b", import_id="arn:b")], None, TODAY)
    assert [(change.name, change.change) for change in planned] == [("a", "create"), ("b", "import")]


def test_a_rename_without_alias_is_a_delete_and_a_create():
    planned = plan_changes([registered("new", name="n")], [registered("old", name="n")], TODAY)
    assert [(change.name, change.change) for change in planned] == [("new", "create"), ("old", "delete")]


def test_an_alias_carries_a_renamed_resource():
    old = registered("old", name="n")
    planned = plan_changes([registered("new", name="n", aliases=(old.urn,))], [old], TODAY)
    assert [(change.name, change.change, change.previous_urn) for change in planned] == [("new", "same", old.urn)]
    assert planned[0].note == f"moved from {old.urn} (alias)"


def test_children_inherit_the_alias_of_their_parent():
    """source_eval.go inheritedChildAlias: a child named after its parent follows the parent's alias."""
    old_parent = registered("old", COMPONENT, custom=False)
    old_child = registered("old-secret", parent=old_parent.urn, name="n")
    new_parent = registered("new", COMPONENT, custom=False, aliases=(old_parent.urn,))
    new_child = registered("new-secret", parent=new_parent.urn, name="n")
    planned = plan_changes([new_parent, new_child], [old_parent, old_child], TODAY)
    assert [(change.name, change.change, change.previous_urn) for change in planned] == [
        ("new", "same", old_parent.urn), ("new-secret", "same", old_child.urn)]


def test_a_parent_change_that_keeps_the_urn_is_a_changed_option():
    first, second = registered("a", COMPONENT, custom=False), registered("b", COMPONENT, custom=False)
    before = registered("s", parent=first.urn)
    after = replace(registered("s", parent=second.urn), urn=before.urn)
    planned = {change.name: change for change in plan_changes([first, second, after], [first, second, before], TODAY)}
    assert planned["s"].change == "same"
    assert planned["s"].changed_options == (OptionChange("parent", first.urn, second.urn),)


def test_an_unknown_type_says_the_update_may_be_a_replacement():
    planned = only(registered("x", "aws:sqs/queue:Queue", name="b"), registered("x", "aws:sqs/queue:Queue", name="a"))
    assert (planned.change, planned.note) == (
        "update", "no ForceNew data for aws:sqs/queue:Queue: this update may be a replacement")


@pytest.mark.parametrize(("gone", "note", "blocked"), [
    pytest.param(registered("old", protect=True, recoveryWindowInDays=30.0), PROTECTED_DELETE, True, id="protected"),
    pytest.param(registered("old", recoveryWindowInDays=7.0),
                 "recoverable until 2026-12-02 (7-day recovery window), then gone", False, id="recovery-window"),
    pytest.param(registered("old"), "recoverable until 2026-12-25 (30-day recovery window), then gone", False,
                 id="aws-default-window"),
    pytest.param(registered("old", recoveryWindowInDays=0.0), "deleted immediately, without recovery", False,
                 id="force-delete"),
    pytest.param(registered("old", VERSION), None, False, id="not-a-secret"),
])
def test_deletions_say_what_happens_to_the_secret(gone, note, blocked):
    """DeleteStep refuses a protected resource: "resource ... cannot be deleted because it is protected"."""
    planned = plan_changes([registered("kept")], [registered("kept"), gone], TODAY)
    assert planned == [
        PlannedChange(registered("kept").urn, SECRET, "kept", "same"),
        PlannedChange(gone.urn, gone.type, "old", "delete", (), note, blocked=blocked),
    ]


def test_json_inputs_mask_secrets_and_show_archives_by_hash(tmp_path):
    planned = plan_changes([registered("f", FUNCTION, code=archive(tmp_path, "print(1)\n"),
                                       secretString=SecretValue("hunter2"), timeout=30.0)], None, TODAY)[0]
    assert planned.inputs["secretString"] == "[secret]" and planned.inputs["timeout"] == 30.0
    assert set(planned.inputs["code"]["archive"]) == {"sha256", "assets"}
    assert "hunter2" not in repr(planned.inputs) and str(tmp_path) not in repr(planned.inputs)


@pytest.mark.parametrize(("before", "after", "change", "replace_properties"), [
    pytest.param({}, {"region": "eu-west-1"}, "replace", ("region",), id="moved-to-another-region"),
    pytest.param({"region": "eu-west-1"}, {"region": "eu-central-1"}, "replace", ("region",), id="region-changed"),
    pytest.param({"region": "eu-west-1"}, {}, "replace", ("region",), id="back-to-the-providers-region"),
    pytest.param({}, {"region": "us-east-1"}, "same", (), id="the-providers-region-made-explicit"),
    pytest.param({"region": "us-east-1"}, {}, "same", (), id="explicit-providers-region-dropped"),
])
def test_a_region_change_replaces_the_resource(before, after, change, replace_properties):
    """pulumi-aws 7: a resource's region is its own `region` input, else its provider's, and a change of it
    replaces the resource; the same region in effect is no change at all (terraform-provider-aws
    region.go forceNewIfRegionChanges, and defaultRegion planning the provider's region)."""
    provider = registered("prod-us-east-1", AWS, region="us-east-1")
    base = [provider, registered("s", provider=provider.urn, name="x", **before)]
    current = [provider, registered("s", provider=provider.urn, name="x", **after)]
    planned = {change.name: change for change in plan_changes(current, base, TODAY)}["s"]
    assert (planned.change, planned.replace_properties) == (change, replace_properties)


def test_a_region_change_in_a_users_program_previews_as_a_replacement():
    import pulumi_aws as aws

    from secrets_layout.engine.simulation import simulate

    def program(region):
        def run() -> None:
            provider = aws.Provider("east", region="us-east-1")
            aws.secretsmanager.Secret("s", name="prod/x", region=region, opts=pulumi.ResourceOptions(provider=provider))
        return run

    before, after = (simulate(program(region), project="p", stack="prod").resources for region in (None, "eu-west-1"))
    planned = {change.name: change for change in plan_changes(after, before, TODAY)}["s"]
    assert (planned.change, planned.replace_properties) == ("replace", ("region",))
