"""``!subnet_ids``: the subnets of an environment's VPC, as a comma-separated list.

SubnetIds: !subnet_ids                       # every subnet of the default VPC
SubnetIds: !subnet_ids
  vpc_name: product-service-prod             # VPC by Name tag ("" = default VPC)
  tags: {Tier: private}                      # only subnets carrying all these tags
  min_azs: 2                                 # fail unless they span this many AZs
  max_azs: 2                                 # one subnet in each of the first 2 AZs
"""

from typing import Any

from sceptre.resolvers import Resolver

from resolvers import AwsCall, LookupFailedError, stack_call
from resolvers.vpc_id import find_vpc_id


def find_subnet_ids(
    call: AwsCall,
    vpc_name: str | None = None,
    tags: dict[str, str] | None = None,
    min_azs: int = 1,
    max_azs: int = 0,
) -> list[str]:
    """Return the ids of the VPC's subnets that carry every tag in ``tags``, sorted by AZ then id.

    The stable order keeps CloudFormation from seeing a change when AWS lists subnets
    differently. With ``max_azs``, only the first subnet of each of the first ``max_azs``
    zones: a load balancer takes one subnet per zone, and every zone costs it a public IP.
    Raises LookupFailedError when none match or they span fewer than min_azs AZs.
    """
    vpc_id = find_vpc_id(call, vpc_name)
    filters = [{"Name": "vpc-id", "Values": [vpc_id]}]
    filters += [{"Name": f"tag:{key}", "Values": [value]} for key, value in (tags or {}).items()]
    subnets = call("ec2", "describe_subnets", {"Filters": filters})["Subnets"]
    wanted = f"in {vpc_id}" + (f" tagged {_describe(tags)}" if tags else "")
    if not subnets:
        raise LookupFailedError(
            f"!subnet_ids: no subnets {wanted}; "
            "check network.subnet_tags in config/<env>/config.yaml."
        )
    zones = {s["AvailabilityZone"] for s in subnets}
    if len(zones) < min_azs:
        raise LookupFailedError(
            f"!subnet_ids: the subnets {wanted} span {len(zones)} availability zone(s) "
            f"({', '.join(sorted(zones))}) but this environment needs at least {min_azs}; "
            "add subnets in other zones or lower network.min_azs."
        )
    subnets.sort(key=lambda s: (s["AvailabilityZone"], s["SubnetId"]))
    if max_azs:
        first_per_zone = {s["AvailabilityZone"]: s for s in reversed(subnets)}
        subnets = sorted(first_per_zone.values(), key=lambda s: s["AvailabilityZone"])[:max_azs]
    return [s["SubnetId"] for s in subnets]


def _describe(tags: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(tags.items()))


class SubnetIds(Resolver):
    """Resolves to a comma-separated subnet list, the form a List<Subnet::Id> parameter takes."""

    def resolve(self) -> str:
        options: dict[str, Any] = self.argument or {}
        if not isinstance(options, dict):
            self.raise_invalid_argument_error(
                "!subnet_ids takes a mapping with vpc_name, tags, min_azs and max_azs "
                "(all optional)"
            )
        unknown = set(options) - {"vpc_name", "tags", "min_azs", "max_azs"}
        if unknown:
            self.raise_invalid_argument_error(
                f"!subnet_ids does not know {', '.join(sorted(unknown))}; "
                "use vpc_name, tags, min_azs or max_azs"
            )
        min_azs, max_azs = int(options.get("min_azs", 1)), int(options.get("max_azs") or 0)
        if max_azs and max_azs < min_azs:
            self.raise_invalid_argument_error(
                f"!subnet_ids: max_azs ({max_azs}) is below min_azs ({min_azs}); "
                "raise max_azs or lower min_azs"
            )
        subnet_ids = find_subnet_ids(
            stack_call(self),
            vpc_name=options.get("vpc_name") or None,
            tags=options.get("tags") or None,
            min_azs=min_azs,
            max_azs=max_azs,
        )
        return ",".join(subnet_ids)
