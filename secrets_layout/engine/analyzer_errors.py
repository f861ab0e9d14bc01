"""What can go wrong talking to a policy pack: one base class, so a caller can catch them all.

Only the standard library: `validate` raises `policy_config.PolicyConfigError` (an `AnalyzerError`)
without loading gRPC or the Pulumi SDK.
"""

from __future__ import annotations

__all__ = ["AnalyzerError", "PolicyPackCrashed", "PolicyPackStartError"]


class AnalyzerError(RuntimeError):
    """Talking to the policy pack failed."""


class PolicyPackStartError(AnalyzerError):
    """The policy pack process did not start (or did not print its port)."""


class PolicyPackCrashed(AnalyzerError):
    """The policy pack process died while it was being used."""
