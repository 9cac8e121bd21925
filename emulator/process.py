"""Start and stop the emulator server from the project's own environment (stdlib only).

The server binds port 0 unless told a port: the kernel picks a free one atomically and the
server names it in its ready line ("emulator ready on http://127.0.0.1:PORT"), which
``Emulator.start`` reads. Finding a free port first and binding it later would race with the
other emulators a parallel test run starts.
"""

import os
import re
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EMULATOR_PYTHON = Path(os.environ.get("EMULATOR_PYTHON", ROOT / ".venv-emulator/bin/python"))
REGION = "us-east-1"  # the region in config/config.yaml


READY = re.compile(r"emulator ready on (http://127\.0\.0\.1:(\d+))")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (and nothing will: tests use
    it as an address where no emulator answers). Not for starting an emulator: see Emulator."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
        self.log_path: Path | None = None

    def start(self) -> "Emulator":
        """Start the server and return once it is seeded and serving."""
        if not EMULATOR_PYTHON.exists():
            raise RuntimeError(f"{EMULATOR_PYTHON} is missing; run 'make .venv-emulator' first")
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

    def stop(self) -> None:
        """Stop the server (idempotent)."""
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
        """A boto3 client of this emulator (boto3 imported here: starting needs only stdlib)."""
        import boto3

        return boto3.client(
            service,
            region_name=REGION,
            endpoint_url=self.url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def __enter__(self) -> "Emulator":
        return self.start()

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()
