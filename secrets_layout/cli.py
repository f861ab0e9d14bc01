"""`secrets-layout`: parses the command line and hands off. Exit codes: 0 fine, 1 findings, 2 usage."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from secrets_layout.errors import DeclarationError
from secrets_layout.loader import load_declaration
from secrets_layout.reports import validation as validation_report
from secrets_layout.schema import schema_text

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
DEFAULT_DECLARATIONS = "environments/*.yaml"


class UsageError(Exception):
    """Bad command line or a file that is not there: exit 2."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    arguments = parser.parse_args(argv)
    try:
        return arguments.handler(arguments)
    except UsageError as error:
        parser.exit(EXIT_USAGE, f"{parser.prog} {arguments.command}: error: {error}\n")
    except BrokenPipeError:
        return EXIT_OK


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="secrets-layout",
        description="AWS Secrets Manager as code: validate and preview environments/<env>.yaml declarations.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    validate = commands.add_parser("validate", help="check declarations (default: environments/*.yaml)")
    validate.add_argument("paths", nargs="*", metavar="PATH", help="declaration files or folders of them")
    validate.add_argument("--format", choices=("text", "json"), default="text")
    validate.set_defaults(handler=_validate)

    schema = commands.add_parser("schema", help="print the JSON Schema of a declaration")
    schema.set_defaults(handler=_schema)
    return parser


def _declaration_files(paths: Sequence[str]) -> list[Path]:
    if not paths:
        files = sorted(Path().glob(DEFAULT_DECLARATIONS))
        if not files:
            raise UsageError(f"no declarations match {DEFAULT_DECLARATIONS}; name the files to check")
        return files
    files = []
    for given in map(Path, paths):
        if given.is_dir():
            files.extend(sorted(given.glob("*.yaml")))
        elif given.is_file():
            files.append(given)
        else:
            raise UsageError(f"{given}: no such file")
    return files


def _validate(arguments: argparse.Namespace) -> int:
    results = [_validate_file(file) for file in _declaration_files(arguments.paths)]
    report = validation_report.as_json if arguments.format == "json" else validation_report.as_text
    sys.stdout.write(report(results))
    return EXIT_OK if all(result.valid for result in results) else EXIT_FINDINGS


def _validate_file(file: Path) -> validation_report.FileResult:
    try:
        loaded = load_declaration(file)
    except DeclarationError as error:
        return validation_report.FileResult(str(file), error.issues)
    except OSError as error:
        raise UsageError(f"{file}: {error.strerror}") from None
    return validation_report.FileResult(str(file), [], len(loaded.declaration.secrets), len(loaded.declaration.parameters))


def _schema(arguments: argparse.Namespace) -> int:
    sys.stdout.write(schema_text())
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
