"""The optional network stack (templates/network.yaml.j2, config/<env>/network.yaml).

Rendered: a VPC with a public and a private subnet per zone, tagged as config says, and
either VPC endpoints or NAT gateways; skipped unless network.create is true. Launched on an
empty emulator: the VPC and subnets it creates are what !vpc_id and !subnet_ids find.
"""

import copy
import ipaddress
from pathlib import Path
from typing import Any

import pytest
import yaml
from sceptre.context import SceptreContext
from sceptre.plan.plan import SceptrePlan

from bench import cost
from emulator.process import Emulator
from hooks.validate_config import find_problems
from tests.roles import quick, sceptre_in_process, stack_outputs
from tests.templates import ENVIRONMENTS, cfn_lint, copy_project, render, resources, stack_config
from tests.templates import ROOT as ROOT_PROJECT

PREFIX = "product-service"


def network_project(tmp_path: Path, env: str, **network: Any) -> Path:
    """A copy of the project whose env has some network keys changed."""
    project = copy_project(tmp_path)
    config_file = project / "config" / env / "config.yaml"
    config = yaml.safe_load(config_file.read_text())
    config["network"].update(network)
    config_file.write_text(yaml.safe_dump(config))
    return project


def network_template(tmp_path: Path, env: str, **network: Any) -> dict[str, Any]:
    """The env's network stack rendered with some network keys changed."""
    project = network_project(tmp_path, env, **network)
    return render(f"{env}/network.yaml", project)[f"{env}/network"]["template"]


def stacks(project: Path, env: str) -> dict[str, Any]:
    """Sceptre's unresolved Stack objects of a project's environment, by name."""
    plan = SceptrePlan(SceptreContext(project_path=str(project), command_path=env))
    return {stack.name: stack for stack in plan.graph}


def tag_map(resource: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in resource["Properties"].get("Tags", [])}


def zone_index(subnet: dict[str, Any]) -> int:
    """The i of AvailabilityZone: !Select [i, !GetAZs ""]."""
    return int(subnet["Properties"]["AvailabilityZone"]["Fn::Select"][0])


def tier(template: dict[str, Any], tags: dict[str, str]) -> list[dict[str, Any]]:
    """The template's subnets carrying every tag in tags, in zone order."""
    subnets = resources(template, "AWS::EC2::Subnet").values()
    chosen = [s for s in subnets if tags.items() <= tag_map(s).items()]
    return sorted(chosen, key=zone_index)


def ref(value: Any) -> str:
    return value["Ref"]


# --- whether the stack launches ---


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_shipped_environments_bring_their_network_so_the_stack_is_skipped(env):
    # Sceptre's `ignore: true` keeps a stack out of launch: docs.sceptre-project.org,
    # "Stack Config" > ignore.
    stack = stack_config(env)[f"{env}/network"]
    assert stack.ignore is True


def test_with_create_the_stack_launches_and_the_pipeline_still_skips_it(tmp_path, monkeypatch):
    project = network_project(tmp_path, "prod", create=True)
    monkeypatch.delenv("IN_PIPELINE", raising=False)
    assert stacks(project, "prod")["prod/network"].ignore is False
    # The deploy step's role may change workload stacks only (config/config.yaml).
    monkeypatch.setenv("IN_PIPELINE", "true")
    assert stacks(project, "prod")["prod/network"].ignore is True


def test_with_create_the_cluster_launches_after_the_network(tmp_path, monkeypatch):
    # Sceptre launches a stack after its dependencies and deletes it before them, so the VPC
    # exists before the cluster's preflight looks it up and outlives what runs in it.
    monkeypatch.delenv("IN_PIPELINE", raising=False)
    shipped = stacks(ROOT_PROJECT, "prod")["prod/cluster"]
    assert "prod/network" not in [d.name for d in shipped.dependencies]
    project = network_project(tmp_path, "prod", create=True)
    cluster = stacks(project, "prod")["prod/cluster"]
    assert [d.name for d in cluster.dependencies] == ["prod/network"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_stack_checks_the_configuration_first_and_is_protected_like_its_environment(env):
    stack = stack_config(env)[f"{env}/network"]
    # Checks first, then the warning about hand changes the launch overwrites (issue 12).
    assert [type(h).__name__ for h in stack.hooks["before_launch"]] == [
        "ValidateConfig",
        "DriftPreview",
    ]
    (protect,) = stack.hooks["after_launch"]
    assert protect.argument["termination_protection"] is (env == "prod")


# --- what it creates ---


@pytest.mark.parametrize("zones", [2, 3])
def test_each_zone_gets_a_public_and_a_private_subnet_tagged_as_config_says(tmp_path, zones):
    template = network_template(tmp_path, "prod", create=True, max_azs=zones)
    public, private = tier(template, {"Tier": "public"}), tier(template, {"Tier": "private"})
    assert [zone_index(s) for s in public] == list(range(zones))
    assert [zone_index(s) for s in private] == list(range(zones))
    assert len(resources(template, "AWS::EC2::Subnet")) == 2 * zones
    (vpc,) = resources(template, "AWS::EC2::VPC").values()
    assert tag_map(vpc)["Name"] == f"{PREFIX}-prod"  # what !vpc_id looks up
    # Every subnet's range lies inside the VPC's and no two overlap (a subnet's CIDR must be
    # a subset of its VPC's: Amazon VPC User Guide, "Subnet CIDR blocks").
    network = ipaddress.ip_network(vpc["Properties"]["CidrBlock"])
    ranges = [ipaddress.ip_network(s["Properties"]["CidrBlock"]) for s in public + private]
    assert all(r.subnet_of(network) for r in ranges)
    assert not any(a.overlaps(b) for i, a in enumerate(ranges) for b in ranges[i + 1 :])


def test_public_subnets_route_to_an_internet_gateway_attached_to_the_vpc(tmp_path):
    template = network_template(tmp_path, "prod", create=True)
    (attachment,) = resources(template, "AWS::EC2::VPCGatewayAttachment").values()
    gateway = ref(attachment["Properties"]["InternetGatewayId"])
    routes = resources(template, "AWS::EC2::Route").values()
    public_routes = [r for r in routes if "GatewayId" in r["Properties"]]
    assert [ref(r["Properties"]["GatewayId"]) for r in public_routes] == [gateway]
    table = ref(public_routes[0]["Properties"]["RouteTableId"])
    associations = resources(template, "AWS::EC2::SubnetRouteTableAssociation").values()
    routed = {ref(a["Properties"]["SubnetId"]) for a in associations
              if ref(a["Properties"]["RouteTableId"]) == table}  # fmt: skip
    names = {n for n, s in resources(template, "AWS::EC2::Subnet").items()}
    public = {n for n in names if tag_map(template["Resources"][n]).get("Tier") == "public"}
    assert routed == public


def test_endpoints_give_private_subnets_what_a_fargate_task_needs_and_no_internet(tmp_path):
    template = network_template(tmp_path, "prod", create=True, egress="endpoints", max_azs=3)
    endpoints = resources(template, "AWS::EC2::VPCEndpoint").values()
    services = {e["Properties"]["ServiceName"]["Fn::Sub"].split("${AWS::Region}.")[1]: e
                for e in endpoints}  # fmt: skip
    # A Fargate task in a subnet without internet access pulls from ECR and logs with awslogs
    # through ecr.api, ecr.dkr, the S3 gateway endpoint (image layers) and logs:
    # docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html
    assert set(services) == {"ecr.api", "ecr.dkr", "s3", "logs"}
    private = {n for n, s in resources(template, "AWS::EC2::Subnet").items()
               if tag_map(s).get("Tier") == "private"}  # fmt: skip
    for name in ("ecr.api", "ecr.dkr", "logs"):
        props = services[name]["Properties"]
        assert props["VpcEndpointType"] == "Interface"
        assert props["PrivateDnsEnabled"] is True  # tasks use the services' usual names
        assert {ref(s) for s in props["SubnetIds"]} == private  # billed per zone
    gateway = services["s3"]["Properties"]
    assert gateway["VpcEndpointType"] == "Gateway"
    tables = {n for n in resources(template, "AWS::EC2::RouteTable") if "Private" in n}
    assert {ref(t) for t in gateway["RouteTableIds"]} == tables and len(tables) == 3
    assert resources(template, "AWS::EC2::NatGateway") == {}
    routes = resources(template, "AWS::EC2::Route").values()
    assert all(ref(r["Properties"]["RouteTableId"]) not in tables for r in routes)
    # Private DNS names of interface endpoints need both VPC DNS attributes:
    # docs.aws.amazon.com/vpc/latest/privatelink/create-interface-endpoint.html
    (vpc,) = resources(template, "AWS::EC2::VPC").values()
    assert vpc["Properties"]["EnableDnsSupport"] is True
    assert vpc["Properties"]["EnableDnsHostnames"] is True


def test_nat_gives_each_zone_its_own_gateway_in_its_public_subnet(tmp_path):
    template = network_template(tmp_path, "prod", create=True, egress="nat", max_azs=3)
    subnets = resources(template, "AWS::EC2::Subnet")
    gateways = resources(template, "AWS::EC2::NatGateway")
    assert len(gateways) == 3
    # A NAT gateway for private subnets sits in a public subnet, with an Elastic IP:
    # docs.aws.amazon.com/vpc/latest/userguide/vpc-nat-gateway.html
    zone_of_gateway = {}
    for name, gateway in gateways.items():
        subnet = subnets[ref(gateway["Properties"]["SubnetId"])]
        assert tag_map(subnet)["Tier"] == "public"
        assert "Fn::GetAtt" in gateway["Properties"]["AllocationId"]
        zone_of_gateway[name] = zone_index(subnet)
    associations = resources(template, "AWS::EC2::SubnetRouteTableAssociation").values()
    zone_of_table = {
        ref(a["Properties"]["RouteTableId"]): zone_index(subnets[ref(a["Properties"]["SubnetId"])])
        for a in associations
        if tag_map(subnets[ref(a["Properties"]["SubnetId"])])["Tier"] == "private"
    }
    nat_routes = [
        r["Properties"]
        for r in resources(template, "AWS::EC2::Route").values()
        if "NatGatewayId" in r["Properties"]
    ]
    assert len(nat_routes) == 3
    for route in nat_routes:
        assert route["DestinationCidrBlock"] == "0.0.0.0/0"
        table, gateway = ref(route["RouteTableId"]), ref(route["NatGatewayId"])
        assert zone_of_table[table] == zone_of_gateway[gateway]  # a zone never needs another
    assert resources(template, "AWS::EC2::VPCEndpoint") == {}


@pytest.mark.parametrize(("egress", "zones"), [("endpoints", 2), ("nat", 2), ("nat", 3)])
def test_every_variant_passes_cfn_lint(tmp_path, egress, zones):
    # The shipped renders (endpoints) are linted by tests/test_templates.py.
    project = network_project(tmp_path, "prod", create=True, egress=egress, max_azs=zones)
    text = render("prod/network.yaml", project)["prod/network"]["text"]
    assert cfn_lint(text) == []


# --- configuration rules ---


def created(env: str = "prod", **network: Any) -> dict[str, Any]:
    config = copy.deepcopy(
        {k: v for k, v in stack_config(env)[f"{env}/cluster"].config.items() if k != "hooks"}
    )
    config["network"].update(create=True, **network)
    return config


def test_prod_as_shipped_can_create_its_network():
    assert find_problems(created("prod"), "prod") == []


@pytest.mark.parametrize(
    ("network", "key", "allowed"),
    [
        ({"vpc_name": ""}, "network.vpc_name", "a name for the VPC to create"),
        ({"max_azs": 4}, "network.max_azs", "2 or 3 with network.create"),
        ({"min_azs": 3, "max_azs": 2}, "network.min_azs", "at most network.max_azs (2)"),
        ({"subnet_tags": {}}, "network.subnet_tags", "the tags of the private subnets"),
        ({"public_subnet_tags": {}}, "network.public_subnet_tags", "the tags of the public"),
        ({"public_subnet_tags": {"Tier": "private"}}, "network.subnet_tags", "a tag the public"),
        ({"egress": "internet"}, "network.egress", "one of 'endpoints', 'nat'"),
        ({"cidr": "10.0.0.0/8"}, "network.cidr", "a string matching"),
    ],
    ids=["no-name", "four-zones", "min-above-max", "no-private-tags", "no-public-tags",
         "same-tags", "egress", "cidr"],
)  # fmt: skip
def test_what_creating_a_network_needs_is_checked_before_launch(network, key, allowed):
    problems = find_problems(created(**network), "prod")
    assert any(k == key and allowed in text for k, _, text in problems), problems


def test_dev_as_shipped_cannot_create_the_default_vpc():
    problems = find_problems(created("dev"), "dev")
    assert {k for k, _, _ in problems} == {
        "network.vpc_name",
        "network.subnet_tags",
        "network.public_subnet_tags",
    }


# --- cost ---


def test_cost_rows_price_both_egress_choices_per_zone():
    prices = cost.load_prices()
    endpoints = cost.network_month("endpoints", 3, prices, traffic_gb=0)
    nat = cost.network_month("nat", 3, prices, traffic_gb=0)
    # PrivateLink bills each interface endpoint per zone-hour; gateway endpoints are free
    # (aws.amazon.com/privatelink/pricing/). NAT gateways bill per hour, and each one's
    # Elastic IP as a public IPv4 address (aws.amazon.com/vpc/pricing/).
    hourly = prices["vpc_endpoints"]["interface_hour"]
    assert endpoints == pytest.approx(3 * 3 * hourly * cost.HOURS_PER_MONTH)
    nat_hour = prices["nat_gateway"]["hour"] + prices["public_ipv4"]["hour"]
    assert nat == pytest.approx(3 * nat_hour * cost.HOURS_PER_MONTH)
    per_gb = prices["nat_gateway"]["gb"] - prices["vpc_endpoints"]["interface_gb"]
    more = cost.network_month("nat", 3, prices, 100) - cost.network_month("nat", 3, prices, 0)
    assert more - (
        cost.network_month("endpoints", 3, prices, 100)
        - cost.network_month("endpoints", 3, prices, 0)
    ) == pytest.approx(100 * per_gb)
    figures = [row.figure for row in cost.network_rows()]
    assert any("NAT" in f for f in figures) and any("endpoints" in f for f in figures)


# --- launched on an empty account ---


def test_a_launched_network_is_what_the_resolvers_find(tmp_path, monkeypatch):
    project = network_project(tmp_path, "prod", create=True)
    with Emulator(seed=False) as emulator:
        launched = sceptre_in_process(  # a new sceptre process would spend a second importing
            project, quick(emulator.child_env("IN_PIPELINE")),
            "--var", "image_tag=1.0.0", "launch", "-y", "prod/network.yaml",
        )  # fmt: skip
        assert launched.returncode == 0, launched.stdout + launched.stderr
        outputs = stack_outputs(emulator, f"{PREFIX}-prod-network")
        ec2 = emulator.client("ec2")

        for key, value in emulator.env().items():
            monkeypatch.setenv(key, value)
        monkeypatch.delenv("AWS_PROFILE", raising=False)
        found = stacks(project, "prod")
        service = found["prod/service"]._parameters
        balancer = found["prod/load-balancer"]._parameters
        vpc_id = service["VpcId"].resolve()
        private = service["SubnetIds"].resolve().split(",")
        public = balancer["SubnetIds"].resolve().split(",")

        named = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [f"{PREFIX}-prod"]}])[
            "Vpcs"
        ]
        assert [v["VpcId"] for v in named] == [vpc_id] == [outputs["VpcId"]]
        assert private == outputs["PrivateSubnetIds"].split(",")
        assert public == outputs["PublicSubnetIds"].split(",")
        described = {
            s["SubnetId"]: s for s in ec2.describe_subnets(SubnetIds=private + public)["Subnets"]
        }
        for ids, tier_name in ((private, "private"), (public, "public")):
            assert len({described[i]["AvailabilityZone"] for i in ids}) == 3  # prod's max_azs
            for i in ids:
                assert described[i]["VpcId"] == vpc_id
                assert {"Key": "Tier", "Value": tier_name} in described[i]["Tags"]
