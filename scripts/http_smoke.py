"""HTTP smoke test: the environment's URL answers, and keeps answering under a short burst.

    python -m scripts.http_smoke ENVIRONMENT [--url URL] [--path /hello] [--expect hello]
                                 [--timeout S] [--interval S] [--requests N] [--concurrency N]

Run after scripts.smoke_test has seen the service steady. The URL is the load-balancer
stack's ``Url`` output unless --url names one. First ``GET PATH`` is tried until it answers
200 with the expected body (new tasks may still be registering, a new DNS name propagating),
then a burst of requests must all succeed; their p50/p95 response times are printed.
Exit 0 on success; 1 with a report (URL, status codes seen, first unexpected body) otherwise.
Standard library only, besides boto3 for the stack output: the pipeline's smoke-test step
installs nothing more than Sceptre needs.
"""

import argparse
import http.client
import math
import os
import ssl
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError

from resolvers import AwsCall

# What app/server.js answers on the load balancer's health-check path
# (config/<env>/config.yaml health_check.path).
DEFAULT_PATH = "/hello"
DEFAULT_BODY = "hello"  # compared with the body stripped of surrounding whitespace
# Route 53 takes 60 s to propagate a record change (docs.aws.amazon.com/elasticloadbalancing/
# latest/application/load-balancer-delete.html), then a new target needs one passing check.
DEFAULT_TIMEOUT = 120  # seconds for the first good answer: 60 s of DNS plus margin
DEFAULT_INTERVAL = 5  # seconds between tries: dev's health-check interval, one check per try
DEFAULT_REQUEST_TIMEOUT = 5  # seconds per request; /hello does no work, slower is a fault
DEFAULT_REQUESTS = 20  # burst size: enough for a p95, cheap enough for every deploy
DEFAULT_CONCURRENCY = 4  # parallel connections, so the burst spreads over tasks and AZs
BODY_SHOWN = 300  # characters of an unexpected body quoted in the report
USER_AGENT = "product-service-smoke-test"  # tells the smoke test apart in access logs


class SmokeFailed(Exception):
    """The service did not answer as expected; the message is the report."""


@dataclass(frozen=True)
class Answer:
    """One request's outcome: status (0 when no HTTP answer came), body or error, seconds."""

    status: int
    body: str
    seconds: float
    error: str = ""

    def ok(self, expected_body: str) -> bool:
        """200 with the expected body."""
        return self.status == 200 and self.body.strip() == expected_body

    @property
    def label(self) -> str:
        """How the report counts it: the status code, or the kind of connection error."""
        return str(self.status) if self.status else self.error


def get(url: str, timeout: float) -> Answer:
    """GET url once; never raises for HTTP or network errors (they become the Answer)."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    start = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read(65536).decode("utf-8", "replace")
            return Answer(response.status, body, time.monotonic() - start)
    except urllib.error.HTTPError as error:  # a 4xx/5xx answer: keep its status and body
        body = error.read(65536).decode("utf-8", "replace")
        return Answer(error.code, body, time.monotonic() - start)
    except (OSError, http.client.HTTPException) as error:  # URLError, timeouts, resets...
        reason = getattr(error, "reason", error)
        if isinstance(reason, ssl.SSLCertVerificationError):
            text = (
                f"TLS certificate rejected ({reason.verify_message}): with an ACM certificate "
                "set load_balancer.domain_name to its domain, so the URL matches it"
            )
        elif isinstance(reason, TimeoutError):  # socket.timeout is TimeoutError since 3.10
            text = f"no answer within {timeout:g} s"
        else:
            text = f"{type(reason).__name__}: {reason}"
        return Answer(0, "", time.monotonic() - start, text)


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (share 0.95 -> p95) of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def report(url: str, answers: list[Answer], expected_body: str) -> str:
    """Which URL, how often each status or error was seen, and the first unexpected body."""
    seen = Counter(a.label for a in answers)
    counts = ", ".join(f"{label} x{n}" for label, n in seen.most_common())
    lines = [f"  url: {url}", f"  seen: {counts}"]
    bad = [a for a in answers if not a.ok(expected_body)]
    if bad:
        first = bad[0]
        if first.status:
            shown = first.body[:BODY_SHOWN] + ("..." if len(first.body) > BODY_SHOWN else "")
            lines.append(f"  first unexpected answer: {first.status} {shown!r}")
        else:
            lines.append(f"  first error: {first.error}")
        lines.append(f"  expected: 200 {expected_body!r}")
    return "\n".join(lines)


def wait_until_answering(
    url: str,
    expected_body: str,
    timeout: float,
    interval: float,
    request_timeout: float,
    log: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True),
) -> Answer:
    """GET url until it answers 200 with expected_body; SmokeFailed after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    answers: list[Answer] = []
    while True:
        answer = get(url, request_timeout)
        answers.append(answer)
        if answer.ok(expected_body):
            return answer
        left = deadline - time.monotonic()
        if left <= 0:
            raise SmokeFailed(
                f"GET {url} gave no good answer in {timeout:g} s ({len(answers)} tries):\n"
                + report(url, answers, expected_body)
            )
        log(f"waiting: GET {url} answered {answer.label}")
        time.sleep(min(interval, left))


def burst(
    url: str, expected_body: str, requests: int, concurrency: int, request_timeout: float
) -> list[Answer]:
    """Send ``requests`` GETs, ``concurrency`` at a time; SmokeFailed unless all succeed."""
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        answers = list(pool.map(lambda _: get(url, request_timeout), range(requests)))
    failed = sum(not a.ok(expected_body) for a in answers)
    if failed:
        raise SmokeFailed(
            f"{failed} of {requests} requests to {url} failed "
            f"(error rate {failed / requests:.0%}, must be 0):\n"
            + report(url, answers, expected_body)
        )
    return answers


def stack_url(environment: str, call: AwsCall | None = None) -> str:
    """The environment's load-balancer stack's ``Url`` output (its name from config)."""
    from scripts.environment import boto_call, stack_names  # Sceptre only when needed

    stack = stack_names(environment).get("load-balancer")
    if stack is None:
        raise SmokeFailed(f"{environment} has no load-balancer stack in config/{environment}/")
    call = call or boto_call()
    try:
        found = call("cloudformation", "describe_stacks", {"StackName": stack})["Stacks"][0]
    except (ClientError, BotoCoreError) as error:
        raise SmokeFailed(
            f"cannot read stack {stack}'s outputs ({error}): launch {environment} first, "
            "check the AWS credentials and region, or pass --url"
        ) from error
    outputs = {o["OutputKey"]: o["OutputValue"] for o in found.get("Outputs", [])}
    if "Url" not in outputs:
        raise SmokeFailed(
            f"stack {stack} ({found['StackStatus']}) has no Url output: "
            f"finish launching {environment}, or pass --url"
        )
    url = outputs["Url"]
    endpoint = os.environ.get("AWS_ENDPOINT_URL", "")
    if _is_loopback(endpoint) and not _is_loopback(url):
        raise SmokeFailed(
            f"stack {stack}'s Url is {url}, but AWS is a local emulator ({endpoint}), whose "
            "load balancers answer no HTTP: run the app locally and pass --url "
            "http://127.0.0.1:PORT"
        )
    return url


def _is_loopback(url: str) -> bool:
    host = urllib.parse.urlsplit(url).hostname or ""
    return host in ("127.0.0.1", "localhost", "::1")


def main(argv: list[str] | None = None) -> int:
    """Run the HTTP smoke test; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("environment")
    parser.add_argument("--url", help="base URL; default: the load-balancer stack's Url output")
    parser.add_argument("--path", default=DEFAULT_PATH, help="path to GET (default %(default)s)")
    parser.add_argument("--expect", default=DEFAULT_BODY, help="body, whitespace stripped")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT)
    parser.add_argument("--interval", type=float, default=DEFAULT_INTERVAL)
    parser.add_argument("--request-timeout", type=float, default=DEFAULT_REQUEST_TIMEOUT)
    parser.add_argument("--requests", type=int, default=DEFAULT_REQUESTS)
    parser.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY)
    args = parser.parse_args(argv)
    if args.requests < 1 or args.concurrency < 1:
        parser.error("--requests and --concurrency must be at least 1")
    try:
        base = args.url or stack_url(args.environment)
        url = base.rstrip("/") + "/" + args.path.lstrip("/")
        wait_until_answering(url, args.expect, args.timeout, args.interval, args.request_timeout)
        answers = burst(url, args.expect, args.requests, args.concurrency, args.request_timeout)
    except SmokeFailed as error:
        print(f"http smoke test failed ({args.environment}): {error}", file=sys.stderr)
        return 1
    times = [a.seconds * 1000 for a in answers]
    print(
        f"http smoke test passed ({args.environment}): GET {url} answered 200 "
        f"{args.expect!r} to {len(answers)} of {len(answers)} requests "
        f"({args.concurrency} at a time); "
        f"p50 {percentile(times, 0.5):.0f} ms, p95 {percentile(times, 0.95):.0f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
