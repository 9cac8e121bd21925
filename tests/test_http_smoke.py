"""scripts/http_smoke.py against real HTTP servers on loopback ports.

The healthy service is the project's own app (app/server.js under node); broken services are
small stand-ins started here, since the app has no switch to answer 500 (and should not grow
one for a test). The URL lookup reads a load-balancer stack's output from the emulator: the
emulator's load balancers answer no HTTP, so the stack's Url points at the local app.
"""

import json
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml

from emulator.process import free_port
from scripts import http_smoke
from tests.templates import ENVIRONMENTS, ROOT

# Loopback tries need no waiting: poll fast, give up fast.
FAST = ["--interval", "0.05", "--timeout", "0.5", "--request-timeout", "2"]
FAIL_FAST = ["--interval", "0.05", "--timeout", "0.1", "--request-timeout", "2"]  # a few tries

# Node prints the port the kernel chose: the app's own handler, bound to loopback only.
LISTEN = (
    "const s = require('./app/server.js').createServer();"
    "s.listen(0, '127.0.0.1', () => console.log(s.address().port));"
)


@pytest.fixture(scope="module")
def app_url() -> Iterator[str]:
    """Base URL of the project's app, running under node on a loopback port."""
    if shutil.which("node") is None:
        pytest.skip("Node.js is not installed")
    process = subprocess.Popen(["node", "-e", LISTEN], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        port = int(process.stdout.readline())
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


# status, body for the n-th request (0-based)
Behaviour = Callable[[int], tuple[int, str]]


@pytest.fixture
def stand_in() -> Iterator[Callable[[Behaviour], str]]:
    """Start a loopback server that answers as told; returns its base URL."""
    servers: list[ThreadingHTTPServer] = []

    def start(behaviour: Behaviour) -> str:
        count = iter(range(10**6))
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                with lock:
                    n = next(count)
                status, body = behaviour(n)
                data = body.encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (the request-timeout test)

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        servers.append(server)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_the_projects_app_passes_and_the_burst_timings_are_reported(app_url, capsys):
    assert http_smoke.main(["dev", "--url", app_url, *FAST]) == 0
    out = capsys.readouterr().out
    assert f"GET {app_url}/hello answered 200 'hello' to 20 of 20 requests" in out
    assert "p50 " in out and "p95 " in out


def test_an_app_answering_500_fails_naming_the_url_statuses_and_body(stand_in):
    url = stand_in(lambda n: (500, "Error: database unreachable"))
    # As the pipeline runs it: a process, whose exit code fails the CodeBuild phase.
    result = subprocess.run(
        [sys.executable, "-m", "scripts.http_smoke", "dev", "--url", url, *FAIL_FAST],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "http smoke test failed (dev)" in result.stderr
    assert f"url: {url}/hello" in result.stderr
    assert "seen: 500 x" in result.stderr
    assert "first unexpected answer: 500 'Error: database unreachable'" in result.stderr
    assert "passed" not in result.stdout


def test_a_wrong_body_fails_even_with_200(stand_in, capsys):
    url = stand_in(lambda n: (200, "<html>default nginx page</html>"))
    assert http_smoke.main(["dev", "--url", url, *FAIL_FAST]) == 1
    err = capsys.readouterr().err
    assert "seen: 200 x" in err
    assert "expected: 200 'hello'" in err


def test_a_path_the_app_does_not_serve_fails_with_its_404(app_url, capsys):
    assert http_smoke.main(["dev", "--url", app_url, "--path", "/missing", *FAIL_FAST]) == 1
    assert "first unexpected answer: 404 'not found\\n'" in capsys.readouterr().err


def test_it_waits_while_the_load_balancer_has_no_healthy_target_yet(stand_in, capsys):
    # An ALB answers 503 while its target group has no registered (healthy) target
    # (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-troubleshooting.html,
    # "HTTP 503: Service unavailable"); a new target serves after one passing health check
    # (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html).
    url = stand_in(lambda n: (503, "Service Temporarily Unavailable") if n < 3 else (200, "hello"))
    assert http_smoke.main(["dev", "--url", url, *FAST]) == 0
    captured = capsys.readouterr()
    assert captured.err.count("answered 503") == 3
    assert "20 of 20 requests" in captured.out


def test_a_burst_with_one_error_in_five_fails_with_its_error_rate(stand_in, capsys):
    # The first request (the readiness try) succeeds; then every fifth answers 502.
    url = stand_in(lambda n: (502, "Bad Gateway") if n % 5 == 4 else (200, "hello\n"))
    assert http_smoke.main(["dev", "--url", url, *FAST]) == 1
    err = capsys.readouterr().err
    assert "4 of 20 requests" in err and "error rate 20%, must be 0" in err
    assert "200 x16, 502 x4" in err


def test_nothing_listening_fails_with_the_connection_error(capsys):
    url = f"http://127.0.0.1:{free_port()}"
    assert http_smoke.main(["dev", "--url", url, *FAIL_FAST]) == 1
    err = capsys.readouterr().err
    assert f"url: {url}/hello" in err
    assert "first error: ConnectionRefusedError" in err


def test_an_answer_slower_than_the_request_timeout_fails(stand_in, capsys):
    release = threading.Event()

    def slow(n: int) -> tuple[int, str]:
        release.wait(5)
        return 200, "hello"

    url = stand_in(slow)
    try:
        code = http_smoke.main(["dev", "--url", url, "--timeout", "0", "--request-timeout", "0.2"])
    finally:
        release.set()
    assert code == 1
    assert "no answer within 0.2 s" in capsys.readouterr().err


def test_the_url_is_the_load_balancer_stacks_url_output(aws_env, aws, app_url, capsys):
    stack = "product-service-dev-load-balancer"  # config/dev: project name, env, stack path
    cloudformation = aws("cloudformation")
    assert http_smoke.main(["dev", *FAST]) == 1
    assert f"cannot read stack {stack}'s outputs" in capsys.readouterr().err
    # A stack whose only purpose is the output; DescribeStacks returns it under Outputs as
    # OutputKey/OutputValue (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_Output.html).
    template = {
        "Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
        "Outputs": {"Url": {"Value": app_url}},
    }
    cloudformation.create_stack(StackName=stack, TemplateBody=json.dumps(template))
    try:
        assert http_smoke.main(["dev", *FAST]) == 0
    finally:
        cloudformation.delete_stack(StackName=stack)
    assert f"GET {app_url}/hello answered 200" in capsys.readouterr().out


def test_on_the_emulator_a_load_balancers_own_address_is_refused_before_any_request(
    aws_env, aws, capsys
):
    # The emulator's load balancers have a DNS name but serve nothing (and the tests reach no
    # host but 127.0.0.1): the smoke test says to pass --url instead of waiting two minutes.
    stack = "product-service-prod-load-balancer"
    dns = "product-service-prod-1234567890.us-east-1.elb.amazonaws.com"
    template = {
        "Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
        "Outputs": {"Url": {"Value": f"http://{dns}"}},
    }
    cloudformation = aws("cloudformation")
    cloudformation.create_stack(StackName=stack, TemplateBody=json.dumps(template))
    try:
        assert http_smoke.main(["prod"]) == 1
    finally:
        cloudformation.delete_stack(StackName=stack)
    err = capsys.readouterr().err
    assert f"Url is http://{dns}, but AWS is a local emulator" in err
    assert "pass --url http://127.0.0.1:PORT" in err
    assert "waiting" not in err


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_default_path_is_the_load_balancers_health_check_path(env):
    config = yaml.safe_load((ROOT / "config" / env / "config.yaml").read_text())
    assert config["sceptre_user_data"]["health_check"]["path"] == http_smoke.DEFAULT_PATH


def test_percentiles_are_nearest_rank():
    values = [float(v) for v in range(1, 21)]
    assert http_smoke.percentile(values, 0.5) == 10
    assert http_smoke.percentile(values, 0.95) == 19
    assert http_smoke.percentile([7.0], 0.95) == 7


def test_the_smoke_test_stage_calls_the_service_after_it_is_steady():
    spec = yaml.safe_load((ROOT / "buildspecs/smoke-test.yml").read_text())
    assert spec["phases"]["build"]["commands"] == [
        "python3 -m scripts.smoke_test $ENVIRONMENT",
        "python3 -m scripts.http_smoke $ENVIRONMENT",
    ]
