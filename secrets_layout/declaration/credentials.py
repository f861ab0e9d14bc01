""""No secret values in git": does a literal in a declaration look like a credential?

Two signals, either one is enough:
- the key names a credential (password, secret, token, api_key, ...) and has a value;
- detect-secrets (Yelp's scanner, the one pre-commit hooks use) flags the value.
Findings name the detector, never the value.
"""

from __future__ import annotations

import re
from typing import Iterable

_CREDENTIAL_KEY = re.compile(
    r"(?:^|[_\-./])(?:pass(?:word|wd|phrase)?|pwd|secret|token|api[_-]?key|apikey|private[_-]?key|"
    r"access[_-]?key|secret[_-]?key|client[_-]?secret|credentials?)$",
    re.IGNORECASE,
)

# ARNs identify resources (a multi-user rotation's `masterarn`, say); they are never credentials,
# but the keyword detector reads their ":secret:" part as one.
_AWS_ARN = re.compile(r"^arn:aws[a-z-]*:[a-z0-9-]+:")


def is_credential_key(key: str) -> bool:
    """`password`, `db_password`, `stripe-api-key`, `/prod/app/token` name credentials; `password_length` does not."""
    return bool(_CREDENTIAL_KEY.search(key.strip()))


SCAN_WINDOW = 4096
"""A value longer than this is scanned in windows of this many characters: detect-secrets' plugins
take time that grows faster than the length of a line (the keyword plugin's patterns are tried
from every position, the npm one's `//.+/:_authToken` runs to the end of the line from every `//`),
so a megabyte in one line took minutes. Every declaration field but a secret value fits in one."""
SCAN_WINDOW_STEP = SCAN_WINDOW - 512
"""Windows overlap by 512 characters: any credential up to that long lies whole in one of them."""


def credential_findings(literals: Iterable[tuple[str, object]]) -> list[list[str]]:
    """For each `(key, value)`, why it looks like a credential: the detectors that fired (empty: fine)."""
    literals = list(literals)
    # A layout repeats a few dozen keys and many values thousands of times: each key's verdict and
    # each string's scanned lines (none for an ARN) are worked out once per call.
    lines: dict[tuple[str, str], tuple[str, ...]] = {}
    for key, value in literals:
        if isinstance(value, str) and value and (key, value) not in lines:
            lines[key, value] = () if _AWS_ARN.match(value) else _scanned_lines(key, value)
    found = _scan(line for scanned in lines.values() for line in scanned)
    credential_key: dict[str, bool] = {}
    findings = []
    for key, value in literals:
        if value is None or isinstance(value, bool) or value == "":
            findings.append([])
            continue
        named = credential_key.get(key)
        if named is None:
            named = credential_key[key] = is_credential_key(key)
        reasons = ["credential field name"] if named else []
        if isinstance(value, str):
            reasons.extend(sorted({reason for line in lines[key, value] for reason in found.get(line, [])}))
        findings.append(reasons)
    return findings


def _scanned_lines(key: str, value: str) -> tuple[str, ...]:
    """The lines a value is scanned as: one, or one per window of a long value (SCAN_WINDOW)."""
    if len(value) <= SCAN_WINDOW:
        return (_scanned_line(key, value),)
    starts = range(0, len(value) - SCAN_WINDOW + SCAN_WINDOW_STEP, SCAN_WINDOW_STEP)
    return tuple(_scanned_line(key, value[start:start + SCAN_WINDOW]) for start in starts)


def _scanned_line(key: str, value: str) -> str:
    # The plugins are detect-secrets' own with their default limits, run on one `key: "value"`
    # line the way a file scan runs them (scan_line is 4x slower and skips the entropy limits).
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'{key}: "{escaped}"'


def _scan(lines: Iterable[str]) -> dict[str, list[str]]:
    """The plugins' findings on each of `lines` that `might_fire` lets through (the others have none).

    detect-secrets is imported here, not at the top: importing it (it imports requests) and building
    its plugins (some 300 regular expressions) costs more than validating 1,000 secrets whose strings
    `might_fire` has all cleared. The plugins run under its default settings, as a scan would."""
    candidates = [line for line in dict.fromkeys(lines) if might_fire(line)]
    if not candidates:
        return {}
    from detect_secrets.settings import default_settings, get_plugins

    with default_settings():
        plugins = list(get_plugins())
        return {line: _line_findings([plugin for plugin in plugins if _may_fire(plugin, line)], line)
                for line in candidates}


def _line_findings(plugins: list, line: str) -> list[str]:
    # Then the value heuristics that detect-secrets applies to file scans.
    return sorted({
        finding.type
        for plugin in plugins
        for finding in plugin.analyze_line(filename="declaration.yaml", line=line, line_number=1)
        if not _is_harmless(finding.secret_value or "")
    })


# What some plugin of detect-secrets 1.5.0 (default settings) needs in a line before it can fire:
# a necessary condition of each plugin's own pattern, so a line without any of these is one no
# plugin reports. The plugins' patterns are pinned by tests/test_validate_speed_equivalence.py,
# which also checks this against the plugins themselves; re-derive it when they change.
#   - a run of 20 token characters: every pattern plugin that looks for a key holds one in its
#     own character class, a subset of [\w+/=\\-] (AWS A3T/AKIA.. + 16 [0-9A-Z]; 40 [0-9a-zA-Z/+];
#     Azure 88; Cloudant 64 hex or 24 [a-z]; Discord 27; GitHub 36; GitLab >= 20 after glpat- and
#     the like; IBM 44 and 48; Mailchimp 32; OpenAI 20+8+20; PyPI 70; SendGrid 43; Square 43;
#     Stripe 24; Telegram 35; Twilio 32), and so does a base64 string above the 4.5 bits limit:
#     Shannon entropy is at most log2 of the number of distinct characters, 2**4.5 > 22;
#   - Artifactory: AKC + 10 or AP + 9 alphanumerics (case-sensitive patterns);
#   - BasicAuth, Cloudant, Slack and SoftLayer URLs: '://'; the public-IP plugin: d.d(dd).d;
#     JWT: eyJ; npm: _authToken; private keys: BEGIN or PuTTY-User-Key-File-2; Slack: xox;
#   - the keyword plugin's words (api_?key, ..., password, pwd, secret, contraseña), each of which
#     holds one of the words below, matched with the same case folding (re.IGNORECASE);
#   - a hex string above the 3.0 bits limit has more than 8 distinct hex digits (checked apart).
# https://github.com/Yelp/detect-secrets/tree/v1.5.0/detect_secrets/plugins
_MIGHT_FIRE = (
    re.compile(r"[\w+/=\\-]{20}"),
    re.compile(r"AKC\w{10}|AP\w{9}|://|[0-9]\.[0-9]{1,3}\.[0-9]|eyJ|_authToken|BEGIN|PuTTY-User-Key-File-2"),
    # The lookahead on the words' first letters only saves time: each word starts with one of them,
    # so the regular expression engine skips most positions at once.
    re.compile(r"(?=[xpscad])(?:xox|pass|pwd|secret|contrase|(?:api|auth|service|account|db|database|priv|private|client)_?key)",
               re.IGNORECASE),
)
_HEX_RUN = re.compile(r"[0-9a-fA-F]{8,}")
_HEX_DISTINCT_BELOW_LIMIT = 8
"""2**3.0 = 8 distinct hex digits hold at most 3.0 bits; the plugin needs more. Strings of 8 distinct
digits are scanned too, so no rounding of the plugin's float arithmetic can slip past."""


_PLUGIN_NEEDS = {
    # What the two plugins whose time grows fastest with a line's length need in it (their patterns:
    # keyword.py's DENYLIST words, npm.py's `//.+/:_authToken=`); a line without it is not given to them.
    "KeywordDetector": _MIGHT_FIRE[2],
    "NpmDetector": re.compile(r"_authToken"),
}


def _may_fire(plugin: object, line: str) -> bool:
    needs = _PLUGIN_NEEDS.get(type(plugin).__name__)
    return needs is None or needs.search(line) is not None


def might_fire(line: str) -> bool:
    """False only when no detect-secrets plugin (default settings) can report anything in `line`."""
    if any(pattern.search(line) for pattern in _MIGHT_FIRE):
        return True
    return any(len(set(run)) >= _HEX_DISTINCT_BELOW_LIMIT for run in _HEX_RUN.findall(line))


def _is_harmless(candidate: str) -> bool:
    from detect_secrets.filters import heuristic

    return (
        heuristic.is_sequential_string(candidate)
        or heuristic.is_potential_uuid(candidate)
        or heuristic.is_templated_secret(candidate)
        or heuristic.is_prefixed_with_dollar_sign(candidate)
        or heuristic.is_not_alphanumeric_string(candidate)
    )


CREDENTIAL_PLACEHOLDER = "<credential>"
"""What a message shows instead of a credential-looking key or value."""

_QUOTED_IN_MESSAGE = re.compile(r"'([^']{6,})'")
_WORD_IN_MESSAGE = re.compile(r"[^\s'\"(),;\[\]{}]{8,}")
_PATH_PART = re.compile(r'\["((?:[^"\\]|\\.)*)"\]|[A-Za-z0-9_-]{6,}')


def credential_texts(texts: Iterable[str], cache: dict[str, bool] | None = None) -> set[str]:
    """Which of `texts`, read as values on their own, the scanners flag (the key-name signal does not apply)."""
    cache = {} if cache is None else cache
    unknown = sorted({text for text in texts if text and text not in cache})
    lines = {text: _scanned_lines("value", text) for text in unknown if not _AWS_ARN.match(text)}
    found = _scan(line for scanned in lines.values() for line in scanned)
    cache.update({text: any(found.get(line) for line in lines.get(text, ())) for text in unknown})
    return {text for text in texts if cache.get(text)}


def redact_text(text: str, cache: dict[str, bool] | None = None) -> str:
    """`text` with every quoted part and long word the scanners flag replaced by the placeholder."""
    # A word that ends a path or a sentence ("name: ...") is looked at without its colon or full stop.
    in_text = set(_QUOTED_IN_MESSAGE.findall(text)) | {word.rstrip(":.") for word in _WORD_IN_MESSAGE.findall(text)}
    for flagged in sorted(credential_texts(in_text, cache), key=len, reverse=True):
        text = text.replace(flagged, CREDENTIAL_PLACEHOLDER)
    return text


def redact_issues(issues: Iterable) -> list:
    """The issues with every credential-looking part of their paths and messages replaced by a placeholder.

    Paths repeat mapping keys (a credential pasted as a key in tags:), and messages quote values
    ("'...' is not an AWS region", "unknown field '...'", a secret's name); none may carry a
    credential to the terminal, a JSON report or SARIF (which code scanning stores).
    """
    import dataclasses
    import json

    cache: dict[str, bool] = {}
    redacted = []
    for issue in issues:
        path_parts = {match.group(0): (json.loads(f'"{match.group(1)}"') if match.group(1) is not None else match.group(0))
                      for match in _PATH_PART.finditer(issue.path)}
        in_message = set(_QUOTED_IN_MESSAGE.findall(issue.message)) | set(_WORD_IN_MESSAGE.findall(issue.message))
        flagged = credential_texts([*path_parts.values(), *in_message], cache)
        if not flagged:
            redacted.append(issue)
            continue
        path, message = issue.path, issue.message
        for written, text in path_parts.items():
            if text in flagged:
                path = path.replace(written, f'["{CREDENTIAL_PLACEHOLDER}"]' if written.startswith("[") else CREDENTIAL_PLACEHOLDER)
        for text in sorted(flagged, key=len, reverse=True):
            message = message.replace(text, CREDENTIAL_PLACEHOLDER)
        redacted.append(dataclasses.replace(issue, path=path, message=message))
    return redacted
