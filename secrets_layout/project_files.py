"""What `secrets-layout init` adds so a repository of one's own deploys with the Pulumi CLI.

    Pulumi.yaml                 the Pulumi project, Python in the repository's .venv
    __main__.py                 the program: the installed secrets-layout's (secrets_layout.program)
    requirements.txt            what `pulumi install` puts into .venv: secrets-layout[full], pinned
    policies/PulumiPolicy.yaml  the policy pack: the installed secrets-layout's, run by
    policies/__main__.py          policies/__main__.py with the python of ../.venv
    policies/requirements.txt   what `pulumi policy publish` installs where the pack is enforced
    .gitignore                  .venv/ and .preview-cache/ (the preview cache of the CI workflow)

so that, as in this repository, `pulumi up --stack ENV --policy-pack policies --policy-pack-config
policies/config/ENV.json` runs beside policies/config/ENV.json, which `init` writes already.

The project (the first three) is planned when Pulumi.yaml is absent, the pack (the next three) when
policies/PulumiPolicy.yaml is: a repository that has either keeps its own, whatever --force says.
The .gitignore lines are added when missing, the rest of the file kept.

The program and the pack are the installed ones, not copies: `preview`, `validate`, `pulumi up` and
`pulumi preview --policy-pack policies` then apply the rules of one version, the one the pin names.
The pin is how this secrets-layout was installed (PEP 610's direct_url.json, which pip writes:
https://packaging.python.org/en/latest/specifications/direct-url/): the commit of a git install,
else the version, with a note when it came from a local path that another machine cannot reach.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

import yaml

from secrets_layout.declaration.yaml_source import MAX_FILE_BYTES
from secrets_layout.files import UnreadableFile, brief_problem, read_bytes

PACK_FOLDER = "policies"
VIRTUALENV = ".venv"
PREVIEW_CACHE = ".preview-cache"
DISTRIBUTION = "secrets-layout"
FALLBACK_PROJECT_NAME = "secrets-layout"
PROJECT_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
"""Pulumi's rule for a project name (pulumi/pulumi sdk/go/common/tokens: ValidateProjectName)."""


class ProjectFileError(Exception):
    """A file that must be read to be updated cannot be: the message names it and what to do."""


@dataclass(frozen=True)
class Requirement:
    """The line that installs this secrets-layout again, and a comment when the line needs a person."""

    line: str
    note: str | None = None


@dataclass(frozen=True)
class PlannedFiles:
    """The files to create (refused when one exists, unless --force) and to update in place."""

    created: list[tuple[Path, str]]
    updated: list[tuple[Path, str]]


def installed_requirement(distribution: importlib.metadata.Distribution | None = None) -> Requirement:
    """How to install the running secrets-layout with its `full` extra, from its install record."""
    try:
        distribution = distribution or importlib.metadata.distribution(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:  # a checkout on PYTHONPATH
        return Requirement(f"{DISTRIBUTION}[full]", _LOCAL_NOTE)
    record = distribution.read_text("direct_url.json")
    origin = json.loads(record) if record else {}
    url = origin.get("url", "")
    vcs = origin.get("vcs_info")
    if vcs:
        return Requirement(f"{DISTRIBUTION}[full] @ {vcs['vcs']}+{url}@{vcs['commit_id']}")
    pinned = f"{DISTRIBUTION}[full]=={distribution.version}"
    if not origin:  # from an index
        return Requirement(pinned)
    if url.startswith("file:"):
        return Requirement(pinned, _LOCAL_NOTE)
    return Requirement(f"{DISTRIBUTION}[full] @ {url}")


_LOCAL_NOTE = ("secrets-layout was installed from a local file or folder, which another machine cannot reach: "
               "replace this line with where your team installs it from, e.g. "
               "secrets-layout[full] @ git+<its repository>@<commit>")


def plan_project_files(root: Path, requirement: Requirement) -> PlannedFiles:
    """The project, the pack and the .gitignore lines that `root` lacks."""
    root = Path(root)
    created: list[tuple[Path, str]] = []
    if not _present(root / "Pulumi.yaml"):
        created += [
            (root / "Pulumi.yaml", render_project_file(project_name(root))),
            (root / "__main__.py", PROGRAM),
            (root / "requirements.txt", render_requirements(requirement, PROGRAM_REQUIREMENTS_HEADER)),
        ]
    pack = root / PACK_FOLDER
    if not _present(pack / "PulumiPolicy.yaml"):
        created += [
            (pack / "PulumiPolicy.yaml", render_pack_file()),
            (pack / "__main__.py", PACK_PROGRAM),
            (pack / "requirements.txt", render_requirements(requirement, PACK_REQUIREMENTS_HEADER)),
        ]
    ignored = root / ".gitignore"
    text = updated_gitignore(_existing_text(ignored))
    return PlannedFiles(created, [] if text is None else [(ignored, text)])


def _existing_text(path: Path) -> str:
    if not _present(path):
        return ""
    if path.is_symlink():
        raise ProjectFileError(f"{path.name} is a symbolic link, so init does not replace it: add "
                               f"{' and '.join(GITIGNORE_ENTRIES)} to the file it names; nothing was written")
    try:
        raw = read_bytes(path, MAX_FILE_BYTES)
        if len(raw) > MAX_FILE_BYTES:
            raise ProjectFileError(f"{path.name} is larger than {MAX_FILE_BYTES // 1024} KiB, so its lines are not "
                                   "added to; nothing was written")
        return raw.decode("utf-8")
    except UnreadableFile as error:
        raise ProjectFileError(f"{path.name}: {brief_problem(error)}; nothing was written") from None
    except UnicodeDecodeError:
        raise ProjectFileError(f"{path.name} is not UTF-8 text, so its lines cannot be added to; nothing was "
                               "written. Save it as UTF-8 and run init again") from None


def _present(path: Path) -> bool:
    return path.exists() or path.is_symlink()


def project_name(root: Path) -> str:
    """The repository folder's name, as `pulumi new` proposes it, when Pulumi accepts it as a project name.
    Not a fixed name: two repositories of one Pulumi organization then keep their stacks apart."""
    name = Path(root).resolve().name
    return name if PROJECT_NAME_PATTERN.match(name) else FALLBACK_PROJECT_NAME


_PROJECT_FILE = """\
# The Pulumi project of this repository (written by `secrets-layout init`): one stack per environment,
# Pulumi.<env>.yaml, deploying environments/<env>.yaml with the program of the installed secrets-layout
# (__main__.py). Its python is .venv's (`pulumi install` makes it from requirements.txt):
#   pulumi up --stack <env> --policy-pack policies --policy-pack-config policies/config/<env>.json
name: {name}
description: AWS Secrets Manager as code with secrets-layout, one stack per environment
runtime:
  name: python
  options:
    toolchain: pip
    virtualenv: {virtualenv}
"""


def render_project_file(name: str) -> str:
    return _PROJECT_FILE.format(name=name, virtualenv=VIRTUALENV)


PROGRAM = '''\
"""`pulumi up --stack <env>`: deploys environments/<env>.yaml (or the stack config
secrets-layout:declaration) with the program of the installed secrets-layout (written by
`secrets-layout init`; `secrets-layout preview` runs this file too)."""

from secrets_layout.program import main

main()
'''

PACK_PROGRAM = '''\
"""The policy pack of the installed secrets-layout (written by `secrets-layout init`).

The Pulumi CLI starts a Python pack as `python -u -m pulumi.policy <engine> <this folder>`, with the
python of PulumiPolicy.yaml's virtualenv. This runs the installed pack's own entry point, so
`pulumi preview --policy-pack policies`, `secrets-layout preview` and `secrets-layout validate` apply
the rules of one secrets-layout. Nothing may be printed on stdout: the CLI reads the pack's port there.
"""

import importlib.util
import os
import runpy
import sys

try:
    _PACK = importlib.util.find_spec("secrets_layout.policies")
except ModuleNotFoundError:
    _PACK = None
if _PACK is None or _PACK.origin is None:
    sys.exit(f"the secrets-layout policy pack needs secrets-layout[full] in {sys.executable}; "
             "install it with: pulumi install (or pip install -r requirements.txt)")
runpy.run_path(os.path.dirname(_PACK.origin), run_name="__main__")
'''

PROGRAM_REQUIREMENTS_HEADER = """\
# What the program (__main__.py) and the policy pack (policies/) run with, in .venv (Pulumi.yaml's
# virtualenv): `pulumi install`, or python3 -m venv .venv && .venv/bin/pip install -r requirements.txt.
# The secrets-layout that wrote this repository (`secrets-layout init`), with the Pulumi SDKs of its
# `full` extra; change the pin to upgrade.
"""

PACK_REQUIREMENTS_HEADER = """\
# What `pulumi policy publish` installs wherever this pack is enforced: the secrets-layout whose pack
# __main__.py runs (written by `secrets-layout init`; keep it the pin of ../requirements.txt).
"""


def render_requirements(requirement: Requirement, header: str) -> str:
    note = "".join(f"# {line}\n" for line in textwrap.wrap(requirement.note or "", 98))
    return f"{header}{note}{requirement.line}\n"


_PACK_FILE = """\
# The secrets-layout policy pack, run from the installed secrets-layout by __main__.py (written by
# `secrets-layout init`):
#   pulumi preview --stack <env> --policy-pack policies --policy-pack-config policies/config/<env>.json
# The Pulumi CLI starts it with the python of `virtualenv`, relative to this folder: the repository's
# .venv, Pulumi.yaml's. `pulumi policy publish` uploads this folder and installs requirements.txt
# wherever the pack is enforced.
description: {description}
version: {version}
runtime:
  name: python
  options:
    toolchain: pip
    virtualenv: ../{virtualenv}
"""


def render_pack_file() -> str:
    """The installed pack's description and version (its PulumiPolicy.yaml's), run from this repository."""
    installed = yaml.safe_load((installed_pack_folder() / "PulumiPolicy.yaml").read_text(encoding="utf-8"))
    return _PACK_FILE.format(description=installed["description"], version=installed["version"],
                             virtualenv=VIRTUALENV)


def installed_pack_folder() -> Path:
    """site-packages/secrets_layout/policies of a wheel; policies/ of a checkout or an editable install."""
    spec = importlib.util.find_spec("secrets_layout.policies")
    return Path(spec.origin).parent


GITIGNORE_ENTRIES = (f"{VIRTUALENV}/", f"{PREVIEW_CACHE}/")
_GITIGNORE_COMMENT = "# secrets-layout: the virtual environment of Pulumi.yaml, and the preview cache (preview --cache)\n"


def updated_gitignore(text: str) -> str | None:
    """The .gitignore's text with the missing entries added, or None when none is missing. `.venv`,
    `/.venv` and `.venv/` all ignore the folder, so any of them counts."""
    written = {line.strip().strip("/") for line in text.splitlines()}
    missing = [entry for entry in GITIGNORE_ENTRIES if entry.strip("/") not in written]
    if not missing:
        return None
    separator = "\n" if text and not text.endswith("\n") else ""
    return text + separator + _GITIGNORE_COMMENT + "".join(f"{entry}\n" for entry in missing)
