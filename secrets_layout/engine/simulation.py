"""Run a Pulumi program on the SDK's mock engine and record every registration.

This is the deployment simulator behind the mock-engine tests and the offline
`secrets-layout preview`: it runs the real program (a file such as `__main__.py`, or a
callable) exactly the way the Pulumi language host does (`run_in_stack`), but against an
in-process resource monitor instead of the engine. Nothing talks to a network:

- every registration is recorded as a `RegisteredResource` (engine/recorded_values.py) by the
  recording monitor (engine/recording_monitor.py): URN, type, name, parent, provider, inputs,
  outputs and the resource options the engine would see (protect, ignore_changes, import_id,
  depends_on, additional_secret_outputs, ...);
- the fake cloud (engine/fake_cloud.py) answers with deterministic IDs and ARNs derived from
  names, account and region. In mode "up" every output is known (a simulated `pulumi up`); in
  mode "preview" (a dry run, `pulumi preview` of resources that do not exist yet) the program
  runs with `dry_run` set and what the provider computes on create is unknown, recorded as the
  engine's sentinel `UNKNOWN` (see `fake_cloud.preview_outputs`);
- values that arrive marked secret never appear in plain form: they are wrapped in
  `SecretValue`, whose str/repr is `[secret]`; `mask()` turns any recorded structure into
  plain data with secrets masked, for reports;
- for the run only, the SDK's slow internals are patched and `os._exit` refused
  (engine/sdk_patches.py), and restored afterwards.

Usage::

    from secrets_layout.engine.simulation import simulate

    run = simulate(Path("__main__.py"), project="secrets-layout", stack="prod",
                   config={"secrets-layout:declaration": "environments/prod.yaml"},
                   secret_config={"stripeApiKey": "sk_test_..."})
    for resource in run.resources:
        print(resource.type, resource.name, resource.protect)
    print(mask(run.outputs))        # mask: engine/recorded_values.py

`simulate` can run any number of times in one process: each run configures fresh runtime
settings, config and root stack, and restores the config afterwards.

This module (and each of the four above) knows nothing about the components it runs; it imports
only the Pulumi SDK and the engine's SDK-only modules.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import runpy
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from pulumi.runtime import config as pulumi_config
from pulumi.runtime import settings
from pulumi.runtime.mocks import MockEngine
from pulumi.runtime.stack import run_in_stack

from secrets_layout.engine import sdk_patches
from secrets_layout.engine.fake_cloud import DEFAULT_ACCOUNT_ID, DEFAULT_REGION, FakeCloud
from secrets_layout.engine.recorded_values import MODES, Simulation, tree_order
from secrets_layout.engine.recording_monitor import RecordingMonitor

__all__ = ["qualified_config_key", "simulate"]


def qualified_config_key(key: str, project: str) -> str:
    return key if ":" in key else f"{project}:{key}"


@contextlib.contextmanager
def _program_environment(directory: Path | None) -> Iterator[None]:
    """cwd and sys.path[0] as the Pulumi language host sets them: the project directory."""
    if directory is None:
        yield
        return
    previous_cwd = os.getcwd()
    path_entry = str(directory)
    sys.path.insert(0, path_entry)
    os.chdir(directory)
    try:
        yield
    finally:
        os.chdir(previous_cwd)
        with contextlib.suppress(ValueError):
            sys.path.remove(path_entry)


def simulate(
    program: Path | str | Callable[[], Any],
    *,
    project: str,
    stack: str,
    config: Mapping[str, str] | None = None,
    secret_config: Mapping[str, str] | None = None,
    root_directory: Path | str | None = None,
    account_id: str = DEFAULT_ACCOUNT_ID,
    organization: str = "organization",
    logger: logging.Logger | None = None,
    mode: str = "up",
    capture_stack_traces: bool = False,
) -> Simulation:
    """Run `program` on the mock engine and return every registration and the stack outputs.

    program: a Pulumi program file (run with runpy as `__main__`, like the language host
        does) or a callable that creates resources (and may call `pulumi.export`).
    project, stack: what `pulumi.get_project()` / `pulumi.get_stack()` return.
    config / secret_config: stack config; keys without a namespace get the project's
        (`stripeApiKey` -> `secrets-layout:stripeApiKey`). Secret config is read back by the
        program as secret outputs (`Config.require_secret`) and recorded as `SecretValue`.
    root_directory: the project directory: cwd and sys.path[0] during the run (default: the
        program file's directory; unchanged for a callable).
    account_id: the account of fake ARNs for providers that do not pin one.
    mode: "up" (a deployment: every output known) or "preview" (a dry run of a stack that does not
        exist yet: the program runs with dry_run set, as under `pulumi preview`, and what providers
        compute on create is `UNKNOWN` in the recorded outputs and in what the program sees).
    capture_stack_traces: let the SDK capture a Python stack trace per registration, as it does
        for the engine (see `sdk_patches.no_stack_traces`; nothing here reads them, so off by default).

    Exceptions raised by the program propagate unchanged, after the runtime is cleaned up; its
    os._exit raises `sdk_patches.ProgramExited` instead of ending this process.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    values = {qualified_config_key(key, project): value for key, value in (config or {}).items()}
    secrets = {qualified_config_key(key, project): value for key, value in (secret_config or {}).items()}
    region = values.get("aws:region", DEFAULT_REGION)
    cloud = FakeCloud(account_id=account_id, region=region, preview=mode == "preview")
    monitor = RecordingMonitor(cloud)

    if callable(program):
        body: Callable[[], Any] = program
        directory = Path(root_directory) if root_directory is not None else None
    else:
        program_path = Path(program).resolve()
        directory = Path(root_directory).resolve() if root_directory is not None else program_path.parent

        def body() -> None:
            runpy.run_path(str(program_path), run_name="__main__")

    # A fresh settings bag per run: new RPC manager, output set, lock and monitor.
    fresh = settings.Settings(
        project=project,
        stack=stack,
        monitor=monitor,
        engine=MockEngine(logger),
        dry_run=mode == "preview",
        organization=organization,
        root_directory=str(directory) if directory is not None else None,
    )
    settings.configure(fresh)
    pulumi_config.set_all_config({**values, **secrets}, secret_keys=sorted(secrets))
    previous_root = settings.get_root_resource()
    settings.ROOT.set(None)
    try:
        with (_program_environment(directory), sdk_patches.outputs_awaited_together(),
              sdk_patches.no_full_collections(),
              contextlib.nullcontext() if capture_stack_traces else sdk_patches.no_stack_traces(),
              sdk_patches.os_exit_refused()):
            _run(body)
    finally:
        monitor.close()
        pulumi_config.set_all_config({}, secret_keys=[])
        settings.ROOT.set(previous_root)
    return Simulation(
        project=project,
        stack=stack,
        mode=mode,
        stack_urn=monitor.stack_urn,
        resources=tree_order(monitor.recorded),
        outputs=dict(monitor.stack_outputs),
    )


def _run(body: Callable[[], Any]) -> None:
    """run_in_stack on an event loop of our own, closed afterwards whatever happens."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(run_in_stack(body))
    finally:
        with contextlib.suppress(Exception):
            loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()
        asyncio.set_event_loop(None)
