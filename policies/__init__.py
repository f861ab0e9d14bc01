"""The secrets-layout CrossGuard policy pack (run by the Pulumi CLI through ``__main__.py``).

Importable as the package ``policies`` for its pure parts: ``policies.schedule`` (rotation schedule
analysis), ``policies.resource_policy`` (IAM resource policy analysis) and ``policies.rules`` (the rule
functions).  ``policies.pack`` wraps the rules for pulumi_policy.  Nothing here imports
``secrets_layout`` or ``components``: the pack runs in its own process and in other teams' stacks.
"""
