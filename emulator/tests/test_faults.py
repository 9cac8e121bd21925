"""emulator/faults.py: requests signed with an EXPIRED key fail as AWS fails expired tokens."""

import boto3
import pytest
from botocore.exceptions import ClientError

from emulator.process import REGION


def client(emulator, service, key="EXPIREDKEY"):
    return boto3.client(
        service,
        region_name=REGION,
        endpoint_url=emulator.url,
        aws_access_key_id=key,
        aws_secret_access_key="x",
    )


@pytest.mark.parametrize(
    ("service", "call", "code"),
    [
        ("ec2", "describe_vpcs", "RequestExpired"),
        ("cloudformation", "list_stacks", "ExpiredToken"),
        ("ecs", "list_clusters", "ExpiredTokenException"),
    ],
)
def test_expired_keys_get_the_error_each_protocol_gives(emulator, service, call, code):
    with pytest.raises(ClientError) as raised:
        getattr(client(emulator, service), call)()
    assert raised.value.response["Error"]["Code"] == code


def test_other_keys_pass_through(emulator):
    assert "Vpcs" in client(emulator, "ec2", key="testing").describe_vpcs()
