"""The Pulumi SDK versions the engine's patches of SDK internals were written and tested against.

The offline engine replaces two private functions of the Pulumi SDK for the duration of a simulation
(`sdk_patches.outputs_awaited_together`, `sdk_patches.no_stack_traces`), and the pack host one module
reference of pulumi_policy (`pack_host.messages_converted_once`, which checks pulumi-policy's version itself:
it imports nothing of secrets_layout). Private functions change without notice, so each patch applies only
when the installed distribution is the minor version it was tested with; any other version runs the SDK's
own code (slower, the same answers). pyproject.toml caps `pulumi` and `pulumi-policy` to these minors, and
a test keeps the two in step. This module imports only the standard library.
"""

from __future__ import annotations

from importlib import metadata

TESTED_MINORS = {"pulumi": "3.272", "pulumi-policy": "1.21"}
"""The minor version of each distribution whose internals the patches were written against."""


def installed_version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def is_tested(distribution: str) -> bool:
    """Whether the installed `distribution` is the minor version its patches were tested with."""
    version = installed_version(distribution)
    return version is not None and minor_of(version) == TESTED_MINORS[distribution]


def minor_of(version: str) -> str:
    """"3.272.0" -> "3.272"."""
    return ".".join(version.split(".")[:2])
