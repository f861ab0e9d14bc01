"""The secrets-layout CrossGuard policy pack (run by the Pulumi CLI through ``__main__.py``).

Importable as ``secrets_layout.policies`` (pyproject.toml maps this folder there) for its pure parts:
``.catalog`` (the registry: one definition per policy), ``.checks`` (the checks, one module per
concern, returning ``.findings.Finding`` values), ``.resources`` (resources of the aws and aws-native
providers as the checks see them), ``.schedule`` (rotation schedule analysis) and ``.resource_policy``
(IAM resource policy analysis); ``.pack`` wraps the definitions for pulumi_policy.  The modules import each
other relatively, so the same files also run as the pack, which __main__.py loads as ``policies`` from
this folder.  Nothing here imports the rest of ``secrets_layout``: the pack runs in its own process and
in other teams' stacks, from this folder alone.
"""
