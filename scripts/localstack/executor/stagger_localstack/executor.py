"""Runs one Lambda execution environment as a host process: stagger's Node runtime-init program.

LocalStack's Docker executor starts a container whose init binary receives `POST /invoke` on port 9563
and reports back to LocalStack's executor endpoint. This executor starts the same protocol's peer as a
plain process on a free port of 127.0.0.1 (scripts/localstack/runtime/init.mjs under the Node that
STAGGER_LAMBDA_NODE names), with the unzipped code as its task root. Everything else (environment
variables, concurrency, keep-alive, async retries) stays LocalStack's.
"""
import logging
import os
import shutil
import signal
import socket
import subprocess
import threading
from pathlib import Path

from localstack import config
from localstack.services.lambda_.invocation.executor_endpoint import ExecutorEndpoint
from localstack.services.lambda_.invocation.lambda_models import FunctionVersion, InvocationResult
from localstack.services.lambda_.invocation.runtime_executor import (
    LambdaRuntimeException,
    RuntimeExecutor,
)

LOG = logging.getLogger(__name__)

HOST = "127.0.0.1"
# Node runtimes only: the runtime-init program runs JavaScript handlers.
SUPPORTED_PREFIX = "nodejs"
# Lines of process output kept for get_logs() (LocalStack prints them when a start fails).
MAX_LOG_LINES = 2000


def _node_binary() -> str:
    return os.environ.get("STAGGER_LAMBDA_NODE") or shutil.which("node") or "node"


def _init_program() -> Path:
    configured = os.environ.get("STAGGER_RUNTIME_INIT")
    if configured:
        return Path(configured)
    # scripts/localstack/executor/stagger_localstack/executor.py -> scripts/localstack/runtime/init.mjs
    return Path(__file__).resolve().parents[2] / "runtime" / "init.mjs"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class HostRuntimeExecutor(RuntimeExecutor):
    def __init__(self, id: str, function_version: FunctionVersion) -> None:
        super().__init__(id=id, function_version=function_version)
        self.executor_endpoint = ExecutorEndpoint(self.id)
        self.process: subprocess.Popen | None = None
        self.port: int | None = None
        self._log_lines: list[str] = []
        self._log_lock = threading.Lock()

    def start(self, env_vars: dict[str, str]) -> None:
        runtime = self.function_version.config.runtime or ""
        if not runtime.startswith(SUPPORTED_PREFIX):
            raise LambdaRuntimeException(f"runtime {runtime!r} is not supported by the host executor")
        self.executor_endpoint.start()
        self.port = _free_port()
        code = self.function_version.config.code
        task_root = str(code.get_unzipped_code_location()) if code else ""
        env = {
            # The process needs a PATH and a HOME like any other; nothing else of the host leaks in.
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/tmp"),
            **{k: str(v) for k, v in env_vars.items()},
            "LAMBDA_TASK_ROOT": task_root,
            "LAMBDA_RUNTIME_DIR": str(_init_program().parent),
            "STAGGER_RUNTIME_PORT": str(self.port),
            "STAGGER_RUNTIME_HOST": HOST,
        }
        LOG.debug("starting host runtime %s for %s on port %s", self.id, self.function_version.qualified_arn, self.port)
        self.process = subprocess.Popen(
            [_node_binary(), str(_init_program())],
            cwd=task_root or None,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            # Own process group: stop() ends the runtime-init program and the handler process it forks.
            start_new_session=True,
        )
        self._record_pid(True)
        threading.Thread(target=self._pump_logs, name=f"lambda-host-{self.id}", daemon=True).start()
        self.executor_endpoint.container_address = HOST
        self.executor_endpoint.container_port = self.port
        self.executor_endpoint.wait_for_startup()

    def _record_pid(self, alive: bool) -> None:
        # The launcher (scripts/localstack/localstack.ts) ends every listed group if LocalStack itself dies first.
        folder = os.environ.get("STAGGER_RUNTIME_PIDS")
        if not folder or not self.process:
            return
        marker = Path(folder) / str(self.process.pid)
        try:
            if alive:
                marker.touch()
            else:
                marker.unlink(missing_ok=True)
        except OSError as e:
            LOG.debug("cannot record runtime pid in %s: %s", folder, e)

    def _pump_logs(self) -> None:
        process = self.process
        if not process or not process.stdout:
            return
        for raw in process.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self._log_lock:
                self._log_lines.append(line)
                if len(self._log_lines) > MAX_LOG_LINES:
                    del self._log_lines[: len(self._log_lines) - MAX_LOG_LINES]
            if LOG.isEnabledFor(logging.DEBUG):
                LOG.debug("[lambda %s] %s", self.id, line)

    def stop(self) -> None:
        process = self.process
        if process and process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=5)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self._record_pid(False)
        try:
            self.executor_endpoint.shutdown()
        except Exception as e:  # noqa: BLE001 - stopping must not fail on a half-started environment
            LOG.debug("error stopping executor endpoint of %s: %s", self.id, e)

    def get_address(self) -> str:
        return HOST

    def get_endpoint_from_executor(self) -> str:
        return HOST

    def get_runtime_endpoint(self) -> str:
        return f"http://{HOST}:{config.GATEWAY_LISTEN[0].port}{self.executor_endpoint.get_endpoint_prefix()}"

    def invoke(self, payload: dict[str, str]) -> InvocationResult:
        return self.executor_endpoint.invoke(payload)

    def get_logs(self) -> str:
        with self._log_lock:
            return "\n".join(self._log_lines)

    @classmethod
    def prepare_version(cls, function_version: FunctionVersion) -> None:
        # The Docker executor also pulls an image and downloads its init binary here; a host process needs only the code.
        if function_version.config.code:
            function_version.config.code.prepare_for_execution()

    @classmethod
    def cleanup_version(cls, function_version: FunctionVersion) -> None:
        pass

    @classmethod
    def validate_environment(cls) -> bool:
        node = _node_binary()
        if not (os.path.isfile(node) or shutil.which(node)):
            LOG.warning("stagger-host executor: no Node binary at %s (set STAGGER_LAMBDA_NODE)", node)
            return False
        if not _init_program().is_file():
            LOG.warning("stagger-host executor: runtime-init program missing at %s", _init_program())
            return False
        return True
