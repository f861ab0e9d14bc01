"""A declaration as it was at a git revision (`preview --base`): one file, or every file of a folder.

Read with `git cat-file` / `git ls-tree` from the object database, never by checking out: the work
tree stays as it is. A declaration that changed form between the revisions (one file at the base, a
folder now, or back) is found in its other form, so converting an environment to a folder previews
as no change.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

Git = Callable[..., Any]
"""`git(top, *arguments, text=True)`: the output of a git command run in `top`."""
GitSucceeds = Callable[..., bool]

REGULAR_BLOB_MODES = ("100644", "100755")
"""git's modes of a regular file (https://git-scm.com/docs/git-ls-tree#_output_format); a symbolic
link (120000) or a submodule (160000) is not a team's file."""


def declaration_at(top: str, revision: str, relative: str, git: Git, git_succeeds: GitSucceeds) -> tuple[str, str] | None:
    """(path, "blob" or "tree") of the declaration at `revision`: `relative` itself, else its other
    form (`environments/prod` <-> `environments/prod.yaml`); None if neither exists there."""
    other = relative[: -len(".yaml")] if relative.endswith(".yaml") else f"{relative}.yaml"
    for candidate in (relative, other):
        if git_succeeds(top, "cat-file", "-e", f"{revision}:{candidate}"):
            kind = git(top, "cat-file", "-t", f"{revision}:{candidate}").strip()
            if kind in ("blob", "tree"):
                return candidate, kind
    return None


def write_at(top: str, revision: str, found: tuple[str, str], into: Path, git: Git) -> tuple[Path, list[str]]:
    """Write the declaration `found` (from `declaration_at`) at `revision` below `into`; returns
    what to load (the copied file or folder) and notes on the entries left out."""
    path, kind = found
    name = path.rsplit("/", 1)[-1]
    if kind == "blob":
        copy = into / name
        # Bytes as git stores them: the loader reports a file that is not UTF-8 (as an invalid base).
        copy.write_bytes(git(top, "cat-file", "blob", f"{revision}:{path}", text=False))
        return copy, []
    copy = into / name
    copy.mkdir()
    notes = []
    listing = git(top, "ls-tree", "-z", f"{revision}:{path}", text=False)
    for entry in filter(None, listing.split(b"\0")):
        meta, _, raw_name = entry.partition(b"\t")
        mode, kind_of_entry, object_id = meta.decode("ascii").split(" ")
        file_name = raw_name.decode("utf-8", errors="surrogateescape")
        if not file_name.endswith(".yaml") or file_name.startswith("."):
            continue
        if kind_of_entry != "blob" or mode not in REGULAR_BLOB_MODES:
            notes.append(f"{path}/{file_name} at {revision} is not a regular file (git mode {mode}): left out")
            continue
        (copy / file_name).write_bytes(git(top, "cat-file", "blob", object_id, text=False))
    return copy, notes
