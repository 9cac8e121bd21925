"""Tests for the !subnet_ids resolver against the seeded emulator."""

import uuid
from types import SimpleNamespace

import pytest
from sceptre.connection_manager import ConnectionManager
from sceptre.exceptions import InvalidResolverArgumentError

from resolvers import LookupFailedError
from resolvers.subnet_ids import SubnetIds


@pytest.fixture
def stack(aws_env):
    cm = ConnectionManager(region="us-east-1")
    return SimpleNamespace(connection_manager=cm, name="dev/service", external_name="dev-service")


def test_default_vpc_gives_all_its_subnets_sorted(stack, aws):
    ec2 = aws("ec2")
    default_vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])
    vpc_filter = [{"Name": "vpc-id", "Values": [default_vpc["Vpcs"][0]["VpcId"]]}]
    subnets = ec2.describe_subnets(Filters=vpc_filter)["Subnets"]
    subnets.sort(key=lambda s: (s["AvailabilityZone"], s["SubnetId"]))

    result = SubnetIds(argument=None, stack=stack).resolve()

    assert len(subnets) > 1
    assert result == ",".join(s["SubnetId"] for s in subnets)


def test_tags_select_the_seeded_private_subnets(stack, aws):
    ec2 = aws("ec2")
    seeded = ec2.describe_subnets(
        Filters=[{"Name": "tag:Name", "Values": ["private-a", "private-b"]}]
    )["Subnets"]
    expected = [s["SubnetId"] for s in sorted(seeded, key=lambda s: s["AvailabilityZone"])]
    argument = {"vpc_name": "product-service-prod", "tags": {"Tier": "private"}, "min_azs": 2}

    assert len(expected) == 2
    assert SubnetIds(argument=argument, stack=stack).resolve() == ",".join(expected)


def test_no_subnet_with_the_tags_fails(stack):
    tier = f"missing-{uuid.uuid4().hex[:8]}"
    argument = {"vpc_name": "product-service-prod", "tags": {"Tier": tier}}

    with pytest.raises(LookupFailedError) as error:
        SubnetIds(argument=argument, stack=stack).resolve()

    assert "no subnets" in str(error.value)
    assert f"Tier={tier}" in str(error.value)


def test_too_few_zones_fails(stack, aws):
    ec2 = aws("ec2")
    name = f"one-az-{uuid.uuid4().hex[:8]}"
    vpc_id = ec2.create_vpc(CidrBlock="10.93.0.0/16")["Vpc"]["VpcId"]
    ec2.create_tags(Resources=[vpc_id], Tags=[{"Key": "Name", "Value": name}])
    for cidr in ("10.93.1.0/24", "10.93.2.0/24"):
        ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr, AvailabilityZone="us-east-1a")

    assert len(SubnetIds(argument={"vpc_name": name}, stack=stack).resolve().split(",")) == 2
    with pytest.raises(LookupFailedError) as error:
        SubnetIds(argument={"vpc_name": name, "min_azs": 2}, stack=stack).resolve()

    message = str(error.value)
    assert "span 1 availability zone(s) (us-east-1a)" in message
    assert "at least 2" in message
    assert "min_azs" in message


@pytest.mark.parametrize(
    "argument",
    [["product-service-prod"], "product-service-prod", {"vpc": "product-service-prod"}],
    ids=["list", "string", "unknown-key"],
)
def test_bad_argument_is_rejected(stack, argument):
    with pytest.raises(InvalidResolverArgumentError) as error:
        SubnetIds(argument=argument, stack=stack).resolve()

    assert "!subnet_ids" in str(error.value)


def test_max_azs_keeps_one_subnet_in_each_of_the_first_zones(stack, aws):
    ec2 = aws("ec2")
    default_vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])
    vpc_filter = [{"Name": "vpc-id", "Values": [default_vpc["Vpcs"][0]["VpcId"]]}]
    subnets = ec2.describe_subnets(Filters=vpc_filter)["Subnets"]
    zones = sorted({s["AvailabilityZone"] for s in subnets})

    result = SubnetIds(argument={"max_azs": 2}, stack=stack).resolve().split(",")

    assert len(zones) > 2  # otherwise the limit would not be tested
    by_id = {s["SubnetId"]: s["AvailabilityZone"] for s in subnets}
    assert [by_id[subnet_id] for subnet_id in result] == zones[:2]


def test_max_azs_never_gives_two_subnets_in_one_zone(stack, aws):
    ec2 = aws("ec2")
    name = f"two-in-a-{uuid.uuid4().hex[:8]}"
    vpc_id = ec2.create_vpc(CidrBlock="10.94.0.0/16")["Vpc"]["VpcId"]
    ec2.create_tags(Resources=[vpc_id], Tags=[{"Key": "Name", "Value": name}])
    created = [
        ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr, AvailabilityZone=zone)["Subnet"]
        for cidr, zone in (
            ("10.94.1.0/24", "us-east-1a"),
            ("10.94.2.0/24", "us-east-1a"),
            ("10.94.3.0/24", "us-east-1b"),
        )
    ]
    first_in_a = min(s["SubnetId"] for s in created[:2])

    result = SubnetIds(argument={"vpc_name": name, "max_azs": 3}, stack=stack).resolve()

    assert result.split(",") == [first_in_a, created[2]["SubnetId"]]


def test_max_azs_below_min_azs_is_rejected(stack):
    with pytest.raises(InvalidResolverArgumentError, match=r"max_azs \(1\) is below min_azs"):
        SubnetIds(argument={"min_azs": 2, "max_azs": 1}, stack=stack).resolve()
