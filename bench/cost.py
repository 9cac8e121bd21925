"""Monthly cost estimate per environment, from the rendered templates and bench/prices.yaml.

What the templates decide, read from them: task size (Cpu, Memory), task count (the
autoscaling minimum, and the maximum as a ceiling), Fargate Spot's share of the capacity
provider strategy, whether tasks get a public IPv4 address, and the load balancer.

Assumptions (what the templates cannot know):
- region us-east-1 (config/config.yaml), Linux/x86, 730 hours a month, list prices;
- tasks run at the autoscaling minimum all month; the ceiling runs the maximum;
- Fargate Spot at the discount in prices.yaml (Spot prices move);
- the load balancer in 2 availability zones (an ALB's minimum, what both environments
  resolve to), so 2 public IPv4 addresses, plus one per task where tasks have one;
- traffic: dev averages 0.1 LCU (a few requests a minute), prod 1 LCU (about 25 new
  connections a second or 1 GB an hour, whichever dimension is highest);
- logs: dev ingests 1 GB a month, prod 10 GB (CloudWatch Logs standard ingestion).
Not included in the totals: data transfer out, S3 storage of access logs, log storage,
Container Insights metrics, ECR storage, Route 53. ACM certificates for a load balancer are
free.

The network rows price what the network stack (templates/network.yaml.j2) would create for
each environment, in its network.max_azs zones, with either egress: three interface
endpoints (ECR API, ECR registry, CloudWatch Logs) in every zone plus the free S3 gateway
endpoint, or one NAT gateway per zone with its public IPv4 address. Traffic through them:
the image pulls and logs of NETWORK_GB. They are not in the totals: with network.create
false (both environments as shipped) the VPC is the user's, and so is its bill.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bench.report import Row, format_table, only_resource, rendered_templates
from tests.templates import stack_config

PRICES = Path(__file__).with_name("prices.yaml")
HOURS_PER_MONTH = 730
LOAD_BALANCER_ZONES = 2


@dataclass(frozen=True)
class Traffic:
    """What an environment's users do, as the bill sees it."""

    lcu: float  # average Load Balancer Capacity Units
    log_gb: float  # CloudWatch Logs ingested per month


TRAFFIC = {"dev": Traffic(lcu=0.1, log_gb=1), "prod": Traffic(lcu=1.0, log_gb=10)}
# GB a month through the private subnets' egress: image pulls (a ~100 MB image, a few deploys
# and task replacements a week) plus the logs above.
NETWORK_GB = {"dev": 5.0, "prod": 20.0}
INTERFACE_ENDPOINTS = 3  # ecr.api, ecr.dkr, logs (S3 is a gateway endpoint: free)


@dataclass(frozen=True)
class Shape:
    """What an environment runs, read from its rendered templates."""

    vcpu: float
    memory_gb: float
    min_tasks: int
    max_tasks: int
    spot_share: float  # of task capacity, by capacity provider weight
    public_ip_per_task: bool
    load_balancer: bool


def load_prices(path: Path = PRICES) -> dict[str, Any]:
    """The dated price table."""
    return yaml.safe_load(path.read_text())


def environment_shape(env: str) -> Shape:
    """Read task size, count, Spot share, public IPs and load balancer from the templates."""
    templates = rendered_templates(env)
    service = templates["service"]
    task = only_resource(service, "AWS::ECS::TaskDefinition")["Properties"]
    scaling = only_resource(service, "AWS::ApplicationAutoScaling::ScalableTarget")["Properties"]
    ecs_service = only_resource(service, "AWS::ECS::Service")["Properties"]
    strategy = ecs_service.get("CapacityProviderStrategy", [])
    total_weight = sum(p["Weight"] for p in strategy)
    spot_weight = sum(p["Weight"] for p in strategy if p["CapacityProvider"] == "FARGATE_SPOT")
    network = ecs_service["NetworkConfiguration"]["AwsvpcConfiguration"]
    balancers = [
        r
        for r in templates.get("load-balancer", {"Resources": {}})["Resources"].values()
        if r["Type"] == "AWS::ElasticLoadBalancingV2::LoadBalancer"
    ]
    return Shape(
        vcpu=int(task["Cpu"]) / 1024,
        memory_gb=int(task["Memory"]) / 1024,
        min_tasks=int(scaling["MinCapacity"]),
        max_tasks=int(scaling["MaxCapacity"]),
        spot_share=spot_weight / total_weight if total_weight else 0.0,
        public_ip_per_task=network.get("AssignPublicIp") == "ENABLED",
        load_balancer=bool(balancers),
    )


@dataclass(frozen=True)
class Estimate:
    """One environment's monthly cost, by line."""

    lines: list[tuple[str, float]]
    max_tasks: int
    ceiling: float  # the total with the maximum number of tasks, at the same traffic

    @property
    def total(self) -> float:
        """The month at the minimum number of tasks."""
        return sum(amount for _, amount in self.lines)


def estimate(shape: Shape, traffic: Traffic, prices: dict[str, Any]) -> Estimate:
    """Price one environment's month."""
    fargate, alb = prices["fargate"], prices["application_load_balancer"]
    ip_month = prices["public_ipv4"]["hour"] * HOURS_PER_MONTH
    task_month = (
        (shape.vcpu * fargate["vcpu_hour"] + shape.memory_gb * fargate["gb_hour"])
        * (1 - shape.spot_share * fargate["spot_discount"])
        * HOURS_PER_MONTH
    )
    size = f"{shape.vcpu:g} vCPU / {shape.memory_gb:g} GB"
    spot = f", {shape.spot_share:.0%} Spot" if shape.spot_share else ""
    tasks = f"{shape.min_tasks}-{shape.max_tasks}"
    lines = [
        (
            f"Fargate: {shape.min_tasks} x {size}{spot} (scales {tasks})",
            shape.min_tasks * task_month,
        )
    ]
    zones = LOAD_BALANCER_ZONES if shape.load_balancer else 0
    if shape.load_balancer:
        lines.append(
            (
                f"load balancer: hours + {traffic.lcu:g} LCU",
                (alb["hour"] + traffic.lcu * alb["lcu_hour"]) * HOURS_PER_MONTH,
            )
        )
    task_ips = shape.min_tasks if shape.public_ip_per_task else 0
    if zones + task_ips:
        lines.append(
            (
                f"public IPv4: {zones} load balancer" + (f" + {task_ips} task" if task_ips else ""),
                (zones + task_ips) * ip_month,
            )
        )
    lines.append(
        (
            f"log ingestion: {traffic.log_gb:g} GB",
            traffic.log_gb * prices["cloudwatch_logs"]["ingestion_gb"],
        )
    )
    extra_tasks = shape.max_tasks - shape.min_tasks
    ceiling = sum(a for _, a in lines) + extra_tasks * (
        task_month + (ip_month if shape.public_ip_per_task else 0)
    )
    return Estimate(lines, shape.max_tasks, ceiling)


def rows(environments: tuple[str, ...] = ("dev", "prod")) -> list[Row]:
    """Each environment's cost lines and total."""
    prices = load_prices()
    result = []
    for env in environments:
        found = estimate(environment_shape(env), TRAFFIC[env], prices)
        for label, amount in found.lines:
            result.append(Row("cost", f"{env}: {label}", f"${amount:.2f}"))
        result.append(
            Row(
                "cost",
                f"{env}: total a month",
                f"${found.total:.2f}",
                f"${found.ceiling:.2f} at the maximum of {found.max_tasks} tasks",
            )
        )
    return result + network_rows(environments)


def network_month(egress: str, zones: int, prices: dict[str, Any], traffic_gb: float) -> float:
    """The network stack's month with one egress choice ("endpoints" or "nat") in zones."""
    if egress == "nat":
        nat = prices["nat_gateway"]
        hourly = zones * (nat["hour"] + prices["public_ipv4"]["hour"])
        return hourly * HOURS_PER_MONTH + traffic_gb * nat["gb"]
    endpoints = prices["vpc_endpoints"]
    hourly = INTERFACE_ENDPOINTS * zones * endpoints["interface_hour"]
    return hourly * HOURS_PER_MONTH + traffic_gb * endpoints["interface_gb"]


def network_zones(env: str) -> tuple[int, str, bool]:
    """Zones, egress choice and create flag of the env's network, from its rendered stack."""
    templates = rendered_templates(env)
    subnets = templates["network"]["Resources"].values()
    zones = sum(1 for r in subnets if r["Type"] == "AWS::EC2::Subnet") // 2
    network = _network_config(env)
    return zones, network.get("egress", "endpoints"), bool(network.get("create", False))


def _network_config(env: str) -> dict[str, Any]:
    return stack_config(env)[f"{env}/network"].config["network"]


def network_rows(environments: tuple[str, ...] = ("dev", "prod")) -> list[Row]:
    """For each environment, the network stack's month with endpoints and with NAT."""
    prices = load_prices()
    result = []
    for env in environments:
        zones, chosen, create = network_zones(env)
        for egress, label in (
            ("endpoints", f"{INTERFACE_ENDPOINTS} interface endpoints x {zones} zones + S3"),
            ("nat", f"{zones} NAT gateways + {zones} public IPv4"),
        ):
            amount = network_month(egress, zones, prices, NETWORK_GB[env])
            state = "network.create false: not created" if not create else "created"
            against = f"{state}; egress: {chosen}" if egress == chosen else ""
            result.append(
                Row("cost", f"{env} network: {label}, {NETWORK_GB[env]:g} GB", f"${amount:.2f}",
                    against)
            )  # fmt: skip
    return result


def notes() -> tuple[str, ...]:
    """What the cost rows assume."""
    prices = load_prices()
    return (
        f"cost: {prices['region']} list prices checked {prices['checked']} (bench/prices.yaml), "
        f"{HOURS_PER_MONTH} h/month, Spot {prices['fargate']['spot_discount']:.0%} off; "
        "traffic and log volumes assumed (bench/cost.py); no data transfer or storage; the "
        "network rows are what network.create: true would add.",
    )


def main() -> int:
    """Print the cost rows as a table."""
    print(format_table(rows(), notes()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
