"""Input values as the engine compares them, and as reports may print them.

Assets and archives arrive from the SDK as `pulumi.FileAsset`, `pulumi.AssetArchive`, ... objects,
which compare by identity: two runs of the same program never look equal. The engine compares
them by content: `Asset.Equals` / `Archive.Equals` compare the SHA-256 hashes it computes with
`EnsureHash`, and treat two values whose hash cannot be computed as different
(pulumi/pulumi sdk/go/common/resource/asset.go and archive.go). `same` does the same here.
The hashes are this module's own (a digest of each member's name and bytes), so they are
equal exactly when the engine's are, but are not the engine's hash strings.

A remote asset or archive would be fetched by the engine; this tool stays offline and compares
its URI instead.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import rpc

from secrets_layout.engine.recorded_values import SecretValue, mask

UNKNOWN_MARK = "[unknown]"
ASSET_TYPES = (pulumi.Asset, pulumi.Archive)


def is_asset(value: Any) -> bool:
    return isinstance(value, ASSET_TYPES)


class HashedAsset(pulumi.Asset):
    """An asset reduced to its `content_hash` (a cached base, engine/cache.py): compares and prints
    like the asset it stands for, and holds no path or content."""

    def __init__(self, sha256: str | None) -> None:
        self.sha256 = sha256


class HashedArchive(pulumi.Archive):
    """A file or remote archive reduced to its `content_hash` (see HashedAsset)."""

    def __init__(self, sha256: str | None) -> None:
        self.sha256 = sha256


class HashedAssetArchive(pulumi.AssetArchive):
    """An AssetArchive reduced to its `content_hash`, its members reduced the same way."""

    def __init__(self, sha256: str | None, assets: dict[str, pulumi.Asset | pulumi.Archive]) -> None:
        super().__init__(assets)
        self.sha256 = sha256


HASHED_TYPES = (HashedAsset, HashedArchive, HashedAssetArchive)


def hashed(value: pulumi.Asset | pulumi.Archive) -> HashedAsset | HashedArchive | HashedAssetArchive:
    """The stand-in of an asset or archive: same `content_hash`, same `plain` form, same `same`."""
    if isinstance(value, HASHED_TYPES):
        return value
    if isinstance(value, pulumi.AssetArchive):
        return HashedAssetArchive(content_hash(value), {name: hashed(item) for name, item in value.assets.items()})
    return HashedAsset(content_hash(value)) if isinstance(value, pulumi.Asset) else HashedArchive(content_hash(value))


def content_hash(value: pulumi.Asset | pulumi.Archive) -> str | None:
    """SHA-256 of what the asset or archive holds; None when it cannot be read (engine: differs)."""
    if isinstance(value, HASHED_TYPES):
        return value.sha256
    digest = hashlib.sha256()
    try:
        _feed(digest, value)
    except OSError:
        return None
    return digest.hexdigest()


def _feed(digest: Any, value: Any) -> None:
    if isinstance(value, pulumi.FileAsset):
        digest.update(b"file-asset\0" + Path(value.path).read_bytes())
    elif isinstance(value, pulumi.StringAsset):
        digest.update(b"string-asset\0" + value.text.encode())
    elif isinstance(value, pulumi.RemoteAsset):
        digest.update(b"remote-asset\0" + value.uri.encode())
    elif isinstance(value, pulumi.AssetArchive):
        digest.update(b"asset-archive\0")
        for name in sorted(value.assets):
            digest.update(name.encode() + b"\0")
            _feed(digest, value.assets[name])
    elif isinstance(value, pulumi.FileArchive):
        digest.update(b"file-archive\0")
        root = Path(value.path)
        members = sorted(path for path in root.rglob("*") if path.is_file()) if root.is_dir() else [root]
        for path in members:
            digest.update(path.relative_to(root).as_posix().encode() + b"\0" if root.is_dir() else b"\0")
            digest.update(path.read_bytes())
    elif isinstance(value, pulumi.RemoteArchive):
        digest.update(b"remote-archive\0" + value.uri.encode())
    else:
        raise TypeError(f"not an asset or archive: {type(value).__name__}")


def same(left: Any, right: Any) -> bool:
    """Deep equality the way the engine diffs inputs: assets by content, secrets by hidden value."""
    if isinstance(left, SecretValue) or isinstance(right, SecretValue):
        # Compared in memory only, never shown.
        return (isinstance(left, SecretValue) and isinstance(right, SecretValue)
                and same(left.reveal(), right.reveal()))
    if is_asset(left) or is_asset(right):
        if not (is_asset(left) and is_asset(right)) or isinstance(left, pulumi.Asset) != isinstance(right, pulumi.Asset):
            return False
        left_hash, right_hash = content_hash(left), content_hash(right)
        return left_hash is not None and left_hash == right_hash
    if isinstance(left, Mapping) and isinstance(right, Mapping):
        return left.keys() == right.keys() and all(same(left[key], right[key]) for key in left)
    if isinstance(left, list | tuple) and isinstance(right, list | tuple):
        return len(left) == len(right) and all(same(a, b) for a, b in zip(left, right, strict=True))
    return left == right


def plain(value: Any) -> Any:
    """JSON-ready data: secrets masked (recorded_values.mask), assets as their content hash (never a
    local path or file content), unknown values as "[unknown]"."""
    return mask(_described(value))


def _described(value: Any) -> Any:
    if type(value) is str:  # most values: past the checks below (Mapping's is an ABC's, slow)
        return UNKNOWN_MARK if value == rpc.UNKNOWN else value
    if isinstance(value, SecretValue):
        return value  # mask() hides it whole
    if isinstance(value, pulumi.Asset):
        return {"asset": {"sha256": content_hash(value)}}
    if isinstance(value, pulumi.AssetArchive):
        return {"archive": {"sha256": content_hash(value),
                            "assets": {name: _described(item) for name, item in sorted(value.assets.items())}}}
    if isinstance(value, pulumi.Archive):
        return {"archive": {"sha256": content_hash(value)}}
    if isinstance(value, Mapping):
        # Sorted: the RPC layer's order varies between runs, a report must diff cleanly.
        return {key: _described(value[key]) for key in sorted(value)}
    if isinstance(value, list | tuple):
        return [_described(item) for item in value]
    if isinstance(value, str) and value == rpc.UNKNOWN:
        return UNKNOWN_MARK
    return value
