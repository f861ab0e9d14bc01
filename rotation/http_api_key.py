"""Adapter for a generic HTTP key-management API: issue, check and revoke API keys with bearer auth."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar
from urllib.parse import quote

from adapters import AdapterSettings, ProviderError
from provider_http import JSON_TYPE, bearer, send

logger = logging.getLogger("rotation.http_api_key")

KEY_FIELD = "api_key"
KEY_ID_FIELD = "key_id"


@dataclass(frozen=True)
class ApiKeyValue:
    """A stored API key: a plaintext SecretString, or a JSON object with `api_key` and optionally `key_id`."""

    api_key: str = field(repr=False)
    key_id: str | None
    # The JSON object around the key, kept so rotation preserves its other fields; None for plaintext.
    document: Mapping[str, object] | None = field(repr=False)

    @classmethod
    def parse(cls, secret_string: str) -> ApiKeyValue:
        if not secret_string:
            raise ValueError("the API key secret value is empty")
        try:
            document = json.loads(secret_string)
        except ValueError:
            document = None
        if not isinstance(document, dict):
            return cls(secret_string, None, None)
        api_key = document.get(KEY_FIELD)
        if not isinstance(api_key, str) or not api_key:
            raise ValueError(f"the JSON secret value has no non-empty string field '{KEY_FIELD}'")
        key_id = document.get(KEY_ID_FIELD)
        return cls(api_key, None if key_id is None else str(key_id), document)

    def replaced_by(self, api_key: str, key_id: str | None) -> str:
        """The same shape holding another key: readers never see the format change under them."""
        if self.document is None:
            return api_key
        document = {name: value for name, value in self.document.items() if name != KEY_ID_FIELD}
        document[KEY_FIELD] = api_key
        if key_id is not None:
            document[KEY_ID_FIELD] = key_id
        return json.dumps(document)


@dataclass(frozen=True)
class HttpApiKeyAdapter:
    """POST create-url issues a key, GET verify-url checks one, DELETE <revoke-url>/<key id> revokes one.

    The key id is appended as a path segment rather than filled into a template because tag values
    cannot hold braces; revoke-url defaults to create-url, the usual REST collection.
    """

    name: ClassVar[str] = "http-api-key"

    create_url: str
    verify_url: str
    revoke_url: str
    response_key_field: str = KEY_FIELD
    response_key_id_field: str = KEY_ID_FIELD
    timeout_seconds: float = 10.0

    @classmethod
    def from_settings(cls, settings: AdapterSettings) -> HttpApiKeyAdapter:
        create_url = settings.url("create-url")
        return cls(
            create_url=create_url,
            verify_url=settings.url("verify-url"),
            revoke_url=settings.url("revoke-url", required=False) or create_url,
            response_key_field=settings.get("response-key-field", KEY_FIELD),
            response_key_id_field=settings.get("response-key-id-field", KEY_ID_FIELD),
            timeout_seconds=settings.timeout_seconds(),
        )

    def issue(self, current_value: str) -> str:
        current = ApiKeyValue.parse(current_value)
        response = send(
            "create",
            "POST",
            self.create_url,
            headers={**bearer(current.api_key), "Accept": JSON_TYPE, "Content-Type": JSON_TYPE},
            body=b"{}",
            timeout=self.timeout_seconds,
        )
        response.raise_unless_ok()
        answer = response.json_object()
        new_key = answer.get(self.response_key_field)
        if not isinstance(new_key, str) or not new_key:
            raise ProviderError(f"create: the answer has no non-empty string field '{self.response_key_field}'")
        key_id = answer.get(self.response_key_id_field)
        return current.replaced_by(new_key, None if key_id is None else str(key_id))

    def verify(self, candidate_value: str) -> None:
        candidate = ApiKeyValue.parse(candidate_value)
        self._ask_about(candidate, "verify").raise_unless_ok()

    def revoke(self, retiring_value: str, current_value: str) -> None:
        retiring = ApiKeyValue.parse(retiring_value)
        key_id = retiring.key_id or self._key_id_of(retiring)
        if key_id is None:
            logger.info("revoke: the provider no longer accepts the retiring key; nothing to revoke")
            return
        response = send(
            "revoke",
            "DELETE",
            f"{self.revoke_url.rstrip('/')}/{quote(key_id, safe='')}",
            headers={**bearer(ApiKeyValue.parse(current_value).api_key), "Accept": JSON_TYPE},
            timeout=self.timeout_seconds,
        )
        if response.status in (404, 410):
            logger.info("revoke: the provider has no key %s any more; nothing to revoke", key_id)
            return
        response.raise_unless_ok()

    def _key_id_of(self, key: ApiKeyValue) -> str | None:
        # A plaintext value has nowhere to record its key id, so ask the provider which key it is.
        response = self._ask_about(key, "identify")
        if response.status in (401, 403):
            return None
        response.raise_unless_ok()
        key_id = response.json_object().get(self.response_key_id_field)
        if key_id is None:
            raise ProviderError(
                f"identify: the verify-url answer has no field '{self.response_key_id_field}' naming the key"
            )
        return str(key_id)

    def _ask_about(self, key: ApiKeyValue, operation: str):
        return send(
            operation,
            "GET",
            self.verify_url,
            headers={**bearer(key.api_key), "Accept": JSON_TYPE},
            timeout=self.timeout_seconds,
        )
