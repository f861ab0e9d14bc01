"""The `rotate` command's hand-off: arguments -> plan (read-only) -> confirmation -> rotations -> report.

Exit 0 when every rotation succeeded, 1 when any did not (failed, not finished within --wait, already
rotating, not started), 2 when the drill cannot run (usage, an unreadable or invalid declaration, no
credentials or endpoint, a --secret the declaration does not rotate, no confirmation), 130 on Ctrl-C,
which stops the waiting and never what AWS does: one line says what was left running.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from secrets_layout.audit.errors import AuditError
from secrets_layout.audit.messages import is_endpoint_url, mask_userinfo, printable
from secrets_layout.drill.run import CALLER, Drill, Ready, Whereabouts, drill_report, plan_drill
from secrets_layout.drill.targets import DrillUsageError, drill_targets
from secrets_layout.drill.waiting import Waiting
from secrets_layout.errors import DeclarationError
from secrets_layout.files import check_regular, is_folder, shown
from secrets_layout.reports import validation as validation_report

EXIT_OK, EXIT_FAILED, EXIT_CANNOT_RUN = 0, 1, 2
EXIT_INTERRUPTED = 130
"""As secrets_layout.cli.main answers Ctrl-C: 128 + SIGINT."""
COMMAND = "secrets-layout rotate"
LONGEST_WAIT = 86_400
"""--wait at most a day: a rotation window is at most 24 hours."""


def aws_clients(endpoint_url: str | None):
    """The boto3 clients of a run (standard credential resolution); tests replace this to stub a service."""
    from secrets_layout.audit.collect import AwsClients

    return AwsClients(endpoint_url=endpoint_url, caller=CALLER)


def run_rotate_command(arguments: argparse.Namespace, *, usage_error: type[Exception], load: Callable,
                       stdin: TextIO | None = None, waiting: Waiting | None = None) -> int:
    from secrets_layout.reports.progress import progress_on_stderr
    from secrets_layout.reports.rotate import RENDERERS

    path = Path(arguments.path)
    if not is_folder(path):
        check_regular(path)
    _check_options(arguments, usage_error)
    try:
        declaration = load(path).declaration
    except DeclarationError as error:
        sys.stderr.write(f"{COMMAND}: cannot run: {shown(path)} is not a valid declaration:\n"
                         + validation_report.as_text([validation_report.FileResult(str(path), error.issues)]))
        return EXIT_CANNOT_RUN
    try:
        targets = drill_targets(declaration, arguments.secret, shown(path))
    except DrillUsageError as error:
        raise usage_error(str(error)) from None
    whereabouts = Whereabouts()
    notes: list[str] = []
    clients = aws_clients(arguments.endpoint_url)
    waiting = waiting or Waiting()
    started_at = waiting.clock.now()
    try:
        planned = plan_drill(declaration, targets, clients)
        ready = [item for item in planned if isinstance(item, Ready)]
        if ready and not _confirmed(ready, declaration, yes=arguments.yes, stdin=stdin or sys.stdin,
                                    usage_error=usage_error):
            sys.stderr.write(f"{COMMAND}: not confirmed; nothing was started\n")
            return EXIT_CANNOT_RUN
        with progress_on_stderr(COMMAND) as progress:
            drill = Drill(clients, arguments.wait, waiting, progress, notes.append, whereabouts)
            rotated = drill.rotate_all(ready)
    except AuditError as error:
        sys.stderr.write(f"{COMMAND}: cannot run: {printable(str(error))}\n")
        return EXIT_CANNOT_RUN
    except KeyboardInterrupt:
        sys.stderr.write(interrupted_line(whereabouts) + "\n")
        return EXIT_INTERRUPTED
    report = drill_report(declaration, planned, rotated, wait_seconds=arguments.wait, started_at=started_at,
                          notes=notes)
    sys.stdout.write(RENDERERS[arguments.format](report))
    return EXIT_OK if report.succeeded else EXIT_FAILED


def _check_options(arguments: argparse.Namespace, usage_error: type[Exception]) -> None:
    if not 1 <= arguments.wait <= LONGEST_WAIT:
        raise usage_error(f"--wait must be a whole number of seconds from 1 to {LONGEST_WAIT}")
    endpoint_url = arguments.endpoint_url
    if endpoint_url is not None and not is_endpoint_url(endpoint_url):
        raise usage_error(f"--endpoint-url {mask_userinfo(endpoint_url)!r} is not an endpoint URL; "
                          "write http://HOST[:PORT] or https://HOST[:PORT]")


def _confirmed(ready: list[Ready], declaration, *, yes: bool, stdin: TextIO, usage_error: type[Exception]) -> bool:
    """--yes, or a yes typed on the terminal; without a terminal to ask on, a usage error."""
    if yes:
        return True
    count = f"{len(ready)} rotation{'s' if len(ready) > 1 else ''}"
    if not _is_terminal(stdin):
        raise usage_error(f"{count} to start and no terminal to confirm on (standard input is not one); "
                          "pass --yes to start them without asking")
    lines = [f"{COMMAND}: about to start {count} in account {declaration.security_account} "
             f"({declaration.environment}, {declaration.primary_region}), one after another:"]
    lines += [f"  {item.name}" + (f" (function {item.function})" if item.function else "") for item in ready]
    lines += ["Each gives its secret a new value now; readers get it when their cache refreshes. A rotation, "
              "once started, goes on in AWS even if this command stops.", "Start them? [y/N] "]
    sys.stderr.write("\n".join(lines))
    sys.stderr.flush()
    return stdin.readline().strip().lower() in ("y", "yes")


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # closed, or no file behind it
        return False


def interrupted_line(whereabouts: Whereabouts) -> str:
    """The one line Ctrl-C leaves: what was stopped (the waiting), and what goes on (AWS's rotation)."""
    said = f"{COMMAND}: interrupted"
    left = f"; not started: {', '.join(whereabouts.not_started)}" if whereabouts.not_started else ""
    before = f"; {whereabouts.finished} finished before (not reported)" if whereabouts.finished else ""
    if whereabouts.phase == "planning":
        return f"{said}: nothing was started"
    if whereabouts.phase == "starting":
        return (f"{said}: the rotation of {whereabouts.secret} may have started (RotateSecret was on its way); "
                f"if it did it goes on in AWS, nothing was cancelled{before}{left}")
    if whereabouts.phase == "waiting":
        return (f"{said}: stopped waiting for {whereabouts.secret} (version {whereabouts.version}); its rotation "
                f"goes on in AWS, nothing was cancelled{before}{left}")
    return f"{said}: every rotation had finished (not reported)"
