"""`make help` lists every target a user runs, each with what it does (issue 21)."""

from __future__ import annotations

import re
import subprocess

from cli_support import ROOT


def test_make_help_lists_every_phony_target_with_a_line_of_its_own():
    listed = subprocess.run(["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    described = dict(re.findall(r"^make (\S+) +(.+)$", listed, flags=re.MULTILINE))
    phony = (ROOT / "Makefile").read_text().split(".PHONY:", 1)[1].splitlines()[0].split()
    assert set(described) == set(phony)
    assert all(text.strip() for text in described.values())
    assert "make test" in (ROOT / "README.md").read_text() and "test" in described


def test_make_alone_is_help_not_an_install():
    alone = subprocess.run(["make", "-s", "-n"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert "pip install" not in alone and "awk" in alone
