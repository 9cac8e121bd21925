"""emulator/forkserver.py through emulator/process.py: forked emulators are as good as whole ones.

A forked emulator must hold exactly what a whole start holds (the seeded account, or an
empty one), share nothing with its siblings, pick its own identifiers, honour settings
read at import time, and be gone once stopped.
"""

import os
import socket
import time
from pathlib import Path

import pytest

from emulator import process
from emulator.process import Emulator
from emulator.seed import IMAGE_TAGS, PROD_DOMAIN, PROD_VPC_NAME, REGISTRY_STACK, REPOSITORY


@pytest.fixture(autouse=True)
def shared() -> None:
    """These tests are about forked emulators, whatever the run's setting."""
    process.share_start_up(True)


def seeded_view(emulator: Emulator) -> dict:
    """What seeding leaves, in names and counts that do not vary from start to start."""
    ec2 = emulator.client("ec2")
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [PROD_VPC_NAME]}])["Vpcs"]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpcs[0]["VpcId"]]}])
    certificates = emulator.client("acm").list_certificates(
        Includes={"keyTypes": ["EC_prime256v1"]}
    )["CertificateSummaryList"]
    images = emulator.client("ecr").describe_images(repositoryName=REPOSITORY)["imageDetails"]
    stacks = emulator.client("cloudformation").describe_stacks(StackName=REGISTRY_STACK)
    return {
        "stack": stacks["Stacks"][0]["StackStatus"],
        "images": sorted(tag for image in images for tag in image["imageTags"]),
        "vpcs": len(vpcs),
        "subnets": sorted(s["CidrBlock"] for s in subnets["Subnets"]),
        "certificates": [c["DomainName"] for c in certificates],
        "ecs_role": emulator.client("iam").get_role(RoleName="AWSServiceRoleForECS")["Role"][
            "Path"
        ],
    }


def test_a_forked_emulator_holds_what_a_whole_start_seeds():
    process.share_start_up(False)
    with Emulator() as whole:
        expected = seeded_view(whole)
    process.share_start_up(True)
    with Emulator() as forked:
        assert seeded_view(forked) == expected
    assert expected["images"] == sorted(IMAGE_TAGS)
    assert expected["certificates"] == [PROD_DOMAIN]


def test_seeded_and_empty_emulators_fork_side_by_side():
    # One fork server forks both (a seeded fork server of its own seeds once).
    with Emulator(seed=False) as empty, Emulator() as seeded, Emulator(seed=False) as again:
        assert seeded_view(seeded)["images"] == sorted(IMAGE_TAGS)
        for running in (empty, again):
            assert running.client("ecr").describe_repositories()["repositories"] == []


def test_forked_emulators_share_no_state_and_draw_their_own_identifiers():
    with Emulator(seed=False) as first, Emulator(seed=False) as second:
        assert first.port != second.port
        first.client("s3").create_bucket(Bucket="only-in-the-first")
        assert [b["Name"] for b in first.client("s3").list_buckets()["Buckets"]] == [
            "only-in-the-first"
        ]
        assert second.client("s3").list_buckets()["Buckets"] == []
        # An empty account has no stacks, though the fork server built CloudFormation's backend.
        assert second.client("cloudformation").list_stacks()["StackSummaries"] == []
        vpc_ids = [
            running.client("ec2").create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
            for running in (first, second)
        ]
        assert vpc_ids[0] != vpc_ids[1]


def test_settings_read_at_import_tell_fork_servers_apart_and_others_do_not():
    base = {**os.environ, "EMULATOR_TASK_START_SECONDS": "0.3"}
    key = process.fork_server_key(base)
    assert process.fork_server_key({**base, "AWS_ENDPOINT_URL": "http://x"}) == key
    assert process.fork_server_key({**base, "MOTO_ECS_NEW_ARN": "false"}) != key
    # task_lifecycle's timings are read again in each fork (task_lifecycle.read_timings).
    assert process.fork_server_key({**base, "EMULATOR_TASK_START_SECONDS": "7"}) == key


def running_count_once_fast_is_running(fast: Emulator, slow: Emulator) -> int:
    """Create the same one-task service in both; once the fast one's task runs, how many of
    the slow one's do."""
    clients = [running.client("ecs") for running in (fast, slow)]
    for ecs in clients:
        ecs.create_cluster(clusterName="c")
        ecs.register_task_definition(
            family="f", containerDefinitions=[{"name": "app", "image": "repo:1", "memory": 128}]
        )
        ecs.create_service(cluster="c", serviceName="s", taskDefinition="f:1", desiredCount=1)
    deadline = time.monotonic() + 15
    while (
        clients[0].describe_services(cluster="c", services=["s"])["services"][0]["runningCount"]
        != 1
    ):
        assert time.monotonic() < deadline, "the fast emulator's task never ran"
        time.sleep(0.05)
    return clients[1].describe_services(cluster="c", services=["s"])["services"][0]["runningCount"]


def test_a_setting_read_at_import_reaches_the_forked_emulator():
    """task_lifecycle reads EMULATOR_TASK_START_SECONDS when imported: an emulator started with
    30 s still has its task pending when one started with the run's setting (conftest.py:
    0.3 s) has its task running."""
    slow_settings = {"EMULATOR_TASK_START_SECONDS": "30"}
    with Emulator(seed=False) as fast, Emulator(seed=False, settings=slow_settings) as slow:
        assert running_count_once_fast_is_running(fast, slow) == 0


def test_a_stopped_emulator_no_longer_listens_and_its_log_stays():
    emulator = Emulator(seed=False).start()
    port = emulator.port
    assert port is not None
    log = emulator.log_path
    emulator.stop()
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0
    assert isinstance(log, Path)
    assert f"emulator ready on http://127.0.0.1:{port}" in log.read_text()
    # It can listen there again at once (what a restart on the same port needs).
    with Emulator(port=port, seed=False) as again:
        assert again.client("s3").list_buckets()["Buckets"] == []


def test_a_port_in_use_fails_the_start_with_the_reason():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(RuntimeError, match=f"cannot listen on 127.0.0.1:{port}: .*in use"):
            Emulator(port=port, seed=False).start()
