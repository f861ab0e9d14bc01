"""An environment as a folder of files that teams own, merged into one declaration.

    environments/prod/
      _environment.yaml   the environment's settings: environment, security_account, primary_region,
                          accounts, kms, defaults, alerts (and, if wanted, secrets and parameters)
      payments.yaml       secrets: and parameters: of one team, nothing else
      search.yaml         ...   (CODEOWNERS: /environments/prod/payments.yaml @org/payments)

The settings file's items come first, then each team file's, files in the code-point order of their
names (the same on every machine and locale), items in their order in the file. `defaults:` is written
once, in the settings file, and applies to every secret of every file. Each file is read with the
bound of one declaration (MAX_FILE_BYTES), and every position and issue path stays the one in its own
file: the merged source map keeps the marks of every file (each mark names its file) and which file
each merged `secrets[i]` / `parameters[i]` came from.

Only regular `*.yaml` files count (names starting with `.` are editor or system files). A `*.yaml` that
is not a regular file (a symbolic link, a FIFO, a device, a folder) is never opened, since opening a FIFO blocks; it is
an issue of the declaration rather than silently left out, because deploying the environment without
it would delete its team's secrets.
"""

from __future__ import annotations

import os

from secrets_layout.declaration.models import TeamFile
from secrets_layout.declaration.yaml_source import MAX_FILE_BYTES, SourceMap, YamlSourceError, load_yaml
from secrets_layout.errors import DeclarationError, Issue, format_path
from secrets_layout.files import UnreadableFile, brief_problem, check_regular, read_bytes

SETTINGS_FILE = "_environment.yaml"
"""The file of an environment folder that holds the environment's settings (the underscore sorts it
apart from the team files and keeps it from looking like one team's)."""
TEAM_SECTIONS = tuple(TeamFile.model_fields)
"""What a team file may hold: secrets and parameters."""
TEAM_FILE_SCHEMA = "team-file.schema.json"


def default_declaration(environment: str, folder: str = "environments") -> str:
    """environments/<environment>.yaml, or the environment folder environments/<environment>/ when
    only the folder exists."""
    file = os.path.join(folder, f"{environment}.yaml")
    as_folder = os.path.join(folder, environment)
    return as_folder if not os.path.lexists(file) and os.path.isdir(as_folder) else file


def declared_twice(path: str) -> list[Issue]:
    """The issue of an environment declared both as environments/<env>.yaml and as environments/<env>/,
    from either side (`path` the file or the folder), at the file's 1:1, naming the other side and the
    one `pulumi up` deploys: `default_declaration` takes the file, and a stack whose
    secrets-layout:declaration names the folder fails on this issue (read_folder raises it).

    The loader says it of a folder only: of the file it would stop the program deploying it, so the
    file side is `validate`'s (cli), which the message's "keep one" is for."""
    fix = ("; a stack whose secrets-layout:declaration names the folder stops on this; keep one: remove the file, "
           "or the folder")
    if os.path.isdir(path):
        file = os.path.normpath(path) + ".yaml"
        if os.path.lexists(file):
            return [Issue(file, 1, 1, "(document)", f"{os.path.basename(file)} declares this environment too, and "
                                                    f"`pulumi up` deploys the file by default, not this folder{fix}")]
    elif path.endswith(".yaml") and os.path.isdir(path.removesuffix(".yaml")):
        folder = os.path.basename(path.removesuffix(".yaml"))
        return [Issue(path, 1, 1, "(document)", f"{folder}/ declares this environment too, and `pulumi up` "
                                                f"deploys this file by default, not the folder{fix}")]
    return []


def read_text(file: str) -> str:
    """One declaration file as text: a regular file, at most MAX_FILE_BYTES, UTF-8.
    Raises DeclarationError (too large, not UTF-8) or UnreadableFile."""
    raw = read_bytes(file, MAX_FILE_BYTES)
    if len(raw) > MAX_FILE_BYTES:
        raise DeclarationError([Issue(file, 1, 1, "(document)",
                                      f"file is larger than {MAX_FILE_BYTES // 1024} KiB; split it: an environment may be a folder "
                                      f"with {SETTINGS_FILE} and a file of secrets per team")])
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line_start = raw.rfind(b"\n", 0, error.start) + 1
        line = raw[: error.start].count(b"\n") + 1
        column = len(raw[line_start: error.start].decode("utf-8", errors="replace")) + 1
        raise DeclarationError([Issue(file, line, column, "(document)",
                                      "not UTF-8 text; save the file as UTF-8")]) from None


def is_folder_member(name: str) -> bool:
    """Whether an entry of an environment folder is one of its files (`*.yaml`; a name starting with
    `.` is an editor's or the system's)."""
    return name.endswith(".yaml") and not name.startswith(".")


def folder_files(folder: str) -> tuple[list[str], list[Issue]]:
    """The settings file, then the team files in name order; the `*.yaml` entries that are not
    regular files, as issues."""
    try:
        names = sorted(os.listdir(folder))
    except OSError as error:
        raise UnreadableFile.of(folder, error) from None
    files, issues = [], []
    for name in sorted(names, key=lambda name: name != SETTINGS_FILE):
        if not is_folder_member(name):
            continue
        file = os.path.join(folder, name)
        try:
            # A link is not a team's file: at a --base revision git keeps it as a link (mode 120000,
            # left out by declaration/revision.write_at), and one out of the folder escapes CODEOWNERS.
            if os.path.islink(file):
                raise UnreadableFile(file, "a symbolic link, not a regular file")
            check_regular(file)
        except UnreadableFile as error:
            issues.append(Issue(file, 1, 1, "(document)",
                                f"{brief_problem(error)}; an environment folder holds regular files only: "
                                "replace it with the team's file, or remove it"))
            continue
        files.append(file)
    issues.extend(declared_twice(folder))
    if SETTINGS_FILE not in names:
        issues.append(Issue(os.path.join(folder, SETTINGS_FILE), 1, 1, "(document)",
                            f"an environment folder needs {SETTINGS_FILE} with the environment's settings "
                            "(environment:, security_account:, primary_region:, ...); create it"))
    return files, issues


def read_folder(folder: str) -> tuple[dict, SourceMap]:
    """The merged document of an environment folder and where everything in it was written.

    Raises DeclarationError with every file's problems, or UnreadableFile if the folder cannot be listed.
    """
    files, issues = folder_files(folder)
    documents: list[tuple[object, SourceMap]] = []
    for file in files:
        try:
            document = load_yaml(read_text(file), file)
        except DeclarationError as error:
            issues.extend(error.issues)
            continue
        except YamlSourceError as error:
            issues.append(Issue(file, error.position.line, error.position.column, format_path(error.path), error.message))
            continue
        issues.extend(_shape_issues(*document, settings=os.path.basename(file) == SETTINGS_FILE))
        documents.append(document)
    if issues:
        raise DeclarationError(issues)
    (settings, source_map), teams = documents[0], documents[1:]
    merged = dict(settings)
    sections = {section: list(settings.get(section) or []) for section in TEAM_SECTIONS}
    for section, items in sections.items():
        source_map.items.update({(section, index): (source_map.file, index) for index in range(len(items))})
    for data, team_map in teams:
        if data is None:
            continue
        source_map.add_items(team_map, {section: len(items) for section, items in sections.items()})
        for section, items in sections.items():
            items.extend(data.get(section) or [])
    merged.update({section: items for section, items in sections.items() if items or section in settings})
    return merged, source_map


def _shape_issues(data: object, source_map: SourceMap, *, settings: bool) -> list[Issue]:
    """What keeps a file from being merged: a team file holds secrets: and parameters: lists only."""
    file = source_map.file
    if settings:
        if not isinstance(data, dict):
            return [Issue(file, 1, 1, "(document)",
                          "the settings file is a mapping with environment:, security_account:, primary_region: ...; "
                          "see environments/schema.json")]
        sections = [section for section in TEAM_SECTIONS if section in data]
    elif data is None:
        return []  # an empty team file declares nothing yet
    elif not isinstance(data, dict):
        return [Issue(file, 1, 1, "(document)",
                      f"a team file is a mapping with secrets: and parameters:; see environments/{TEAM_FILE_SCHEMA}")]
    else:
        sections = list(TEAM_SECTIONS)
    issues = []
    if not settings:
        for key in data:
            if key in TEAM_SECTIONS:
                continue
            position = source_map.locate_key((key,))
            fix = ("defaults: apply to every secret of the environment and are written once, in "
                   f"{SETTINGS_FILE}: move them there" if key == "defaults" else
                   f"this is a setting of the environment: write it in {SETTINGS_FILE}")
            issues.append(Issue(file, position.line, position.column, format_path((key,)),
                                f"a team file holds secrets: and parameters: only; {fix}"))
    for section in sections:
        if data.get(section) is not None and not isinstance(data[section], list):
            position = source_map.locate((section,))
            issues.append(Issue(file, position.line, position.column, section,
                                f"{section}: is a list (one '- name: ...' item each); write the items as a list"))
    return issues
