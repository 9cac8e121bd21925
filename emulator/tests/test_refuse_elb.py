"""emulator/refuse_elb.py: the emulator refuses what Elastic Load Balancing refuses.

Expected messages are ELB's own, as users quoted them from AWS (source beside each); the
access-log bucket policy rule is Step 2 of
https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html
"""

import json
import uuid

import pytest
from botocore.exceptions import ClientError

# https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html
# ("Regions available before August 2022"): US East (N. Virginia).
ELB_ACCOUNT_US_EAST_1 = "127311923021"
ACCOUNT = "123456789012"  # the emulator's account


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def subnets(aws) -> list[dict]:
    """The default VPC's subnets, one per zone (as every region has them)."""
    ec2 = aws("ec2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]
    found = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])
    return sorted(found["Subnets"], key=lambda s: s["AvailabilityZone"])


def error_of(excinfo) -> tuple[str, str]:
    error = excinfo.value.response["Error"]
    return error["Code"], error["Message"]


def balancer(aws, subnets, **kwargs) -> str:
    elb = aws("elbv2")
    ids = [s["SubnetId"] for s in subnets[:2]]
    created = elb.create_load_balancer(Name=unique("lb"), Subnets=ids, **kwargs)
    return created["LoadBalancers"][0]["LoadBalancerArn"]


# --- subnets --------------------------------------------------------------------------


def test_an_alb_in_one_zone_is_refused(aws, subnets):
    # github.com/aws-samples/aws-cdk-examples/issues/226, github.com/kasmtech/terraform/issues/5
    with pytest.raises(ClientError) as excinfo:
        aws("elbv2").create_load_balancer(Name=unique("lb"), Subnets=[subnets[0]["SubnetId"]])
    assert error_of(excinfo) == (
        "ValidationError",
        "At least two subnets in two different Availability Zones must be specified",
    )


def test_an_alb_with_two_subnets_in_one_zone_is_refused(aws, subnets):
    # github.com/robertdebock/terraform-aws-vault/issues/5
    ec2 = aws("ec2")
    first = subnets[0]
    extra = ec2.create_subnet(
        VpcId=first["VpcId"],
        CidrBlock=f"172.31.{200 + uuid.uuid4().int % 50}.0/24",
        AvailabilityZone=first["AvailabilityZone"],
    )["Subnet"]
    try:
        with pytest.raises(ClientError) as excinfo:
            aws("elbv2").create_load_balancer(
                Name=unique("lb"),
                Subnets=[first["SubnetId"], extra["SubnetId"], subnets[1]["SubnetId"]],
            )
    finally:
        ec2.delete_subnet(SubnetId=extra["SubnetId"])
    assert error_of(excinfo) == (
        "InvalidConfigurationRequest",
        "A load balancer cannot be attached to multiple subnets in the same Availability Zone",
    )


def test_two_zones_are_accepted(aws, subnets):
    arn = balancer(aws, subnets)
    described = aws("elbv2").describe_load_balancers(LoadBalancerArns=[arn])["LoadBalancers"]
    assert len(described[0]["AvailabilityZones"]) == 2


def test_set_subnets_to_one_zone_is_refused(aws, subnets):
    arn = balancer(aws, subnets)
    with pytest.raises(ClientError) as excinfo:
        aws("elbv2").set_subnets(LoadBalancerArn=arn, Subnets=[subnets[0]["SubnetId"]])
    assert error_of(excinfo) == (
        "ValidationError",
        "At least two subnets in two different Availability Zones must be specified",
    )


# --- listeners, rules, target groups --------------------------------------------------

FIXED = [{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "503"}}]


def test_an_https_listener_without_a_certificate_is_refused(aws, subnets):
    # github.com/cn-terraform/terraform-aws-nexus/issues/42
    arn = balancer(aws, subnets)
    with pytest.raises(ClientError) as excinfo:
        aws("elbv2").create_listener(
            LoadBalancerArn=arn, Protocol="HTTPS", Port=443, DefaultActions=FIXED
        )
    assert error_of(excinfo) == (
        "ValidationError",
        "A certificate must be specified for HTTPS listeners",
    )


def test_an_http_listener_with_a_certificate_is_refused(aws, subnets):
    # github.com/awslabs/fargatecli/issues/104
    arn = balancer(aws, subnets)
    certificate = f"arn:aws:acm:us-east-1:{ACCOUNT}:certificate/{uuid.uuid4()}"
    with pytest.raises(ClientError) as excinfo:
        aws("elbv2").create_listener(
            LoadBalancerArn=arn,
            Protocol="HTTP",
            Port=80,
            Certificates=[{"CertificateArn": certificate}],
            DefaultActions=FIXED,
        )
    assert error_of(excinfo) == (
        "ValidationError",
        "A certificate cannot be specified for HTTP listeners",
    )


def test_a_rule_priority_in_use_is_refused(aws, subnets):
    # github.com/hashicorp/terraform-provider-aws/issues/12212, github.com/stelligent/mu/issues/324
    elb = aws("elbv2")
    arn = balancer(aws, subnets)
    listener = elb.create_listener(
        LoadBalancerArn=arn, Protocol="HTTP", Port=80, DefaultActions=FIXED
    )["Listeners"][0]["ListenerArn"]
    rule = {
        "ListenerArn": listener,
        "Priority": 26,
        "Conditions": [{"Field": "path-pattern", "Values": ["/a/*"]}],
        "Actions": FIXED,
    }
    elb.create_rule(**rule)
    with pytest.raises(ClientError) as excinfo:
        elb.create_rule(**{**rule, "Conditions": [{"Field": "path-pattern", "Values": ["/b"]}]})
    assert error_of(excinfo) == ("PriorityInUse", "Priority '26' is currently in use")


def test_an_ip_target_group_without_a_port_is_refused(aws, subnets):
    # CreateTargetGroup: "Port ... Not used if the target is a Lambda function", required for
    # the other target types
    # (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html).
    # moto refuses it already; the text is moto's, so only the code is asserted.
    with pytest.raises(ClientError) as excinfo:
        aws("elbv2").create_target_group(
            Name=unique("tg"), Protocol="HTTP", TargetType="ip", VpcId=subnets[0]["VpcId"]
        )
    assert error_of(excinfo)[0] == "ValidationError"


# --- access logs ----------------------------------------------------------------------


def log_policy(bucket: str, principal: dict) -> str:
    """The guide's Step 2 statement for this bucket and account, with a given principal."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": principal,
                    "Action": "s3:PutObject",
                    "Resource": f"arn:aws:s3:::{bucket}/AWSLogs/{ACCOUNT}/*",
                }
            ],
        }
    )


def enable_logs(aws, arn: str, bucket: str) -> None:
    aws("elbv2").modify_load_balancer_attributes(
        LoadBalancerArn=arn,
        Attributes=[
            {"Key": "access_logs.s3.enabled", "Value": "true"},
            {"Key": "access_logs.s3.bucket", "Value": bucket},
        ],
    )


def access_denied(bucket: str) -> tuple[str, str]:
    # github.com/cn-terraform/terraform-aws-ecs-alb/pull/4,
    # github.com/widdix/aws-cf-templates/issues/349
    return (
        "InvalidConfigurationRequest",
        f"Access Denied for bucket: {bucket}. Please check S3bucket permission",
    )


@pytest.mark.parametrize(
    "principal",
    [
        None,  # no bucket policy at all
        {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},  # the bucket owner, not ELB
        {"AWS": "arn:aws:iam::797873946194:root"},  # us-west-2's ELB account, not us-east-1's
    ],
    ids=["no-policy", "own-account", "other-region"],
)
def test_access_logs_are_refused_unless_elb_may_write(aws, subnets, principal):
    bucket = unique("logs")
    aws("s3").create_bucket(Bucket=bucket)
    if principal:
        aws("s3").put_bucket_policy(Bucket=bucket, Policy=log_policy(bucket, principal))
    arn = balancer(aws, subnets)
    with pytest.raises(ClientError) as excinfo:
        enable_logs(aws, arn, bucket)
    assert error_of(excinfo) == access_denied(bucket)
    attributes = aws("elbv2").describe_load_balancer_attributes(LoadBalancerArn=arn)
    assert {"Key": "access_logs.s3.bucket", "Value": bucket} not in attributes["Attributes"]


@pytest.mark.parametrize(
    "principal",
    [
        {"AWS": f"arn:aws:iam::{ELB_ACCOUNT_US_EAST_1}:root"},
        {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
    ],
    ids=["elb-account", "service-principal"],
)
def test_access_logs_are_accepted_when_elb_may_write(aws, subnets, principal):
    bucket = unique("logs")
    aws("s3").create_bucket(Bucket=bucket)
    aws("s3").put_bucket_policy(Bucket=bucket, Policy=log_policy(bucket, principal))
    arn = balancer(aws, subnets)
    enable_logs(aws, arn, bucket)
    attributes = aws("elbv2").describe_load_balancer_attributes(LoadBalancerArn=arn)
    assert {"Key": "access_logs.s3.enabled", "Value": "true"} in attributes["Attributes"]


# --- through CloudFormation -----------------------------------------------------------


def log_stack(elb_account: str, subnet_ids: list[str]) -> str:
    """A log bucket, its policy (as templates/load-balancer.yaml.j2 declares it, TLS-only Deny
    included) and a load balancer that logs to it."""
    bucket_arn = {"Fn::GetAtt": ["Bucket", "Arn"]}
    return json.dumps(
        {
            "Resources": {
                "Bucket": {"Type": "AWS::S3::Bucket"},
                "Policy": {
                    "Type": "AWS::S3::BucketPolicy",
                    "Properties": {
                        "Bucket": {"Ref": "Bucket"},
                        "PolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": [
                                {
                                    "Effect": "Allow",
                                    "Principal": {"AWS": f"arn:aws:iam::{elb_account}:root"},
                                    "Action": "s3:PutObject",
                                    "Resource": {
                                        "Fn::Sub": "${Bucket.Arn}/AWSLogs/${AWS::AccountId}/*"
                                    },
                                },
                                {
                                    "Sid": "TlsOnly",
                                    "Effect": "Deny",
                                    "Principal": "*",
                                    "Action": "s3:*",
                                    "Resource": [bucket_arn, {"Fn::Sub": "${Bucket.Arn}/*"}],
                                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                                },
                            ],
                        },
                    },
                },
                "LoadBalancer": {
                    "Type": "AWS::ElasticLoadBalancingV2::LoadBalancer",
                    "DependsOn": "Policy",
                    "Properties": {
                        "Subnets": subnet_ids,
                        "LoadBalancerAttributes": [
                            {"Key": "access_logs.s3.enabled", "Value": "true"},
                            {"Key": "access_logs.s3.bucket", "Value": {"Ref": "Bucket"}},
                        ],
                    },
                },
            },
            "Outputs": {"Bucket": {"Value": {"Ref": "Bucket"}}},
        }
    )


def failed_events(cfn, name: str) -> dict[str, str]:
    events = cfn.describe_stack_events(StackName=name)["StackEvents"]
    return {
        e["LogicalResourceId"]: e.get("ResourceStatusReason", "")
        for e in events
        if e["ResourceStatus"] == "CREATE_FAILED"
    }


def test_a_stack_applies_its_bucket_policy_and_logs_to_the_bucket(aws, subnets):
    cfn, name = aws("cloudformation"), unique("logs-ok")
    ids = [s["SubnetId"] for s in subnets[:2]]
    cfn.create_stack(StackName=name, TemplateBody=log_stack(ELB_ACCOUNT_US_EAST_1, ids))
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    bucket = stack["Outputs"][0]["OutputValue"]
    policy = json.loads(aws("s3").get_bucket_policy(Bucket=bucket)["Policy"])
    assert policy["Statement"][0]["Principal"] == {
        "AWS": f"arn:aws:iam::{ELB_ACCOUNT_US_EAST_1}:root"
    }
    # The TLS-only Deny does not shut the emulator's plain-HTTP clients out of the bucket.
    aws("s3").put_object(Bucket=bucket, Key="probe", Body=b"x")
    assert aws("s3").get_object(Bucket=bucket, Key="probe")["Body"].read() == b"x"
    cfn.delete_stack(StackName=name)
    with pytest.raises(ClientError):
        aws("s3").get_bucket_policy(Bucket=bucket)  # the policy went with its stack


def test_a_stack_whose_bucket_policy_names_the_wrong_account_fails_the_load_balancer(aws, subnets):
    cfn, name = aws("cloudformation"), unique("logs-bad")
    ids = [s["SubnetId"] for s in subnets[:2]]
    before = {b["LoadBalancerArn"] for b in aws("elbv2").describe_load_balancers()["LoadBalancers"]}
    cfn.create_stack(StackName=name, TemplateBody=log_stack(ACCOUNT, ids))
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    # Default OnFailure is ROLLBACK:
    # https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStack.html
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    reason = failed_events(cfn, name)["LoadBalancer"]
    assert reason.startswith("Access Denied for bucket: ")
    assert reason.rstrip().endswith("Please check S3bucket permission")
    after = {b["LoadBalancerArn"] for b in aws("elbv2").describe_load_balancers()["LoadBalancers"]}
    assert after == before  # nothing of the failed load balancer is left


def test_a_stack_with_an_alb_in_one_zone_fails_it(aws, subnets):
    cfn, name = aws("cloudformation"), unique("one-zone")
    template = {
        "Resources": {
            "LoadBalancer": {
                "Type": "AWS::ElasticLoadBalancingV2::LoadBalancer",
                "Properties": {"Subnets": [subnets[0]["SubnetId"]]},
            }
        }
    }
    cfn.create_stack(StackName=name, TemplateBody=json.dumps(template))
    assert cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"] == "ROLLBACK_COMPLETE"
    assert failed_events(cfn, name)["LoadBalancer"].startswith(
        "At least two subnets in two different Availability Zones must be specified"
    )
