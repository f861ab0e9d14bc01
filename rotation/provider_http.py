"""HTTP for the adapters: one request at a time, no redirects, and errors that never carry a credential."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from adapters import ProviderError

JSON_TYPE = "application/json"
FORM_TYPE = "application/x-www-form-urlencoded"


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
        try:
            document = json.loads(self.body)
        except ValueError:
            document = None
        if not isinstance(document, dict):
            raise ProviderError(f"{self.operation}: {self.location} did not answer with a JSON object")
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
    """Send one request; answer every HTTP status as a ProviderResponse, raise ProviderError if unreachable."""
    location = public_location(url)
    request = urllib.request.Request(url, data=body, headers=headers, method=method)
    opener = urllib.request.build_opener(_RefuseRedirects)
    try:
        with opener.open(request, timeout=timeout) as response:
            return ProviderResponse(operation, location, response.status, response.read())
    except urllib.error.HTTPError as error:
        with error:
            return ProviderResponse(operation, location, error.code, error.read())
    except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
        reason = getattr(error, "reason", error)
        raise ProviderError(f"{operation}: cannot reach {location}: {reason}") from None


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def public_location(url: str) -> str:
    """The URL without query or fragment, which is all a log line needs."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"
