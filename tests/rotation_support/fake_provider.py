"""A third-party provider for the rotation tests: an API-key manager and an OAuth2 server on 127.0.0.1.

Operations that tests can make fail: "issue", "verify" and "revoke", on both APIs alike.
Failed answers echo the request's credentials in their bodies, so tests can prove those bodies never
reach a log line or an exception message. Beyond plain failures, a test can script the next answers
to an operation (ScriptedAnswer): what the provider does (acts or not) and what the function gets back
(status, a damaged body, an answer too late), which is what the hypothesis fuzz draws from.

Key creation honours an Idempotency-Key header (draft-ietf-httpapi-idempotency-key-header): a second
POST with the same key is answered with the first one's result, without making another key.

A provider whose new keys take time to work everywhere (AWS IAM access keys are eventually consistent)
is `new_keys_rejected_for_seconds`: a key it issued is refused (401) until that long after it was issued,
by `clock`, which a test may replace with a FakeClock (math.inf: never accepted).
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote_plus, urlsplit


# What a scripted answer's body can be, beyond the provider's real answer ("real").
BODY_FORMS = (
    "real",
    "not-json",
    "empty",
    "huge",
    "json-list",
    "key-missing",
    "key-not-a-string",
    "key-with-line-break",
    "current-key",
    "echo",
    "bad-expiry",
)


# Forms the provider itself sends (replayed for the same Idempotency-Key); the others are damage in transit.
PROVIDER_BODY_FORMS = frozenset(BODY_FORMS) - {"real", "not-json", "empty", "huge"}


@dataclass(frozen=True)
class ScriptedAnswer:
    """One answer to one request: acts = the provider really does the operation; the rest is what goes back."""

    status: int = 200
    body: str = "real"
    acts: bool = True
    delay_seconds: float = 0.0


@dataclass
class IssuedKey:
    key_id: str
    api_key: str
    active: bool = True
    # When the provider issued it at a client's request; None for a key a test arranged beforehand.
    issued_at: datetime | None = None


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        # A scripted late answer meets a closed connection; the function's timeout is the point.
        pass


class FakeProvider:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._server = _QuietServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self.reset()

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeProvider:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def reset(self) -> None:
        with self._lock:
            self.keys: dict[str, IssuedKey] = {}
            self.clients: dict[str, str] = {}
            self.tokens: dict[str, bool] = {}
            self.calls: Counter[str] = Counter()
            self.failing: dict[str, int] = {}
            self.issue_delay_seconds = 0.0
            self.last_token_request: dict[str, str] = {}
            self.scripts: dict[str, list[ScriptedAnswer]] = {}
            self.idempotency_header = "Idempotency-Key"
            self.idempotent_answers: dict[str, tuple[int, object]] = {}
            self.idempotency_keys_seen: list[str] = []
            self.token_lifetime_seconds: float = 3600
            self.clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)
            self.new_keys_rejected_for_seconds: float = 0.0
            # Credentials the provider really answered 2xx for at verify: what "tested" means.
            self.verified: set[str] = set()
            # Keys made by a scripted issue answer, by the answer that announced them.
            self.scripted_issues: dict[str, ScriptedAnswer] = {}

    # --- what tests arrange -------------------------------------------------------------------

    def add_key(self) -> IssuedKey:
        with self._lock:
            return self._new_key()

    def add_client(self) -> tuple[str, str]:
        client_id, client_secret = f"client-{secrets.token_hex(4)}", f"cs-{secrets.token_urlsafe(24)}"
        with self._lock:
            self.clients[client_id] = client_secret
        return client_id, client_secret

    def issue_token(self) -> str:
        with self._lock:
            return self._new_token()

    def fail(self, operation: str, status: int = 500) -> None:
        self.failing[operation] = status

    def recover(self) -> None:
        self.failing.clear()
        self.scripts.clear()

    def script(self, operation: str, *answers: ScriptedAnswer) -> None:
        """The next len(answers) requests for operation get these answers, in order; then real ones again."""
        self.scripts.setdefault(operation, []).extend(answers)

    # --- what tests check ---------------------------------------------------------------------

    def key_is_active(self, api_key: str) -> bool:
        return any(key.api_key == api_key and key.active for key in self.keys.values())

    def token_is_active(self, token: str) -> bool:
        return self.tokens.get(token, False)

    def active_keys(self) -> set[str]:
        return {key.api_key for key in self.keys.values() if key.active}

    def every_secret(self) -> list[str]:
        """Everything this provider ever handed out that must never show up in a log (also without white space)."""
        with self._lock:
            secrets_handed_out = (
                [key.api_key for key in self.keys.values()] + list(self.clients.values()) + list(self.tokens)
            )
        return sorted({form for secret in secrets_handed_out for form in (secret, secret.strip())})

    # --- internals ----------------------------------------------------------------------------

    def _new_key(self, issued_at: datetime | None = None) -> IssuedKey:
        key = IssuedKey(
            key_id=f"key-{secrets.token_hex(6)}", api_key=f"sk-test-{secrets.token_urlsafe(24)}", issued_at=issued_at
        )
        self.keys[key.key_id] = key
        return key

    def _new_token(self) -> str:
        token = f"at-{secrets.token_urlsafe(24)}"
        self.tokens[token] = True
        return token

    def _key_named_by(self, authorization: str) -> IssuedKey | None:
        if not authorization.startswith("Bearer "):
            return None
        presented = authorization.removeprefix("Bearer ")
        key = next((key for key in self.keys.values() if key.api_key == presented and key.active), None)
        if key is not None and key.issued_at is not None:
            if (self.clock() - key.issued_at).total_seconds() < self.new_keys_rejected_for_seconds:
                return None  # not yet known everywhere: refused as an unknown key is
        return key

    def _client_of(self, authorization: str, form: dict[str, str]) -> str | None:
        if authorization.startswith("Basic "):
            pair = base64.b64decode(authorization.removeprefix("Basic ")).decode()
            client_id, _, client_secret = pair.partition(":")
            client_id, client_secret = unquote_plus(client_id), unquote_plus(client_secret)
        else:
            client_id, client_secret = form.get("client_id", ""), form.get("client_secret", "")
        return client_id if self.clients.get(client_id) == client_secret and client_id else None

    def answer(
        self, method: str, path: str, authorization: str, form: dict[str, str], headers: dict[str, str] | None = None
    ) -> tuple[int, object, float]:
        """(status, JSON document or raw bytes, seconds to wait before sending it)."""
        operation = _operation_of(method, path)
        headers = headers or {}
        idempotency_key = headers.get(self.idempotency_header) if (method, path) == ("POST", "/v1/keys") else None
        with self._lock:
            self.calls[operation] += 1
            if operation in self.failing:
                return self.failing[operation], {"error": "injected failure", "echo": authorization, "form": form}, 0
            if idempotency_key:
                self.idempotency_keys_seen.append(idempotency_key)
                if idempotency_key in self.idempotent_answers:
                    # A repeated request is answered as the first was; no script is spent on it.
                    return (*self.idempotent_answers[idempotency_key], 0)
            scripted = self.scripts[operation].pop(0) if self.scripts.get(operation) else None
        if operation == "issue" and self.issue_delay_seconds:
            time.sleep(self.issue_delay_seconds)
        with self._lock:
            if scripted is not None and not scripted.acts:
                status, document = 200, {"error": "not done"}
            else:
                status, document = self._answer_unlocked(method, path, authorization, form)
            if operation == "verify" and 200 <= status < 300 and scripted is None:
                self.verified.add(authorization.removeprefix("Bearer "))
            sent = (status, document, 0.0)
            if operation == "issue" and scripted is not None and scripted.acts and isinstance(document, dict):
                issued = document.get("api_key") or document.get("access_token")
                if issued:
                    self.scripted_issues[issued] = scripted
            if scripted is not None:
                body = self._scripted_body(scripted, document, authorization, form)
                sent = (scripted.status, body, scripted.delay_seconds)
            if idempotency_key and 200 <= status < 300 and (scripted is None or scripted.acts):
                # What the provider meant to send is replayed; what the network did to it is not.
                meant = scripted is not None and scripted.body in PROVIDER_BODY_FORMS and 200 <= scripted.status < 300
                self.idempotent_answers[idempotency_key] = sent[:2] if meant else (status, document)
            return sent

    def _scripted_body(self, scripted: ScriptedAnswer, document: object, authorization: str, form) -> object:
        real = document if isinstance(document, dict) else {}
        form_name = scripted.body
        if form_name == "real":
            return document
        if form_name == "not-json":
            return b'{"api_key": "sk-truncated'
        if form_name == "empty":
            return b""
        if form_name == "huge":
            return b'{"padding": "' + b"x" * (2 * 1024 * 1024) + b'"}'
        if form_name == "json-list":
            return [real]
        if form_name == "key-missing":
            return {name: value for name, value in real.items() if name not in ("api_key", "access_token")}
        if form_name == "key-not-a-string":
            return {**real, "api_key": 12345, "access_token": ["x"]}
        if form_name == "key-with-line-break":
            # The provider really holds the damaged key: revoking it by id is what a fix must do.
            for key in self.keys.values():
                if key.api_key == real.get("api_key"):
                    key.api_key += "\n"
                    return {**real, "api_key": key.api_key}
            return real
        if form_name == "current-key":
            presented = self._key_named_by(authorization)
            if presented is None:
                return real
            return {"key_id": presented.key_id, "api_key": presented.api_key}
        if form_name == "bad-expiry":
            return {**real, "expires_in": -5}
        if form_name == "echo":
            return {"error": "scripted", "echo": authorization, "form": form, "answer": real}
        raise ValueError(f"unknown body form {form_name!r}")

    def _answer_unlocked(self, method, path, authorization, form) -> tuple[int, object]:
        if (method, path) == ("POST", "/v1/keys"):
            if self._key_named_by(authorization) is None:
                return 401, {"error": "unauthorized"}
            key = self._new_key(issued_at=self.clock())
            return 201, {"key_id": key.key_id, "api_key": key.api_key}
        if (method, path) == ("GET", "/v1/whoami"):
            key = self._key_named_by(authorization)
            return (200, {"key_id": key.key_id}) if key else (401, {"error": "unauthorized"})
        if method == "DELETE" and path.startswith("/v1/keys/"):
            if self._key_named_by(authorization) is None:
                return 401, {"error": "unauthorized"}
            key = self.keys.get(path.removeprefix("/v1/keys/"))
            if key is None or not key.active:
                return 404, {"error": "no such key"}
            key.active = False
            return 204, None
        if (method, path) == ("GET", "/v1/moved"):
            return 302, None
        if (method, path) == ("POST", "/oauth/token"):
            client_id = self._client_of(authorization, form)
            if client_id is None or form.get("grant_type") != "client_credentials":
                return 401, {"error": "invalid_client"}
            self.last_token_request = {"scope": form.get("scope", ""), "auth": authorization.split(" ")[0] or "post"}
            return 200, {
                "access_token": self._new_token(),
                "token_type": "Bearer",
                "expires_in": self.token_lifetime_seconds,
            }
        if (method, path) == ("GET", "/oauth/me"):
            token = authorization.removeprefix("Bearer ")
            return (200, {"active": True}) if self.tokens.get(token) else (401, {"error": "invalid_token"})
        if (method, path) == ("POST", "/oauth/revoke"):
            if self._client_of(authorization, form) is None:
                return 401, {"error": "invalid_client"}
            if form.get("token") in self.tokens:
                self.tokens[form["token"]] = False
            return 200, None
        return 404, {"error": "no such endpoint"}


def _operation_of(method: str, path: str) -> str:
    if (method, path) in {("POST", "/v1/keys"), ("POST", "/oauth/token")}:
        return "issue"
    if (method, path) in {("GET", "/v1/whoami"), ("GET", "/oauth/me")}:
        return "verify"
    if (method == "DELETE" and path.startswith("/v1/keys/")) or (method, path) == ("POST", "/oauth/revoke"):
        return "revoke"
    return f"{method} {path}"


def _handler_for(provider: FakeProvider) -> type[BaseHTTPRequestHandler]:
    class ProviderRequestHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._respond()

        def do_POST(self) -> None:
            self._respond()

        def do_DELETE(self) -> None:
            self._respond()

        def _respond(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            form = {}
            if self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
                form = {name: values[0] for name, values in parse_qs(body).items()}
            path = urlsplit(self.path).path
            status, document, delay = provider.answer(
                self.command, path, self.headers.get("Authorization", ""), form, dict(self.headers.items())
            )
            if isinstance(document, bytes):
                payload = document
            else:
                payload = b"" if document is None else json.dumps(document).encode()
            if delay:
                time.sleep(delay)
            self.send_response(status)
            if status == 302:
                self.send_header("Location", f"{provider.base_url}/v1/whoami")
            if payload:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
            pass

    return ProviderRequestHandler
