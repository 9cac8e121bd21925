"""One process's fork servers, offered to its child processes over a Unix socket (stdlib only).

A parallel test run has a main process and a worker per core or so. Each worker starting
fork servers of its own (emulator/forkserver.py) paid for importing moto, building the
backends and seeding once per worker: about 5 s of CPU each, all of it spent again for the
same state. With a relay, the main process owns the fork servers and its workers ask it for
emulators: the fork server starts once, while the workers are still collecting tests.

The socket speaks the fork server's own protocol, one JSON line per request and per answer
(``{"start": ...}`` and ``{"stop": PID}``). A worker that disconnects, finished or crashed,
has the emulators it started and never stopped stopped for it.
"""

import contextlib
import json
import os
import shutil
import socket
import tempfile
import threading
from collections.abc import Callable
from typing import Any, Protocol


class Forker(Protocol):
    """What the relay needs of a fork server (emulator.process.ForkServer)."""

    def request(self, message: dict[str, Any]) -> dict[str, Any]: ...

    def log_text(self) -> str: ...


class UnixListener:
    """A Unix socket in a new private folder (``path``), each connection served by ``_serve``
    in a thread of its own until ``close``."""

    def __init__(self, name: str) -> None:
        self.folder = tempfile.mkdtemp(prefix=f"{name}-")
        self.path = os.path.join(self.folder, "socket")
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(self.path)
        self._listener.listen()
        threading.Thread(target=self._accept, name=name, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:  # closed
                return
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Stop listening and remove the socket's folder."""
        self._listener.close()
        shutil.rmtree(self.folder, ignore_errors=True)


class Relay(UnixListener):
    """A listening Unix socket whose connections are served by this process's fork servers."""

    def __init__(self, fork_server: Callable[[dict[str, str], float], Forker]) -> None:
        """Listen on a new socket (``path``); ``fork_server(env, timeout)`` gives the fork
        server for a start request's environment (emulator.process.fork_server)."""
        self._fork_server = fork_server
        super().__init__("emulator-relay")

    def _serve(self, connection: socket.socket) -> None:
        """Answer one client's requests in order; stop what it left running when it goes."""
        started: dict[int, Forker] = {}
        with connection, connection.makefile("rw") as stream:
            for line in stream:
                message = json.loads(line)
                stream.write(json.dumps(self._answer(message, started)) + "\n")
                stream.flush()
        for pid, server in started.items():
            server.request({"stop": pid})

    def _answer(self, message: dict[str, Any], started: dict[int, Forker]) -> dict[str, Any]:
        if "start" in message:
            start = message["start"]
            server = self._fork_server(start["env"], start["timeout"])
            answer = server.request(message)
            if "pid" in answer:
                started[answer["pid"]] = server
            else:  # the client cannot read the fork server's log: it gets it in the answer
                answer["log"] = server.log_text()
            return answer
        if "stop" in message:
            server = started.pop(message["stop"], None)
            return server.request(message) if server else {"stopped": message["stop"]}
        return {"error": f"not a fork server request: {sorted(message)}"}


class RelayClient:
    """The fork servers of the process whose relay listens at ``path``, as one fork server."""

    def __init__(self, path: str) -> None:
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._socket.connect(path)
        self._stream = self._socket.makefile("rw")
        self._lock = threading.Lock()
        self._log = ""

    def request(self, message: dict[str, Any]) -> dict[str, Any]:
        """Send one request and return its answer ({} if the relay has gone)."""
        with self._lock:
            try:
                self._stream.write(json.dumps(message) + "\n")
                self._stream.flush()
                line = self._stream.readline()
            except OSError:
                return {}
        answer = json.loads(line) if line else {}
        self._log = answer.pop("log", self._log)
        return answer

    def log_text(self) -> str:
        """The fork server's log as the relay sent it with the last failed start."""
        return self._log

    def close(self) -> None:
        """Disconnect: the relay stops the emulators this client left running."""
        with contextlib.suppress(OSError):
            self._stream.close()
            self._socket.close()
