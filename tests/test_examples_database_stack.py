"""examples/database-stack: the database's own stack takes its first password from the layout's secret.

Runs the example program on the SDK mock engine (secrets_layout.engine.simulation); the cross-account read
(aws.secretsmanager.getSecretVersion) is answered here as AWS would, with the secret's JSON.
"""

from __future__ import annotations

import json
import runpy
from pathlib import Path

import pytest

from secrets_layout.engine.fake_cloud import FakeCloud
from secrets_layout.engine.simulation import simulate

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "database-stack" / "__main__.py"
ARN = "arn:aws:secretsmanager:us-east-1:111111111111:secret:prod/database/credentials-AbCdEf"
GET_SECRET_VERSION = "aws:secretsmanager/getSecretVersion:getSecretVersion"
SECRET = {"username": "admin", "engine": "postgres", "host": "prod-db.internal", "port": 5432,
          "dbname": "production", "password": "generated-in-the-security-account"}


@pytest.fixture
def reads(monkeypatch):
    """getSecretVersion answered from SECRET; every call's arguments recorded."""
    calls = []
    answer_others = FakeCloud.call

    def call(self, args):
        if args.token != GET_SECRET_VERSION:
            return answer_others(self, args)
        calls.append(dict(args.args))
        return {"arn": args.args["secretId"], "id": args.args["secretId"], "secretId": args.args["secretId"],
                "secretString": json.dumps(SECRET), "versionId": "v1", "versionStage": "AWSCURRENT",
                "versionStages": ["AWSCURRENT"]}

    monkeypatch.setattr(FakeCloud, "call", call)
    return calls


def run_example(secret_arn: str):
    return simulate(EXAMPLE, project="database-stack", stack="prod",
                    config={"credentialsSecretArn": secret_arn}, account_id="222222222222")


def test_the_database_is_created_with_the_secrets_current_password(reads):
    run = run_example(ARN)
    assert reads == [{"secretId": ARN, "versionStage": "AWSCURRENT"}]
    database = run.get("database", "aws:rds/instance:Instance")
    assert database.inputs["password"].reveal() == SECRET["password"]
    assert "password" in database.secret_inputs
    assert (database.inputs["username"], database.inputs["engine"], database.inputs["port"], database.inputs["dbName"]) == (
        "admin", "postgres", 5432, "production")
    # After the first deployment the rotation function owns the password.
    assert database.ignore_changes == ("password",)


@pytest.mark.parametrize("configured", [
    pytest.param("prod/database/credentials", id="a name"),
    pytest.param("arn:aws:secretsmanager:us-east-1:111111111111:secret:prod/database/credentials", id="a partial ARN"),
])
def test_the_secret_is_named_by_its_complete_arn(reads, configured):
    with pytest.raises(ValueError, match="credentialsSecretArn must be the secret's complete ARN"):
        run_example(configured)
    assert reads == []


@pytest.mark.parametrize(("engine", "rds_engine"), [("postgres", "postgres"), ("mysql", "mysql"), ("oracle", "oracle-se2")])
def test_database_settings_follow_the_secrets_engine(engine, rds_engine):
    settings = runpy.run_path(str(EXAMPLE), run_name="example")  # no program run: only its functions
    values = settings["database_settings"](json.dumps({**SECRET, "engine": engine}))
    assert values["engine"] == rds_engine and values["password"] == SECRET["password"]
