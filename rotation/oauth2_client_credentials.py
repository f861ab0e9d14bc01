"""Adapter for OAuth2 client credentials (RFC 6749 section 4.4): a rotation fetches a fresh access token."""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import ClassVar
from urllib.parse import quote_plus, urlencode

from adapters import (
    AdapterSettings,
    AnswerUnusable,
    ConfigurationError,
    CredentialExpired,
    CredentialRejected,
    ProviderError,
)
from provider_http import FORM_TYPE, JSON_TYPE, bearer, is_bearer_token, send
from secret_form import MalformedSecretValue, dumps_like, finite_number, parse_json_object

logger = logging.getLogger("rotation.oauth2_client_credentials")

CLIENT_AUTH_METHODS = ("client_secret_basic", "client_secret_post")
# An expires_in beyond ten years is not a lifetime but a broken answer (and past datetime's range soon after).
LONGEST_TOKEN_LIFETIME = timedelta(days=3650)


@dataclass(frozen=True)
class OAuthClientValue:
    """A stored JSON object: client_id, client_secret, access_token, expires_at (ISO 8601 UTC), other fields kept."""

    document: Mapping[str, object] = field(repr=False)
    # The whole SecretString, kept so that rotation writes the new token in the same layout.
    text: str = field(repr=False)

    @classmethod
    def parse(cls, secret_string: str) -> OAuthClientValue:
        document = parse_json_object(secret_string, "OAuth2")
        for required in ("client_id", "client_secret"):
            if not isinstance(document.get(required), str) or not document[required]:
                raise MalformedSecretValue(f"the OAuth2 secret value has no non-empty string field '{required}'")
        return cls(document, secret_string)

    @property
    def client_id(self) -> str:
        return self.document["client_id"]

    @property
    def client_secret(self) -> str:
        return self.document["client_secret"]

    @property
    def access_token(self) -> str | None:
        token = self.document.get("access_token")
        return token if isinstance(token, str) and token else None

    @property
    def expires_at(self) -> datetime | None:
        return parse_instant(self.document.get("expires_at"))

    def with_token(self, access_token: str, expires_at: datetime | None, token_type: str | None) -> str:
        document = dict(self.document)
        document["access_token"] = access_token
        document["expires_at"] = None if expires_at is None else format_instant(expires_at)
        if token_type is not None:
            document["token_type"] = token_type
        return dumps_like(self.text, document)


@dataclass(frozen=True)
class OAuth2ClientCredentialsAdapter:
    """POST token-url issues a token; verify-url (optional) checks it; revoke-url (optional, RFC 7009) revokes it."""

    name: ClassVar[str] = "oauth2-client-credentials"

    token_url: str
    scope: str | None = None
    verify_url: str | None = None
    revoke_url: str | None = None
    client_auth: str = "client_secret_basic"
    timeout_seconds: float = 10.0

    @classmethod
    def from_settings(cls, settings: AdapterSettings) -> OAuth2ClientCredentialsAdapter:
        client_auth = settings.get("client-auth", "client_secret_basic")
        if client_auth not in CLIENT_AUTH_METHODS:
            raise ConfigurationError(f"setting 'client-auth' must be one of {', '.join(CLIENT_AUTH_METHODS)}")
        return cls(
            token_url=settings.url("token-url"),
            scope=settings.get("scope"),
            verify_url=settings.url("verify-url", required=False),
            revoke_url=settings.url("revoke-url", required=False),
            client_auth=client_auth,
            timeout_seconds=settings.timeout_seconds(),
        )

    def issue(self, current_value: str, idempotency_key: str | None = None) -> str:
        # RFC 6749 defines no idempotency for the token endpoint; an extra token is harmless and lapses.
        client = OAuthClientValue.parse(current_value)
        form = {"grant_type": "client_credentials"}
        if self.scope:
            form["scope"] = self.scope
        response = self._post_as_client("token", self.token_url, client, form)
        response.raise_unless_ok()
        answer = response.json_object()
        access_token = answer.get("access_token")
        if not isinstance(access_token, str) or not access_token:
            raise AnswerUnusable("token: the answer has no non-empty string field 'access_token'")
        problem = None
        lifetime = self._lifetime(answer)
        if not is_bearer_token(access_token):
            problem = "field 'access_token' holds white space, control or non-ASCII characters"
        elif lifetime is False:
            problem = "field 'expires_in' is not a number of seconds between 0 and ten years"
        if problem is not None:
            raise AnswerUnusable(f"token: the answer {problem}; {self._withdraw(access_token, client)}")
        expires_at = None if lifetime is None else datetime.now(timezone.utc) + lifetime
        token_type = answer.get("token_type")
        return client.with_token(access_token, expires_at, token_type if isinstance(token_type, str) else None)

    def credential(self, value: str) -> str | None:
        return OAuthClientValue.parse(value).access_token

    def verify(self, candidate_value: str) -> None:
        candidate = OAuthClientValue.parse(candidate_value)
        if candidate.access_token is None:
            raise ProviderError("verify: the pending value holds no access_token")
        expires_at = candidate.expires_at
        if expires_at is not None and expires_at <= datetime.now(timezone.utc):
            raise CredentialExpired("verify: the pending access token has already expired")
        if self.verify_url is None:
            return
        response = send(
            "verify",
            "GET",
            self.verify_url,
            headers={**bearer(candidate.access_token), "Accept": JSON_TYPE},
            timeout=self.timeout_seconds,
        )
        if response.status in (401, 403):
            raise CredentialRejected(f"verify: {response.location} answered HTTP {response.status}: token refused")
        response.raise_unless_ok()

    @staticmethod
    def _lifetime(answer: Mapping[str, object]) -> timedelta | None | bool:
        """expires_in as a timedelta, None when absent (RFC 6749 section 5.1: RECOMMENDED), False when unusable."""
        if answer.get("expires_in") is None:
            return None
        seconds = finite_number(answer["expires_in"])
        if seconds is None or not 0 <= seconds <= LONGEST_TOKEN_LIFETIME.total_seconds():
            return False
        return timedelta(seconds=seconds)

    def _withdraw(self, access_token: str, client: OAuthClientValue) -> str:
        """Revoke (RFC 7009) a token that an unusable answer issued; say what became of it."""
        if self.revoke_url is None:
            return "no revoke-url is set, so the token it issued lapses at its expiry"
        form = {"token": access_token, "token_type_hint": "access_token"}
        try:
            self._post_as_client("revoke", self.revoke_url, client, form).raise_unless_ok()
        except ProviderError as error:
            return f"revoking the token it issued failed too ({error})"
        return "revoked the token it issued"

    def revoke(self, retiring_value: str, current_value: str) -> None:
        retiring = OAuthClientValue.parse(retiring_value)
        if self.revoke_url is None:
            logger.info("revoke: no revoke-url configured; the retiring access token lapses at its expiry")
            return
        if retiring.access_token is None:
            return
        form = {"token": retiring.access_token, "token_type_hint": "access_token"}
        # RFC 7009 answers 200 for tokens that are already invalid, so a repeat revocation succeeds too.
        self._post_as_client("revoke", self.revoke_url, retiring, form).raise_unless_ok()

    def _post_as_client(self, operation: str, url: str, client: OAuthClientValue, form: dict[str, str]):
        headers = {"Content-Type": FORM_TYPE, "Accept": JSON_TYPE}
        if self.client_auth == "client_secret_basic":
            headers["Authorization"] = basic_authorization(client.client_id, client.client_secret)
        else:
            form = {**form, "client_id": client.client_id, "client_secret": client.client_secret}
        body = urlencode(form).encode()
        return send(operation, "POST", url, headers=headers, body=body, timeout=self.timeout_seconds)


def basic_authorization(client_id: str, client_secret: str) -> str:
    # RFC 6749 section 2.3.1: form-encode each part before joining them for HTTP Basic.
    pair = f"{quote_plus(client_id)}:{quote_plus(client_secret)}"
    return "Basic " + base64.b64encode(pair.encode()).decode()


def format_instant(instant: datetime) -> str:
    return instant.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_instant(value: object) -> datetime | None:
    """expires_at as ISO 8601 (naive means UTC) or as epoch seconds; anything else counts as unknown."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, timezone.utc)
    if not isinstance(value, str) or not value:
        return None
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        return None
    return instant if instant.tzinfo else instant.replace(tzinfo=timezone.utc)
