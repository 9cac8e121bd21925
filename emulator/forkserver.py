"""Fork a ready emulator per request from one process that has already paid for starting one.

    .venv-emulator/bin/python emulator/forkserver.py

Starting an emulator costs about 2.5 s of CPU (a Python process importing moto and the
emulator layer) and seeding it 1.5 s more (moto builds each service's backend and its
Flask routes on first use: IAM alone loads every AWS managed policy). A test run starts
dozens. This process pays once: it installs the layer, serves one round of requests that
builds every backend a launch uses, stops serving, and then forks a copy of itself per
request. Each copy starts listening at once, holding the same account state a fresh
``server.py --no-seed`` would hold after the same steps. For seeded emulators, the first
request forks a second fork server from this one, which seeds its account once and then
forks seeded copies the same way: one import of moto serves both kinds.

Requests come as one JSON line each on stdin; each gets one JSON line on stdout:

- ``{"start": {"port": 0, "env": {...}, "log": PATH, "timeout": 60, "seed": true}}`` forks
  an emulator (seeded unless ``seed`` is false) with os.environ replaced by ``env`` and its
  output appended to ``log``; the answer ``{"pid": PID, "port": PORT}`` comes once it
  serves (``{"error": TEXT}`` if it did not);
- ``{"stop": PID}`` stops that emulator and reaps it (so its CPU time is counted in this
  process's children, and so in whoever reaps this one): ``{"stopped": PID}``.

End of input stops every emulator still running, then this process.

What a fork cannot change: settings read when a module is imported (task_lifecycle's
EMULATOR_TASK_START_SECONDS, moto's INITIAL_NO_AUTH_ACTION_COUNT, ...) keep the values
this process started with, so emulator/process.py runs one fork server per distinct
value of such settings (process.IMPORT_TIME_SETTINGS). Each copy draws moto's random
identifiers from a freshly seeded generator, as a new process would.
"""

import argparse
import contextlib
import gc
import json
import os
import select
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any, TextIO

import boto3
from moto.moto_api._internal import mock_random

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from emulator import iam_reference, task_lifecycle  # noqa: E402
from emulator import seed as seeding  # noqa: E402
from emulator.server import announce, install_layer, listen, serve_until_stopped  # noqa: E402

REGION = "us-east-1"  # the region in config/config.yaml
# The services of the resource types in templates/ (and CloudFormation, STS, ACM): their
# backends are built here once, by a harmless read each, not by every forked emulator on
# its first request (EC2's, with its default VPC and AMIs, costs 0.6 s of CPU).
WARM_READS = (
    ("cloudformation", "list_stacks", {}),
    ("ec2", "describe_vpcs", {}),
    ("ecs", "list_clusters", {}),
    ("ecr", "describe_repositories", {}),
    ("elbv2", "describe_load_balancers", {}),
    ("iam", "list_roles", {}),
    ("logs", "describe_log_groups", {}),
    ("acm", "list_certificates", {}),
    ("sts", "get_caller_identity", {}),
    ("sns", "list_topics", {}),
    ("s3", "list_buckets", {}),
    ("events", "list_rules", {}),
    ("route53", "list_hosted_zones", {}),
    ("codebuild", "list_projects", {}),
    ("codepipeline", "list_pipelines", {}),
    ("application-autoscaling", "describe_scalable_targets", {"ServiceNamespace": "ecs"}),
)


def prepare(seed: bool) -> dict[str, Any] | None:
    """Build the backends (and seed the account unless told not to) through a server that
    is stopped again before returning, so that no thread but this one is left to fork.
    Returns what seeding created, or None."""
    server = listen(0)
    if server is None:
        raise SystemExit("emulator fork server: cannot listen on 127.0.0.1")
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )
    for service, operation, arguments in WARM_READS:
        client = session.client(service, endpoint_url=url)
        getattr(client, operation)(**arguments)
        client.close()  # no kept-alive connection holds a server thread open
    seeded = seeding.seed(url, REGION) if seed else None
    iam_reference.preload()
    server.stop()
    deadline = time.monotonic() + 10
    for thread in threading.enumerate():
        if thread is not threading.main_thread():
            thread.join(max(0.0, deadline - time.monotonic()))
    left = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
    if left:
        raise SystemExit(f"emulator fork server: threads still running, cannot fork: {left}")
    # What the models, backends and seed hold now outlives every emulator forked from here:
    # frozen, the emulators' full collections skip it and so copy none of its pages ("call
    # gc.freeze() right before fork()": https://docs.python.org/3/library/gc.html#gc.freeze).
    gc.collect()
    gc.freeze()
    return seeded


def fork_emulator(
    port: int, env: dict[str, str], log: str, seeded: dict[str, Any] | None, answers: int
) -> tuple[int, int]:
    """Fork an emulator listening on ``port``; return its pid and the pipe through which it
    tells its readiness (the bound port, or nothing if it failed: see wait_ready).
    ``answers`` is the fork server's answer pipe, which the emulator closes."""
    read_end, write_end = os.pipe()
    sys.stdout.flush()  # else the copy would print what this process had buffered
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        os.close(write_end)
        return pid, read_end
    # The forked emulator: never returns into the request loop.
    status = 1
    try:
        os.close(read_end)
        os.close(answers)  # only the fork server answers: its end closes with it
        os.environ.clear()
        os.environ.update(env)
        task_lifecycle.read_timings()  # process.FORK_TIME_SETTINGS: this fork's own
        mock_random.seed()  # moto's identifiers: not the same sequence in every copy
        sink = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.dup2(sink, 1)
        os.dup2(sink, 2)
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        server = listen(port)
        if server is not None:
            stop_event = announce(server, seeded)  # in the log before the port is told
            os.write(write_end, str(server.get_host_and_port()[1]).encode())
            os.close(write_end)
            serve_until_stopped(server, stop_event)
            status = 0
    except BaseException:  # noqa: BLE001 - reported in the emulator's log, then exit
        import traceback

        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)


def wait_ready(pid: int, read_end: int, timeout: float) -> int | None:
    """The port the forked emulator bound, or None if it exited or timed out first."""
    try:
        ready, _, _ = select.select([read_end], [], [], timeout)
        answer = os.read(read_end, 32) if ready else b""
    finally:
        os.close(read_end)
    return int(answer) if answer else None


def stop(pid: int, grace: float = 10) -> None:
    """SIGTERM the emulator, SIGKILL it after ``grace`` seconds, and reap it."""
    os.kill(pid, signal.SIGTERM)  # it exists until reaped here, even if it has exited
    deadline = time.monotonic() + grace
    while os.waitpid(pid, os.WNOHANG) == (0, 0):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return
        time.sleep(0.01)


def answer(answers: TextIO, message: dict[str, Any]) -> None:
    """One JSON line to whoever sent the requests."""
    answers.write(json.dumps(message) + "\n")
    answers.flush()


class SeededForkServer:
    """A fork server forked from this one that seeds its account once, then forks seeded
    emulators; this process passes it the requests for them, over a pair of pipes."""

    def __init__(self, parent_answers: int) -> None:
        requests_read, requests_write = os.pipe()
        answers_read, answers_write = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        self.pid = os.fork()
        if self.pid == 0:  # the seeded fork server: never returns
            status = 1
            try:
                for fd in (requests_write, answers_read, parent_answers):
                    os.close(fd)
                os.dup2(os.open(os.devnull, os.O_RDONLY), 0)  # not the parent's requests
                seeded = prepare(seed=True)
                with (
                    os.fdopen(requests_read) as requests,
                    os.fdopen(answers_write, "w") as answers,
                ):
                    serve(requests, answers, seeded)
                status = 0
            except BaseException:  # noqa: BLE001 - reported on stderr, then exit
                import traceback

                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(status)
        os.close(requests_read)
        os.close(answers_write)
        self._requests = os.fdopen(requests_write, "w")
        self._answers = os.fdopen(answers_read)
        self.emulators: set[int] = set()

    def request(self, message: dict[str, Any]) -> dict[str, Any]:
        """Pass one request on; its answer ({"error": ...} if the seeded server has exited)."""
        try:
            self._requests.write(json.dumps(message) + "\n")
            self._requests.flush()
            line = self._answers.readline()
        except BrokenPipeError:
            line = ""
        return json.loads(line) if line else {"error": "the seeded fork server exited"}

    def close(self) -> None:
        """End its input (it stops its emulators, then exits) and reap it."""
        with contextlib.suppress(BrokenPipeError):
            self._requests.close()
        os.waitpid(self.pid, 0)


def serve(requests: TextIO, answers: TextIO, seeded: dict[str, Any] | None) -> None:
    """Fork an emulator per start request, stop them on request, until end of input; then
    stop every emulator still running. Seeded requests go to a SeededForkServer unless this
    process is seeded itself."""
    running: set[int] = set()
    seeded_server: SeededForkServer | None = None
    try:
        for line in requests:
            request = json.loads(line)
            if "start" in request:
                start = request["start"]
                if start.get("seed", True) and seeded is None:
                    seeded_server = seeded_server or SeededForkServer(answers.fileno())
                    started = seeded_server.request(request)
                    if "pid" in started:
                        seeded_server.emulators.add(started["pid"])
                    answer(answers, started)
                    continue
                pid, read_end = fork_emulator(
                    start["port"], start["env"], start["log"], seeded, answers.fileno()
                )
                running.add(pid)
                port = wait_ready(pid, read_end, start["timeout"])
                if port is None:
                    stop(pid)
                    running.discard(pid)
                    answer(answers, {"error": "the emulator exited or did not start in time"})
                else:
                    answer(answers, {"pid": pid, "port": port})
            elif "stop" in request:
                if seeded_server and request["stop"] in seeded_server.emulators:
                    seeded_server.emulators.discard(request["stop"])
                    answer(answers, seeded_server.request(request))
                    continue
                if request["stop"] in running:
                    stop(request["stop"])
                    running.discard(request["stop"])
                answer(answers, {"stopped": request["stop"]})
    finally:
        for pid in running:
            stop(pid)
        if seeded_server:
            seeded_server.close()


def main() -> int:
    """Prepare, announce readiness, then serve fork requests until end of input."""
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    # Answers go to the stdout this process was started with; anything else printed (by
    # moto, by the layer) goes to stderr instead, so it cannot be read as an answer.
    answers = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    install_layer()
    prepare(seed=False)
    answer(answers, {"ready": os.getpid()})
    serve(sys.stdin, answers, None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
