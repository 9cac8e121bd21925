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
import sys
import threading
from pathlib import Path

from moto.server import ThreadedMotoServer

# Imported as the emulator package: moto names a model's service after its module path.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from emulator import (  # noqa: E402
    acm_listing,
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
    stack_answers,
    task_lifecycle,
)


def main() -> int:
    """Start, seed and serve until told to stop."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("EMULATOR_PORT", "5055")))
    parser.add_argument("--region", default=os.environ.get("EMULATOR_REGION", "us-east-1"))
    parser.add_argument("--no-seed", action="store_true", help="start with an empty account")
    args = parser.parse_args()

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not a line per request
    fidelity.install()
    delivery.install()
    faults.install()
    protection.install()
    drift.install()
    handler_model.install()
    iam.install()
    service_linked_roles.install()
    # What AWS refuses, how it answers, and how tasks and certificates behave.
    for module in (refuse_ecs, refuse_elb, refuse_iam, refuse_logs, stack_answers):
        module.install()
    task_lifecycle.install()
    acm_listing.install()
    revert_drift.install()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=args.port, verbose=False)
    try:
        server.start()
    except OSError as error:
        print(f"emulator: cannot listen on 127.0.0.1:{args.port}: {error}", file=sys.stderr)
        return 1
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    if not args.no_seed:
        seeded = seed.seed(url, args.region)
        print(f"emulator: seeded {seeded}", flush=True)
    print(f"emulator ready on {url}", flush=True)

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
