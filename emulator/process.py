"""Start and stop the emulator server from the project's own environment (stdlib only).

The server binds port 0 unless told a port: the kernel picks a free one atomically and the
server names it in its ready line ("emulator ready on http://127.0.0.1:PORT"), which
``Emulator.start`` reads. Finding a free port first and binding it later would race with the
other emulators a parallel test run starts.

With ``share_start_up()`` (the test suite calls it), this process starts emulators by
asking a fork server (emulator/forkserver.py) to fork one from a process that has already
imported moto and the layer, built the backends and (for seeded emulators) seeded: a start
then costs milliseconds of CPU instead of seconds. The emulators behave as those started whole.
With ``serve_children()`` as well (the suite's main process calls it), the processes it starts
afterwards (pytest-xdist's workers) ask this process's fork servers through a relay
(emulator/fork_relay.py) instead of starting their own.
"""

import atexit
import contextlib
import json
import os
import re
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from emulator.fork_relay import Relay, RelayClient

ROOT = Path(__file__).resolve().parent.parent
EMULATOR_PYTHON = Path(os.environ.get("EMULATOR_PYTHON", ROOT / ".venv-emulator/bin/python"))
REGION = "us-east-1"  # the region in config/config.yaml


def quick_polls(env: dict[str, str], seconds: float = 0.25) -> dict[str, str]:
    """env, with Sceptre's status polls capped at `seconds` for the processes it starts
    (emulator/quick_poll/sitecustomize.py). Sceptre waits 4 s after each look at a stack's
    status, a pace set for AWS; the emulator finishes a stack operation within the call that
    starts it, so each wait only idles. For the emulator only: AWS is never affected."""
    path = [str(ROOT / "emulator" / "quick_poll"), env.get("PYTHONPATH", "")]
    return {
        **env,
        "PYTHONPATH": os.pathsep.join(p for p in path if p),
        "SCEPTRE_POLL_SECONDS": str(seconds),
    }


READY = re.compile(r"emulator ready on (http://127\.0\.0\.1:(\d+))")
# Settings that a module of moto or of the emulator reads once, when it is imported
# (task_lifecycle's EMULATOR_TASK_START_SECONDS; moto.settings' constants): a forked
# emulator keeps its fork server's values, so each set of values gets a fork server.
IMPORT_TIME_SETTINGS = re.compile(
    r"(EMULATOR_|MOTO_).*|TEST_SERVER_MODE|INITIAL_NO_AUTH_ACTION_COUNT|DEFAULT_CONTAINER_REGISTRY"
    r"|S3_IGNORE_SUBDOMAIN_BUCKETNAME|S3_UPLOAD_PART_MIN_SIZE|TESTS_SKIP_REQUIRES_DOCKER"
)
# Settings of the emulator read on each request (emulator/drift.py's detection time,
# emulator/deployment_alarms.py's bake time): a forked emulator reads them from its own
# environment, so any fork server will do.
REQUEST_TIME_SETTINGS = frozenset({"EMULATOR_DRIFT_SECONDS", "EMULATOR_BAKE_SECONDS"})
# Settings read at import that a forked emulator reads again from its own environment
# (task_lifecycle.read_timings, called in each fork), so any fork
# server will do: each further fork server costs ~3.3 s of CPU per test worker.
FORK_TIME_SETTINGS = frozenset({"EMULATOR_TASK_START_SECONDS", "EMULATOR_STABILIZE_SECONDS"})


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (and nothing will: tests use
    it as an address where no emulator answers). Not for starting an emulator: see Emulator."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ForkServer:
    """emulator/forkserver.py as a child process of this one: it forks ready emulators."""

    def __init__(self, env: dict[str, str], timeout: float) -> None:
        """Start it with ``env`` and wait until it is ready to fork."""
        command = [str(EMULATOR_PYTHON), str(ROOT / "emulator/forkserver.py")]
        fd, log = tempfile.mkstemp(prefix="emulator-forkserver-", suffix=".log")
        self.log_path = Path(log)
        self._lock = threading.Lock()
        with os.fdopen(fd, "w") as sink:
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=sink,
                env=env,
                text=True,
            )
        timer = threading.Timer(timeout, self._process.kill)  # a hung start fails, not hangs
        timer.start()
        try:
            ready = self._read()
        finally:
            timer.cancel()
        if "ready" not in ready:
            raise RuntimeError(f"the emulator fork server did not start:\n{self.log_text()}")

    def log_text(self) -> str:
        """What the fork server printed (its errors)."""
        return self.log_path.read_text()

    def _read(self) -> dict[str, Any]:
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        return json.loads(line) if line else {}

    def request(self, message: dict[str, Any]) -> dict[str, Any]:
        """Send one request and return its answer ({} if the fork server has exited)."""
        assert self._process.stdin is not None
        with self._lock:
            try:
                self._process.stdin.write(json.dumps(message) + "\n")
                self._process.stdin.flush()
            except BrokenPipeError:
                return {}
            return self._read()

    def close(self) -> None:
        """End its input: it stops the emulators it still runs, then exits."""
        end_input_and_wait(self._process)


def end_input_and_wait(process: subprocess.Popen, timeout: float = 15) -> None:
    """Close a child's input (the way a fork server or a synthesizing process is told to
    finish) and reap it, killing it if it has not exited within ``timeout`` seconds."""
    if process.stdin:
        with contextlib.suppress(BrokenPipeError):  # it exited already
            process.stdin.close()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


_fork_servers: dict[frozenset[tuple[str, str]], ForkServer] = {}
_fork_servers_lock = threading.Lock()
_shared = False
# The socket of the relay whose fork servers this process uses (set by serve_children for
# the processes started after it; "off" keeps every process to fork servers of its own).
RELAY_SOCKET = "EMULATOR_FORK_RELAY"
_relay: Relay | None = None  # this process's own, once serve_children ran
_relay_client: RelayClient | None = None  # its parent's, once asked


def share_start_up(enabled: bool = True) -> None:
    """Start this process's emulators from fork servers (see the module docstring)."""
    global _shared
    _shared = enabled


def serve_children() -> None:
    """Let the processes this one starts from now on use its fork servers (through a relay,
    emulator/fork_relay.py), and start the fork server for this environment's settings in
    the background meanwhile: a test run's workers then share one, ready by the time they
    have collected their tests. Does nothing if RELAY_SOCKET is "off" (bench/cpu_per_file.py
    wants each worker's emulators among its own descendants)."""
    global _relay
    if _relay is not None or os.environ.get(RELAY_SOCKET) == "off":
        return
    _relay = Relay(fork_server)
    os.environ[RELAY_SOCKET] = _relay.path
    environment = dict(os.environ)
    threading.Thread(target=fork_server, args=(environment, 60), daemon=True).start()


@atexit.register
def _close_fork_servers() -> None:
    global _relay_client
    if _relay_client is not None:
        _relay_client.close()  # the relay stops what this process left running
        _relay_client = None
    if _relay is not None:
        _relay.close()
    with _fork_servers_lock:
        for server in _fork_servers.values():
            server.close()
        _fork_servers.clear()


def fork_server_key(env: dict[str, str]) -> frozenset[tuple[str, str]]:
    """What tells fork servers apart: the settings read at import. Each forks both seeded
    and empty emulators (emulator/forkserver.py)."""
    return frozenset(
        (k, v)
        for k, v in env.items()
        if IMPORT_TIME_SETTINGS.fullmatch(k)
        and k not in REQUEST_TIME_SETTINGS
        and k not in FORK_TIME_SETTINGS
    )


def fork_server(env: dict[str, str], timeout: float) -> ForkServer | RelayClient:
    """This process's fork server for emulators with ``env``'s import-time settings, started
    on first use; or, in a process started after its parent's serve_children, the parent's
    fork servers through their relay."""
    global _relay_client
    key = fork_server_key(env)
    with _fork_servers_lock:
        relay = os.environ.get(RELAY_SOCKET, "")
        if _relay is None and relay not in ("", "off"):
            if _relay_client is None:
                _relay_client = RelayClient(relay)
            return _relay_client
        if key not in _fork_servers:
            _fork_servers[key] = ForkServer(env, timeout)
        return _fork_servers[key]


class Emulator:
    """The emulator as a child process; a context manager that stops it on exit."""

    def __init__(
        self,
        port: int | None = None,
        seed: bool = True,
        timeout: float = 60,
        settings: dict[str, str] | None = None,
    ) -> None:
        """port: where to listen; None lets the server pick a free one and report it.
        settings: environment variables of the server (EMULATOR_TASK_START_SECONDS, ...)."""
        self.port = port
        self._settings = settings or {}
        self._seed = seed
        self._timeout = timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._forked: tuple[ForkServer | RelayClient, int] | None = None
        self.log_path: Path | None = None
        self._clients: dict[tuple[str, str], Any] = {}

    def start(self) -> "Emulator":
        """Start the server and return once it is seeded and serving."""
        if not EMULATOR_PYTHON.exists():
            raise RuntimeError(f"{EMULATOR_PYTHON} is missing; run 'make .venv-emulator' first")
        if _shared:
            return self._fork()
        command = [
            str(EMULATOR_PYTHON),
            str(ROOT / "emulator/server.py"),
            "--port",
            str(self.port or 0),
        ]
        if not self._seed:
            command.append("--no-seed")
        # Output goes to a file, not a pipe: an unread pipe fills and stalls the server.
        fd, log = tempfile.mkstemp(prefix="emulator-", suffix=".log")
        self.log_path = Path(log)
        with os.fdopen(fd, "w") as sink:
            self._process = subprocess.Popen(
                command,
                stdout=sink,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **self._settings},
            )
        deadline = time.monotonic() + self._timeout
        while time.monotonic() < deadline and self._process.poll() is None:
            ready = READY.search(self.log_path.read_text())
            if ready:
                self.port = int(ready.group(2))
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the emulator did not start:\n{self.log_path.read_text()}")

    def _fork(self) -> "Emulator":
        """Start by asking a fork server for a copy of its ready emulator."""
        env = {**os.environ, **self._settings}
        server = fork_server(env, self._timeout)
        fd, log = tempfile.mkstemp(prefix="emulator-", suffix=".log")
        os.close(fd)
        self.log_path = Path(log)
        start = {
            "port": self.port or 0,
            "env": env,
            "log": log,
            "timeout": self._timeout,
            "seed": self._seed,
        }
        started = server.request({"start": start})
        if "pid" not in started:
            raise RuntimeError(
                f"the emulator did not start ({started.get('error', 'its fork server exited')}):"
                f"\n{self.log_path.read_text()}{server.log_text()}"
            )
        self.port = started["port"]
        self._forked = (server, started["pid"])
        return self

    def stop(self) -> None:
        """Stop the server (idempotent)."""
        if self._forked:
            server, pid = self._forked
            server.request({"stop": pid})
            self._forked = None
        if self._process and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    @property
    def url(self) -> str:
        """The emulator's endpoint URL (known once started, or when a port was given)."""
        if self.port is None:
            raise RuntimeError("the emulator has no port until it is started")
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        """Environment variables that point boto3 and Sceptre at this emulator."""
        return {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
        }

    def child_env(self, *unset: str) -> dict[str, str]:
        """This process's environment pointed at the emulator, for a child process.

        AWS_PROFILE (it would win over the dummy keys) and IMAGE_TAG (it would choose the
        image) are left out, as are any other names given.
        """
        dropped = {"AWS_PROFILE", "IMAGE_TAG", *unset}
        inherited = {k: v for k, v in os.environ.items() if k not in dropped}
        return {**inherited, **self.env()}

    def client(self, service: str) -> Any:
        """A boto3 client of this emulator, made once per service and address (making one costs
        about 6 ms of CPU, and tests ask for them in polling loops; boto3 clients may be shared
        between threads). boto3 is imported here: starting needs only stdlib."""
        key = (service, self.url)
        if key not in self._clients:
            import boto3

            self._clients[key] = boto3.client(
                service,
                region_name=REGION,
                endpoint_url=self.url,
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            )
        return self._clients[key]

    def __enter__(self) -> "Emulator":
        return self.start()

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()
