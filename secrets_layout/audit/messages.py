"""What the audit prints about failures: one line each, and never a password given in a URL.

Services and emulators answer in their own words: AWS with a short message, an emulator that lacks an
operation sometimes with a whole HTML error page (moto: `500 Internal Server Error` for LookupEvents),
botocore's connection errors with the endpoint URL, user:password included. Every message that leaves
the audit goes through `printable`.
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

from botocore.utils import is_valid_endpoint_url, is_valid_ipv6_endpoint_url

MASK = "***"
LONGEST = 400
"""Characters of a service's message kept in a one-line report (AWS's messages are far shorter)."""

_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^/?#\s\"']*@")
"""Up to the last @ of the authority, so a password holding an @ is masked whole."""
_HTML = re.compile(r"<\s*(!doctype\s+html|html)\b", re.IGNORECASE)
_TITLE = re.compile(r"<title[^>]*>(?P<title>.*?)</title\s*>", re.IGNORECASE | re.DOTALL)


def mask_userinfo(text: str) -> str:
    """`scheme://user:password@host` -> `scheme://***@host`, wherever a URL appears in `text`."""
    return _USERINFO.sub(lambda match: f"{match.group('scheme')}{MASK}@", text)


def is_html(text: str) -> bool:
    return bool(_HTML.search(text))


def html_page_summary(page: str, status: int | str | None) -> str:
    """An HTML error page as what it is: not an AWS answer (its title says which HTTP error)."""
    found = _TITLE.search(page)
    title = " ".join(html.unescape(found.group("title")).split()) if found else "untitled"
    status_text = f"HTTP {status} and " if status else ""
    return (f"{status_text}an HTML page ({title}) instead of an AWS answer: the endpoint may not implement "
            "this operation")


def one_line(text: str) -> str:
    """Whitespace (newlines included) collapsed, the length bounded."""
    line = " ".join(text.split())
    return line if len(line) <= LONGEST else line[: LONGEST - 3] + "..."


def printable(text: str) -> str:
    return one_line(mask_userinfo(text))


def is_endpoint_url(url: str) -> bool:
    """botocore's own check (which accepts any scheme and port), plus http/https and a port in range:
    botocore would otherwise fail on the first request, or raise ValueError when the client is made."""
    if not (is_valid_endpoint_url(url) or is_valid_ipv6_endpoint_url(url)):
        return False
    parts = urlsplit(url)
    try:
        parts.port
    except ValueError:
        return False
    return parts.scheme in ("http", "https")
