"""The load balancer, health checks and autoscaling of both environments, as rendered.

Every property issue 5 asks for, per environment, plus the variants config can choose
(a hosted zone for the certificate, no request-count scaling) and cfn-lint on them.
"""

from pathlib import Path

import pytest
from sceptre.context import SceptreContext
from sceptre.plan.plan import SceptrePlan

from emulator.seed import PROD_DOMAIN
from tests.templates import (
    ENVIRONMENTS,
    ROOT,
    cfn_lint,
    configure,
    only,
    render,
    rendered,
    resources,
)

TLS_1_2_OR_LATER = "ELBSecurityPolicy-TLS13-1-2-2021-06"


def stack(env: str, name: str) -> dict:
    return rendered(env)[f"{env}/{name}"]["template"]


def props(template: dict, resource_type: str) -> dict:
    return only(template, resource_type)["Properties"]


def listeners(template: dict) -> dict[int, dict]:
    found = resources(template, "AWS::ElasticLoadBalancingV2::Listener").values()
    return {listener["Properties"]["Port"]: listener["Properties"] for listener in found}


def attributes(properties: dict, key: str) -> dict:
    return {item["Key"]: item["Value"] for item in properties[key]}


def policies(template: dict) -> dict[str, dict]:
    found = resources(template, "AWS::ApplicationAutoScaling::ScalingPolicy").values()
    return {policy["Properties"]["PolicyName"]: policy["Properties"] for policy in found}


def variant_stack(tmp_path: Path, env: str, name: str, **user_data) -> dict:
    """One stack of env rendered with sceptre_user_data changed: its "text" and "template".
    Only that stack: rendering the whole environment synthesizes the CDK drift monitor of the
    copied project too (~10 s of CPU), which these tests never read."""
    project = configure(tmp_path, env, **user_data)
    return render(f"{env}/{name}.yaml", project)[f"{env}/{name}"]


# --- the load balancer ---


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_an_internet_facing_alb_in_the_resolved_public_subnets_with_its_own_group(env):
    template = stack(env, "load-balancer")
    balancer = props(template, "AWS::ElasticLoadBalancingV2::LoadBalancer")
    assert (balancer["Type"], balancer["Scheme"]) == ("application", "internet-facing")
    assert balancer["Subnets"] == {"Ref": "SubnetIds"}
    assert balancer["SecurityGroups"] == [{"Ref": "SecurityGroup"}]
    assert template["Parameters"]["SubnetIds"]["Type"] == "List<AWS::EC2::Subnet::Id>"


@pytest.mark.parametrize(("env", "ports"), [("dev", [80]), ("prod", [80, 443])])
def test_the_load_balancer_group_admits_the_listener_ports_and_reaches_only_port_3000(env, ports):
    group = props(stack(env, "load-balancer"), "AWS::EC2::SecurityGroup")
    assert [(r["FromPort"], r["ToPort"], r["CidrIp"]) for r in group["SecurityGroupIngress"]] == [
        (port, port, "0.0.0.0/0") for port in ports
    ]
    assert [(r["FromPort"], r["ToPort"]) for r in group["SecurityGroupEgress"]] == [(3000, 3000)]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_invalid_header_fields_are_dropped(env):
    balancer = props(stack(env, "load-balancer"), "AWS::ElasticLoadBalancingV2::LoadBalancer")
    settings = attributes(balancer, "LoadBalancerAttributes")
    assert settings["routing.http.drop_invalid_header_fields.enabled"] == "true"


def test_dev_without_a_certificate_serves_plain_http_on_80():
    template = stack("dev", "load-balancer")
    (port,) = listeners(template)
    http = listeners(template)[80]
    assert http["Protocol"] == "HTTP"
    assert http["DefaultActions"][0]["Type"] == "fixed-response"  # the service's rule forwards
    assert "CertificateArn" not in template["Parameters"]
    assert template["Outputs"]["ListenerArn"]["Value"] == {"Ref": "HttpListener"}
    assert template["Outputs"]["Url"]["Value"] == {"Fn::Sub": "http://${LoadBalancer.DNSName}"}


def test_prod_serves_https_with_tls_1_2_or_later_and_redirects_http():
    template = stack("prod", "load-balancer")
    https, http = listeners(template)[443], listeners(template)[80]
    assert (https["Protocol"], https["SslPolicy"]) == ("HTTPS", TLS_1_2_OR_LATER)
    assert https["Certificates"] == [{"CertificateArn": {"Ref": "CertificateArn"}}]
    assert http["Protocol"] == "HTTP"
    assert http["DefaultActions"] == [
        {
            "Type": "redirect",
            "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"},
        }
    ]
    assert template["Outputs"]["ListenerArn"]["Value"] == {"Ref": "HttpsListener"}
    assert template["Outputs"]["Url"]["Value"] == f"https://{PROD_DOMAIN}"


def test_a_hosted_zone_gets_a_dns_validated_certificate_and_an_alias(tmp_path: Path):
    zone = "Z0123456789ABCDEFGHIJ"
    load_balancer = {"domain_name": "dev.example.com", "hosted_zone_id": zone}
    found = variant_stack(tmp_path, "dev", "load-balancer", load_balancer=load_balancer)
    template = found["template"]
    certificate = props(template, "AWS::CertificateManager::Certificate")
    assert (certificate["DomainName"], certificate["ValidationMethod"]) == (
        "dev.example.com",
        "DNS",
    )
    assert certificate["DomainValidationOptions"] == [
        {"DomainName": "dev.example.com", "HostedZoneId": zone}
    ]
    https = listeners(template)[443]
    assert https["Certificates"] == [{"CertificateArn": {"Ref": "Certificate"}}]
    assert https["SslPolicy"] == TLS_1_2_OR_LATER
    assert listeners(template)[80]["DefaultActions"][0]["Type"] == "redirect"
    record = props(template, "AWS::Route53::RecordSet")
    assert (record["HostedZoneId"], record["Name"], record["Type"]) == (
        zone,
        "dev.example.com",
        "A",
    )
    assert record["AliasTarget"] == {
        "DNSName": {"Fn::GetAtt": ["LoadBalancer", "DNSName"]},
        "HostedZoneId": {"Fn::GetAtt": ["LoadBalancer", "CanonicalHostedZoneID"]},
    }
    assert "CertificateArn" not in template["Parameters"]  # nothing to look up
    assert cfn_lint(found["text"]) == []


def test_a_certificate_arn_gives_https_without_a_domain_or_a_lookup(tmp_path: Path):
    arn = "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"
    project = configure(tmp_path, "dev", load_balancer={"certificate_arn": arn})
    found = render("dev/load-balancer.yaml", project)["dev/load-balancer"]
    template = found["template"]
    https = listeners(template)[443]
    assert https["Certificates"] == [{"CertificateArn": {"Ref": "CertificateArn"}}]
    assert https["SslPolicy"] == TLS_1_2_OR_LATER
    assert listeners(template)[80]["DefaultActions"][0]["Type"] == "redirect"
    assert template["Outputs"]["Url"]["Value"] == {"Fn::Sub": "https://${LoadBalancer.DNSName}"}
    assert cfn_lint(found["text"]) == []
    # The stack file hands the ARN to !certificate_arn, which checks it before launch.
    stacks = stack_configs("dev", project)
    assert stacks["dev/load-balancer"]._parameters["CertificateArn"]._argument == arn
    (_, preflight, _) = stacks["dev/cluster"].hooks["before_launch"]  # validate, preflight, drift
    assert preflight._argument["CertificateArn"]._argument == arn


def test_a_certificate_arn_wins_over_a_hosted_zone(tmp_path: Path):
    arn = "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"
    load_balancer = {
        "domain_name": "dev.example.com",
        "hosted_zone_id": "Z1",
        "certificate_arn": arn,
    }
    template = variant_stack(tmp_path, "dev", "load-balancer", load_balancer=load_balancer)[
        "template"
    ]
    assert resources(template, "AWS::CertificateManager::Certificate") == {}
    assert props(template, "AWS::Route53::RecordSet")["Name"] == "dev.example.com"
    assert listeners(template)[443]["Certificates"] == [
        {"CertificateArn": {"Ref": "CertificateArn"}}
    ]
    assert template["Outputs"]["Url"]["Value"] == "https://dev.example.com"


def test_prod_writes_access_logs_to_an_encrypted_private_bucket():
    template = stack("prod", "load-balancer")
    bucket = only(template, "AWS::S3::Bucket")
    assert bucket["DeletionPolicy"] == "Retain"
    encryption = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption == [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
    assert set(bucket["Properties"]["PublicAccessBlockConfiguration"].values()) == {True}
    (rule,) = bucket["Properties"]["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] == 90
    balancer = only(template, "AWS::ElasticLoadBalancingV2::LoadBalancer")
    logs = attributes(balancer["Properties"], "LoadBalancerAttributes")
    assert logs["access_logs.s3.enabled"] == "true"
    assert logs["access_logs.s3.bucket"] == {"Ref": "AccessLogBucket"}
    assert balancer["DependsOn"] == "AccessLogBucketPolicy"  # ELB checks it may write
    statements = props(template, "AWS::S3::BucketPolicy")["PolicyDocument"]["Statement"]
    write = next(s for s in statements if s["Effect"] == "Allow")
    assert write["Action"] == "s3:PutObject"
    assert write["Resource"] == {"Fn::Sub": "${AccessLogBucket.Arn}/AWSLogs/${AWS::AccountId}/*"}
    deny = next(s for s in statements if s["Effect"] == "Deny")
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_dev_has_no_access_logs():
    template = stack("dev", "load-balancer")
    assert resources(template, "AWS::S3::Bucket") == {}
    balancer = props(template, "AWS::ElasticLoadBalancingV2::LoadBalancer")
    assert attributes(balancer, "LoadBalancerAttributes")["access_logs.s3.enabled"] == "false"


# --- the target group and health checks ---


@pytest.mark.parametrize(
    ("env", "interval", "timeout", "delay"), [("dev", 5, 4, "5"), ("prod", 10, 5, "30")]
)
def test_ip_target_group_on_3000_with_health_checks_from_config(env, interval, timeout, delay):
    group = props(stack(env, "service"), "AWS::ElasticLoadBalancingV2::TargetGroup")
    assert (group["TargetType"], group["Protocol"], group["Port"]) == ("ip", "HTTP", 3000)
    assert group["VpcId"] == {"Ref": "VpcId"}
    assert (group["HealthCheckEnabled"], group["HealthCheckPath"]) == (True, "/hello")
    assert group["HealthCheckIntervalSeconds"] == interval
    assert group["HealthCheckTimeoutSeconds"] == timeout < interval  # ELB requires it
    assert (group["HealthyThresholdCount"], group["UnhealthyThresholdCount"]) == (2, 2)
    assert group["Matcher"] == {"HttpCode": "200"}
    delays = attributes(group, "TargetGroupAttributes")
    assert delays["deregistration_delay.timeout_seconds"] == delay


def test_health_check_values_come_from_config(tmp_path: Path):
    found = variant_stack(
        tmp_path,
        "prod",
        "service",
        health_check={"path": "/healthz", "interval": 15},
        deregistration_delay=45,
    )
    group = props(found["template"], "AWS::ElasticLoadBalancingV2::TargetGroup")
    assert (group["HealthCheckPath"], group["HealthCheckIntervalSeconds"]) == ("/healthz", 15)
    delays = attributes(group, "TargetGroupAttributes")
    assert delays["deregistration_delay.timeout_seconds"] == "45"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_path_of_the_listener_goes_to_the_target_group(env):
    rule = props(stack(env, "service"), "AWS::ElasticLoadBalancingV2::ListenerRule")
    assert rule["ListenerArn"] == {"Ref": "ListenerArn"}
    assert rule["Conditions"] == [
        {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/*"]}}
    ]
    assert rule["Actions"] == [{"Type": "forward", "TargetGroupArn": {"Ref": "TargetGroup"}}]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_service_registers_with_the_target_group_after_the_listener_rule(env):
    found = only(stack(env, "service"), "AWS::ECS::Service")
    assert found["DependsOn"] == "ListenerRule"
    assert found["Properties"]["LoadBalancers"] == [
        {
            "ContainerName": "ProductService",
            "ContainerPort": 3000,
            "TargetGroupArn": {"Ref": "TargetGroup"},
        }
    ]
    assert found["Properties"]["HealthCheckGracePeriodSeconds"] == 30


# --- autoscaling ---


@pytest.mark.parametrize(("env", "low", "high"), [("dev", 1, 2), ("prod", 2, 10)])
def test_autoscaling_owns_the_count_between_min_and_max(env, low, high):
    template = stack(env, "service")
    assert "DesiredCount" not in props(template, "AWS::ECS::Service")  # else it resets
    target = props(template, "AWS::ApplicationAutoScaling::ScalableTarget")
    assert (target["MinCapacity"], target["MaxCapacity"]) == (low, high)
    assert (target["ServiceNamespace"], target["ScalableDimension"]) == (
        "ecs",
        "ecs:service:DesiredCount",
    )
    assert target["ResourceId"] == {"Fn::Sub": "service/${ClusterName}/${Service.Name}"}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_scaling_tracks_cpu_and_requests_per_target_out_fast_in_slow(env):
    found = policies(stack(env, "service"))
    assert set(found) == {"cpu", "requests"}
    for policy in found.values():
        assert policy["PolicyType"] == "TargetTrackingScaling"
        assert policy["ScalingTargetId"] == {"Ref": "ScalableTarget"}
        config = policy["TargetTrackingScalingPolicyConfiguration"]
        assert config["ScaleOutCooldown"] < config["ScaleInCooldown"]
    cpu = found["cpu"]["TargetTrackingScalingPolicyConfiguration"]
    assert cpu["PredefinedMetricSpecification"] == {
        "PredefinedMetricType": "ECSServiceAverageCPUUtilization"
    }
    assert cpu["TargetValue"] == 70
    requests = found["requests"]["TargetTrackingScalingPolicyConfiguration"]
    assert requests["PredefinedMetricSpecification"] == {
        "PredefinedMetricType": "ALBRequestCountPerTarget",
        "ResourceLabel": {"Fn::Sub": "${LoadBalancerFullName}/${TargetGroup.TargetGroupFullName}"},
    }
    assert requests["TargetValue"] == 1000


def test_without_requests_per_target_only_cpu_scales(tmp_path: Path):
    project = configure(tmp_path, "dev", autoscaling={"requests_per_target": 0})
    found = render("dev/service.yaml", project)["dev/service"]
    assert set(policies(found["template"])) == {"cpu"}
    assert "LoadBalancerFullName" not in found["template"]["Parameters"]
    assert cfn_lint(found["text"]) == []
    # The stack file stops passing what the template no longer declares.
    assert "LoadBalancerFullName" not in stack_configs("dev", project)["dev/service"]._parameters


# --- outputs ---


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_service_url_is_an_output_of_both_stacks(env):
    assert "Url" in stack(env, "load-balancer")["Outputs"]
    assert stack(env, "service")["Outputs"]["ServiceUrl"]["Value"] == {"Ref": "ServiceUrl"}
    for name in ("ListenerArn", "SecurityGroupId", "LoadBalancerFullName"):
        assert name in stack(env, "load-balancer")["Outputs"]


# --- stack config: resolvers, ordering ---


def stack_configs(env: str, project: Path = ROOT) -> dict:
    plan = SceptrePlan(SceptreContext(project_path=str(project), command_path=env))
    return {s.name: s for s in plan.graph}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_service_reads_the_load_balancer_stacks_outputs(env):
    from sceptre.resolvers.stack_output import StackOutput

    raw = stack_configs(env)[f"{env}/service"]._parameters
    for parameter, output in (
        ("ListenerArn", "ListenerArn"),
        ("LoadBalancerSecurityGroupId", "SecurityGroupId"),
        ("LoadBalancerFullName", "LoadBalancerFullName"),
        ("ServiceUrl", "Url"),
    ):
        assert isinstance(raw[parameter], StackOutput)
        assert raw[parameter].argument == f"{env}/load-balancer.yaml::{output}"


@pytest.mark.parametrize(("env", "tags"), [("dev", {}), ("prod", {"Tier": "public"})])
def test_the_load_balancer_takes_one_public_subnet_per_zone_in_two_zones_or_more(env, tags):
    from resolvers.subnet_ids import SubnetIds
    from resolvers.vpc_id import VpcId

    stacks = stack_configs(env)
    raw = stacks[f"{env}/load-balancer"]._parameters
    assert isinstance(raw["VpcId"], VpcId)
    assert isinstance(raw["SubnetIds"], SubnetIds)
    assert raw["SubnetIds"]._argument["tags"] == tags
    assert raw["SubnetIds"]._argument["min_azs"] == 2
    assert raw["SubnetIds"]._argument["max_azs"] >= 2
    # The tasks' subnets stop at the same number of zones: an ALB reaches only its zones.
    service_subnets = stacks[f"{env}/service"]._parameters["SubnetIds"]._argument
    assert service_subnets["max_azs"] == raw["SubnetIds"]._argument["max_azs"]


def test_prods_certificate_is_looked_up_by_domain_and_checked_before_launch():
    from resolvers.certificate_arn import CertificateArn

    stacks = stack_configs("prod")
    certificate = stacks["prod/load-balancer"]._parameters["CertificateArn"]
    assert isinstance(certificate, CertificateArn)
    assert certificate._argument == PROD_DOMAIN
    (_, preflight, _) = stacks["prod/cluster"].hooks["before_launch"]  # validate, preflight, drift
    assert {"PublicSubnetIds", "CertificateArn"} <= set(preflight._argument)
    assert "CertificateArn" not in stack_configs("dev")["dev/load-balancer"]._parameters


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_load_balancer_launches_after_the_clusters_preflight(env):
    stacks = stack_configs(env)
    assert [d.name for d in stacks[f"{env}/load-balancer"].dependencies] == [f"{env}/cluster"]
    assert [h.__class__.__name__ for h in stacks[f"{env}/cluster"].hooks["before_launch"]] == [
        "ValidateConfig",
        "Preflight",
        "DriftPreview",
    ]
