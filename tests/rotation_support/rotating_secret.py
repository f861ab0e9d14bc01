"""A secret under rotation in the tests: created in moto, rotated by calling the Lambda handler step by step."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import rotation_support.lambda_code  # noqa: F401  (puts rotation/ on sys.path)
from rotation_support.fake_provider import FakeProvider
from rotation_support.secrets_manager import MotoSecretsManager, labels

import handler
from http_api_key import ApiKeyValue

STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")


@dataclass(frozen=True)
class SecretKind:
    """One shape of secret the function rotates, with what the fake provider needs to play along."""

    id: str
    adapter_tags: Callable[[str], dict[str, str]]
    initial_value: Callable[[FakeProvider], str]
    is_active: Callable[[FakeProvider, str], bool]


def api_key_tags(provider_url: str) -> dict[str, str]:
    return {
        "rotation-adapter": "http-api-key",
        "rotation-create-url": f"{provider_url}/v1/keys",
        "rotation-verify-url": f"{provider_url}/v1/whoami",
    }


def oauth2_tags(provider_url: str) -> dict[str, str]:
    return {
        "rotation-adapter": "oauth2-client-credentials",
        "rotation-token-url": f"{provider_url}/oauth/token",
        "rotation-verify-url": f"{provider_url}/oauth/me",
        "rotation-revoke-url": f"{provider_url}/oauth/revoke",
        "rotation-scope": "read:items write:items",
    }


def json_api_key(provider: FakeProvider) -> str:
    key = provider.add_key()
    return json.dumps({"api_key": key.api_key, "key_id": key.key_id, "base_url": "https://api.example.test"})


def oauth2_client(provider: FakeProvider) -> str:
    client_id, client_secret = provider.add_client()
    return json.dumps(
        {
            "client_id": client_id,
            "client_secret": client_secret,
            "access_token": provider.issue_token(),
            "expires_at": "2099-01-01T00:00:00Z",
        }
    )


PLAINTEXT_API_KEY = SecretKind(
    id="api-key-plaintext",
    adapter_tags=api_key_tags,
    initial_value=lambda provider: provider.add_key().api_key,
    is_active=lambda provider, value: provider.key_is_active(ApiKeyValue.parse(value).api_key),
)
JSON_API_KEY = SecretKind(
    id="api-key-json",
    adapter_tags=api_key_tags,
    initial_value=json_api_key,
    is_active=lambda provider, value: provider.key_is_active(ApiKeyValue.parse(value).api_key),
)
OAUTH2_TOKEN = SecretKind(
    id="oauth2-token",
    adapter_tags=oauth2_tags,
    initial_value=oauth2_client,
    is_active=lambda provider, value: provider.token_is_active(json.loads(value)["access_token"]),
)
ALL_KINDS = (PLAINTEXT_API_KEY, JSON_API_KEY, OAUTH2_TOKEN)


@dataclass(frozen=True)
class RotatingSecret:
    client: object
    service: MotoSecretsManager
    provider: FakeProvider
    kind: SecretKind
    name: str
    initial_version: str
    # The function's clock for every step (a FakeClock); None: the function's own, the system's.
    clock: Callable[[], datetime] | None = None

    @classmethod
    def create(
        cls,
        client,
        service: MotoSecretsManager,
        provider: FakeProvider,
        kind: SecretKind,
        *,
        tags: dict[str, str] | None = None,
        value: str | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> RotatingSecret:
        name = f"test/rotation/{kind.id}-{uuid.uuid4().hex[:12]}"
        tags = kind.adapter_tags(provider.base_url) if tags is None else tags
        created = client.create_secret(
            Name=name,
            SecretString=kind.initial_value(provider) if value is None else value,
            Tags=[{"Key": key, "Value": value} for key, value in tags.items()],
        )
        service.enable_rotation(name)
        return cls(client, service, provider, kind, name, created["VersionId"], clock)

    def begin(self) -> str:
        """Start a rotation as Secrets Manager does; returns the ClientRequestToken of the new version."""
        token = str(uuid.uuid4())
        self.service.begin_rotation(self.name, token)
        return token

    def invoke(self, step: str, token: str) -> None:
        event = {"SecretId": self.name, "ClientRequestToken": token, "Step": step}
        if self.clock is None:
            handler.lambda_handler(event, None)
        else:
            handler.lambda_handler(event, None, clock=self.clock)

    def rotate(self) -> str:
        token = self.begin()
        for step in STEPS:
            self.invoke(step, token)
        return token

    def edit_by_hand(self, value: str) -> str:
        """A console edit: PutSecretValue without stages, so AWS moves AWSCURRENT and AWSPREVIOUS itself."""
        return self.client.put_secret_value(SecretId=self.name, SecretString=value)["VersionId"]

    def labels(self) -> dict[str, list[str]]:
        """Version id -> its AWS staging labels (AWSCURRENT, AWSPENDING, AWSPREVIOUS); revocation marks left out."""
        aws_labels = {
            version: [label for label in stages if label.startswith("AWS")] for version, stages in self.all_labels().items()
        }
        return {version: stages for version, stages in aws_labels.items() if stages}

    def all_labels(self) -> dict[str, list[str]]:
        return labels(self.client, self.name)

    def marked(self) -> set[str]:
        """The versions carrying their own revocation mark, PENDING-REVOCATION-<version id>."""
        return {
            version for version, stages in self.all_labels().items() if f"PENDING-REVOCATION-{version}" in stages
        }

    def value(self, *, stage: str | None = None, version_id: str | None = None) -> str:
        selector = {"VersionStage": stage} if stage else {}
        if version_id:
            selector["VersionId"] = version_id
        return self.client.get_secret_value(SecretId=self.name, **selector)["SecretString"]

    def is_active(self, version_id: str) -> bool:
        """Does the provider still accept the credential stored in this version?"""
        return self.kind.is_active(self.provider, self.value(version_id=version_id))
