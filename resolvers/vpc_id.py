"""``!vpc_id``: the id of the VPC an environment runs in.

VpcId: !vpc_id                      # the account's default VPC
VpcId: !vpc_id product-service-prod # the one VPC whose Name tag is this
"""

from sceptre.resolvers import Resolver

from resolvers import AwsCall, LookupFailedError, stack_call


def find_vpc_id(call: AwsCall, name: str | None = None) -> str:
    """Return the id of the VPC tagged ``Name=name``, or of the default VPC when name is empty.

    Raises LookupFailedError when no VPC, or more than one, matches.
    """
    if name:
        filters = [{"Name": "tag:Name", "Values": [name]}]
        wanted = f"tagged Name={name}"
        fix = "create it, or set network.vpc_name in config/<env>/config.yaml to an existing one"
    else:
        filters = [{"Name": "is-default", "Values": ["true"]}]
        wanted = "marked as the default VPC"
        fix = "create one with 'aws ec2 create-default-vpc', or set network.vpc_name"
    vpcs = call("ec2", "describe_vpcs", {"Filters": filters})["Vpcs"]
    if not vpcs:
        raise LookupFailedError(f"!vpc_id: no VPC {wanted} in this region; {fix}.")
    if len(vpcs) > 1:
        ids = ", ".join(sorted(v["VpcId"] for v in vpcs))
        raise LookupFailedError(
            f"!vpc_id: {len(vpcs)} VPCs {wanted} ({ids}); give the one to use a unique Name tag."
        )
    return vpcs[0]["VpcId"]


class VpcId(Resolver):
    """Resolves to a VPC id; the argument, if any, is the VPC's Name tag."""

    def resolve(self) -> str:
        return find_vpc_id(stack_call(self), self.argument or None)
