"""The finding behind a pack violation: the same registered check, run here on the request the pack
was sent, converted as the pack converts it; matched by the rendered message, never parsed from it."""

from __future__ import annotations

from secrets_layout.engine.analyzer_messages import Provider, Resource, make_urn
from secrets_layout.findings.recheck import FindingResolver, Run, as_the_pack_sees
from secrets_layout.policies.checks.rotation import check_rotation_interval
from secrets_layout.policies.resources import Resource as PolicyResource

ROTATION = "aws:secretsmanager/secretRotation:SecretRotation"
SECRET = "aws:secretsmanager/secret:Secret"
PROVIDER = Provider("pulumi:providers:aws", "east", {"region": "us-east-1"}, "urn:provider:east")
CONFIGURED = {"secret-rotation-max-interval": {"enforcementLevel": "mandatory", "properties": {"maximumDays": 90}},
              "secret-rotation-required": {"enforcementLevel": "mandatory", "properties": {}}}


def rotation(days):
    return Resource(ROTATION, "db-rotation", {"secretId": "prod/orders/db",
                                              "rotationRules": {"automaticallyAfterDays": days}}, provider=PROVIDER)


def secret():
    return Resource(SECRET, "db-secret", {"name": "prod/orders/db", "tags": {}}, provider=PROVIDER)


def test_the_finding_is_the_checks_own_with_its_field_path():
    sent = rotation(120)
    [expected] = check_rotation_interval(PolicyResource(ROTATION, {"rotationRules": {"automaticallyAfterDays": 120.0}}),
                                         {"maximumDays": 90})
    resolver = FindingResolver([Run([sent], [sent])], CONFIGURED)
    found = resolver.finding("secret-rotation-max-interval", sent.resolved_urn, expected.message)
    assert found == expected and found.path == ("rotationRules", "automaticallyAfterDays")


def test_a_message_no_check_renders_has_no_finding():
    sent = rotation(120)
    resolver = FindingResolver([Run([sent], [sent])], CONFIGURED)
    assert resolver.finding("secret-rotation-max-interval", sent.resolved_urn, "Reworded by another pack.") is None
    assert resolver.finding("a-policy-of-another-pack", sent.resolved_urn, "anything") is None
    assert resolver.finding("secret-rotation-max-interval", make_urn(ROTATION, "elsewhere"), "anything") is None


def test_a_stack_policys_finding_is_found_on_the_states():
    alone = secret()
    resolver = FindingResolver([Run([alone], [alone])], CONFIGURED)
    message = ('Secret "prod/orders/db" has no SecretRotation. A credential that is never rotated stays valid forever '
               "after it leaks. Add an aws.secretsmanager.SecretRotation with secret_id set to this secret and "
               'rotation_rules, or, if it cannot be rotated, tag it kind=generic or rotation-exempt="<reason>".')
    found = resolver.finding("secret-rotation-required", alone.resolved_urn, message)
    assert found is not None and found.path == ()


def test_the_resource_is_converted_as_the_pack_converts_it():
    """Numbers come back as the Struct carries them (doubles) and the provider with its URN."""
    converted = as_the_pack_sees(rotation(30))
    assert converted.props["rotationRules"] == {"automaticallyAfterDays": 30.0}
    assert (converted.provider_props, converted.provider_urn) == ({"region": "us-east-1"}, "urn:provider:east")
