"""An `AccessMap` (review/access.py) as JSON data, and back: what the preview cache stores of a deployment
beside its resources, so that a pull request's base need not be evaluated again.

It holds secret names, regions, principal ARNs and account IDs, capability names, condition keys, the
problems' messages, and per secret the digest of its inputs: no policy document and no value. Reading
checks the shape (pydantic: a string is a string, a JSON array may stand for a tuple): anything else is
a ValueError, which the cache turns into a warning and a recomputation.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from secrets_layout.review.access import Access, AccessMap, Reader


class _Stored(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _StoredPlace(_Stored):
    secret: str
    region: str
    rows: list[tuple[str, str, list[str], list[str]]]
    """(reader account, reader principal, actions, depends_on), in the map's order."""


class _StoredMap(_Stored):
    organization: str | None
    problems: list[str]
    accounts: dict[str, list[str]]
    inputs: dict[str, str]
    places: list[_StoredPlace]
    """In the map's order: the report lists places and readers in it."""


def access_map_to_json(found: AccessMap) -> dict[str, Any]:
    return {
        "organization": found.organization,
        "problems": list(found.problems),
        "accounts": {secret: sorted(accounts) for secret, accounts in found.accounts.items()},
        "inputs": dict(found.inputs),
        "places": [{"secret": secret, "region": region,
                    "rows": [[row.reader.account, row.reader.principal, list(row.actions), list(row.depends_on)]
                             for row in rows]}
                   for (secret, region), rows in found.rows.items()],
    }


def access_map_from_json(data: Any) -> AccessMap:
    """The inverse of `access_map_to_json`; ValueError (pydantic's ValidationError is one) for any other shape."""
    stored = _StoredMap.model_validate(data)
    return AccessMap(
        rows={(place.secret, place.region): [Access(place.secret, place.region, Reader(account, principal),
                                                    tuple(actions), tuple(depends_on))
                                             for account, principal, actions, depends_on in place.rows]
              for place in stored.places},
        accounts={secret: frozenset(accounts) for secret, accounts in stored.accounts.items()},
        organization=stored.organization, problems=list(stored.problems), inputs=dict(stored.inputs))
