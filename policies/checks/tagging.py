"""secret-required-tags (stack): a secret's tags come from its own inputs, its provider's default tags and
``aws:secretsmanager/tag:Tag`` resources that name it."""

from __future__ import annotations

from typing import Any, List, Mapping, Sequence

from ..definition import MANDATORY, PolicyDefinition, StackVerdict
from ..findings import CannotCheck, Finding
from ..resources import SECRET_TAG, SECRETS, Resource, is_unknown, secret_label, tag_view
from .links import secret_links
from .schemas import ENVIRONMENT

DEFAULT_REQUIRED_TAGS = ("owner", "environment")


def required_tag_findings(tags: Mapping[str, Any], unknown: Sequence[str], config: Mapping[str, Any]) -> List[Finding]:
    """secret-required-tags on a secret's effective tags; raises :class:`CannotCheck` when a required
    tag is missing from what is known but ``unknown`` (e.g. the provider's default tags) may bring it."""
    required = config.get("requiredTags", list(DEFAULT_REQUIRED_TAGS))
    environment = config.get("environment")
    findings = []
    missing = [key for key in required if key not in tags or tags[key] in (None, "")]
    if missing and unknown:
        raise CannotCheck(f"the tag{'s' if len(missing) > 1 else ''} {', '.join(missing)} may come from "
                          f"{' or '.join(unknown)}, which {'are' if len(unknown) > 1 else 'is'} not known yet")
    if missing:
        listed = ", ".join(missing)
        example = ", ".join(f'"{key}": "..."' for key in missing)
        findings.append(Finding(
            ("tags",), f"The secret is missing the required tag{'s' if len(missing) > 1 else ''} {listed}.",
            "Owners and environments are how access reviews, cost reports and incident response find who is "
            "responsible for a secret.", f"Add {'them' if len(missing) > 1 else 'it'} to tags, e.g. {{{example}}}."))
    value = tags.get("environment")
    if environment and value not in (None, "") and not is_unknown(value) and value != environment:
        findings.append(Finding(
            ("tags", "environment"),
            f'The tag environment is "{value}" but this policy pack is configured for environment "{environment}".',
            "A secret tagged for another environment is missed by this environment's reviews and its grants.",
            f'Set the tag environment="{environment}", or deploy the secret with the other environment\'s stack.'))
    if not findings and environment and is_unknown(value):
        raise CannotCheck("the environment tag is computed from another resource's output")
    return findings


def check_required_tags(resources: Sequence[Resource], config: Mapping[str, Any]) -> StackVerdict:
    """Each secret's effective tags: its own and its provider's default tags, and Tag resources linked to
    it the way rotations are (links.secret_links)."""
    links = secret_links(resources, (SECRET_TAG,))
    verdict, undecided = StackVerdict(), []
    for secret in (r for r in resources if r.type in SECRETS):
        tags, unknown = tag_view(secret)
        for tag in links.linked.get(secret.urn, []):
            key, value = tag.props.get("key"), tag.props.get("value")
            if is_unknown(key):
                unknown.append(f"the key of the Tag {tag.name}")
            elif isinstance(key, str):
                tags.setdefault(key, value)
        if links.maybe.get(secret.urn):
            names = ", ".join(t.name for t in links.maybe[secret.urn])
            unknown.append(f"the Tag resources {names} (whose secret is not known yet)")
        try:
            verdict.findings.extend((secret.urn, finding) for finding in required_tag_findings(tags, unknown, config))
        except CannotCheck as error:
            undecided.append(f"{secret_label(secret)}: {error.what}")
    if undecided:
        verdict.undecided = CannotCheck(f"the tags of secret {'; of secret '.join(undecided)}").message
    return verdict


SECRET_REQUIRED_TAGS = PolicyDefinition(
    name="secret-required-tags",
    description="Secrets carry the required tags, and their environment tag is the environment the pack is "
                "configured for.",
    level=MANDATORY, resource_types=(*SECRETS, SECRET_TAG), check=check_required_tags, stack=True,
    config={"requiredTags": {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 128},
                             "uniqueItems": True, "default": list(DEFAULT_REQUIRED_TAGS),
                             "description": "Tag keys every secret must carry."},
            "environment": ENVIRONMENT})
