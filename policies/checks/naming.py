"""secret-name-convention: ``<environment>/<service>/<name>[/...]``."""

from __future__ import annotations

import re
from typing import Any, List, Mapping

from ..definition import MANDATORY, PolicyDefinition
from ..findings import CannotCheck, Finding, NotApplicable
from ..resources import SECRETS, Resource, is_unknown
from .schemas import ENVIRONMENT

_SEGMENT_RE = re.compile(r"[a-z0-9-]+", re.ASCII)
_RANDOM_SUFFIX_RE = re.compile(r"-[A-Za-z0-9]{6}", re.ASCII)

GENERATED_SUFFIX = "0" * 26
"""What the provider appends to ``name_prefix``: terraform-provider-aws names the secret
``create.Name(name, name_prefix)`` (internal/service/secretsmanager/secret.go), which is
``id.PrefixedUniqueId(prefix)`` of terraform-plugin-sdk (helper/id/id.go, UniqueIDSuffixLength = 26):
a UTC timestamp to the 1/10,000 s and an 8-digit hexadecimal counter, so 26 characters of [0-9a-f]."""


def naming_problems(name: str, environment: str) -> List[str]:
    """What is wrong with a secret name under ``<environment>/<service>/<name>[/...]``."""
    problems = []
    segments = name.split("/")
    if len(segments) < 3:
        problems.append(f"it has {len(segments)} segment{'s' if len(segments) != 1 else ''}, "
                        "at least 3 are needed (<environment>/<service>/<name>)")
    bad = [s for s in segments if not _SEGMENT_RE.fullmatch(s)]
    if bad:
        shown = ", ".join(f'"{s}"' for s in bad)
        problems.append(f"segment{'s' if len(bad) > 1 else ''} {shown} "
                        f"{'are' if len(bad) > 1 else 'is'} not lowercase [a-z0-9-]")
    if segments[0] != environment:
        problems.append(f'the first segment is "{segments[0]}", not the environment "{environment}"')
    if len(name) >= 7 and _RANDOM_SUFFIX_RE.fullmatch(name[-7:]):
        problems.append(f'it ends in "{name[-7:]}", a hyphen and 6 characters, which AWS ARNs use for '
                        "their random suffix, so partial-ARN lookups can match the wrong secret")
    return problems


def suggest_name(name: str, environment: str) -> str:
    segments = [re.sub(r"[^a-z0-9-]+", "-", s.lower()).strip("-") for s in name.split("/")]
    segments = [s for s in segments if s]
    if not segments or segments[0] != environment:
        segments.insert(0, environment)
    while len(segments) < 3:
        segments.append("<service>" if len(segments) == 1 else "<name>")
    suggestion = "/".join(segments)
    if _RANDOM_SUFFIX_RE.fullmatch(suggestion[-7:] if len(suggestion) >= 7 else ""):
        suggestion = suggestion[:-7] + suggestion[-6:]
    return suggestion


def _why(environment: str) -> str:
    return (f"Consumers and IAM policies select secrets by this path (e.g. {environment}/payments/*), so a name "
            "outside it escapes those grants and reviews.")


def _prefixed(prefix: Any, environment: str) -> List[Finding]:
    """A secret named by ``name_prefix``: it follows the convention when every name the provider can
    make from the prefix does (the suffix is lowercase hexadecimal, see GENERATED_SUFFIX)."""
    if is_unknown(prefix):
        raise CannotCheck("the secret's name_prefix is computed from another resource's output")
    problems = naming_problems(f"{prefix}{GENERATED_SUFFIX}", environment)
    if not problems:
        return []
    return [Finding(
        ("namePrefix",),
        f'The secret is named by name_prefix "{prefix}" and a 26-character suffix the provider adds, and that '
        f'name does not follow <environment>/<service>/<name>: {"; ".join(problems)}.',
        _why(environment),
        f'Set name_prefix to "{environment}/<service>/<name>-", or name the secret with name=...')]


def check_secret_name(resource: Resource, config: Mapping[str, Any]) -> List[Finding]:
    environment = config.get("environment")
    if not environment:
        raise NotApplicable('the config key "environment" is missing (e.g. {"secret-name-convention": '
                            '{"environment": "prod"}} in the --policy-pack-config file), so the first name '
                            "segment cannot be checked")
    name = resource.props.get("name")
    if is_unknown(name):
        raise CannotCheck("the secret name is computed from another resource's output")
    if not name:
        prefix = resource.props.get("namePrefix")
        if prefix:
            return _prefixed(prefix, environment)
        return [Finding(("name",), "The secret has no explicit name.",
                        "Consumers and IAM policies address secrets by their <environment>/<service>/<name> path, "
                        "so the name must be fixed.", f'Set name="{environment}/<service>/<name>".')]
    problems = naming_problems(name, environment)
    if not problems:
        return []
    return [Finding(("name",),
                    f'Secret name "{name}" does not follow <environment>/<service>/<name>: {"; ".join(problems)}.',
                    _why(environment), f'Rename it, e.g. to "{suggest_name(name, environment)}".')]


SECRET_NAME_CONVENTION = PolicyDefinition(
    name="secret-name-convention",
    description="Secret names follow <environment>/<service>/<name>: lowercase [a-z0-9-] segments, the first one "
                "the environment, and no -XXXXXX suffix.",
    level=MANDATORY, resource_types=SECRETS, check=check_secret_name, config={"environment": ENVIRONMENT})
