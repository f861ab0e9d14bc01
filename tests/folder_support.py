"""Split a one-file declaration into an environment folder: the settings file and one file per team."""

from __future__ import annotations

from pathlib import Path

import yaml

SETTINGS_FILE = "_environment.yaml"


def team_of(name: str) -> str:
    """prod/payments/stripe-api-key and /prod/payments/x -> payments."""
    return name.strip("/").split("/")[1]


def split_declaration(source: Path, folder: Path, *, settings_keeps: int = 0) -> Path:
    """Write `source` as `folder/` (created): the settings file keeps everything but the first
    `settings_keeps` secrets' followers; every other secret and parameter goes to <team>.yaml."""
    data = yaml.safe_load(source.read_text())
    secrets, parameters = data.pop("secrets", []), data.pop("parameters", [])
    folder.mkdir(parents=True)
    if settings_keeps:
        data["secrets"], secrets = secrets[:settings_keeps], secrets[settings_keeps:]
    teams: dict[str, dict[str, list]] = {}
    for section, items in (("secrets", secrets), ("parameters", parameters)):
        for item in items:
            teams.setdefault(team_of(item["name"]), {}).setdefault(section, []).append(item)
    header = "# yaml-language-server: $schema=../schema.json\n"
    (folder / SETTINGS_FILE).write_text(header + yaml.safe_dump(data, sort_keys=False))
    for team, content in teams.items():
        (folder / f"{team}.yaml").write_text("# yaml-language-server: $schema=../team-file.schema.json\n"
                                             + yaml.safe_dump(content, sort_keys=False))
    return folder
