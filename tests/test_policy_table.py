"""The READMEs' policy table is the registry's (policies/catalog.py), rendered; nobody edits it by hand."""

from __future__ import annotations

import pytest

from cli_support import ROOT
from secrets_layout.policies.catalog import POLICIES
from secrets_layout.reports.policy_table import END, START, main, render, with_table


@pytest.mark.parametrize("readme", ["README.md", "policies/README.md"])
def test_the_readme_table_is_the_registrys(readme):
    text = (ROOT / readme).read_text(encoding="utf-8")
    assert text[text.index(START):text.index(END) + len(END)] == render(), "run `make policy-table`"


def test_every_policy_has_its_row_with_its_level_and_types():
    rows = render().splitlines()[3:-1]
    assert [row.split(" | ")[0].lstrip("| ") for row in rows] == [policy.name for policy in POLICIES]
    native_rotation = next(row for row in rows if row.startswith("| secret-rotation-max-interval |"))
    assert "| secretsmanager.SecretRotation | secretsmanager.RotationSchedule | maximumDays (90) | mandatory |" in native_rotation


def test_a_changed_registry_is_a_different_table(monkeypatch):
    """The comparison above can fail: a description edited in the registry changes the table."""
    from secrets_layout.reports import policy_table

    renamed = [POLICIES[0].__class__(**{**POLICIES[0].__dict__, "description": "Something else."}), *POLICIES[1:]]
    monkeypatch.setattr(policy_table, "POLICIES", renamed)
    assert "Something else." in policy_table.render()
    assert policy_table.render() != (ROOT / "README.md").read_text(encoding="utf-8")


def test_make_policy_table_rewrites_only_between_the_markers(tmp_path, capsys):
    readme = tmp_path / "README.md"
    readme.write_text(f"before\n{START}\nstale\n{END}\nafter\n", encoding="utf-8")
    assert main([str(readme)]) == 0
    assert readme.read_text(encoding="utf-8") == f"before\n{render()}\nafter\n"
    unmarked = tmp_path / "other.md"
    unmarked.write_text("no markers\n", encoding="utf-8")
    assert main([str(unmarked)]) == 1
    assert unmarked.read_text(encoding="utf-8") == "no markers\n"
    assert capsys.readouterr().err == f"{unmarked}: no policy-table markers\n"
    with pytest.raises(ValueError):
        with_table("nothing")
