"""`secrets-layout`: parses the command line and hands off. Exit codes: 0 fine, 1 findings, 2 usage."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import errno
import os
import sys
from pathlib import Path
from typing import Sequence

# What a command needs beyond these is imported in its handler: `validate` must not pay for the
# preview's (rich, pulumi, grpc) nor `--version` for the models' (pydantic builds them on import).
from secrets_layout.errors import DeclarationError, printable, printable_file
from secrets_layout.files import UnreadableFile, brief_problem, check_path, check_regular, is_folder, shown
from secrets_layout.reports import validation as validation_report
from secrets_layout.reports.progress import progress_on_stderr

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
# Ctrl-C: 128 + SIGINT, what a shell reports for a command the signal ended.
EXIT_INTERRUPTED = 130
DEFAULT_DECLARATIONS = "environments/*.yaml"
DEFAULT_FOLDERS = "environments/*/"
FULL_INSTALL = "pip install 'secrets-layout[full]'"
"""What a plain install (a pre-commit hook's) leaves out: pyproject.toml's `full` extra."""
NEEDED_BY = {
    "preview": ("pulumi", "pulumi_aws", "pulumi_random", "pulumi_policy", "grpc", "rich"),
    "audit": ("boto3",),
    "rotate": ("boto3", "rich"),
}
"""The import names of the `full` extra's distributions that each command needs."""
AUTO_POLICY_CONFIG = "auto"
"""validate's --policy-config default: the declaration's policies/config/<environment>.json, if any."""


class UsageError(Exception):
    """Bad command line or a file that is not there: exit 2."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    given = sys.argv[1:] if argv is None else list(argv)
    if not given:
        # The command alone: what it can do, as `git` and `pulumi` answer it; asking for help is no error.
        parser.print_help()
        return EXIT_OK
    arguments = parser.parse_args(given)
    original = sys.stdout
    # Started with standard output closed (`>&-`), Python sets sys.stdout to None.
    sys.stdout = _GuardedOutput(original if original is not None else _ClosedOutput())
    try:
        code = arguments.handler(arguments)
        sys.stdout.flush()
        return code
    except (UsageError, UnreadableFile) as error:
        parser.exit(EXIT_USAGE, f"{parser.prog} {arguments.command}: error: {error}\n")
    except KeyboardInterrupt:
        _discard_pending_output(original)
        sys.stderr.write(f"{parser.prog} {arguments.command}: interrupted\n")
        return EXIT_INTERRUPTED
    except _OutputFailed as failure:
        _discard_pending_output(original)
        if isinstance(failure.error, BrokenPipeError):
            # The reader went away (`| head`): not an error of ours.
            return EXIT_OK
        sys.stderr.write(f"{parser.prog} {arguments.command}: error: cannot write to standard output: "
                         f"{(failure.error.strerror or str(failure.error)).lower()}\n")
        return EXIT_USAGE
    finally:
        sys.stdout = original


class _OutputFailed(Exception):
    def __init__(self, error: OSError):
        self.error = error
        super().__init__(str(error))


class _GuardedOutput:
    """Standard output whose write errors (a full disk, /dev/full, a closed descriptor, a closed
    pipe) are told apart from every other OSError, so they become one message, not a traceback."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except OSError as error:
            raise _OutputFailed(error) from None

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as error:
            raise _OutputFailed(error) from None

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


class _ClosedOutput:
    """Standard output when it was closed: writing to it is an error."""

    def write(self, text: str) -> int:
        raise OSError(errno.EBADF, "standard output is closed")

    def flush(self) -> None:
        return None

    def isatty(self) -> bool:
        return False


def _discard_pending_output(stream) -> None:
    """Point the descriptor at devnull so the interpreter's exit-time flush of what is still
    buffered cannot fail again (Python's advice for SIGPIPE, which applies to any write error:
    https://docs.python.org/3/library/signal.html#note-on-sigpipe)."""
    if stream is None:
        return
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)


def _version() -> str:
    """The installed distribution's version (pyproject.toml's, through its metadata)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("secrets-layout")
    except PackageNotFoundError:  # a checkout used without installing it
        return "unknown (not installed)"


class _VersionAction(argparse.Action):
    """`--version`, looking the version up only when asked: package metadata costs every other
    command (validate's start-up) tens of milliseconds."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS,
                 default: str = argparse.SUPPRESS, help: str = "show program's version number and exit") -> None:  # noqa: A002 (argparse's name)
        super().__init__(option_strings=option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: object,
                 option_string: str | None = None) -> None:
        print(f"{parser.prog} {_version()}")  # on stdout, as argparse's own "version" action prints
        parser.exit()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="secrets-layout",
        description="AWS Secrets Manager as code: validate and preview environments/<env>.yaml declarations.",
    )
    parser.add_argument("--version", action=_VersionAction)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    validate = commands.add_parser("validate", help="check declarations (default: the repository's environments/)")
    validate.add_argument("paths", nargs="*", metavar="PATH",
                          help="declaration files or folders of them; a team file of an environment folder is "
                               "checked as part of its environment (default: environments/*.yaml and "
                               "environments/*/ of the repository, found from any of its folders)")
    validate.add_argument("--format", choices=("text", "json"), default="text",
                          help="text: one FILE:LINE:COLUMN: PATH: MESSAGE line per problem; json: one object "
                               "(default text)")
    pack_rules = validate.add_mutually_exclusive_group()
    pack_rules.add_argument("--policy-config", metavar="FILE", default=AUTO_POLICY_CONFIG,
                            help="check the policy pack's rules that the declaration alone decides with this policy "
                                 "config (default: policies/config/<environment>.json of the declaration's repository, "
                                 "found as preview finds it; when there is none, the declaration only, with a note)")
    pack_rules.add_argument("--no-policy-config", dest="policy_config", action="store_const", const=None,
                            help="check the declaration only, not the policy pack's rules")
    validate.set_defaults(handler=_validate)

    preview = commands.add_parser("preview", help="offline plan, policy report and cost of one declaration")
    preview.add_argument("path", metavar="PATH", help="the declaration, e.g. environments/prod.yaml")
    preview.add_argument("--policy-config", metavar="FILE",
                         help="policy pack config (default: policies/config/<environment>.json of the "
                              "declaration's repository)")
    preview.add_argument("--program", metavar="FILE",
                         help="the Pulumi program to run, e.g. your own __main__.py using "
                              "secrets_layout.components (default: __main__.py of the Pulumi project in the "
                              "declaration's repository, else the packaged program)")
    preview.add_argument("--base", metavar="GITREF", help="also preview PATH at this revision and show the changes")
    preview.add_argument("--format", choices=("text", "json", "markdown", "sarif"), default="text",
                         help="text: tables for a terminal; json: every resource with its inputs; markdown: a "
                              "pull-request comment; sarif: code scanning (default text)")
    preview.add_argument("--output", metavar="FILE", help="write the report to FILE instead of standard output")
    preview.add_argument("--sarif-output", metavar="FILE",
                         help="also write the same preview as SARIF to FILE (one run for both reports)")
    preview.add_argument("--force", action="store_true", help="with --output: replace FILE if it exists")
    preview.add_argument("--all", dest="show_all", action="store_true",
                         help="text format: also list unchanged resources, components and providers, and every "
                              "reader of every secret (default: what changes)")
    preview.add_argument("--cache", metavar="DIR",
                         help="keep this declaration's simulated deployment and policy verdicts in DIR (created if "
                              "missing), keyed by content; with --base, a stored deployment of the base's content "
                              "is used instead of simulating it again")
    preview.set_defaults(handler=_preview)

    schema = commands.add_parser("schema", help="print the JSON Schema of a declaration")
    schema.add_argument("--file-kind", choices=("declaration", "team-file"), default="declaration",
                        help="declaration: environments/<env>.yaml and an environment folder's _environment.yaml; "
                             "team-file: a team's file in an environment folder (secrets and parameters) "
                             "(default declaration)")
    schema.set_defaults(handler=_schema)

    init = commands.add_parser("init", help="scaffold environments/ENV.yaml, Pulumi.ENV.yaml and policies/config/ENV.json, "
                                            "and the Pulumi project and policy pack a repository lacks")
    init.add_argument("environment", metavar="ENV", nargs="?",
                      help="the new environment's slug, e.g. qa (with --stack: the stack's environment answer)")
    init.add_argument("--stack", metavar="STACK",
                      help="take environment, security account, region and organization from the answers "
                           "`pulumi new` stored in Pulumi.STACK.yaml, and keep that stack file")
    init.add_argument("--from", dest="source", metavar="ENV",
                      help="copy the structure (never the values) of environments/ENV.yaml")
    init.add_argument("--security-account", metavar="ID", default=None, help="the account that holds the secrets")
    init.add_argument("--region", default=None, help="primary region (default us-east-1)")
    init.add_argument("--account", metavar="NAME=ID", action="append", default=[], help="a consumer account (repeatable)")
    init.add_argument("--replica", metavar="REGION", action="append", default=[], help="a default replica region (repeatable)")
    init.add_argument("--organization-id", metavar="ID", help="AWS Organizations ID, e.g. o-a1b2c3d4e5")
    init.add_argument("--owner", default="platform-team", help="the owner tag of every secret (default platform-team)")
    # How strict the environment starts: the same for every name, relaxed only by these options.
    init.add_argument("--protect", action=argparse.BooleanOptionalAction, default=None,
                      help="defaults.protect: Pulumi protect of every secret and key, enforced by the policy config "
                           "(default: on; with --from, the source's); --no-protect leaves them deletable")
    init.add_argument("--rotation-days", metavar="N", type=int, help="defaults.rotation.every_days (default 30)")
    init.add_argument("--maximum-days", metavar="N", type=int, default=90,
                      help="the longest rotation interval the policy pack accepts (default 90)")
    init.add_argument("--recovery-window-days", metavar="N", type=int,
                      help="defaults.recovery_window_days, 7-30 (default 30)")
    init.add_argument("--deny-outside", choices=("mandatory", "advisory"), default="mandatory",
                      help="level of secret-policy-deny-outside in the policy config (default mandatory)")
    init.add_argument("--force", action="store_true", help="overwrite files that already exist")
    init.set_defaults(handler=_init)

    consumer = commands.add_parser("consumer-policy", help="print the IAM policy a reader role needs for a secret")
    consumer.add_argument("secret", metavar="SECRET", help="the secret's name, e.g. prod/database/credentials")
    consumer.add_argument("--account", metavar="NAME", required=True, help="the reader account's name from accounts:")
    consumer.add_argument("--file", metavar="PATH", help="the declaration (default environments/<first segment>.yaml)")
    consumer.set_defaults(handler=_consumer_policy)

    audit = commands.add_parser("audit", help="read-only audit of the live security account against a declaration")
    audit.add_argument("path", metavar="PATH", help="the declaration, e.g. environments/prod.yaml")
    audit.add_argument("--policy-config", metavar="FILE",
                       help="policy pack config for maximumDays (default: policies/config/<environment>.json)")
    audit.add_argument("--since", metavar="DATE", help="start of the access period (default: 90 days before --until)")
    audit.add_argument("--until", metavar="DATE", help="end of the access period, inclusive (default: now)")
    audit.add_argument("--unread-days", metavar="N", type=int, default=90,
                       help="a secret unread this long is a finding (default 90)")
    audit.add_argument("--trail-bucket", metavar="S3URI", help="the (organization) trail's bucket: s3://BUCKET[/PREFIX]")
    audit.add_argument("--athena-workgroup", metavar="W", help="query the CloudTrail table with Athena in this workgroup")
    audit.add_argument("--athena-table", metavar="TABLE", default="cloudtrail_logs",
                       help="the CloudTrail table (DATABASE.TABLE), default cloudtrail_logs")
    audit.add_argument("--no-lookup-events", action="store_true", help="skip CloudTrail LookupEvents")
    audit.add_argument("--format", choices=("text", "json", "markdown"), default="text",
                       help="text for a terminal, json for tools, markdown for an issue or a wiki (default text)")
    audit.add_argument("--endpoint-url", metavar="URL", help="send every AWS call to this endpoint (tests, emulators)")
    audit.set_defaults(handler=_audit)

    rotate = commands.add_parser("rotate", help="rotation drill: rotate the declaration's rotating secrets now, "
                                                "wait for each and report it")
    rotate.add_argument("path", metavar="PATH", help="the declaration, e.g. environments/staging.yaml")
    rotate.add_argument("--secret", metavar="NAME", action="append", default=[],
                        help="rotate this secret only (repeatable; default: every secret with rotation enabled)")
    rotate.add_argument("--wait", metavar="SECONDS", type=int, default=600,
                        help="how long to wait for each rotation, its replicas included (default 600)")
    rotate.add_argument("--format", choices=("text", "json", "markdown"), default="text",
                        help="text for a terminal, json for tools, markdown for an issue or a wiki (default text)")
    rotate.add_argument("--yes", action="store_true",
                        help="start without asking (scripts); without it the drill asks on a terminal, "
                             "and refuses without one")
    rotate.add_argument("--endpoint-url", metavar="URL", help="send every AWS call to this endpoint (tests, emulators)")
    rotate.set_defaults(handler=_rotate)
    return parser


def _declaration_files(paths: Sequence[str]) -> list[Path]:
    """The declarations to validate: files, and environment folders (secrets_layout.declaration.folder).

    Without paths, the repository's environments/ folder, found from the working directory or
    the nearest folder above it (secrets_layout.repository). A folder with a _environment.yaml is
    one environment. Any other folder gives its *.yaml regular files (anything else named *.yaml, a
    FIFO say, is skipped with a note: opening it could block forever) and its subfolders that hold
    *.yaml files, each an environment folder. A file of an environment folder (a team's file, as
    pre-commit passes it) stands for its environment: alone it is no declaration. A file named on
    the command line must be a readable regular file; a folder without declarations is a usage
    error. Each declaration is checked once, in the order first named."""
    if not paths:
        from secrets_layout.repository import declarations_folder

        folder = declarations_folder()
        files = _declarations_in(folder) if folder is not None else []
        if not files:
            raise UsageError(f"no declarations match {DEFAULT_DECLARATIONS} or {DEFAULT_FOLDERS} here or in a folder "
                             "above; name the files to check")
        return files
    files = []
    for text in paths:
        if text == "":
            raise UsageError("'' is not a path; name a declaration file or a folder of them")
        given = Path(text)
        if is_folder(given):
            from secrets_layout.declaration.folder import SETTINGS_FILE

            found = [given] if (given / SETTINGS_FILE).exists() else _declarations_in(given)
            if not found:
                raise UsageError(f"{shown(given)}: no declarations (*.yaml files) in this folder; name the files to check")
            files.extend(found)
        else:
            check_regular(given)
            files.append(_environment_of(given))
    return list(dict.fromkeys(files))


def _environment_of(file: Path) -> Path:
    """The environment folder a file belongs to (it holds a settings file), else the file itself."""
    from secrets_layout.declaration.folder import SETTINGS_FILE

    return file.parent if (file.parent / SETTINGS_FILE).is_file() else file


def _declarations_in(folder: Path) -> list[Path]:
    """The *.yaml regular files of `folder`, then its environment folders (subfolders with *.yaml
    files), each in name order."""
    files = _regular_files(sorted(folder.glob("*.yaml")))
    folders = sorted(candidate for candidate in folder.glob("*/") if candidate.is_dir() and any(candidate.glob("*.yaml")))
    return files + folders


def _check_cache_folder(cache: str) -> None:
    """A folder, or a path where one can be created: the nearest existing ancestor is a folder
    (else every write fails after the whole preview, for want of a folder)."""
    check_path(cache)
    if os.path.lexists(cache) and not os.path.isdir(cache):
        raise UsageError(f"--cache {shown(cache)}: not a folder; give a folder (it is created if missing)")
    ancestor = Path(os.path.abspath(cache))
    while not os.path.lexists(ancestor) and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise UsageError(f"--cache {shown(cache)}: a part of this path is a file, not a folder; "
                         "give a folder (it is created if missing)")


def _check_declaration_path(path: Path) -> None:
    """A declaration argument: an environment folder, or else a readable regular file."""
    if not is_folder(path):
        check_regular(path)


def _regular_files(candidates: list[Path]) -> list[Path]:
    regular = []
    for candidate in candidates:
        try:
            check_regular(candidate)
        except UnreadableFile as error:
            sys.stderr.write(f"secrets-layout validate: skipped {shown(candidate)}: {brief_problem(error)}\n")
            continue
        regular.append(candidate)
    return regular


def _validate(arguments: argparse.Namespace) -> int:
    policy_config = arguments.policy_config
    if policy_config not in (None, AUTO_POLICY_CONFIG):
        check_regular(Path(policy_config))
    configs: dict[Path, dict] = {}  # each policy config is read once, however many files use it
    lower: dict[str, object] = {}  # and each lower environment's declaration
    results = [_validate_file(file, policy_config, configs, lower) for file in _declaration_files(arguments.paths)]
    report = validation_report.as_json if arguments.format == "json" else validation_report.as_text
    sys.stdout.write(report(results))
    return EXIT_OK if all(result.valid for result in results) else EXIT_FINDINGS


def _validate_file(file: Path, policy_config: str | None = None, configs: dict[Path, dict] | None = None,
                   lower: dict[str, object] | None = None) -> validation_report.FileResult:
    from secrets_layout.declaration.folder import declared_twice
    from secrets_layout.declaration.loader import load_declaration
    from secrets_layout.findings.parity import parity_issues

    # A folder's own reading says it is declared twice; a file's is said here (declared_twice).
    twice = [] if is_folder(file) else declared_twice(str(file))
    try:
        loaded = load_declaration(file)
    except DeclarationError as error:
        return validation_report.FileResult(str(file), twice + error.issues)
    except OSError as error:
        raise UsageError(str(error) if isinstance(error, UnreadableFile) else f"{shown(file)}: {error.strerror}") from None
    counts = (len(loaded.declaration.secrets), len(loaded.declaration.parameters))
    parity = parity_issues(loaded, {} if lower is None else lower)
    if policy_config is None:
        return validation_report.FileResult(str(file), twice, *counts, warnings=parity)
    checked = _check_policies(file, loaded, policy_config, {} if configs is None else configs, counts)
    return dataclasses.replace(checked, issues=twice + checked.issues, warnings=[*checked.warnings, *parity])


def _check_policies(file: Path, loaded, policy_config: str, configs: dict[Path, dict],
                    counts: tuple[int, int]) -> validation_report.FileResult:
    """The pack's declaration-only rules: mandatory ones are errors, the others warnings."""
    from secrets_layout.repository import find_policy_config

    environment = loaded.declaration.environment
    config_file = (find_policy_config(file, environment) if policy_config == AUTO_POLICY_CONFIG
                   else Path(policy_config))
    if config_file is None:
        sys.stderr.write(f"secrets-layout validate: {shown(file)}: no policies/config/{environment}.json in its repository; "
                         "the policy pack's rules were not checked\n")
        return validation_report.FileResult(str(file), [], *counts)
    # The pack's rules (the layout's plan, the policy catalog) are imported only when there is a config to apply.
    from secrets_layout.engine.policy_config import PolicyConfigError, PolicyConfigProblem, reconciled_config
    from secrets_layout.findings.declared import check_policies

    if config_file not in configs:
        try:
            configs[config_file] = reconciled_config(config_file)
        except PolicyConfigProblem as problem:
            raise _invalid_policy_config(problem) from None
        except PolicyConfigError as error:
            raise UsageError(str(error)) from None
    config_shown = _shown_path(config_file)
    findings = check_policies(loaded, configs[config_file], config_shown)
    return validation_report.FileResult(str(file), list(findings.errors), *counts, warnings=list(findings.warnings),
                                        policy_config=config_shown)


def _invalid_policy_config(problem) -> UsageError:
    return UsageError("invalid policy config:\n  " + "\n  ".join(problem.problems))


def _shown_path(path: Path) -> str:
    from secrets_layout.repository import shown_from_here

    return shown_from_here(path)


def _require_full_install(command: str) -> None:
    """A command whose libraries a plain install leaves out says which, and how to add them (exit 2)."""
    from importlib.util import find_spec

    missing = [name for name in NEEDED_BY[command] if find_spec(name) is None]
    if missing:
        raise UsageError(f"{command} needs {', '.join(missing)}, which `pip install secrets-layout` leaves out; "
                         f"install them with: {FULL_INSTALL}")


def _preview(arguments: argparse.Namespace) -> int:
    _require_full_install("preview")
    # Imported here: the preview pulls in the Pulumi SDK, which `validate` does not need.
    from secrets_layout.engine.analyzer_errors import AnalyzerError
    from secrets_layout.engine.policy_config import PolicyConfigError, PolicyConfigProblem, check_policy_config
    from secrets_layout.engine.workers import WorkerFailed
    from secrets_layout.preview import PreviewUsageError, run_preview
    from secrets_layout.reports import preview_json, preview_markdown, preview_sarif, preview_text

    path = Path(arguments.path)
    # A declaration the working tree no longer has is previewed as its deletion against --base.
    if arguments.base is None or os.path.lexists(path):
        _check_declaration_path(path)
    for output in (arguments.output, arguments.sarif_output):
        if output is not None:
            _check_output(output, path, force=arguments.force)
    if arguments.sarif_output is not None and arguments.sarif_output == arguments.output:
        raise UsageError(f"--output and --sarif-output are both {shown(arguments.sarif_output)}; give two files")
    if arguments.program is not None:
        check_regular(Path(arguments.program))
    if arguments.cache is not None:
        _check_cache_folder(arguments.cache)
    if arguments.policy_config is not None:
        check_regular(Path(arguments.policy_config))
        try:
            check_policy_config(arguments.policy_config)
        except PolicyConfigProblem as problem:
            raise _invalid_policy_config(problem) from None
    try:
        with progress_on_stderr("secrets-layout preview") as progress:
            report = run_preview(path, policy_config=arguments.policy_config, base=arguments.base, progress=progress,
                                 program=arguments.program, cache=arguments.cache)
    except DeclarationError as error:
        invalid = {
            "json": lambda: validation_report.as_json([validation_report.FileResult(str(path), error.issues)]),
            "sarif": lambda: preview_sarif.render_invalid(error.issues),
            "markdown": lambda: preview_markdown.render_invalid(error.issues),
        }
        _emit(invalid.get(arguments.format, lambda: validation_report.as_text(
            [validation_report.FileResult(str(path), error.issues)]))(), arguments.output, arguments.force, path)
        if arguments.sarif_output is not None:
            _emit(invalid["sarif"](), arguments.sarif_output, arguments.force, path)
        return EXIT_FINDINGS
    except (PreviewUsageError, PolicyConfigError) as error:
        # PolicyConfigError: the default policies/config/<environment>.json, which is not checked up front.
        raise UsageError(str(error)) from None
    except (AnalyzerError, WorkerFailed) as error:
        # The pack failed to start, crashed or stopped answering, or a simulation's process was killed
        # (out of memory, a signal): nothing was checked, so the preview fails (exit 1), in the pack's
        # words (its output's tail) or the worker's exit code, without a traceback of ours.
        # The pack's output may quote anything it was sent: each line escaped, none a workflow command.
        quoted = "\n".join(printable_file(line) for line in str(error).splitlines())
        sys.stderr.write(f"secrets-layout preview: error: {quoted}\n")
        return EXIT_FINDINGS
    renderers = {
        "text": lambda: preview_text.render(report, color=arguments.output is None and sys.stdout.isatty(),
                                            width=_text_width(), show_all=arguments.show_all),
        "json": lambda: preview_json.render(report),
        "markdown": lambda: preview_markdown.render(report, link_base=_repository_link_base()),
        "sarif": lambda: preview_sarif.render(report),
    }
    _emit(renderers[arguments.format](), arguments.output, arguments.force, path)
    if arguments.sarif_output is not None:
        _emit(renderers["sarif"](), arguments.sarif_output, arguments.force, path)
    return EXIT_FINDINGS if report.fails else EXIT_OK


TEXT_WIDTH = 160
"""The text report's width when no terminal (nor COLUMNS) says: a CI log's."""


def _text_width() -> int:
    """The terminal's columns (COLUMNS first, as the shell sets it), else TEXT_WIDTH."""
    import shutil

    return max(40, shutil.get_terminal_size((TEXT_WIDTH, 24)).columns)


def _repository_link_base() -> str | None:
    """In GitHub Actions, link violations to the commit being previewed."""
    server, repository, sha = (os.environ.get(name) for name in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_SHA"))
    return f"{server}/{repository}/blob/{sha}" if server and repository and sha else None


def _check_output(output: str, declaration: Path, *, force: bool) -> None:
    """Refuse an --output that would be refused after the preview ran (SPEC section 9: nothing is
    written over without --force, and never over a file of the declaration being previewed)."""
    from secrets_layout.files import write_text

    write_text(output, "", force=force, protected=_files_of_declaration(declaration), dry_run=True)


def _files_of_declaration(declaration: Path) -> dict[str, str]:
    """The files a report may never replace, each with what it is: the declaration, or each file of
    an environment folder (its settings file and every team file)."""
    from secrets_layout.declaration.folder import is_folder_member

    if not is_folder(declaration):
        return {os.fspath(declaration): f"the declaration {shown(declaration)}"}
    try:
        names = sorted(os.listdir(declaration))
    except OSError:
        return {}
    return {os.path.join(declaration, name): f"the file {shown(os.path.join(declaration, name))} of the declaration "
                                             f"{shown(declaration)}"
            for name in names if is_folder_member(name)}


def _emit(text: str, output: str | None, force: bool = False, declaration: Path | None = None) -> None:
    from secrets_layout.files import write_text

    if output is None:
        sys.stdout.write(text)
        return
    write_text(output, text, force=force, protected=_files_of_declaration(declaration) if declaration else None)


def _init(arguments: argparse.Namespace) -> int:
    from secrets_layout.scaffold import (
        EnvironmentSettings,
        ScaffoldInputError,
        ScaffoldTargetsExist,
        ScaffoldWriteError,
        parse_account_assignment,
        scaffold_environment,
    )

    try:
        accounts = [parse_account_assignment(text) for text in arguments.account]
        answers = _stack_answers(arguments)
        environment = answers.get("environment", arguments.environment)
        if environment is None:
            raise UsageError("name the new environment (init ENV) or the stack `pulumi new` made (init --stack STACK)")
        source = _source_declaration(arguments.source) if arguments.source else None
        security_account = arguments.security_account or answers.get("security_account")
        options = {"security_account": security_account} if security_account else {}
        settings = EnvironmentSettings(rotation_days=arguments.rotation_days, maximum_days=arguments.maximum_days,
                                       recovery_window_days=arguments.recovery_window_days,
                                       protect=arguments.protect, deny_outside=arguments.deny_outside)
        written = scaffold_environment(
            environment, Path("."), region=arguments.region or answers.get("region") or "us-east-1",
            accounts=accounts, replicas=arguments.replica,
            organization_id=arguments.organization_id or answers.get("organization_id"), owner=arguments.owner,
            force=arguments.force, stack_file=arguments.stack is None, source=source, settings=settings, **options,
        )
    except (ScaffoldInputError, ScaffoldWriteError) as error:
        raise UsageError(str(error)) from None
    except ScaffoldTargetsExist as error:
        sys.stderr.write(f"secrets-layout init: {error}\n")
        return EXIT_FINDINGS
    sys.stdout.write("".join(f"wrote {path.as_posix()}\n" for path in written))
    return EXIT_OK


def _stack_answers(arguments: argparse.Namespace) -> dict[str, str]:
    """init --stack: the answers in Pulumi.STACK.yaml; one given on the command line too must agree."""
    from secrets_layout.scaffold import read_stack_answers

    if arguments.stack is None:
        return {}
    answers = read_stack_answers(Path("."), arguments.stack)
    found = {name: value for name, value in vars(answers).items() if value is not None}
    given = {"environment": arguments.environment, "security_account": arguments.security_account,
             "region": arguments.region, "organization_id": arguments.organization_id}
    for name, value in given.items():
        if value is not None and name in found and found[name] != value:
            option = "ENV" if name == "environment" else "--" + name.replace("_", "-")
            raise UsageError(f"{option} {printable(value)} disagrees with Pulumi.{printable(arguments.stack)}.yaml "
                             f"({printable(found[name])}); "
                             f"give one of them, or change the stack's config with `pulumi config set`")
    return found


def _source_declaration(environment: str):
    """init --from ENV: environments/ENV.yaml, else the folder environments/ENV/, a valid declaration."""
    from secrets_layout.declaration.loader import default_declaration
    from secrets_layout.environment_copy import read_source

    try:
        return read_source(Path("environments"), environment)
    except DeclarationError as error:
        path = default_declaration(environment)
        raise UsageError(f"--from {environment}: {shown(path)} is not a valid declaration; fix it first:\n{error}") from None


def _consumer_policy(arguments: argparse.Namespace) -> int:
    import json

    from secrets_layout.consumer_policy import (
        ConsumerPolicyError,
        consumer_policy,
        consumer_policy_note,
        default_declaration_path,
    )
    from secrets_layout.declaration.loader import load_declaration

    from secrets_layout.repository import declarations_root

    try:
        # The repository's environments/, found from a subfolder too (as validate finds it).
        path = (Path(arguments.file) if arguments.file
                else default_declaration_path(arguments.secret, declarations_root()))
        _check_declaration_path(path)
        loaded = load_declaration(path)
        document = consumer_policy(loaded, arguments.secret, arguments.account)
        note = consumer_policy_note(loaded, arguments.secret, arguments.account)
    except DeclarationError as error:
        sys.stdout.write(validation_report.as_text([validation_report.FileResult(str(path), error.issues)]))
        return EXIT_FINDINGS
    except ConsumerPolicyError as error:
        sys.stderr.write(f"secrets-layout consumer-policy: {printable(str(error))}\n")
        return EXIT_FINDINGS
    sys.stdout.write(json.dumps(document, indent=2) + "\n")
    sys.stderr.write(note + "\n")
    return EXIT_OK


def _audit(arguments: argparse.Namespace) -> int:
    _require_full_install("audit")
    # Imported here: boto3 is needed by `audit` only.
    from secrets_layout.audit.cli import run_audit_command
    from secrets_layout.declaration.loader import load_declaration

    return run_audit_command(arguments, usage_error=UsageError, load=load_declaration)


def _rotate(arguments: argparse.Namespace) -> int:
    _require_full_install("rotate")
    # Imported here: boto3 and rich are needed by `rotate` only.
    from secrets_layout.declaration.loader import load_declaration
    from secrets_layout.drill.cli import run_rotate_command

    return run_rotate_command(arguments, usage_error=UsageError, load=load_declaration)


def _schema(arguments: argparse.Namespace) -> int:
    from secrets_layout.declaration.schema import schema_text

    sys.stdout.write(schema_text(arguments.file_kind))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
