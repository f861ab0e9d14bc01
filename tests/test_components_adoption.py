"""Adopting an existing secret in two reviewed steps (issue 9, finding 8).

Step 1 (`adopt:` present) imports the secret with its live settings and creates nothing else, so
the import can neither fail on a difference nor rewrite the owner's key, replicas, policy or
rotation. Step 2 (`adopt:` removed) keeps the import ID and applies the declaration; what it
changes is what `preview --base` shows. Why: the engine imports by reading the resource, copying
ignore_changes properties from the live inputs, and diffing; a difference fails the import on older
CLIs and is applied in the same run on newer ones (pulumi/pulumi developer-docs/architecture/import.md;
pulumi/pulumi#19339; pulumi/docs#16580).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from secrets_layout.components.secret_settings import adoption_ignore_changes
from components_support import (
    ROOT,
    SECRET,
    SECRET_POLICY,
    SECRET_ROTATION,
    SECRET_VERSION,
    planned_changes,
    run_program,
)
from declaration_support import HEADER, declaration, issues_of
from secrets_layout.declaration.models import Adopt

NAME = "prod/legacy/partner-token"
IMPORT_ID = "arn:aws:secretsmanager:us-east-1:111111111111:secret:prod/legacy/partner-token-AbCdEf"
LIVE_KEY = "arn:aws:kms:us-east-1:111111111111:key/5f8a2c1e-3b4d-4e6f-8a9b-0c1d2e3f4a5b"


@pytest.mark.parametrize(("adopt", "ignored"), [
    pytest.param({"kms_key_id": LIVE_KEY, "description": "d", "replicas": [], "tags": {"owner": "x"}},
                 ["recovery_window_in_days"], id="everything known"),
    pytest.param({}, ["recovery_window_in_days", "kms_key_id", "description", "replicas", "tags"], id="nothing known"),
    pytest.param({"replicas": [], "tags": {}}, ["recovery_window_in_days", "kms_key_id", "description"],
                 id="no replicas and no tags are known values"),
])
def test_what_adoption_leaves_to_the_live_secret(adopt, ignored):
    assert adoption_ignore_changes(Adopt.model_validate(adopt)) == ignored


ADOPTED = """\
secrets:
  - name: prod/legacy/partner-token
    kind: oauth-token
    value: {external: true}
    rotation: {lambda_arn: "arn:aws:lambda:us-east-1:111111111111:function:partner-rotator", every_days: 60}
    import_id: "arn:aws:secretsmanager:us-east-1:111111111111:secret:prod/legacy/partner-token-AbCdEf"
    adopt:
      kms_key_id: "arn:aws:kms:us-east-1:111111111111:key/5f8a2c1e-3b4d-4e6f-8a9b-0c1d2e3f4a5b"
      replicas: [{region: us-west-2}]
      rotates: true
"""
"""Lines 6-15: value on 9, import_id on 11, adopt on 12, its kms_key_id on 13, replicas 14, rotates 15."""


@pytest.mark.parametrize(("text", "line", "path", "message"), [
    pytest.param(declaration(ADOPTED.replace('    import_id: "arn:aws:secretsmanager:us-east-1:111111111111:secret:prod/legacy/partner-token-AbCdEf"\n', "")),
                 12, "secrets[0].adopt",
                 "adopt describes the live settings of a secret being imported; add import_id: <its ARN> or remove adopt",
                 id="adopt-without-import"),
    pytest.param(declaration(ADOPTED.replace("kind: oauth-token", "kind: api-key").replace("value: {external: true}", "value: {generate: {length: 40}}")),
                 9, "secrets[0].value.generate",
                 "an adopted secret keeps its live value; a generated value would replace the credential its owner put "
                 "there: use value: {external: true} (or from_config to set a value on purpose)",
                 id="generated-value-over-the-live-one"),
    pytest.param(declaration(ADOPTED.replace('    rotation: {lambda_arn: "arn:aws:lambda:us-east-1:111111111111:function:partner-rotator", every_days: 60}\n', "")),
                 14, "secrets[0].adopt.rotates",
                 "the live rotation is imported as the declared rotation's resource; declare the rotation the secret will "
                 "have (rotation: {lambda_arn: ..., every_days: N}) or set rotates: false",
                 id="live-rotation-without-declared-rotation"),
    pytest.param(declaration(ADOPTED.replace("kms:us-east-1", "kms:eu-west-1")),
                 13, "secrets[0].adopt.kms_key_id",
                 "the secret is in us-east-1, so its key is too; copy the key ARN shown by aws secretsmanager "
                 "describe-secret (KmsKeyId)",
                 id="live-key-in-another-region"),
    pytest.param(declaration(ADOPTED.replace("[{region: us-west-2}]", "[{region: us-east-1}]")),
                 14, "secrets[0].adopt.replicas[0].region",
                 "us-east-1 is the primary region or listed twice; list each live replica once",
                 id="live-replica-in-the-primary-region"),
])
def test_invalid_adoptions(text, line, path, message):
    assert [(issue.line, issue.path, issue.message) for issue in issues_of(text)] == [(line, path, message)]


def test_a_valid_adoption():
    assert issues_of(declaration(ADOPTED)) == []


def migrated_prod(tmp_path: Path) -> str:
    """environments/prod.yaml after step 2: the adopt block removed, nothing else."""
    text = (ROOT / "environments" / "prod.yaml").read_text()
    start = text.index("    adopt:")
    end = text.index("      rotates: true\n", start) + len("      rotates: true\n")
    path = tmp_path / "prod.yaml"
    path.write_text(text[:start] + text[end:])
    return str(path)


@pytest.fixture(scope="module")
def steps(tmp_path_factory):
    return run_program("prod"), run_program("prod", config={"secrets-layout:declaration": migrated_prod(tmp_path_factory.mktemp("step2"))})


def registered(run, kind):
    return [resource.name for resource in run.by_type(kind) if resource.name.startswith(NAME)]


def test_step_one_imports_the_secret_as_it_is_and_creates_nothing_else(steps):
    adopting, _ = steps
    secret = adopting.get(f"{NAME}-secret")
    assert secret.import_id == IMPORT_ID
    assert (secret.inputs["kmsKeyId"], secret.inputs["tags"], secret.inputs["replicas"]) == (
        LIVE_KEY, {"owner": "partner-team", "environment": "prod"}, [])
    assert secret.inputs["description"] == "Partner OAuth token (owned by the partner team)"
    assert secret.ignore_changes == ("recoveryWindowInDays",)
    assert secret.protect is True
    # The owner's policy and value stay; the live rotation is imported, not rewritten.
    assert registered(adopting, SECRET_POLICY) == [] and registered(adopting, SECRET_VERSION) == []
    rotation = adopting.get(f"{NAME}-rotation")
    assert rotation.import_id == IMPORT_ID
    assert rotation.ignore_changes == ("rotationLambdaArn", "rotationRules", "rotateImmediately")
    assert adopting.outputs["secrets"][NAME]["arn_by_region"] == {"us-east-1": IMPORT_ID}


def test_step_two_migrates_to_the_declaration_and_shows_every_change(steps):
    adopting, migrated = steps
    secret = migrated.get(f"{NAME}-secret")
    # Still the same import ID: the engine treats a resource already in the state under it as any other.
    assert secret.import_id == IMPORT_ID and secret.ignore_changes == ()
    assert secret.inputs["kmsKeyId"] == migrated.get("prod-kms-us-east-1-key").outputs["arn"]
    assert migrated.get(f"{NAME}-rotation").import_id is None
    changes = planned_changes(adopting, migrated)
    urn = {resource.name: resource.urn for resource in migrated.resources}
    assert changes[urn[f"{NAME}-secret"]] == {"description", "kmsKeyId", "replicas", "tags"}
    assert changes[urn[f"{NAME}-policy"]] == {"<created>"}
    # The live rotation was never known here (ignored in step 1): the offline preview cannot show how the
    # declared one differs from it; `pulumi preview` against the account does, from the imported state.
    assert urn[f"{NAME}-rotation"] not in changes
    # Nothing outside the adopted secret moves.
    assert {u for u in changes if NAME not in u} == set()


def test_step_two_of_the_prod_example_is_valid(tmp_path):
    from secrets_layout.declaration.loader import load_declaration

    secret = next(s for s in load_declaration(migrated_prod(tmp_path)).declaration.secrets if s.name == NAME)
    assert secret.adopt is None and secret.import_id == IMPORT_ID


def test_the_migration_does_not_deploy_before_the_adoption_shows_it(steps):
    """Step 1 registers fewer resources for the secret than step 2: the difference is the migration."""
    adopting, migrated = steps
    assert sorted(registered(migrated, SECRET_POLICY)) == [f"{NAME}-policy"]
    assert registered(adopting, SECRET) == registered(migrated, SECRET) == [f"{NAME}-secret"]
    assert registered(adopting, SECRET_ROTATION) == registered(migrated, SECRET_ROTATION)
