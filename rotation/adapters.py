"""The provider side of a rotation: the adapter interface, its errors, and where its settings come from."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

TAG_PREFIX = "rotation-"
VARIABLE_PREFIX = "ROTATION_"
ALLOWED_HOSTS_VARIABLE = "ROTATION_ALLOWED_HOSTS"
DEFAULT_TIMEOUT_SECONDS = 10.0
DEFAULT_VERIFY_GRACE_SECONDS = 300.0
LONGEST_VERIFY_GRACE_SECONDS = 3600.0


class ConfigurationError(Exception):
    """The secret's tags and the function's environment do not describe a usable adapter."""


class ProviderError(Exception):
    """The provider refused or failed a request. Messages name the operation and status, never a credential."""


class AnswerUnusable(ProviderError):
    """The provider answered 2xx with a document no retry would change (a provider that deduplicates replays it)."""


class CredentialRejected(ProviderError):
    """The provider does not accept this credential (it answered 401/403, or the token has expired).

    A 401/403 may only mean that the provider does not know a new credential everywhere yet; the
    handler decides, by the time since the credential was stored, whether to test it again.
    """


class CredentialExpired(CredentialRejected):
    """The credential has expired: no wait makes it valid again."""


class CredentialAdapter(Protocol):
    """What the rotation needs from a third party. Values are whole SecretStrings, in the adapter's shape."""

    name: str

    def issue(self, current_value: str, idempotency_key: str | None = None) -> str:
        """Have the provider issue a new credential, authenticating with the current one; return the new value.

        idempotency_key is the rotation's ClientRequestToken: an adapter whose provider deduplicates
        requests passes it on, so a retry after a lost answer gets the same credential, not a second one.
        An answer that is unusable but names what it issued has that credential revoked before raising.
        """

    def credential(self, value: str) -> str | None:
        """The credential a whole SecretString holds, to tell whether two versions share one; None if none."""

    def verify(self, candidate_value: str) -> None:
        """Raise ProviderError unless the provider accepts the credential held in candidate_value."""

    def revoke(self, retiring_value: str, current_value: str) -> None:
        """Make the credential in retiring_value unusable; succeed quietly when it already is."""


def tag_name(setting: str) -> str:
    return TAG_PREFIX + setting


def variable_name(setting: str) -> str:
    return VARIABLE_PREFIX + setting.upper().replace("-", "_")


@dataclass(frozen=True)
class AdapterSettings:
    """One adapter's configuration: the secret's `rotation-<setting>` tag wins over `ROTATION_<SETTING>`."""

    tags: Mapping[str, str]
    environ: Mapping[str, str]

    def get(self, setting: str, default: str | None = None) -> str | None:
        value, _ = self._lookup(setting)
        return default if value is None else value

    def require(self, setting: str) -> str:
        value = self.get(setting)
        if value is None:
            raise missing_setting(setting)
        return value

    def url(self, setting: str, *, required: bool = True) -> str | None:
        value, from_tag = self._lookup(setting)
        if value is None:
            if required:
                raise missing_setting(setting)
            return None
        check_url(setting, value, from_tag=from_tag, allowed_hosts=self.allowed_hosts())
        return value

    def timeout_seconds(self) -> float:
        text = self.get("timeout-seconds", str(DEFAULT_TIMEOUT_SECONDS))
        try:
            timeout = float(text)
        except ValueError:
            raise ConfigurationError(f"setting 'timeout-seconds' is not a number: {text!r}") from None
        if not 0 < timeout <= 300:
            raise ConfigurationError("setting 'timeout-seconds' must be above 0 and at most 300")
        return timeout

    def verify_grace_seconds(self) -> float:
        """How long after a new credential was stored a rejection at verify is tested again rather than final.

        Providers whose new credentials are eventually consistent (AWS IAM access keys) refuse them for a
        few seconds after issuing them; 0 gives up at the first rejection.
        """
        text = self.get("verify-grace-seconds", str(DEFAULT_VERIFY_GRACE_SECONDS))
        try:
            grace = float(text)
        except ValueError:
            raise ConfigurationError(f"setting 'verify-grace-seconds' is not a number: {text!r}") from None
        if not 0 <= grace <= LONGEST_VERIFY_GRACE_SECONDS:  # NaN fails every comparison
            raise ConfigurationError(
                f"setting 'verify-grace-seconds' must be from 0 to {LONGEST_VERIFY_GRACE_SECONDS:g} seconds"
            )
        return grace

    def allowed_hosts(self) -> frozenset[str]:
        # Read from the environment only: the allow-list exists to limit what tags can do.
        listed = self.environ.get(ALLOWED_HOSTS_VARIABLE, "")
        return frozenset(host.strip().lower() for host in listed.split(",") if host.strip())

    def _lookup(self, setting: str) -> tuple[str | None, bool]:
        tag_value = self.tags.get(tag_name(setting), "").strip()
        if tag_value:
            return tag_value, True
        variable_value = self.environ.get(variable_name(setting), "").strip()
        return (variable_value or None), False


def missing_setting(setting: str) -> ConfigurationError:
    return ConfigurationError(
        f"missing setting '{setting}': set the secret tag {tag_name(setting)} "
        f"or the function variable {variable_name(setting)}"
    )


def check_url(setting: str, url: str, *, from_tag: bool, allowed_hosts: frozenset[str]) -> None:
    """Refuse URLs that would send a credential in clear text, or, from a tag, to a host the function did not allow.

    Whoever may tag the secret could otherwise point an endpoint at their own server and receive the
    current credential at the next rotation, without ever being allowed to read the secret.
    """
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if not host:
        raise ConfigurationError(f"setting '{setting}' is not an absolute URL")
    if parts.username or parts.password:
        raise ConfigurationError(f"setting '{setting}' must not carry credentials in the URL")
    if parts.scheme != "https" and not (parts.scheme == "http" and is_loopback(host)):
        raise ConfigurationError(f"setting '{setting}' must be an https URL (plain http only to a loopback host)")
    if from_tag and host not in allowed_hosts:
        raise ConfigurationError(
            f"setting '{setting}' comes from the tag {tag_name(setting)} and names host {host}, "
            f"which is not in the function variable {ALLOWED_HOSTS_VARIABLE}"
        )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
