"""Which Pulumi program deploys a declaration, and what it registers: the packaged program's plan
evaluated without the SDK (`evaluate_declaration`), any other program on the SDK's mock engine
(`simulate_declaration`, in a worker process or in this one: `registrations`)."""

from __future__ import annotations

import ast
import os
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from secrets_layout.declaration.loader import LoadedDeclaration
from secrets_layout.engine.recorded_values import Simulation
from secrets_layout.engine.simulation import simulate
from secrets_layout.engine.workers import InProcess, SimulationRunner
from secrets_layout.repository import find_in_repository

PACKAGED_PROGRAM = Path(__file__).resolve().parent.parent / "program.py"
"""The program a declaration is previewed with when its repository has none (secrets_layout.program)."""
PROJECT = "secrets-layout"
CONFIG_PLACEHOLDER = "preview-placeholder"
"""What a `from_config` value is in a preview: the real one lives encrypted in the stack config."""



def find_program(declaration_file: str | os.PathLike[str]) -> Path:
    """The Pulumi program that deploys a declaration: __main__.py of the Pulumi project (Pulumi.yaml)
    in the declaration's folder or above it in its repository, else the packaged program."""
    project = find_in_repository(declaration_file, "Pulumi.yaml")
    if project is not None and (project.parent / "__main__.py").is_file():
        program = project.parent / "__main__.py"
        # The one `init` writes (and this repository's): its registrations are the packaged program's,
        # so its plan is evaluated instead of running the SDK.
        return PACKAGED_PROGRAM if only_runs_the_packaged_program(program) else program
    return PACKAGED_PROGRAM


def only_runs_the_packaged_program(program: Path) -> bool:
    """Whether the program is, apart from its docstring and comments, `from secrets_layout.program
    import main` and `main()`; anything more (or a file Python cannot read) is the SDK simulation's to run."""
    try:
        body = ast.parse(program.read_bytes(), filename=str(program)).body
    except (OSError, SyntaxError, ValueError):
        return False
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]
    if len(body) != 2:
        return False
    imported, called = body
    return (isinstance(imported, ast.ImportFrom) and imported.module == "secrets_layout.program"
            and imported.level == 0 and [(name.name, name.asname) for name in imported.names] == [("main", None)]
            and isinstance(called, ast.Expr) and isinstance(called.value, ast.Call)
            and isinstance(called.value.func, ast.Name) and called.value.func.id == "main"
            and not called.value.args and not called.value.keywords)


def registrations(runner: SimulationRunner | None, loaded: LoadedDeclaration, mode: str, program: Path,
                  stack_traces: bool = False) -> Future[Simulation] | InProcess:
    """What `program` registers for this declaration, when asked for: the packaged program's plan
    evaluated (`evaluate_declaration`, no SDK: it realizes that plan), any other program on the mock
    engine (`runner`, or in this process without one)."""
    if program == PACKAGED_PROGRAM:
        return InProcess(evaluate_declaration, {"loaded": loaded, "mode": mode})
    arguments = simulation_arguments(loaded, mode, program=program, stack_traces=stack_traces)
    return runner.submit(arguments) if runner is not None else InProcess(simulate, arguments)


def evaluate_declaration(loaded: LoadedDeclaration, mode: str = "up") -> Simulation:
    """What the packaged program registers for this declaration, from the layout's plan without the SDK
    (engine/plan_evaluation.py; tests/test_plan_evaluation.py holds it to `simulate_declaration`)."""
    from secrets_layout.components.plan.layout import plan_layout
    from secrets_layout.components.plan.rotation import ROTATION_CODE_DIRECTORY
    from secrets_layout.engine.plan_evaluation import evaluate_plan

    arguments = simulation_arguments(loaded, mode, program=PACKAGED_PROGRAM)
    declaration = loaded.declaration
    # The packaged program: SecretsLayout(<environment>, SecretsLayoutArgs(declaration)) (program.py).
    plan = plan_layout(declaration.environment, declaration, rotation_code_directory=ROTATION_CODE_DIRECTORY)
    return evaluate_plan(plan, project=arguments["project"], stack=arguments["stack"], mode=mode,
                         account_id=arguments["account_id"], secret_config=arguments["secret_config"])


def simulate_declaration(loaded: LoadedDeclaration, mode: str = "up", *, program: Path | None = None,
                         stack_traces: bool = False) -> Simulation:
    """The program (default `find_program`) on the mock engine, deploying this declaration ("up") or
    previewing it as a new stack ("preview": computed outputs unknown, see `simulation.simulate`)."""
    return simulate(**simulation_arguments(loaded, mode, program=program, stack_traces=stack_traces))


def simulation_arguments(loaded: LoadedDeclaration, mode: str = "up", *, program: Path | None = None,
                          stack_traces: bool = False) -> dict[str, Any]:
    """`simulate`'s arguments for this declaration: plain data, so a worker process can run it."""
    program = program if program is not None else find_program(loaded.file)
    declaration = loaded.declaration
    secret_config = {
        secret.value.from_config: CONFIG_PLACEHOLDER for secret in declaration.secrets if secret.value.from_config
    }
    return dict(
        program=program, project=PROJECT, stack=declaration.environment,
        # The packaged program's folder is the package itself: never sys.path[0] (its modules would
        # shadow top-level names); it runs from the declaration's folder.
        root_directory=Path(loaded.file).resolve().parent if program == PACKAGED_PROGRAM else None,
        config={"secrets-layout:declaration": str(Path(loaded.declaration_path).resolve())},
        secret_config=secret_config,
        account_id=declaration.security_account,
        mode=mode,
        capture_stack_traces=stack_traces,
    )
