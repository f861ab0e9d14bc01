"""Drive the CrossGuard pack in ``policies/`` over Pulumi's analyzer gRPC protocol, as the CLI does.

The Pulumi CLI starts a policy pack as its own process, reads the port it prints, and then calls
``GetAnalyzerInfo``, ``Configure`` (with the ``--policy-pack-config`` file reconciled against the
policies' defaults and config schemas), ``Analyze`` once per resource and ``AnalyzeStack`` once with
every resource.  :class:`AnalyzerClient` does the same without the CLI::

    with AnalyzerClient() as client:                      # starts `python -u policies/__main__.py`
        client.configure(config_file="policies/config/prod.json")
        result = client.run([Resource("aws:secretsmanager/secret:Secret", "db", {"name": "prod/db/main"})])
    for violation in result.violations:
        print(violation.level, violation.policy, violation.urn, violation.message)

One process serves a whole run (``run`` pipelines the ``Analyze`` calls); :func:`analyze_resources`
is the one-call form.  Values unknown during a preview are Pulumi's sentinel :data:`UNKNOWN` in the
properties.  Only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import collections
import hashlib
import os
import queue
import subprocess
import sys
import threading
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Deque, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

import grpc
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from secrets_layout.engine.interrupts import children_spared_ctrl_c
# The pack's configuration as the CLI reconciles it needs neither gRPC nor the SDK (validate uses it).
from secrets_layout.engine.pack_settings import (
    ENFORCEMENT_LEVELS,
    AnalyzerError,
    PolicyConfigError,
    PolicyInfo,
    whole_numbers,
    load_policy_config,
    reconcile_config,
)

__all__ = [
    "DEFAULT_PACK_DIR",
    "UNKNOWN",
    "ENFORCEMENT_LEVELS",
    "AnalyzerError",
    "PolicyPackStartError",
    "PolicyPackCrashed",
    "PolicyConfigError",
    "Resource",
    "Provider",
    "Violation",
    "NotApplicable",
    "PolicyInfo",
    "PackInfo",
    "AnalysisResult",
    "AnalyzerClient",
    "VerdictMemo",
    "analyze_resources",
    "load_policy_config",
    "reconcile_config",
    "make_urn",
    "secret",
    "to_struct",
]

# The pack's folder wherever secrets_layout.policies lives: site-packages/secrets_layout/policies of
# a wheel, policies/ of a checkout or an editable install (pyproject.toml's package-dir).
_PACKAGE_FOLDER = Path(__file__).resolve().parent.parent  # secrets_layout/, above engine/
DEFAULT_PACK_DIR = next(
    (folder for folder in (_PACKAGE_FOLDER / "policies", _PACKAGE_FOLDER.parent / "policies")
     if (folder / "PulumiPolicy.yaml").is_file()),
    _PACKAGE_FOLDER / "policies")

#: Pulumi's sentinel for a string (or any) value that is unknown during a preview.
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
_SIG_KEY = "4dabf18193072939515e22adb298388d"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
_ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17"
_ARCHIVE_SIG = "0def7320c3a5731c473e5ecbe6d01bc7"

_LEVEL_TO_PROTO = {
    "advisory": analyzer_pb2.ADVISORY,
    "mandatory": analyzer_pb2.MANDATORY,
    "remediate": analyzer_pb2.REMEDIATE,
    "disabled": analyzer_pb2.DISABLED,
}
_PROTO_TO_LEVEL = {value: key for key, value in _LEVEL_TO_PROTO.items()}
_MAX_MESSAGE = 400 * 1024 * 1024          # the CLI's and pulumi_policy's gRPC limit
_GRPC_OPTIONS = [("grpc.max_receive_message_length", _MAX_MESSAGE),
                 ("grpc.max_send_message_length", _MAX_MESSAGE),
                 ("grpc.enable_http_proxy", 0)]   # never route 127.0.0.1 through a proxy
_IN_FLIGHT = 16                                  # pipelined Analyze calls


# ------------------------------------------------------------------------------------------------
# Errors
# ------------------------------------------------------------------------------------------------


class PolicyPackStartError(AnalyzerError):
    """The policy pack process did not start (or did not print its port)."""


class PolicyPackCrashed(AnalyzerError):
    """The policy pack process died while it was being used."""


# ------------------------------------------------------------------------------------------------
# Data
# ------------------------------------------------------------------------------------------------


def make_urn(resource_type: str, name: str, *, stack: str = "dev", project: str = "secrets-layout",
             parent_type: Optional[str] = None) -> str:
    """``urn:pulumi:<stack>::<project>::[<parent type>$]<type>::<name>``."""
    qualified = f"{parent_type}${resource_type}" if parent_type else resource_type
    return f"urn:pulumi:{stack}::{project}::{qualified}::{name}"


def secret(value: Any) -> Dict[str, Any]:
    """A property value marked secret, the way the engine marks it on the wire."""
    return {_SIG_KEY: _SECRET_SIG, "value": value}


@dataclass
class Provider:
    """The provider of a resource (``AnalyzerProviderResource``)."""

    type: str
    name: str
    properties: Mapping[str, Any] = field(default_factory=dict)
    urn: Optional[str] = None


@dataclass
class Resource:
    """One resource to analyze: its type token, name and (camelCase) properties, plus options.

    For ``Analyze`` the properties are the resource's inputs; for ``AnalyzeStack`` the engine sends
    outputs (which include ``id``/``arn``), so pass what you have.  ``urn`` defaults to
    :func:`make_urn` of type and name.
    """

    type: str
    name: str
    properties: Mapping[str, Any] = field(default_factory=dict)
    urn: Optional[str] = None
    protect: bool = False
    parent: str = ""
    dependencies: Sequence[str] = ()
    property_dependencies: Mapping[str, Sequence[str]] = field(default_factory=dict)
    provider: Optional[Provider] = None
    ignore_changes: Sequence[str] = ()
    delete_before_replace: Optional[bool] = None
    aliases: Sequence[str] = ()
    additional_secret_outputs: Sequence[str] = ()

    @property
    def resolved_urn(self) -> str:
        return self.urn or make_urn(self.type, self.name)


@dataclass(frozen=True)
class Violation:
    """A policy diagnostic.  ``message`` is what the CLI prints: the policy description, a newline and
    the policy's own message (:attr:`detail`), or pulumi_policy's "can't run policy ... during
    preview" advisory for unknown values."""

    policy: str
    level: str            # "advisory" | "mandatory" | "remediate" | "disabled"
    urn: str
    message: str
    description: str = ""
    pack: str = ""

    @property
    def detail(self) -> str:
        prefix = self.description + "\n"
        return self.message[len(prefix):] if self.description and self.message.startswith(prefix) else self.message


@dataclass(frozen=True)
class NotApplicable:
    policy: str
    reason: str
    urn: str = ""


@dataclass(frozen=True)
class PackInfo:
    name: str
    version: str
    description: str
    policies: Tuple[PolicyInfo, ...]
    initial_config: Dict[str, Dict[str, Any]]

    def policy(self, name: str) -> PolicyInfo:
        for policy in self.policies:
            if policy.name == name:
                return policy
        raise KeyError(name)


@dataclass
class AnalysisResult:
    violations: List[Violation] = field(default_factory=list)
    not_applicable: List[NotApplicable] = field(default_factory=list)

    @property
    def mandatory(self) -> List[Violation]:
        return [v for v in self.violations if v.level == "mandatory"]

    @property
    def advisory(self) -> List[Violation]:
        return [v for v in self.violations if v.level == "advisory"]

    def by_policy(self, policy: str) -> List[Violation]:
        return [v for v in self.violations if v.policy == policy]

    def extend(self, other: "AnalysisResult") -> "AnalysisResult":
        self.violations.extend(other.violations)
        self.not_applicable.extend(other.not_applicable)
        return self


class VerdictMemo:
    """The pack's Analyze answers by request: a request identical byte for byte to one already
    answered gets that answer without a call.

    Sound because the verdict is a function of the request once the pack is configured:
    pulumi_policy's server builds every `ResourceValidationArgs` from the request alone, plus the
    policy config (Configure) and the stack tags (ConfigureStack, which is never sent here)
    (pulumi_policy/policy.py, `_PolicyAnalyzerServicer.Analyze`), and our policies keep nothing
    between calls (policies/schedule.py memoises pure functions only; tests/test_preview_cache.py
    runs the pack over shuffled requests and compares).
    The key is SHA-256 of the request serialized deterministically (map entries, i.e. Struct fields,
    in key order: https://protobuf.dev/programming-guides/serialization-not-canonical/); serialization
    is injective, so two different requests never share an answer. Deterministic is not canonical
    across protobuf versions: a cached answer may then be missed, never misapplied.
    """

    def __init__(self, known: Optional[Mapping[str, analyzer_pb2.AnalyzeResponse]] = None) -> None:
        self._answers: Dict[str, analyzer_pb2.AnalyzeResponse] = dict(known or {})
        self._used: Dict[str, analyzer_pb2.AnalyzeResponse] = {}
        self.sent = 0
        self.reused = 0

    @staticmethod
    def digest(request: analyzer_pb2.AnalyzeRequest) -> str:
        return hashlib.sha256(request.SerializeToString(deterministic=True)).hexdigest()

    def get(self, key: str) -> Optional[analyzer_pb2.AnalyzeResponse]:
        answer = self._answers.get(key)
        if answer is not None:
            self._used[key] = answer
        return answer

    def put(self, key: str, answer: analyzer_pb2.AnalyzeResponse) -> None:
        self._answers[key] = answer
        self._used[key] = answer

    @property
    def used(self) -> Dict[str, analyzer_pb2.AnalyzeResponse]:
        """The answers this memo's run needed (sent or reused), by request digest."""
        return dict(self._used)


# ------------------------------------------------------------------------------------------------
# Values and config
# ------------------------------------------------------------------------------------------------


def _asset(value: Any, path: str) -> Optional[Dict[str, Any]]:
    """Assets and archives the way the engine puts them on the wire (signature maps), else None."""
    import pulumi  # the SDK is loaded anyway by the generated protobuf modules

    if isinstance(value, pulumi.FileAsset):
        return {_SIG_KEY: _ASSET_SIG, "path": value.path}
    if isinstance(value, pulumi.StringAsset):
        return {_SIG_KEY: _ASSET_SIG, "text": value.text}
    if isinstance(value, pulumi.RemoteAsset):
        return {_SIG_KEY: _ASSET_SIG, "uri": value.uri}
    if isinstance(value, pulumi.AssetArchive):
        return {_SIG_KEY: _ARCHIVE_SIG,
                "assets": {k: _plain(v, f"{path}.assets.{k}") for k, v in value.assets.items()}}
    if isinstance(value, pulumi.FileArchive):
        return {_SIG_KEY: _ARCHIVE_SIG, "path": value.path}
    if isinstance(value, pulumi.RemoteArchive):
        return {_SIG_KEY: _ARCHIVE_SIG, "uri": value.uri}
    return None


def _plain(value: Any, path: str) -> Any:
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, Mapping):
        result = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{path}: property names must be strings, got {key!r}")
            result[key] = _plain(item, f"{path}.{key}")
        return result
    if isinstance(value, (list, tuple)):
        return [_plain(item, f"{path}[{i}]") for i, item in enumerate(value)]
    asset = _asset(value, path)
    if asset is not None:
        return asset
    raise TypeError(f"{path}: {type(value).__name__} values cannot be sent to the policy pack")


def to_struct(properties: Optional[Mapping[str, Any]]) -> struct_pb2.Struct:
    """Resource properties -> ``google.protobuf.Struct`` (numbers become doubles, as on the wire)."""
    struct = struct_pb2.Struct()
    if properties:
        struct.update(_plain(properties, "properties"))
    return struct


# ------------------------------------------------------------------------------------------------
# The process
# ------------------------------------------------------------------------------------------------


PACK_HOST = Path(__file__).resolve().with_name("pack_host.py")
"""Runs a pack for the preview (``launcher="script"``): as ``python -u PACK/__main__.py`` would, ended with
its stdin, each request's messages converted once (see the module)."""


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
        try:
            # stdin: a pipe only this process holds, whose end tells the pack to stop (pack_host.stop_with_stdin).
            with children_spared_ctrl_c():
                process = subprocess.Popen(self._command(), stdin=subprocess.PIPE if self.launcher != "pulumi"
                                           else subprocess.DEVNULL, stdout=subprocess.PIPE,
                                           stderr=subprocess.PIPE, cwd=str(self.pack_dir), env=environment)
        except OSError as error:
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
            self.port = self._read_port(first_line)
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
            reply = self._call("GetAnalyzerInfo", empty_pb2.Empty())
            policies = []
            for p in reply.policies:
                schema = None
                if p.HasField("configSchema") and (len(p.configSchema.properties) or p.configSchema.required):
                    schema = {"properties": whole_numbers(json_format.MessageToDict(p.configSchema.properties)),
                              "required": list(p.configSchema.required)}
                kind = {analyzer_pb2.POLICY_TYPE_RESOURCE: "resource",
                        analyzer_pb2.POLICY_TYPE_STACK: "stack"}.get(p.policy_type, "unknown")
                policies.append(PolicyInfo(p.name, p.description, _PROTO_TO_LEVEL.get(p.enforcementLevel, "advisory"),
                                           kind, schema))
            initial = {}
            for name, config in reply.initialConfig.items():
                entry = whole_numbers(json_format.MessageToDict(config.properties))
                entry["enforcementLevel"] = _PROTO_TO_LEVEL.get(config.enforcementLevel, "advisory")
                initial[name] = entry
            self._info = PackInfo(reply.name, reply.version, reply.description, tuple(policies), initial)
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
        request = analyzer_pb2.ConfigureAnalyzerRequest()
        for name, entry in reconciled.items():
            policy_config = request.policyConfig[name]
            policy_config.enforcementLevel = _LEVEL_TO_PROTO[entry["enforcementLevel"]]
            policy_config.properties.CopyFrom(to_struct(entry["properties"]))
        self._call("Configure", request)
        self._config = reconciled
        return reconciled

    @property
    def configured(self) -> Optional[Dict[str, Dict[str, Any]]]:
        return self._config

    def _ensure_configured(self) -> None:
        if self._config is None:
            self.configure()

    @staticmethod
    def _options(resource: Resource) -> analyzer_pb2.AnalyzerResourceOptions:
        return analyzer_pb2.AnalyzerResourceOptions(
            protect=bool(resource.protect),
            ignoreChanges=list(resource.ignore_changes),
            deleteBeforeReplace=bool(resource.delete_before_replace),
            deleteBeforeReplaceDefined=resource.delete_before_replace is not None,
            additionalSecretOutputs=list(resource.additional_secret_outputs),
            aliases=list(resource.aliases),
            parent=resource.parent or "",
        )

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
        message = self._provider_message(provider)
        self._provider_messages[id(provider)] = (provider, message)
        return message

    @staticmethod
    def _provider_message(provider: Provider) -> analyzer_pb2.AnalyzerProviderResource:
        return analyzer_pb2.AnalyzerProviderResource(
            type=provider.type, name=provider.name, properties=to_struct(provider.properties),
            urn=provider.urn or make_urn(provider.type, provider.name))

    def _analyze_request(self, resource: Resource) -> analyzer_pb2.AnalyzeRequest:
        request = analyzer_pb2.AnalyzeRequest(type=resource.type, properties=to_struct(resource.properties),
                                              urn=resource.resolved_urn, name=resource.name,
                                              options=self._options(resource))
        provider = self._provider(resource)
        if provider is not None:
            request.provider.CopyFrom(provider)
        return request

    @staticmethod
    def _collect(reply: analyzer_pb2.AnalyzeResponse, urn: str, result: AnalysisResult) -> None:
        for d in reply.diagnostics:
            result.violations.append(Violation(
                policy=d.policyName, level=_PROTO_TO_LEVEL.get(d.enforcementLevel, "advisory"),
                urn=d.urn or urn, message=d.message, description=d.description, pack=d.policyPackName))
        for n in reply.not_applicable:
            result.not_applicable.append(NotApplicable(n.policy_name, n.reason, urn))

    def analyze(self, resource: Resource) -> AnalysisResult:
        """``Analyze`` one resource (configuring with defaults first if :meth:`configure` was not called)."""
        self._ensure_configured()
        result = AnalysisResult()
        self._collect(self._call("Analyze", self._analyze_request(resource)), resource.resolved_urn, result)
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
            self._collect(answer, resource.resolved_urn, result)

        for resource in resources:
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
            item.options.CopyFrom(self._options(resource))
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
        self._collect(self._call("Analyze", request), request.urn, result)
        return result

    def analyze_stack_request(self, request: analyzer_pb2.AnalyzeStackRequest) -> AnalysisResult:
        """Send one ``AnalyzeStackRequest`` as given."""
        self._ensure_configured()
        result = AnalysisResult()
        self._collect(self._call("AnalyzeStack", request), "", result)
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
