"""The database's own stack, for a layout secret with `rotation: {managed: ..., bootstrap: database-reads-secret}`.

The layout generates the password in the security account; nothing there can reach into the
database to set it. This stack, deployed in the database's account, creates the database with
the secret's current username and password, read cross-account, so that readers and the first
rotation find a password the database accepts. From then on the AWS rotation function changes
the password in the database and in the secret together, so the stack ignores later changes of
`password` instead of writing an older value back.

Why not RDS's own `manage_master_user_password`: RDS then generates the password itself and
keeps it in a secret it creates in the database's account
(https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-secrets-manager.html); it cannot take
its password from a secret in another account, which is where this layout keeps it.

Cross-account access needs both sides (https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_examples_cross.html):
- in the layout, the role that deploys this stack is a reader of the secret (`readers:` with its
  account and role name), which puts it in the secret's and the key's resource policy;
- that role's own policy allows GetSecretValue on the secret and kms:Decrypt through Secrets
  Manager (`secrets-layout consumer-policy SECRET --account NAME` prints it).
The secret is named by its full ARN (the `secrets` output of the layout's stack): a name alone is
looked up in the caller's own account.

Config:
    credentialsSecretArn   full ARN of the secret (pulumi stack output secrets --stack <env>)
    instanceClass          default db.t4g.micro
    allocatedStorage       default 20 (GiB)
"""

from __future__ import annotations

import json
import re

import pulumi
import pulumi_aws as aws

SECRET_ARN = re.compile(r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+-[A-Za-z0-9]{6}$")
"""A complete secret ARN: AWS appends "-" and six characters to the name."""

RDS_ENGINES = {"postgres": "postgres", "mysql": "mysql", "mariadb": "mariadb", "oracle": "oracle-se2", "sqlserver": "sqlserver-ex"}
"""The secret's `engine` (what the AWS rotation function checks) -> the RDS engine to create."""


def secret_arn(value: str) -> str:
    """The configured secret ARN, refused unless complete (a partial ARN or a name is not enough cross-account)."""
    if not SECRET_ARN.match(value):
        raise ValueError(
            "credentialsSecretArn must be the secret's complete ARN, "
            "arn:aws:secretsmanager:<region>:<security account>:secret:<name>-XXXXXX; "
            "take it from `pulumi stack output secrets` of the layout's stack"
        )
    return value


def database_settings(secret_string: str) -> dict[str, object]:
    """The database's settings from the secret's JSON (the layout's value.template plus the password)."""
    document = json.loads(secret_string)
    engine = RDS_ENGINES.get(str(document.get("engine")))
    if engine is None:
        raise ValueError(f"the secret's engine must be one of {', '.join(sorted(RDS_ENGINES))}")
    settings: dict[str, object] = {"engine": engine, "username": document["username"], "password": document["password"]}
    if "port" in document:
        settings["port"] = int(document["port"])
    if "dbname" in document and engine not in ("sqlserver-ex",):
        settings["db_name"] = document["dbname"]
    return settings


def main() -> None:
    config = pulumi.Config()
    arn = secret_arn(config.require("credentialsSecretArn"))
    # Read during preview too, so the plan shows the database the secret describes.
    version = aws.secretsmanager.get_secret_version(secret_id=arn, version_stage="AWSCURRENT")
    settings = database_settings(version.secret_string)
    database = aws.rds.Instance(
        "database",
        engine=settings["engine"],
        instance_class=config.get("instanceClass") or "db.t4g.micro",
        allocated_storage=config.get_int("allocatedStorage") or 20,
        username=settings["username"],
        # Only the password is secret: it stays encrypted in this stack's state as well.
        password=pulumi.Output.secret(settings["password"]),
        port=settings.get("port"),
        db_name=settings.get("db_name"),
        storage_encrypted=True,
        skip_final_snapshot=False,
        final_snapshot_identifier="database-final",
        # The rotation function owns the password after the first deployment.
        opts=pulumi.ResourceOptions(ignore_changes=["password"]),
    )
    pulumi.export("endpoint", database.address)


if __name__ == "__main__":
    main()
