"""Pytest fixtures for Secrets Manager as moto in server mode; test modules import them by name to use them."""

import boto3
import pytest

from rotation_support.secrets_manager import REGION, MotoSecretsManager


@pytest.fixture(scope="module")
def secrets_manager():
    with pytest.MonkeyPatch.context() as patches, MotoSecretsManager().running(patches) as service:
        yield service


@pytest.fixture
def client(secrets_manager, monkeypatch):
    """The function's environment: boto3 finds moto through AWS_ENDPOINT_URL_SECRETS_MANAGER."""
    for name in ("AWS_PROFILE", "SECRETS_MANAGER_ENDPOINT", "AWS_ENDPOINT_URL", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", secrets_manager.endpoint_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
    monkeypatch.setenv("ROTATION_ALLOWED_HOSTS", "127.0.0.1")
    return boto3.client("secretsmanager")
