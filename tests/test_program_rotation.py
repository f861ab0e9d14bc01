"""After a rotation, the next `pulumi up` writes no value back and replaces nothing.

A rotation creates new versions in AWS and moves AWSCURRENT; Pulumi never sees it. What the
next `pulumi up` does is decided by the program's new inputs against the inputs it recorded
last time: if the version's `secret_string` input changed, the provider would replace the
version (secret_string forces a new version) and AWSCURRENT would move back to a stale value.

So these tests deploy twice, the second time with everything that could change a value
changed (the template of a generated database secret, the config value of an API key), and
compute the engine's plan: input differences, minus the properties in ignore_changes.
"""

from __future__ import annotations

from pathlib import Path

from components_support import RANDOM_PASSWORD, ROOT, SECRET_CONFIG, SECRET_VERSION, planned_changes, run_program
from preview_support import STRIPE_ROTATION




def declaration_copy(tmp_path: Path, stack: str, name: str, replacements: dict[str, str]) -> str:
    text = (ROOT / "environments" / f"{stack}.yaml").read_text()
    for old, new in replacements.items():
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_a_rotated_value_is_not_written_back(tmp_path: Path):
    first = run_program("prod")
    edited = declaration_copy(tmp_path, "prod", "prod.yaml", {"host: prod-db.internal": "host: prod-db-2.internal"})
    second = run_program(
        "prod",
        config={"secrets-layout:declaration": edited},
        secret_config={**SECRET_CONFIG["prod"], "stripeApiKey": "sk_live_rotated_since"},
    )

    # The values did change underneath...
    old_value = first.get("prod/database/credentials-version").inputs["secretString"].reveal()
    new_value = second.get("prod/database/credentials-version").inputs["secretString"].reveal()
    assert old_value != new_value
    # ...and yet the plan is empty: no update, no replacement, nothing written back.
    assert planned_changes(first, second) == {}


def test_the_generated_password_never_changes_by_itself():
    """RandomPassword has no keepers: same settings, same resource, same value on every deploy."""
    first, second = run_program("prod"), run_program("prod")
    for password in first.by_type(RANDOM_PASSWORD):
        assert "keepers" not in password.inputs
        assert second.get(password.name).inputs == password.inputs
    assert planned_changes(first, second) == {}


def test_without_rotation_a_changed_value_is_deployed(tmp_path: Path):
    """The counter-case: ignore_changes is what protects rotating secrets, and only them."""
    declaration = declaration_copy(
        tmp_path,
        "dev",
        "dev.yaml",
        {STRIPE_ROTATION: "rotation: {enabled: false, reason: rotated by hand}\n"},
    )
    first = run_program("dev", config={"secrets-layout:declaration": declaration})
    second = run_program(
        "dev",
        config={"secrets-layout:declaration": declaration},
        secret_config={"stripeApiKey": "sk_test_new_value"},
    )
    version = second.get("dev/payments/stripe-api-key-version")
    assert version.type == SECRET_VERSION
    assert version.ignore_changes == ()
    assert "versionStages" not in version.inputs
    assert planned_changes(first, second) == {version.urn: {"secretString"}}
