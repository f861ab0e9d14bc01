"""Adapter for a generic HTTP key-management API: issue, check and revoke API keys with bearer auth."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar
from urllib.parse import quote

from adapters import AdapterSettings, AnswerUnusable, ConfigurationError, CredentialRejected, ProviderError
from provider_http import JSON_TYPE, bearer, is_bearer_token, is_header_safe, send
from secret_form import MalformedSecretValue, dumps_like, looks_like_json, parse_json_object

logger = logging.getLogger("rotation.http_api_key")

KEY_FIELD = "api_key"
KEY_ID_FIELD = "key_id"
# draft-ietf-httpapi-idempotency-key-header: a POST carrying the same key is answered as the first one was.
DEFAULT_IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_OFF = ("off", "none")
# RFC 9110 section 5.1: a field name is a token.
HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


@dataclass(frozen=True)
class ApiKeyValue:
    """A stored API key: a plaintext SecretString, or a JSON object with `api_key` and optionally `key_id`."""

    api_key: str = field(repr=False)
    key_id: str | None
    # The whole SecretString, kept so that rotation writes the new key in the same form.
    text: str = field(repr=False)
    # The JSON object around the key, kept so rotation preserves its other fields; None for plaintext.
    document: Mapping[str, object] | None = field(repr=False)

    @classmethod
    def parse(cls, secret_string: str) -> ApiKeyValue:
        if not secret_string.strip():
            raise MalformedSecretValue("the API key secret value is empty")
        if not looks_like_json(secret_string):
            # `--secret-string file://key.txt` stores the file's final line break. A bearer token never
            # holds white space (RFC 6750 section 2.1), so the key is the text between it.
            return cls(checked_key(secret_string.strip()), None, secret_string, None)
        # A value that opens like JSON but does not parse is refused: sent whole, it would be a bearer token.
        try:
            document = parse_json_object(secret_string, "API key")
        except MalformedSecretValue as error:
            raise MalformedSecretValue(
                f"{error}; a value that opens with {{, [ or \" is read as JSON and never sent as a key: "
                "fix the JSON, or store the bare key"
            ) from None
        api_key = document.get(KEY_FIELD)
        if not isinstance(api_key, str) or not api_key:
            raise MalformedSecretValue(f"the JSON secret value has no non-empty string field '{KEY_FIELD}'")
        return cls(checked_key(api_key), key_id_from(document.get(KEY_ID_FIELD)), secret_string, document)

    def replaced_by(self, api_key: str, key_id: str | None) -> str:
        """The same shape and layout holding another key: readers never see the format change under them."""
        if self.document is None:
            leading = self.text[: len(self.text) - len(self.text.lstrip())]
            trailing = self.text[len(self.text.rstrip()) :]
            return leading + api_key + trailing
        document = dict(self.document)
        document[KEY_FIELD] = api_key
        if key_id is None:
            document.pop(KEY_ID_FIELD, None)
        else:
            document[KEY_ID_FIELD] = key_id
        return dumps_like(self.text, document)


def checked_key(api_key: str) -> str:
    # http.client would refuse the header and quote it whole in its error; refusing here names nothing.
    if not is_header_safe(api_key):
        raise MalformedSecretValue(
            "the API key in the secret value holds a line break, another control character or a non-ASCII "
            "character, which no HTTP header can carry; store the key without"
        )
    return api_key


def key_id_from(value: object) -> str | None:
    """A key id is a string or an integer; anything else names no key."""
    if isinstance(value, bool) or not isinstance(value, (str, int)) or value == "":
        return None
    return str(value)


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
    # The header carrying the rotation's ClientRequestToken on create; None sends none.
    idempotency_header: str | None = DEFAULT_IDEMPOTENCY_HEADER

    @classmethod
    def from_settings(cls, settings: AdapterSettings) -> HttpApiKeyAdapter:
        create_url = settings.url("create-url")
        idempotency_header = settings.get("idempotency-header", DEFAULT_IDEMPOTENCY_HEADER)
        if idempotency_header.lower() in IDEMPOTENCY_OFF:
            idempotency_header = None
        elif not HEADER_NAME.fullmatch(idempotency_header):
            raise ConfigurationError(
                "setting 'idempotency-header' must be an HTTP header name (letters, digits, '-') or 'off'"
            )
        return cls(
            create_url=create_url,
            verify_url=settings.url("verify-url"),
            revoke_url=settings.url("revoke-url", required=False) or create_url,
            response_key_field=settings.get("response-key-field", KEY_FIELD),
            response_key_id_field=settings.get("response-key-id-field", KEY_ID_FIELD),
            timeout_seconds=settings.timeout_seconds(),
            idempotency_header=idempotency_header,
        )

    def issue(self, current_value: str, idempotency_key: str | None = None) -> str:
        current = ApiKeyValue.parse(current_value)
        headers = {**bearer(current.api_key), "Accept": JSON_TYPE, "Content-Type": JSON_TYPE}
        if self.idempotency_header and idempotency_key:
            headers[self.idempotency_header] = idempotency_key
        response = send("create", "POST", self.create_url, headers=headers, body=b"{}", timeout=self.timeout_seconds)
        response.raise_unless_ok()
        try:
            answer = response.json_object()
        except ProviderError as error:
            raise type(error)(f"{error}; {self._unrevocable_hint()}") from None
        key_id = key_id_from(answer.get(self.response_key_id_field))
        new_key = answer.get(self.response_key_field)
        if not isinstance(new_key, str) or not new_key:
            problem = f"has no non-empty string field '{self.response_key_field}'"
        elif not is_bearer_token(new_key):
            problem = f"field '{self.response_key_field}' holds white space, control or non-ASCII characters"
        else:
            return current.replaced_by(new_key, key_id)
        raise AnswerUnusable(f"create: the answer {problem}; {self._withdraw(key_id, current)}")

    def credential(self, value: str) -> str | None:
        return ApiKeyValue.parse(value).api_key

    def verify(self, candidate_value: str) -> None:
        candidate = ApiKeyValue.parse(candidate_value)
        response = self._ask_about(candidate, "verify")
        if response.status in (401, 403):
            raise CredentialRejected(f"verify: {response.location} answered HTTP {response.status}: key refused")
        response.raise_unless_ok()

    def revoke(self, retiring_value: str, current_value: str) -> None:
        retiring = ApiKeyValue.parse(retiring_value)
        key_id = retiring.key_id or self._key_id_of(retiring)
        if key_id is None:
            logger.info("revoke: the provider no longer accepts the retiring key; nothing to revoke")
            return
        self._revoke_key(key_id, ApiKeyValue.parse(current_value))

    def _revoke_key(self, key_id: str, current: ApiKeyValue) -> None:
        response = send(
            "revoke",
            "DELETE",
            f"{self.revoke_url.rstrip('/')}/{quote(key_id, safe='')}",
            headers={**bearer(current.api_key), "Accept": JSON_TYPE},
            timeout=self.timeout_seconds,
        )
        if response.status in (404, 410):
            logger.info("revoke: the provider has no key %s any more; nothing to revoke", key_id)
            return
        response.raise_unless_ok()

    def _withdraw(self, key_id: str | None, current: ApiKeyValue) -> str:
        """Revoke the key an unusable create answer issued, if it named one; say what became of it."""
        if key_id is None:
            return self._unrevocable_hint()
        try:
            self._revoke_key(key_id, current)
        except ProviderError as error:
            return f"revoking key {key_id} it issued failed too ({error}); revoke it at the provider by hand"
        return f"revoked key {key_id} it issued"

    def _unrevocable_hint(self) -> str:
        if self.idempotency_header:
            return (
                f"nothing names a key to revoke; the retry sends the same {self.idempotency_header}, "
                "so a provider that honours it answers with the same key instead of making another"
            )
        return "nothing names a key to revoke; check the provider for a key made just now"

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
