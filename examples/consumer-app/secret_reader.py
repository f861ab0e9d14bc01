"""Read a layout secret by its name from a reader account, through aws-secretsmanager-caching.

An application names the secret (`prod/payments/stripe-api-key`) and the security account that
holds it; it never carries an ARN with AWS's random suffix, so re-creating the secret or moving
it to another region changes nothing in the application.

Why a partial ARN and not the bare name: GetSecretValue's SecretId is "The ARN or name of the
secret to retrieve. To retrieve a secret from another account, you must use an ARN."
(https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html; the same
for DescribeSecret, which the cache calls first). A bare name is looked up in the caller's own
account. The ARN without the "-" and six random characters is a partial ARN, which Secrets Manager
resolves as long as the name itself does not end in "-" and six characters
(https://docs.aws.amazon.com/secretsmanager/latest/userguide/troubleshoot.html#ARN_secretnamehyphen);
`secrets-layout validate` refuses such names, so every layout secret can be read this way.

How long a value is cached (the cache's `secret_refresh_interval`) depends on the kind of secret
and on whether a rotation is near: see `refresh_interval`. aws-secretsmanager-caching refreshes an
entry after a random time between half the interval and the interval (its `SecretCacheItem`), so
an application sees a rotated value at the latest one interval after the rotation.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from aws_secretsmanager_caching import SecretCache, SecretCacheConfig
from aws_secretsmanager_caching.cache.secret_cache_hook import SecretCacheHook

HOUR = 3600

# Seconds a value is reused before the cache asks Secrets Manager again, per `kind:` of the declaration.
# Database credentials: an hour (aws-secretsmanager-caching's default interval); a single-user rotation
# changes the password in the database at setSecret, so the application must also refresh on an
# authentication failure (docs/consumers.md). API keys and OAuth client credentials rotated by the
# bundled function stay valid until the next rotation, so a longer TTL costs nothing but staleness.
REFRESH_SECONDS = {
    "database": 1 * HOUR,
    "api-key": 6 * HOUR,
    "oauth-token": 6 * HOUR,
    "generic": 1 * HOUR,
}
# While a rotation is in progress or due before the normal interval would end.
ROTATION_WINDOW_REFRESH_SECONDS = 5 * 60


def secret_id(name: str, *, region: str, security_account: str, partition: str = "aws") -> str:
    """The partial ARN that names a secret of another account: its ARN without AWS's random suffix."""
    if not (len(security_account) == 12 and security_account.isdigit()):
        raise ValueError(f"the security account must be a 12-digit account ID, not {security_account!r}")
    if not name or name.startswith("arn:"):
        raise ValueError("give the secret's name (e.g. prod/payments/stripe-api-key), not an ARN")
    return f"arn:{partition}:secretsmanager:{region}:{security_account}:secret:{name}"


def rotation_near(described: Mapping[str, Any] | None, now: datetime, interval_seconds: int) -> bool:
    """Whether a value cached now could be replaced by a rotation before the cache refreshes it.

    From DescribeSecret's answer (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DescribeSecret.html):
    a version labelled AWSPENDING but not AWSCURRENT is a rotation in progress; NextRotationDate is
    when the next rotation happens at the latest ("on or before this date").
    """
    if not described:
        return False
    stages = described.get("VersionIdsToStages") or {}
    if any("AWSPENDING" in labels and "AWSCURRENT" not in labels for labels in stages.values()):
        return True
    next_rotation = described.get("NextRotationDate")
    if not described.get("RotationEnabled") or not isinstance(next_rotation, datetime):
        return False
    return next_rotation <= now + timedelta(seconds=interval_seconds)


def refresh_interval(kind: str, *, near_rotation: bool) -> int:
    """The cache TTL in seconds for a secret of this kind; a short one when a rotation is near."""
    if kind not in REFRESH_SECONDS:
        raise ValueError(f"unknown kind {kind!r}: one of {', '.join(REFRESH_SECONDS)}")
    return ROTATION_WINDOW_REFRESH_SECONDS if near_rotation else REFRESH_SECONDS[kind]


class _DescribeWatch(SecretCacheHook):
    """Keeps the last DescribeSecret answer per secret that any of the caches received.

    The caches pass every answer through their hook: DescribeSecret's (metadata, no value) and
    GetSecretValue's (the value, returned untouched and never kept here).
    """

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._described: dict[str, Mapping[str, Any]] = {}

    def __deepcopy__(self, memo):
        # SecretCache deep-copies its config, hook included; every cache must report to this one.
        return self

    def put(self, obj):
        if isinstance(obj, Mapping) and "SecretString" not in obj and "SecretBinary" not in obj and "Name" in obj:
            with self._lock:
                self._described[obj["Name"]] = {
                    key: obj.get(key) for key in ("VersionIdsToStages", "NextRotationDate", "RotationEnabled")
                }
        return obj

    def get(self, cached_obj):
        return cached_obj

    def described(self, name: str) -> Mapping[str, Any] | None:
        with self._lock:
            return self._described.get(name)


class SecretReader:
    """Reads the current value of layout secrets by name, each kind cached for its own time.

    `client` is a boto3/botocore Secrets Manager client of the reader account in the secret's
    region (its role has the policy `secrets-layout consumer-policy SECRET --account NAME` prints).
    """

    def __init__(self, client, *, security_account: str, region: str,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
        self._client = client
        self._security_account = security_account
        self._region = region
        self._clock = clock
        self._watch = _DescribeWatch()
        self._caches: dict[int, SecretCache] = {}
        self._lock = threading.Lock()

    def get_secret_string(self, name: str, kind: str) -> str:
        normal = refresh_interval(kind, near_rotation=False)
        near = rotation_near(self._watch.described(name), self._clock(), normal)
        cache = self._cache(refresh_interval(kind, near_rotation=near))
        value = cache.get_secret_string(secret_id(name, region=self._region, security_account=self._security_account))
        if value is None:
            raise LookupError(f"{name} has no current string value (a binary secret, or no AWSCURRENT version)")
        return value

    def _cache(self, interval: int) -> SecretCache:
        with self._lock:
            if interval not in self._caches:
                config = SecretCacheConfig(secret_refresh_interval=interval, secret_cache_hook=self._watch)
                self._caches[interval] = SecretCache(config=config, client=self._client)
            return self._caches[interval]
