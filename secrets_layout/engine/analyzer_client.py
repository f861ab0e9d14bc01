"""Drive the CrossGuard pack in ``policies/`` over Pulumi's analyzer gRPC protocol, as the CLI does.

The Pulumi CLI starts a policy pack as its own process, reads the port it prints, and then calls
``GetAnalyzerInfo``, ``Configure`` (with the ``--policy-pack-config`` file reconciled against the
policies' defaults and config schemas), ``Analyze`` once per resource and ``AnalyzeStack`` once with
every resource.  :class:`AnalyzerClient` does the same without the CLI (the messages are
engine/analyzer_messages.py, the errors engine/analyzer_errors.py, the memo of answers
engine/verdict_memo.py)::

    with AnalyzerClient() as client:                      # starts `python -u policies/__main__.py`
        client.configure(config_file="policies/config/prod.json")
        result = client.run([Resource("aws:secretsmanager/secret:Secret", "db", {"name": "prod/db/main"})])
    for violation in result.violations:
        print(violation.level, violation.policy, violation.urn, violation.message)

One process serves a whole run (``run`` pipelines the ``Analyze`` calls); :func:`analyze_resources`
is the one-call form.  Values unknown during a preview are Pulumi's sentinel :data:`UNKNOWN` in the
properties (analyzer_messages.UNKNOWN).  Only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import collections
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from pathlib import Path
from typing import Any, Deque, Dict, FrozenSet, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

import grpc
from google.protobuf import empty_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from secrets_layout.engine.analyzer_errors import AnalyzerError, PolicyPackCrashed, PolicyPackStartError
from secrets_layout.engine.analyzer_messages import (
    AnalysisResult,
    PackInfo,
    Provider,
    Resource,
    collect_diagnostics,
    configure_request,
    pack_info,
    provider_message,
    resource_options,
    to_struct,
)
from secrets_layout.engine.interrupts import children_spared_ctrl_c
from secrets_layout.engine.pack_host import JUDGED_TYPES_FILE
from secrets_layout.engine.policy_config import load_policy_config, reconcile_config
from secrets_layout.engine.verdict_memo import VerdictMemo

__all__ = ["DEFAULT_PACK_DIR", "PACK_HOST", "AnalyzerClient", "analyze_resources"]

# The pack's folder wherever secrets_layout.policies lives: site-packages/secrets_layout/policies of
# a wheel, policies/ of a checkout or an editable install (pyproject.toml's package-dir).
_PACKAGE_FOLDER = Path(__file__).resolve().parent.parent  # secrets_layout/, above engine/
DEFAULT_PACK_DIR = next(
    (folder for folder in (_PACKAGE_FOLDER / "policies", _PACKAGE_FOLDER.parent / "policies")
     if (folder / "PulumiPolicy.yaml").is_file()),
    _PACKAGE_FOLDER / "policies")

_MAX_MESSAGE = 400 * 1024 * 1024          # the CLI's and pulumi_policy's gRPC limit
_GRPC_OPTIONS = [("grpc.max_receive_message_length", _MAX_MESSAGE),
                 ("grpc.max_send_message_length", _MAX_MESSAGE),
                 ("grpc.enable_http_proxy", 0)]   # never route 127.0.0.1 through a proxy
_IN_FLIGHT = 16                                  # pipelined Analyze calls


# ------------------------------------------------------------------------------------------------
# The process
# ------------------------------------------------------------------------------------------------


PACK_HOST = Path(__file__).resolve().with_name("pack_host.py")
"""Runs a pack for the preview (``launcher="script"``): as ``python -u PACK/__main__.py`` would, ended with
its stdin, each request's messages converted once, each policy given only its types, and the types the pack
judges told before it serves (see the module)."""


def _kill(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _pump(stream, sink: Deque[str], first_line: Optional["queue.Queue[Optional[str]]"]) -> None:
    try:
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if first_line is not None:
                first_line.put(line)
                first_line = None
            else:
                sink.append(line)
    except (OSError, ValueError):
        pass
    finally:
        if first_line is not None:
            first_line.put(None)


def _told_folder() -> Optional[tempfile.TemporaryDirectory]:
    try:
        return tempfile.TemporaryDirectory(prefix="secrets-layout-pack-")
    except OSError:
        return None


def _judged_types(path: str) -> Optional[FrozenSet[str]]:
    """What the pack host wrote before the pack printed its port; None when it wrote nothing readable
    (a pack not built with pulumi_policy's `PolicyPack`, another host): then every resource is asked about."""
    try:
        with open(path, encoding="utf-8") as told:
            judged = json.load(told).get("judged")
    except (OSError, ValueError, AttributeError):
        return None
    if not isinstance(judged, list) or not all(isinstance(item, str) for item in judged):
        return None
    return frozenset(judged)


class AnalyzerClient:
    """A running policy pack and a gRPC connection to it.  Use as a context manager.

    ``launcher="script"`` runs ``<pack>/__main__.py`` through `PACK_HOST` (as ``python -u`` would, ended with
    its stdin, each request converted once per call); ``launcher="pulumi"`` starts it
    exactly as the Pulumi CLI's ``pulumi-analyzer-policy-python`` does: ``python -u -m pulumi.policy
    <engine address> <pack dir>``.
    """

    def __init__(self, pack_dir: Union[str, os.PathLike] = DEFAULT_PACK_DIR, *, python: Optional[str] = None,
                 launcher: str = "script", startup_timeout: float = 60.0, rpc_timeout: float = 120.0,
                 env: Optional[Mapping[str, str]] = None) -> None:
        if launcher not in ("script", "pulumi"):
            raise ValueError("launcher must be 'script' or 'pulumi'")
        self.pack_dir = Path(pack_dir).resolve()
        self.python = python or sys.executable
        self.launcher = launcher
        self.startup_timeout = startup_timeout
        self.rpc_timeout = rpc_timeout
        self._extra_env = dict(env or {})
        self._process: Optional[subprocess.Popen] = None
        self._channel: Optional[grpc.Channel] = None
        self._stub: Optional[analyzer_pb2_grpc.AnalyzerStub] = None
        self._stderr: Deque[str] = collections.deque(maxlen=400)
        self._stdout: Deque[str] = collections.deque(maxlen=100)
        self._threads: List[threading.Thread] = []
        self._finalizer = None
        self._info: Optional[PackInfo] = None
        self._config: Optional[Dict[str, Dict[str, Any]]] = None
        self._provider_messages: Dict[int, Tuple[Provider, analyzer_pb2.AnalyzerProviderResource]] = {}
        self.port: Optional[int] = None
        self.judged_types: Optional[FrozenSet[str]] = None
        """The types the pack's resource policies judge, as the pack host told them (`pack_host.judged_types`);
        None: any type may be judged (the pack declared none, or was not started through the host)."""

    # -- lifecycle -------------------------------------------------------------------------------

    def __enter__(self) -> "AnalyzerClient":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.close()

    @property
    def pid(self) -> Optional[int]:
        return self._process.pid if self._process else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def stderr(self) -> str:
        """What the pack wrote to stderr so far (the last lines)."""
        return "\n".join(self._stderr)

    def _command(self) -> List[str]:
        if self.launcher == "pulumi":
            return [self.python, "-u", "-m", "pulumi.policy", "127.0.0.1:0", str(self.pack_dir)]
        return [self.python, "-u", str(PACK_HOST), str(self.pack_dir / "__main__.py")]

    def _output_tail(self, lines: int = 40) -> str:
        tail = list(self._stderr)[-lines:] + list(self._stdout)[-10:]
        return ("\n--- policy pack output ---\n" + "\n".join(tail)) if tail else ""

    def start(self) -> "AnalyzerClient":
        """Start the pack, read its port and connect.  Raises :class:`PolicyPackStartError`."""
        if self._process is not None:
            return self
        if not (self.pack_dir / "__main__.py").is_file():
            raise PolicyPackStartError(f"no policy pack at {self.pack_dir}: __main__.py is missing")
        if not (self.pack_dir / "PulumiPolicy.yaml").is_file():
            raise PolicyPackStartError(f"no policy pack at {self.pack_dir}: PulumiPolicy.yaml is missing")
        environment = dict(os.environ)
        environment.update(self._extra_env)
        environment["PYTHONUNBUFFERED"] = "1"
        # Where the host says which types the pack judges (pack_host.judged_types_told); the CLI's launcher has no
        # host, and without a temporary folder the pack is simply asked about every resource.
        told = _told_folder() if self.launcher == "script" else None
        if told is not None:
            environment[JUDGED_TYPES_FILE] = os.path.join(told.name, "judged-types.json")
        try:
            # stdin: a pipe only this process holds, whose end tells the pack to stop (pack_host.stop_with_stdin).
            with children_spared_ctrl_c():
                process = subprocess.Popen(self._command(), stdin=subprocess.PIPE if self.launcher != "pulumi"
                                           else subprocess.DEVNULL, stdout=subprocess.PIPE,
                                           stderr=subprocess.PIPE, cwd=str(self.pack_dir), env=environment)
        except OSError as error:
            if told is not None:
                told.cleanup()
            raise PolicyPackStartError(f"cannot start the policy pack with {self.python}: {error}") from None
        self._process = process
        self._finalizer = weakref.finalize(self, _kill, process)
        first_line: "queue.Queue[Optional[str]]" = queue.Queue()
        for stream, sink, first in ((process.stdout, self._stdout, first_line), (process.stderr, self._stderr, None)):
            thread = threading.Thread(target=_pump, args=(stream, sink, first), daemon=True,
                                      name=f"policy-pack-{process.pid}")
            thread.start()
            self._threads.append(thread)
        try:
            try:
                self.port = self._read_port(first_line)
                self.judged_types = _judged_types(environment[JUDGED_TYPES_FILE]) if told is not None else None
            finally:
                if told is not None:
                    told.cleanup()
            self._channel = grpc.insecure_channel(f"127.0.0.1:{self.port}", options=_GRPC_OPTIONS)
            try:
                grpc.channel_ready_future(self._channel).result(timeout=self.startup_timeout)
            except grpc.FutureTimeoutError:
                raise PolicyPackStartError(f"the policy pack listens on port {self.port} but did not accept a "
                                           f"connection within {self.startup_timeout:g}s{self._output_tail()}") from None
            self._stub = analyzer_pb2_grpc.AnalyzerStub(self._channel)
        except BaseException:
            self.close()
            raise
        return self

    def _read_port(self, first_line: "queue.Queue[Optional[str]]") -> int:
        deadline = time.monotonic() + self.startup_timeout
        while True:
            try:
                line = first_line.get(timeout=0.05)
                break
            except queue.Empty:
                if time.monotonic() > deadline:
                    raise PolicyPackStartError(f"the policy pack did not print its port within "
                                               f"{self.startup_timeout:g}s{self._output_tail()}") from None
        if line is None:
            process = self._process
            if process is None:
                raise PolicyPackStartError("the policy pack was stopped while it started")
            code = process.wait(timeout=10)
            for thread in self._threads:
                thread.join(timeout=2)
            raise PolicyPackStartError(f"the policy pack at {self.pack_dir} exited with code {code} before it "
                                       f"printed its port{self._output_tail()}")
        try:
            port = int(line.strip())
        except ValueError:
            raise PolicyPackStartError(f"the policy pack printed {line!r} instead of its port; nothing may be "
                                       f"printed to stdout before PolicyPack starts{self._output_tail()}") from None
        if not 0 < port < 65536:
            raise PolicyPackStartError(f"the policy pack printed an invalid port {port}")
        return port

    def close(self) -> None:
        """Disconnect and stop the pack process (terminate, then kill).  Safe to call twice."""
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        self._stub = None
        process, self._process = self._process, None
        if process is not None:
            _kill(process)
            for thread in self._threads:
                thread.join(timeout=5)
            for stream in (process.stdout, process.stderr):
                if stream is not None:
                    stream.close()
            if self._finalizer is not None:
                self._finalizer.detach()
        self._threads = []

    # -- RPC -------------------------------------------------------------------------------------

    def _failure(self, method: str, error: grpc.RpcError) -> AnalyzerError:
        process = self._process
        if process is not None:
            try:
                process.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                pass
        if process is None or process.poll() is not None:
            code = None if process is None else process.returncode
            for thread in self._threads:
                thread.join(timeout=2)
            return PolicyPackCrashed(f"the policy pack exited (code {code}) during {method}{self._output_tail()}")
        code = error.code() if hasattr(error, "code") else None
        if code == grpc.StatusCode.DEADLINE_EXCEEDED:
            return AnalyzerError(f"the policy pack did not answer {method} within {self.rpc_timeout:g}s"
                                 f"{self._output_tail()}")
        details = error.details() if hasattr(error, "details") else str(error)
        return AnalyzerError(f"{method} failed: {code.name if code else 'error'}: {details}{self._output_tail()}")

    def _call(self, method: str, request: Any) -> Any:
        if self._stub is None:
            raise AnalyzerError("the analyzer client is not started (use `with AnalyzerClient() as client:`)")
        try:
            return getattr(self._stub, method)(request, timeout=self.rpc_timeout)
        except grpc.RpcError as error:
            raise self._failure(method, error) from None

    def info(self) -> PackInfo:
        """``GetAnalyzerInfo``: the pack's name, version and policies (cached)."""
        if self._info is None:
            self._info = pack_info(self._call("GetAnalyzerInfo", empty_pb2.Empty()))
        return self._info


    def plugin_version(self) -> str:
        """``GetPluginInfo``: the pulumi_policy version serving the pack."""
        return self._call("GetPluginInfo", empty_pb2.Empty()).version

    def configure(self, config: Optional[Mapping[str, Any]] = None, *,
                  config_file: Optional[Union[str, os.PathLike]] = None) -> Dict[str, Dict[str, Any]]:
        """``Configure`` with a ``--policy-pack-config`` file (or the same structure as a mapping),
        reconciled as the CLI does (:func:`reconcile_config`).  Returns what was sent."""
        if config is not None and config_file is not None:
            raise ValueError("give config or config_file, not both")
        given = load_policy_config(config_file) if config_file is not None else config
        info = self.info()
        reconciled = reconcile_config(info.policies, given, info.initial_config)
        self._call("Configure", configure_request(reconciled))
        self._config = reconciled
        return reconciled

    @property
    def configured(self) -> Optional[Dict[str, Dict[str, Any]]]:
        return self._config

    def _ensure_configured(self) -> None:
        if self._config is None:
            self.configure()

    def _provider(self, resource: Resource) -> Optional[analyzer_pb2.AnalyzerProviderResource]:
        provider = resource.provider
        if provider is None:
            return None
        # Thousands of resources share a handful of Provider objects: each is converted once (the
        # message is copied into every request, never changed). The entry keeps its Provider alive,
        # so its id cannot be reused by another object.
        known = self._provider_messages.get(id(provider))
        if known is not None and known[0] is provider:
            return known[1]
        message = provider_message(provider)
        self._provider_messages[id(provider)] = (provider, message)
        return message

    def _analyze_request(self, resource: Resource) -> analyzer_pb2.AnalyzeRequest:
        request = analyzer_pb2.AnalyzeRequest(type=resource.type, properties=to_struct(resource.properties),
                                              urn=resource.resolved_urn, name=resource.name,
                                              options=resource_options(resource))
        provider = self._provider(resource)
        if provider is not None:
            request.provider.CopyFrom(provider)
        return request

    def analyze(self, resource: Resource) -> AnalysisResult:
        """``Analyze`` one resource (configuring with defaults first if :meth:`configure` was not called)."""
        self._ensure_configured()
        result = AnalysisResult()
        collect_diagnostics(self._call("Analyze", self._analyze_request(resource)), resource.resolved_urn, result)
        return result

    def analyze_many(self, resources: Iterable[Resource], memo: Optional[VerdictMemo] = None) -> AnalysisResult:
        """``Analyze`` every resource, with up to 16 calls in flight; results in resource order.

        With a memo, a request it has answered (or one in flight) is not sent again: its answer is
        reused, in the same place of the results."""
        self._ensure_configured()
        if self._stub is None:
            raise AnalyzerError("the analyzer client is not started")
        result = AnalysisResult()
        pending: Deque[Tuple[Resource, Optional[str], Any]] = collections.deque()
        in_flight: Dict[str, Any] = {}

        def drain_one() -> None:
            resource, key, answer = pending.popleft()
            if not isinstance(answer, analyzer_pb2.AnalyzeResponse):
                try:
                    answer = answer.result()
                except grpc.RpcError as error:
                    for _, _, other in pending:
                        if not isinstance(other, analyzer_pb2.AnalyzeResponse):
                            other.cancel()
                    raise self._failure("Analyze", error) from None
                if memo is not None and key is not None:
                    memo.put(key, answer)
                    in_flight.pop(key, None)
            collect_diagnostics(answer, resource.resolved_urn, result)

        judged = self.judged_types
        for resource in resources:
            if judged is not None and resource.type not in judged:
                continue  # no resource policy judges it: the pack's answer is empty (pack_host.judged_types)
            request = self._analyze_request(resource)
            key = memo.digest(request) if memo is not None else None
            answer = None
            if memo is not None and key is not None:
                answer = memo.get(key)
                if answer is None:
                    answer = in_flight.get(key)
                if answer is not None:
                    memo.reused += 1
            if answer is None:
                answer = self._stub.Analyze.future(request, timeout=self.rpc_timeout)
                if memo is not None and key is not None:
                    memo.sent += 1
                    in_flight[key] = answer
            pending.append((resource, key, answer))
            if len(pending) >= _IN_FLIGHT:
                drain_one()
        while pending:
            drain_one()
        return result

    def analyze_stack(self, resources: Sequence[Resource]) -> AnalysisResult:
        """``AnalyzeStack`` once with every resource (parents, dependencies and property dependencies)."""
        return self.analyze_stack_request(self._analyze_stack_request(resources))

    def _analyze_stack_request(self, resources: Sequence[Resource]) -> analyzer_pb2.AnalyzeStackRequest:
        request = analyzer_pb2.AnalyzeStackRequest()
        for resource in resources:
            item = request.resources.add()
            item.type = resource.type
            item.name = resource.name
            item.urn = resource.resolved_urn
            item.properties.CopyFrom(to_struct(resource.properties))
            item.options.CopyFrom(resource_options(resource))
            item.parent = resource.parent or ""
            item.dependencies.extend(resource.dependencies)
            for key, urns in resource.property_dependencies.items():
                item.propertyDependencies[key].urns.extend(urns)
            provider = self._provider(resource)
            if provider is not None:
                item.provider.CopyFrom(provider)
        return request

    def analyze_request(self, request: analyzer_pb2.AnalyzeRequest) -> AnalysisResult:
        """Send one ``AnalyzeRequest`` as given (e.g. built the way the engine builds it, unknowns and all)."""
        self._ensure_configured()
        result = AnalysisResult()
        collect_diagnostics(self._call("Analyze", request), request.urn, result)
        return result

    def analyze_stack_request(self, request: analyzer_pb2.AnalyzeStackRequest) -> AnalysisResult:
        """Send one ``AnalyzeStackRequest`` as given."""
        self._ensure_configured()
        result = AnalysisResult()
        collect_diagnostics(self._call("AnalyzeStack", request), "", result)
        return result

    def run(self, resources: Sequence[Resource]) -> AnalysisResult:
        """What a preview does: ``Analyze`` per resource, then one ``AnalyzeStack``."""
        resources = list(resources)
        return self.analyze_many(resources).extend(self.analyze_stack(resources))


def analyze_resources(resources: Sequence[Resource], *, config: Optional[Mapping[str, Any]] = None,
                      config_file: Optional[Union[str, os.PathLike]] = None,
                      pack_dir: Union[str, os.PathLike] = DEFAULT_PACK_DIR, **client_options: Any) -> AnalysisResult:
    """One run in one pack process: start, configure, ``Analyze`` each resource, ``AnalyzeStack``, stop."""
    with AnalyzerClient(pack_dir, **client_options) as client:
        client.configure(config, config_file=config_file)
        return client.run(resources)
