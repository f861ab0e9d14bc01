"""Reading the policy document a resource carries (a secret's resource policy, a key policy)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, List, Optional, Tuple

from ..findings import CannotCheck, Finding
from ..resource_policy import PolicyDocumentError, Statement, parse_policy
from ..resources import POLICY_DOCUMENT_INPUT, SECRET, Resource, contains_unknown


@dataclass(frozen=True)
class Document:
    """The statements of a resource's policy document, or the finding that it cannot be read."""

    field: str
    statements: List[Statement]
    unreadable: Optional[Finding] = None

    def statement_path(self, statement: Statement) -> tuple:
        return (self.field, "Statement", statement.index)


def policy_document(resource: Resource, what: str, *, required: bool) -> Optional[Document]:
    """The resource's policy document (``what``: "resource policy", "key policy"), or None when it has
    none to check (a Secret without an inline policy; a key with AWS's default key policy).

    ``required``: a resource whose whole purpose is the policy (SecretPolicy, KeyPolicy) is judged even
    when the document is empty. Raises :class:`CannotCheck` when the document is unknown.
    """
    field = POLICY_DOCUMENT_INPUT[resource.type]
    document = resource.props.get(field)
    empty = document is None or (isinstance(document, str) and document.strip() in ("", "{}"))
    if empty and (not required or document is None):
        return None
    if contains_unknown(document):
        raise CannotCheck(f"the {what} is computed from other resources' outputs (e.g. ARNs)")
    try:
        return Document(field, _statements(document))
    except PolicyDocumentError as error:
        service = "KMS" if "key" in what else "AWS"
        return Document(field, [], Finding(
            (field,), f"The {what} cannot be read: {error}.",
            f"A policy that cannot be read cannot be shown to be safe (and {service} rejects it at deploy time).",
            "Fix the policy document; build it with json.dumps (or pulumi.Output.json_dumps) from a dict."))


def _statements(document: Any) -> List[Statement]:
    # Several policies judge the same document of one resource (public access, allowed accounts, the
    # deny outside): a JSON text is parsed once for all of them. Statements are frozen.
    if isinstance(document, str):
        return list(_parsed_text(document))
    return parse_policy(document)


@functools.lru_cache(maxsize=32)
def _parsed_text(document: str) -> Tuple[Statement, ...]:
    return tuple(parse_policy(document))


def has_resource_policy(resource: Resource) -> bool:
    """A secret policy resource, or a Secret with an inline ``policy``."""
    return resource.type != SECRET or resource.props.get("policy") is not None
