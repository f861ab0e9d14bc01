"""Where a repository's files are, found from any folder inside it.

A command's results do not depend on the folder it runs in (issue 21): `validate` and
`consumer-policy` find the repository's environments/, and every command finds a declaration's
policies/config/<environment>.json, by looking in a folder and then in each folder above it, up to
the top of its git repository (the folder holding .git) and never above: a file above the top
belongs to something else (and never to this package, wherever it is installed). Outside any
repository the search goes up to the file system's root, as git's own search for .git does.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

DECLARATIONS_FOLDER = "environments"
POLICY_CONFIG_FOLDER = ("policies", "config")


def folders_up_to_the_top(start: str | os.PathLike[str]) -> Iterator[Path]:
    """`start` (resolved), then each folder above it, the repository's top last."""
    start = Path(start).resolve()
    for folder in (start, *start.parents):
        yield folder
        if (folder / ".git").exists():
            return


def find_upwards(start: str | os.PathLike[str], *parts: str,
                 wanted: Callable[[Path], bool] = Path.is_file) -> Path | None:
    """The nearest `start/parts`, `start/../parts` ... that is `wanted`, within the repository."""
    for folder in folders_up_to_the_top(start):
        candidate = folder.joinpath(*parts)
        if wanted(candidate):
            return candidate
    return None


def declarations_folder(start: str | os.PathLike[str] = ".") -> Path | None:
    """The repository's environments/ folder seen from `start` (the working directory): found
    there or in the nearest folder above, and given relative to `start` (../environments from a
    subfolder, "." from environments/ itself), so messages name files the user can open."""
    found = find_upwards(start, DECLARATIONS_FOLDER, wanted=Path.is_dir)
    return Path(os.path.relpath(found, start)) if found is not None else None


def declarations_root(start: str | os.PathLike[str] = ".") -> Path:
    """The folder holding the repository's environments/, relative to `start`; `start` without one."""
    found = find_upwards(start, DECLARATIONS_FOLDER, wanted=Path.is_dir)
    return Path(os.path.relpath(found.parent, start)) if found is not None else Path(start)


def shown_from_here(path: str | os.PathLike[str]) -> str:
    """A path as a message shows it: relative to the working directory when it is in the working
    directory's repository (../policies/config/prod.json from a subfolder), else absolute."""
    resolved, here = Path(path).resolve(), Path.cwd().resolve()
    top = next((folder for folder in folders_up_to_the_top(here) if (folder / ".git").exists()), here)
    if resolved.is_relative_to(top):
        return Path(os.path.relpath(resolved, here)).as_posix()
    return str(path)


def find_policy_config(declaration_file: str | os.PathLike[str], environment: str) -> Path | None:
    """policies/config/<environment>.json in the declaration's folder or the nearest folder above it."""
    return find_in_repository(declaration_file, *POLICY_CONFIG_FOLDER, f"{environment}.json")


def find_in_repository(declaration_file: str | os.PathLike[str], *parts: str) -> Path | None:
    """The file `parts` in the declaration's folder or the nearest folder above it, up to the top
    of the declaration's git repository (never this package's own files, wherever it is installed)."""
    return find_upwards(Path(declaration_file).resolve().parent, *parts)
