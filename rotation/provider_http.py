"""HTTP for the adapters: one request at a time, no redirects, and errors that never carry a credential."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from adapters import AnswerUnusable, ProviderError

JSON_TYPE = "application/json"
FORM_TYPE = "application/x-www-form-urlencoded"
# A key or token answer is a few hundred bytes; a provider streaming more is broken or hostile.
MAX_ANSWER_BYTES = 1024 * 1024


@dataclass(frozen=True)
class ProviderResponse:
    operation: str
    location: str
    status: int
    # Providers may echo credentials in their bodies, so the body stays out of reprs and messages.
    body: bytes = field(repr=False)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def raise_unless_ok(self) -> None:
        if not self.ok:
            raise ProviderError(f"{self.operation}: {self.location} answered HTTP {self.status}")

    def json_object(self) -> dict:
        """The answer's JSON object. A body that is not JSON may be an answer cut short (ProviderError, worth a
        retry); well-formed JSON of another shape is what the provider meant to send (AnswerUnusable)."""
        try:
            document = json.loads(self.body)
        except (ValueError, RecursionError):
            raise ProviderError(f"{self.operation}: {self.location} did not answer with a JSON object") from None
        if not isinstance(document, dict):
            raise AnswerUnusable(f"{self.operation}: {self.location} did not answer with a JSON object")
        return document


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    # urllib would resend the Authorization header wherever a redirect points, even to another host.
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D401 - urllib's signature
        return None


def send(
    operation: str,
    method: str,
    url: str,
    *,
    headers: dict[str, str],
    timeout: float,
    body: bytes | None = None,
) -> ProviderResponse:
    """Send one request; answer every HTTP status as a ProviderResponse, raise ProviderError if unreachable.

    No message raised here quotes a header: http.client's own refusal of a header value with a line
    break ("Invalid header value b'Bearer ...'") would put the credential into the log.
    """
    location = public_location(url)
    for name, value in headers.items():
        if not is_header_safe(value):
            raise ProviderError(
                f"{operation}: not sent to {location}: the {name} header would hold a line break, another "
                "control character or a non-ASCII character; store the credential in the secret value without"
            )
    try:
        request = urllib.request.Request(url, data=body, headers=headers, method=method)
        opener = urllib.request.build_opener(_RefuseRedirects)
        try:
            response = opener.open(request, timeout=timeout)
        except urllib.error.HTTPError as error:
            response = error
        with response:
            status = response.status if hasattr(response, "status") else response.code
            return ProviderResponse(operation, location, status, read_bounded(operation, location, response))
    except ProviderError:
        raise
    except urllib.error.URLError as error:
        # An OSError's text is the socket's ("Connection refused"); anything else is named, not quoted.
        if isinstance(error.reason, TimeoutError):
            raise ProviderError(f"{operation}: {location} gave no answer within {timeout:g} s") from None
        reason = error.reason if isinstance(error.reason, OSError) else type(error.reason).__name__
        raise ProviderError(f"{operation}: cannot reach {location}: {reason}") from None
    except TimeoutError:
        raise ProviderError(f"{operation}: {location} gave no answer within {timeout:g} s") from None
    except Exception as error:  # noqa: BLE001 - whatever urllib raises, its message may quote the request
        raise ProviderError(f"{operation}: the request to {location} failed ({type(error).__name__})") from None


def read_bounded(operation: str, location: str, response) -> bytes:
    body = response.read(MAX_ANSWER_BYTES + 1)
    if len(body) > MAX_ANSWER_BYTES:
        raise ProviderError(f"{operation}: {location} answered with more than {MAX_ANSWER_BYTES} bytes")
    return body


def is_header_safe(value: str) -> bool:
    """Visible ASCII and spaces only, and no white space at either end (RFC 9110 section 5.5 field values)."""
    return value == value.strip() and all(" " <= character <= "~" for character in value)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def is_bearer_token(token: str) -> bool:
    """Visible ASCII without spaces: RFC 6750 section 2.1's b64token, loosened to what providers really issue."""
    return bool(token) and all("!" <= character <= "~" for character in token)


def public_location(url: str) -> str:
    """The URL without query or fragment, which is all a log line needs."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"
