"""emulator/fork_relay.py: processes share one process's fork servers through its relay.

Each test runs a relay of its own in this process, over this process's fork servers
(emulator.process.fork_server), and talks to it as a test run's workers do.
"""

import os
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator import process
from emulator.fork_relay import Relay, RelayClient


@pytest.fixture
def relay() -> Iterator[Relay]:
    process.share_start_up(True)
    running = Relay(process.fork_server)
    yield running
    running.close()


def start(client: RelayClient, port: int = 0) -> dict:
    """Ask for an empty emulator, as emulator.process.Emulator does."""
    fd, log = tempfile.mkstemp(prefix="emulator-", suffix=".log")
    os.close(fd)
    message = {"port": port, "env": dict(os.environ), "log": log, "timeout": 60, "seed": False}
    return client.request({"start": message})


def parent_of(pid: int) -> int:
    """A process's parent, from /proc (field 4 of its stat, after the command's ')')."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat[stat.rindex(")") + 2 :].split()[1])


def listens(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_two_clients_get_their_emulators_from_one_fork_server(relay):
    first, second = RelayClient(relay.path), RelayClient(relay.path)
    try:
        started = [start(client) for client in (first, second)]
        assert all("pid" in answer for answer in started), started
        assert started[0]["port"] != started[1]["port"]
        assert parent_of(started[0]["pid"]) == parent_of(started[1]["pid"])
        assert all(listens(answer["port"]) for answer in started)
        for client, answer in zip((first, second), started, strict=True):
            assert client.request({"stop": answer["pid"]}) == {"stopped": answer["pid"]}
            assert not listens(answer["port"])
    finally:
        first.close()
        second.close()


def test_a_client_that_goes_has_the_emulators_it_left_stopped(relay):
    client = RelayClient(relay.path)
    answer = start(client)
    assert listens(answer["port"])
    client.close()
    deadline = time.monotonic() + 15  # the relay notices the closed connection, then stops it
    while listens(answer["port"]):
        assert time.monotonic() < deadline, "the emulator the client left still listens"
        time.sleep(0.05)


def test_a_failed_start_is_answered_with_the_reason(relay):
    client = RelayClient(relay.path)
    try:
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            answer = start(client, port=taken.getsockname()[1])
        assert "pid" not in answer
        assert "did not start" in answer["error"]
    finally:
        client.close()


def test_a_request_that_is_neither_start_nor_stop_is_refused_by_name(relay):
    client = RelayClient(relay.path)
    try:
        assert client.request({"restart": 1}) == {"error": "not a fork server request: ['restart']"}
    finally:
        client.close()
