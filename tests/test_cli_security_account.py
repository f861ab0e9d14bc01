"""`validate`: account IDs in ARNs that must be the security account's are checked against
security_account, at the ARN's line (issue 21: a typo in security_account passed until `pulumi up`).

The ARNs: import_id (Pulumi imports into the stack's account), the live key ARNs of `adopt:`, and a
rotation's lambda_arn. A reader account's deploy_role_arn names its own account (checked against it).
"""

from __future__ import annotations

import pytest

from cli_support import assert_no_traceback, run_cli, run_main

SECURITY, OTHER = "111111111111", "999999999999"

DECLARATION = """\
environment: prod
security_account: "111111111111"
primary_region: us-east-1
accounts:
  prod-app: {id: "222222222222", deploy_role_arn: "arn:aws:iam::222222222222:role/Deployer"}
defaults:
  rotation: {lambda_arn: "arn:aws:lambda:us-east-1:111111111111:function:rotator", every_days: 30}
secrets:
  - name: prod/app/legacy
    kind: api-key
    value: {external: true}
    import_id: "arn:aws:secretsmanager:us-east-1:111111111111:secret:prod/app/legacy-AbCdEf"
    adopt:
      kms_key_id: "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
      replicas:
        - {region: us-west-2, kms_key_id: "arn:aws:kms:us-west-2:111111111111:key/5678abcd-12ab-34cd-56ef-1234567890ab"}
    readers: [{account: prod-app, roles: [AppRole]}]
  - name: prod/app/other
    kind: api-key
    value: {external: true}
    readers: [{account: prod-app, roles: [AppRole]}]
"""

WHY = ("and everything this declaration adopts or rotates with is in the security account: fix the account ID here, "
       "or security_account if that is the one mistyped")


def written(tmp_path, text: str):
    path = tmp_path / "prod.yaml"
    path.write_text(text)
    return path


def replaced_on_line(text: str, line: int, old: str, new: str) -> str:
    lines = text.splitlines(keepends=True)
    assert old in lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(old, new)
    return "".join(lines)


def test_the_declaration_of_these_cases_is_valid(tmp_path):
    result = run_main("validate", "--no-policy-config", str(written(tmp_path, DECLARATION)))
    assert (result.returncode, result.stderr) == (0, ""), result.stdout


@pytest.mark.parametrize(
    ("line", "column", "path"),
    [
        (12, 16, "secrets[0].import_id"),
        (14, 19, "secrets[0].adopt.kms_key_id"),
        (16, 43, "secrets[0].adopt.replicas[0].kms_key_id"),
        # Under defaults: once, at the line that wrote it (named by the first secret that inherits it),
        # not once per secret.
        (7, 26, "secrets[0].rotation.lambda_arn"),
    ],
)
def test_an_arn_of_another_account_is_reported_at_its_line(tmp_path, line, column, path):
    file = written(tmp_path, replaced_on_line(DECLARATION, line, SECURITY, OTHER))
    result = run_main("validate", "--no-policy-config", str(file))
    assert result.returncode == 1
    assert result.stdout == (f"{file}:{line}:{column}: {path}: this ARN is in account {OTHER}, but security_account "
                             f"is {SECURITY}, {WHY}\n")


def test_a_mistyped_security_account_is_reported_at_every_arn_that_names_the_real_one(tmp_path):
    file = written(tmp_path, DECLARATION.replace('security_account: "111111111111"', 'security_account: "111111111112"'))
    result = run_cli("validate", "--no-policy-config", str(file))
    assert result.returncode == 1
    message = f"this ARN is in account {SECURITY}, but security_account is 111111111112, {WHY}"
    assert result.stdout.splitlines() == [
        f"{file}:7:26: secrets[0].rotation.lambda_arn: {message}",
        f"{file}:12:16: secrets[0].import_id: {message}",
        f"{file}:14:19: secrets[0].adopt.kms_key_id: {message}",
        f"{file}:16:43: secrets[0].adopt.replicas[0].kms_key_id: {message}",
    ]
    assert_no_traceback(result)


def test_a_deploy_role_names_its_own_account_not_the_security_account(tmp_path):
    file = written(tmp_path, replaced_on_line(DECLARATION, 5, "arn:aws:iam::222222222222", f"arn:aws:iam::{SECURITY}"))
    result = run_main("validate", "--no-policy-config", str(file))
    assert result.returncode == 1
    assert result.stdout == (f"{file}:5:51: accounts.prod-app.deploy_role_arn: deploy_role_arn must be a role in this "
                             "account; fix the account ID in the ARN\n")
