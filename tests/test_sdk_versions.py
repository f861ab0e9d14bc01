"""The Pulumi SDK versions the engine patches internals of: pyproject.toml allows only the minor versions the
patches were tested with, and each patch checks the installed version (engine/sdk_versions.py for the SDK,
engine/pack_host.py for pulumi-policy, which imports nothing of secrets_layout)."""

from __future__ import annotations

import importlib.metadata
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from secrets_layout.engine import pack_host, sdk_versions

ROOT = Path(__file__).resolve().parent.parent
FULL = {Requirement(text).name: Requirement(text)
        for text in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["full"]}


@pytest.mark.parametrize("distribution", sorted(sdk_versions.TESTED_MINORS))
def test_pyproject_allows_only_the_tested_minor_version(distribution):
    tested = sdk_versions.TESTED_MINORS[distribution]
    major, minor = (int(part) for part in tested.split("."))
    allowed = FULL[distribution].specifier
    assert {version: allowed.contains(version) for version in
            (f"{tested}.0", f"{tested}.9", f"{major}.{minor + 1}.0", f"{major}.{minor - 1}.0", f"{major + 1}.0.0")} == {
        f"{tested}.0": True, f"{tested}.9": True, f"{major}.{minor + 1}.0": False, f"{major}.{minor - 1}.0": False,
        f"{major + 1}.0.0": False}


@pytest.mark.parametrize("distribution", sorted(sdk_versions.TESTED_MINORS))
def test_the_tests_run_on_the_tested_minor_version(distribution):
    assert sdk_versions.minor_of(importlib.metadata.version(distribution)) == sdk_versions.TESTED_MINORS[distribution]
    assert sdk_versions.is_tested(distribution)


def test_the_pack_host_checks_the_same_pulumi_policy_version():
    assert pack_host.TESTED_PULUMI_POLICY == sdk_versions.TESTED_MINORS["pulumi-policy"]


@pytest.mark.parametrize(("installed", "tested"), [
    pytest.param("3.272.0", True, id="tested"),
    pytest.param("3.272.11", True, id="another-patch-release"),
    pytest.param("3.273.0", False, id="next-minor"),
    pytest.param("3.27.2", False, id="a-prefix-is-not-the-minor"),
    pytest.param(None, False, id="not-installed"),
])
def test_is_tested_compares_the_minor_version(installed, tested, monkeypatch):
    monkeypatch.setattr(sdk_versions, "installed_version", lambda distribution: installed)
    assert sdk_versions.is_tested("pulumi") is tested
