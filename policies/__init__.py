"""The secrets-layout CrossGuard policy pack (run by the Pulumi CLI through ``__main__.py``).

Importable as ``secrets_layout.policies`` (pyproject.toml maps this folder there) for its pure parts:
``.schedule`` (rotation schedule analysis), ``.resource_policy`` (IAM resource policy analysis) and
``.rules`` (the rule functions); ``.pack`` wraps the rules for pulumi_policy.  The modules import each
other relatively, so the same files also run as the pack, which __main__.py loads as ``policies`` from
this folder.  Nothing here imports the rest of ``secrets_layout``: the pack runs in its own process and
in other teams' stacks, from this folder alone.
"""
