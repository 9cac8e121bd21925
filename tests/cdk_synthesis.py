"""One process that keeps the CDK loaded and synthesizes CDK stacks for a whole test run.

A process that synthesizes a CDK stack (template_handlers/cached_cdk.py, on a miss of its
cache) first loads the CDK's Python modules and starts its jsii kernel: about 10 s of CPU. On
a fresh clone, three of the suite's workers and a sceptre process one of them starts each did
so (four loads in a run, measured). With ``share_with_children()``, which the run's main
process calls, the processes it starts afterwards find CDK_SYNTHESIS_SOCKET in their
environment and send their misses to it; the first one starts the synthesizing process
(``python -m tests.cdk_synthesis``), which serves the rest of the run, one request at a time.

The synthesizing process runs the ``cdk`` handler as the asking process would have, with its
arguments, environment, working directory and connection settings (cached_cdk's
``synthesis_request``), and answers with the template or the error the handler raised.
"""

import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, TextIO

from emulator.fork_relay import UnixListener
from emulator.process import end_input_and_wait
from tests.roles import forget_sceptre_connections

ROOT = Path(__file__).resolve().parent.parent
VARIABLE = "CDK_SYNTHESIS_SOCKET"


class SynthesisRelay(UnixListener):
    """A Unix socket whose requests go, in turn, to one synthesizing process (started on the
    first request)."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()
        super().__init__("cdk-synthesis")
        self.log_path = Path(self.folder, "synthesis.log")

    def _serve(self, connection: socket.socket) -> None:
        with connection, connection.makefile("rw") as stream:
            request = stream.readline()
            if request:
                stream.write(self._forward(request) + "\n")
                stream.flush()

    def _forward(self, request: str) -> str:
        """The synthesizing process's answer to one request line."""
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                with self.log_path.open("a") as log:
                    self._process = subprocess.Popen(
                        [sys.executable, "-m", "tests.cdk_synthesis"],
                        cwd=ROOT,
                        stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE,
                        stderr=log,
                        text=True,
                    )
            assert self._process.stdin and self._process.stdout
            try:
                self._process.stdin.write(request)
                self._process.stdin.flush()
                answer = self._process.stdout.readline().strip()
            except BrokenPipeError:
                answer = ""
        if answer:
            return answer
        log = self.log_path.read_text()[-2000:]
        return json.dumps({"error": f"the CDK synthesis process exited:\n{log}"})

    def close(self) -> None:
        """Stop listening and end the synthesizing process."""
        with self._lock:
            if self._process is not None:
                end_input_and_wait(self._process)
        super().close()


def share_with_children() -> SynthesisRelay | None:
    """Serve the CDK syntheses of the processes this one starts from now on (see the module
    docstring); None, and nothing started, if CDK_SYNTHESIS_SOCKET is set already (empty:
    each process synthesizes for itself, as bench/cpu_per_file.py wants)."""
    if VARIABLE in os.environ:
        return None
    relay = SynthesisRelay()
    os.environ[VARIABLE] = relay.path
    return relay


def synthesize(request: dict[str, Any]) -> dict[str, Any]:
    """Run the ``cdk`` handler as the process that sent ``request`` would have run it."""
    from sceptre.connection_manager import ConnectionManager

    from template_handlers.cached_cdk import synthesize_here

    os.environ.clear()
    os.environ.update(request["env"])
    os.chdir(request["cwd"])
    forget_sceptre_connections()  # an earlier request's could point at another emulator
    connection = request["connection"]
    try:
        return {
            "template": synthesize_here(
                request["name"],
                request["arguments"],
                request["sceptre_user_data"],
                ConnectionManager(**connection) if connection else None,
                request["stack_group_config"],
            )
        }
    except Exception as error:  # noqa: BLE001 - the asking process raises it again
        return {"error": str(error), "type": type(error).__name__}


def serve(requests: TextIO, answers: TextIO) -> None:
    """Answer each request line with one answer line, until end of input."""
    for line in requests:
        answers.write(json.dumps(synthesize(json.loads(line))) + "\n")
        answers.flush()


if __name__ == "__main__":
    # Answers go to the stdout this process was started with; whatever the CDK or jsii print
    # goes to stderr (the relay's log), so it cannot be read as an answer.
    out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    serve(sys.stdin, out)
