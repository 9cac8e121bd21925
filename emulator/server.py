"""Run the local AWS emulator in the foreground: moto's server, made faithful, seeded.

    .venv-emulator/bin/python emulator/server.py [--port 5055] [--region us-east-1]

Listens on 127.0.0.1 only; --port 0 lets the kernel pick a free port (what tests do: no race
between finding a port and binding it). Prints one line "emulator ready on URL", with the
port really bound, once it serves and is seeded; stops on Ctrl-C or SIGTERM.
EMULATOR_TASK_START_SECONDS sets how long an ECS task takes to start (task_lifecycle.py).
"""

import argparse
import logging
import os
import signal
import socket
import sys
import threading
from pathlib import Path
from typing import Any

from moto.server import ThreadedMotoServer

# Imported as the emulator package: moto names a model's service after its module path.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from emulator import (  # noqa: E402
    acm_listing,
    answer_date,
    cfn_no_value,
    cfn_yaml,
    cloudwatch_cfn,
    cross_account,
    delivery,
    drift,
    faults,
    fidelity,
    handler_model,
    iam,
    protection,
    refuse_ecs,
    refuse_elb,
    refuse_iam,
    refuse_logs,
    revert_drift,
    seed,
    service_linked_roles,
    shared_loader,
    stack_answers,
    task_lifecycle,
)


def install_layer() -> None:
    """Patch moto with every module of the emulator layer (once per process)."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not a line per request
    shared_loader.install()  # CPU only: botocore's data files read once per process
    answer_date.install()  # a stack's events come after CreateStack's answer, as on AWS
    fidelity.install()
    cfn_yaml.install()  # !Condition in YAML templates, as CloudFormation reads it
    cfn_no_value.install()  # AWS::NoValue in a list drops the element
    delivery.install()
    cloudwatch_cfn.install()  # alarms and dashboards through CloudFormation
    faults.install()
    protection.install()
    drift.install()
    handler_model.install()
    iam.install()
    cross_account.install()  # resource policies across accounts, after identity policies
    service_linked_roles.install()
    # What AWS refuses, how it answers, and how tasks and certificates behave.
    for module in (refuse_ecs, refuse_elb, refuse_iam, refuse_logs, stack_answers):
        module.install()
    task_lifecycle.install()
    acm_listing.install()
    revert_drift.install()


def listen(port: int) -> ThreadedMotoServer | None:
    """moto's server on 127.0.0.1:port (0: a free one), serving; None if it cannot bind."""
    if port:
        # moto's server thread exits on a port in use and start() then waits forever: try
        # the port here first (as werkzeug binds it: address reuse on) to say so at once.
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError as error:
                print(f"emulator: cannot listen on 127.0.0.1:{port}: {error}", file=sys.stderr)
                return None
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    return server


def announce(server: ThreadedMotoServer, seeded: dict[str, Any] | None) -> threading.Event:
    """Stop on SIGINT or SIGTERM from now on (the returned event is set), then print what was
    seeded and the ready line. Readers of the log may look for the line as soon as the port is
    known, so it is printed before anyone is told the port (forkserver.py)."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    host, port = server.get_host_and_port()
    if seeded is not None:
        print(f"emulator: seeded {seeded}", flush=True)
    print(f"emulator ready on http://{host}:{port}", flush=True)
    return stop


def serve_until_stopped(server: ThreadedMotoServer, stop: threading.Event) -> None:
    """Serve until ``stop`` is set (announce's signal handlers set it), then stop serving."""
    stop.wait()
    server.stop()


def main() -> int:
    """Start, seed and serve until told to stop."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("EMULATOR_PORT", "5055")))
    parser.add_argument("--region", default=os.environ.get("EMULATOR_REGION", "us-east-1"))
    parser.add_argument("--no-seed", action="store_true", help="start with an empty account")
    args = parser.parse_args()

    install_layer()
    server = listen(args.port)
    if server is None:
        return 1
    host, port = server.get_host_and_port()
    seeded = None if args.no_seed else seed.seed(f"http://{host}:{port}", args.region)
    serve_until_stopped(server, announce(server, seeded))
    return 0


if __name__ == "__main__":
    sys.exit(main())
