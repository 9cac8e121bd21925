"""Tests for the !vpc_id resolver against the seeded emulator."""

import uuid
from types import SimpleNamespace

import pytest
from sceptre.connection_manager import ConnectionManager

from resolvers import LookupFailedError
from resolvers.vpc_id import VpcId


def make_stack(region="us-east-1"):
    cm = ConnectionManager(region=region)
    return SimpleNamespace(connection_manager=cm, name="dev/service", external_name="dev-service")


@pytest.fixture
def stack(aws_env):
    return make_stack()


def create_named_vpc(ec2, name, cidr="10.90.0.0/16"):
    vpc_id = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    ec2.create_tags(Resources=[vpc_id], Tags=[{"Key": "Name", "Value": name}])
    return vpc_id


def test_empty_argument_resolves_to_default_vpc(stack, aws):
    vpcs = aws("ec2").describe_vpcs()["Vpcs"]
    (default,) = [v["VpcId"] for v in vpcs if v["IsDefault"]]

    assert VpcId(argument="", stack=stack).resolve() == default
    assert VpcId(argument=None, stack=stack).resolve() == default


def test_name_tag_resolves_to_that_vpc(stack, aws):
    ec2 = aws("ec2")
    name = f"vpc-id-test-{uuid.uuid4().hex[:8]}"
    vpc_id = create_named_vpc(ec2, name)
    seeded = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["product-service-prod"]}])

    assert VpcId(argument=name, stack=stack).resolve() == vpc_id
    assert (
        VpcId(argument="product-service-prod", stack=stack).resolve() == seeded["Vpcs"][0]["VpcId"]
    )


def test_unknown_name_says_what_to_set(stack):
    name = f"no-such-vpc-{uuid.uuid4().hex[:8]}"
    with pytest.raises(LookupFailedError) as error:
        VpcId(argument=name, stack=stack).resolve()

    assert f"Name={name}" in str(error.value)
    assert "network.vpc_name" in str(error.value)


def test_duplicate_name_lists_both_ids(stack, aws):
    ec2 = aws("ec2")
    name = f"dup-vpc-{uuid.uuid4().hex[:8]}"
    first = create_named_vpc(ec2, name, "10.91.0.0/16")
    second = create_named_vpc(ec2, name, "10.92.0.0/16")

    with pytest.raises(LookupFailedError) as error:
        VpcId(argument=name, stack=stack).resolve()

    message = str(error.value)
    assert "2 VPCs" in message
    assert first in message and second in message


def test_no_default_vpc_suggests_creating_one(aws_env, aws):
    region = "ap-southeast-2"  # only this test uses it: it deletes the region's default VPC
    ec2 = aws("ec2", region=region)
    default = [{"Name": "is-default", "Values": ["true"]}]
    for vpc in ec2.describe_vpcs(Filters=default)["Vpcs"]:
        vpc_filter = [{"Name": "vpc-id", "Values": [vpc["VpcId"]]}]
        for subnet in ec2.describe_subnets(Filters=vpc_filter)["Subnets"]:
            ec2.delete_subnet(SubnetId=subnet["SubnetId"])
        igw_filter = [{"Name": "attachment.vpc-id", "Values": [vpc["VpcId"]]}]
        for igw in ec2.describe_internet_gateways(Filters=igw_filter)["InternetGateways"]:
            ec2.detach_internet_gateway(
                InternetGatewayId=igw["InternetGatewayId"], VpcId=vpc["VpcId"]
            )
            ec2.delete_internet_gateway(InternetGatewayId=igw["InternetGatewayId"])
        ec2.delete_vpc(VpcId=vpc["VpcId"])
    assert not ec2.describe_vpcs(Filters=default)["Vpcs"]

    with pytest.raises(LookupFailedError) as error:
        VpcId(argument="", stack=make_stack(region)).resolve()

    assert "default VPC" in str(error.value)
    assert "create-default-vpc" in str(error.value)
