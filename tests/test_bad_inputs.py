"""A catalogue of bad input: each gives its exact error, exits non-zero and changes nothing.

Every case runs the sceptre CLI, as a user would, on a copy of the project whose config
the case breaks, against an emulator of this module's own. The emulator's state (stacks,
clusters, services, task definitions, log groups, security groups) is compared before and
after: a bad input must not create or change anything. The CLI runs in the test's process
(tests/roles.py sceptre_in_process: same arguments, directory, environment, output and exit
code as the console script), which saves a second of imports per case.
"""

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
import yaml

from emulator.process import Emulator, free_port
from emulator.seed import fake_manifest
from tests.roles import sceptre_in_process
from tests.templates import copy_project


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    """A seeded emulator of this module's own: cases rely on prod never having launched."""
    with Emulator() as running:
        yield running


@pytest.fixture(scope="module")
def aws(emulator: Emulator) -> Callable:
    """aws("ecs"): a client of the module's emulator, made once per service (making one
    parses the service's model: a tenth of a second for EC2's)."""
    return functools.cache(emulator.client)


@dataclass
class Case:
    """One bad input: what to break, what to run, what the user must read."""

    id: str
    expected: str
    edit: Callable[[dict], None] | None = None  # applied to the environment's config.yaml
    replace: tuple[str, str] | None = None  # (old, new) in the file's text, for syntax errors
    file: str = "config/dev/config.yaml"
    args: list[str] = field(default_factory=lambda: ["launch", "-y", "dev"])
    env: dict[str, str | None] = field(default_factory=dict)  # None removes a variable
    setup: Callable[[Callable], None] | None = None  # runs against the emulator first


def user(**values) -> Callable[[dict], None]:
    return lambda config: config["sceptre_user_data"].update(values)


def key(path: str, value) -> Callable[[dict], None]:
    def edit(config: dict) -> None:
        *parents, last = path.split(".")
        target = config
        for part in parents:
            target = target[part]
        target[last] = value

    return edit


def twin_vpcs(aws) -> None:
    ec2 = aws("ec2")
    for cidr in ("10.30.0.0/16", "10.31.0.0/16"):
        vpc = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
        ec2.create_tags(Resources=[vpc], Tags=[{"Key": "Name", "Value": "twin"}])


def mutable_repository(aws) -> None:
    aws("ecr").create_repository(repositoryName="mutable-repo", imageTagMutability="MUTABLE")
    aws("ecr").put_image(
        repositoryName="mutable-repo", imageManifest=fake_manifest("v1"), imageTag="v1"
    )


PROD = "config/prod/config.yaml"
PROD_LAUNCH = ["--var", "image_tag=1.1.0", "launch", "-y", "prod"]
NO_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": None,
    "AWS_SECRET_ACCESS_KEY": None,
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
    "AWS_CONFIG_FILE": "/nonexistent",
    "AWS_EC2_METADATA_DISABLED": "true",
}

CASES = [
    # Configuration, caught before any AWS call.
    Case("cpu-not-a-fargate-size", "sceptre_user_data.cpu = 300; allowed: one of 256, 512", user(cpu=300)),
    Case("cpu-memory-pair", "memory = 4096; allowed: with cpu 256 Fargate accepts memory 512, 1024, 2048", user(memory=4096)),
    Case("memory-not-a-number", "memory = 'lots'; allowed: a value of type integer", user(memory="lots")),
    Case("autoscaling-min-above-max", "autoscaling.min = 3; allowed: at most autoscaling.max (2)", user(autoscaling={"min": 3, "max": 2, "cpu_target": 70, "requests_per_target": 1000})),
    Case("autoscaling-max-not-a-number", "autoscaling.max = 'two'; allowed: a value of type integer", user(autoscaling={"min": 1, "max": "two", "cpu_target": 70, "requests_per_target": 1000})),
    Case("health-check-interval-too-short", "health_check.interval = 1; allowed: at least 5", user(health_check={"path": "/hello", "interval": 1, "timeout": 4, "healthy_threshold": 2, "unhealthy_threshold": 2, "grace_period": 30})),
    Case("health-check-timeout-not-below-interval", "health_check.timeout = 5; allowed: less than health_check.interval (5)", user(health_check={"path": "/hello", "interval": 5, "timeout": 5, "healthy_threshold": 2, "unhealthy_threshold": 2, "grace_period": 30})),
    Case("deregistration-delay-too-long", "deregistration_delay = 5000; allowed: at most 3600", user(deregistration_delay=5000)),
    Case("certificate-arn-malformed", "load_balancer.certificate_arn = 'arn:aws:iam::123456789012:server-certificate/x'; allowed: a string matching", user(load_balancer={"domain_name": "", "hosted_zone_id": "", "certificate_arn": "arn:aws:iam::123456789012:server-certificate/x", "access_log_days": 0})),
    Case("retention-cloudwatch-rejects", "log_retention_days = 8; allowed: one of 1, 3, 5, 7, 14", user(log_retention_days=8)),
    Case("deletion-policy-unknown", "log_deletion_policy = 'Keep'; allowed: one of 'Delete', 'Retain'", user(log_deletion_policy="Keep")),
    Case("public-ip-not-enabled-disabled", "assign_public_ip = 'yes'; allowed: one of 'ENABLED', 'DISABLED'", user(assign_public_ip="yes")),
    Case("public-ip-without-a-reason", "sceptre_user_data.public_ip_reason = None; allowed: why tasks need a public IP", lambda c: c["sceptre_user_data"].pop("public_ip_reason")),
    Case("capacity-provider-unknown", "capacity_provider_strategy[0].provider = 'SPOT'; allowed: one of 'FARGATE', 'FARGATE_SPOT'", user(capacity_provider_strategy=[{"provider": "SPOT", "weight": 1}])),
    Case("capacity-weight-negative", "capacity_provider_strategy[0].weight = -1; allowed: at least 0", user(capacity_provider_strategy=[{"provider": "FARGATE", "weight": -1}])),
    Case("typo-in-a-key", "sceptre_user_data.desired_count = 1; allowed: a known key:", user(desired_count=1)),
    Case("environment-not-the-folder", "environment = 'staging'; allowed: the folder's name, 'dev'", key("environment", "staging")),
    Case("name-not-project-environment", "sceptre_user_data.name = 'product-service-qa'; allowed: 'product-service-dev'", user(name="product-service-qa")),
    Case("min-azs-zero", "network.min_azs = 0; allowed: at least 1", key("network.min_azs", 0)),
    Case("subnet-tags-not-a-mapping", "network.subnet_tags = ['private']; allowed: a value of type object", key("network.subnet_tags", ["private"])),
    Case("repository-name-invalid", "config/config.yaml: image_repository = 'Product Service'; allowed: a string matching", key("image_repository", "Product Service"), file="config/config.yaml"),
    Case("region-invalid", "config/config.yaml: region = 'mars-1'; allowed: a string matching", key("region", "mars-1"), file="config/config.yaml"),
    Case("pipeline-source-unknown", "pipeline.source = 'svn'; allowed: one of 'git', 'release'", key("pipeline.source", "svn")),
    Case("pipeline-repository-not-owner-name", "pipeline.git.repository = 'not a repo'; allowed: a string matching", key("pipeline.git.repository", "not a repo")),
    Case("pipeline-execution-mode-unknown", "pipeline.execution_mode = 'FAST'; allowed: one of 'QUEUED'", key("pipeline.execution_mode", "FAST")),
    Case("on-failure-unknown", "on_failure = 'EXPLODE'; allowed: one of 'DO_NOTHING', 'ROLLBACK', 'DELETE'", key("on_failure", "EXPLODE")),
    Case("image-tag-required-not-boolean", "image_tag_required = 'yes'; allowed: a value of type boolean", key("image_tag_required", "yes")),
    Case("stack-policy-missing", "protection.stack_policy = 'policies/nope.json'; allowed: a file under policies/ that exists", key("protection.stack_policy", "policies/nope.json"), file=PROD, args=PROD_LAUNCH),
    Case("termination-protection-not-boolean", "protection.termination_protection = 'always'; allowed: a value of type boolean", key("protection.termination_protection", "always"), file=PROD, args=PROD_LAUNCH),
    Case("schedule-not-rate-or-cron", "drift_schedule = 'every night'; allowed: a string matching", key("drift_schedule", "every night")),
    Case("topic-arn-malformed", "drift_topic_arn = 'arn:aws:sqs:us-east-1:123456789012:alerts'; allowed: a string matching", key("drift_topic_arn", "arn:aws:sqs:us-east-1:123456789012:alerts")),
    Case("memory-above-fargate-maximum", "sceptre_user_data.memory = 200000; allowed: at most 122880", user(memory=200000)),
    Case("stack-timeout-too-short", "config/config.yaml: stack_timeout = 1; allowed: at least 5", key("stack_timeout", 1), file="config/config.yaml"),
    Case("project-code-invalid", "config/config.yaml: project_code = 'Product_Service'; allowed: a string matching", key("project_code", "Product_Service"), file="config/config.yaml"),
    Case("workload-stacks-empty", "config/config.yaml: workload_stacks = []; allowed: at least 1 item(s)", key("workload_stacks", []), file="config/config.yaml"),
    Case("drift-source-branch-empty", "config/config.yaml: drift_source.branch = ''; allowed: at least 1 character(s)", key("drift_source.branch", ""), file="config/config.yaml"),
    Case("account-id-not-twelve-digits", "config/config.yaml: accounts.dev = '11111111111'; allowed: a string matching ^$|^[0-9]{12}$", key("accounts", {"tools": "123456789012", "dev": "11111111111", "prod": "222222222222"}), file="config/config.yaml"),
    Case("accounts-partly-set", "config/config.yaml: accounts.prod = ''; allowed: a 12-digit account id: set all three of accounts.tools, accounts.dev and accounts.prod, or none", key("accounts", {"tools": "123456789012", "dev": "111111111111", "prod": ""}), file="config/config.yaml"),
    Case("accounts-dev-and-prod-the-same", "config/config.yaml: accounts.prod = '111111111111'; allowed: an account other than accounts.dev", key("accounts", {"tools": "123456789012", "dev": "111111111111", "prod": "111111111111"}), file="config/config.yaml"),
    Case("environment-tag-not-the-folder", "stack_tags.Environment = 'qa'; allowed: 'dev' (deploy permissions use it)", key("stack_tags.Environment", "qa")),
    Case("stack-tag-not-a-string", "stack_tags.CostCentre = 42; allowed: a value of type string", key("stack_tags.CostCentre", 42)),
    Case("user-data-environment-not-the-folder", "sceptre_user_data.environment = 'prod'; allowed: 'dev'", user(environment="prod")),
    Case("max-azs-one", "network.max_azs = 1; allowed: at least 2", key("network.max_azs", 1)),
    Case("git-provider-unknown", "pipeline.git.provider = 'SVNHub'; allowed: one of 'GitHub'", key("pipeline.git.provider", "SVNHub")),
    Case("approval-not-boolean", "pipeline.approval = 'no'; allowed: a value of type boolean", key("pipeline.approval", "no")),
    Case("domain-name-invalid", "sceptre_user_data.load_balancer.domain_name = 'Not A Domain'; allowed: a string matching", lambda c: c["sceptre_user_data"]["load_balancer"].update(domain_name="Not A Domain")),
    Case("hosted-zone-id-malformed", "sceptre_user_data.load_balancer.hosted_zone_id = '12345'; allowed: a string matching", lambda c: c["sceptre_user_data"]["load_balancer"].update(hosted_zone_id="12345")),
    Case("access-log-days-negative", "sceptre_user_data.load_balancer.access_log_days = -1; allowed: at least 0", lambda c: c["sceptre_user_data"]["load_balancer"].update(access_log_days=-1)),
    Case("health-check-path-relative", "sceptre_user_data.health_check.path = 'hello'; allowed: a string matching", lambda c: c["sceptre_user_data"]["health_check"].update(path="hello")),
    Case("healthy-threshold-too-high", "sceptre_user_data.health_check.healthy_threshold = 11; allowed: at most 10", lambda c: c["sceptre_user_data"]["health_check"].update(healthy_threshold=11)),
    Case("cpu-target-too-high", "sceptre_user_data.autoscaling.cpu_target = 99; allowed: at most 95", lambda c: c["sceptre_user_data"]["autoscaling"].update(cpu_target=99)),
    Case("capacity-base-negative", "sceptre_user_data.capacity_provider_strategy[0].base = -1; allowed: at least 0", user(capacity_provider_strategy=[{"provider": "FARGATE", "weight": 1, "base": -1}])),
    Case("public-ip-reason-too-short", "sceptre_user_data.public_ip_reason = 'because'; allowed: at least 20 character(s)", user(assign_public_ip="ENABLED", public_ip_reason="because")),
    Case("grace-period-negative", "sceptre_user_data.health_check.grace_period = -5; allowed: at least 0", lambda c: c["sceptre_user_data"]["health_check"].update(grace_period=-5)),
    Case("required-key-missing", "network.vpc_name = missing; allowed: a value (this key is required)", lambda c: c["network"].pop("vpc_name")),
    Case("section-missing", "sceptre_user_data.autoscaling = missing; allowed: a value (this key is required)", lambda c: c["sceptre_user_data"].pop("autoscaling")),
    Case("variable-name-not-for-a-shell", "sceptre_user_data.variables = 'LOG-LEVEL'; allowed: a string matching ^[A-Za-z_]", user(variables={"LOG-LEVEL": "debug"})),
    Case("variable-ecs-sets-itself", "sceptre_user_data.variables.AWS_REGION = 'eu-west-1'; allowed: a name Amazon ECS does not set itself", user(variables={"AWS_REGION": "eu-west-1"})),
    Case("name-both-variable-and-secret", "sceptre_user_data.secrets.API_TOKEN = {'ssm': '/product-service/dev/api-token'}; allowed: a name not also in variables", user(variables={"API_TOKEN": "plain"}, secrets={"API_TOKEN": {"ssm": "/product-service/dev/api-token"}})),
    Case("secret-reference-not-ssm-or-secrets-manager", "sceptre_user_data.secrets.API_TOKEN.ssm = 'arn:aws:s3:::bucket/token'; allowed: a string matching", user(secrets={"API_TOKEN": {"ssm": "arn:aws:s3:::bucket/token"}})),
    Case("secret-json-key-on-a-parameter", "sceptre_user_data.secrets.API_TOKEN.json_key = 'token'; allowed: json_key only with secretsmanager", user(secrets={"API_TOKEN": {"ssm": "/product-service/dev/api-token", "json_key": "token"}})),
    Case("shared-environment-not-the-folder", "config/shared/config.yaml: environment = 'prod'; allowed: the folder's name", key("environment", "prod"), file="config/shared/config.yaml", args=["launch", "-y", "shared"]),
    # Every command that renders or changes a stack checks the configuration first.
    Case("one-stack-ignoring-dependencies", "config/dev/config.yaml: sceptre_user_data.cpu = 300; allowed: one of 256, 512", user(cpu=300), args=["--ignore-dependencies", "launch", "-y", "dev/service.yaml"]),
    Case("update-one-stack", "config/dev/config.yaml: sceptre_user_data.cpu = 300; allowed: one of 256, 512", user(cpu=300), args=["update", "-y", "dev/cluster.yaml"]),
    Case("create-one-stack", "config/dev/config.yaml: sceptre_user_data.cpu = 300; allowed: one of 256, 512", user(cpu=300), args=["create", "-y", "dev/cluster.yaml"]),
    Case("create-change-set", "config/dev/config.yaml: sceptre_user_data.cpu = 300; allowed: one of 256, 512", user(cpu=300), args=["create", "-y", "dev/cluster.yaml", "cs"]),
    Case("diff-one-stack", "config/dev/config.yaml: sceptre_user_data.cpu = 300; allowed: one of 256, 512", user(cpu=300), args=["diff", "dev/service.yaml"]),
    Case("generate-one-stack", "config/dev/config.yaml: sceptre_user_data.cpu = 300; allowed: one of 256, 512", user(cpu=300), args=["generate", "dev/load-balancer.yaml"]),
    Case("validate-one-stack", "config/dev/config.yaml: sceptre_user_data.cpu = 300; allowed: one of 256, 512", user(cpu=300), args=["validate", "dev/cluster.yaml"]),
    # Syntax errors name the file, line and column the user edits.
    Case("yaml-error-in-environment-config", "config/dev/config.yaml:38:11: not valid YAML: mapping values are not allowed here", replace=("  cpu: 256\n", "  cpu: 256: x\n")),
    Case("yaml-error-in-shared-config", "config/config.yaml:4:18: not valid YAML: mapping values are not allowed here", file="config/config.yaml", replace=("region: us-east-1\n", "region: us-east-1: x\n")),
    Case("yaml-error-in-stack-file", "config/dev/service.yaml:19:11: not valid YAML: mapping values are not allowed here", file="config/dev/service.yaml", replace=("  VpcId: !vpc_id", "  VpcId: a: b #")),
    Case("jinja-undefined-in-config", "config/dev/config.yaml:38: Jinja: 'nope' is undefined", replace=("  cpu: 256\n", "  cpu: {{ nope }}\n")),
    # A stack launched without the stacks it reads outputs from.
    Case("dependency-not-launched", "prod/service needs stack output prod/cluster.yaml::ClusterName, but stack product-service-prod-cluster does not exist. Launch it first: sceptre --var image_tag=1.1.0 launch -y prod/cluster.yaml", args=["--var", "image_tag=1.1.0", "--ignore-dependencies", "launch", "-y", "prod/service.yaml"]),
    Case("dependency-not-launched-diff", "prod/service needs stack output prod/cluster.yaml::ClusterName, but stack product-service-prod-cluster does not exist.", args=["--var", "image_tag=1.1.0", "--ignore-dependencies", "diff", "-n", "prod/service.yaml"]),
    # The account, caught by the preflight's lookups before any stack changes.
    Case("vpc-missing", "!vpc_id: no VPC tagged Name=no-such-vpc in this region", key("network.vpc_name", "no-such-vpc")),
    Case("vpc-ambiguous", "!vpc_id: 2 VPCs tagged Name=twin", key("network.vpc_name", "twin"), setup=twin_vpcs),
    Case("too-few-zones-for-prod", "span 2 availability zone(s) (us-east-1a, us-east-1b) but this environment needs at least 3", key("network.min_azs", 3), file=PROD, args=PROD_LAUNCH),
    Case("repository-missing", "!image_url: no ECR repository named 'no-such-repo'", key("image_repository", "no-such-repo"), file="config/config.yaml"),
    Case("image-tag-missing", "!image_url: no image tagged '9.9.9' in ECR repository 'product-service'", args=["--var", "image_tag=9.9.9", "launch", "-y", "dev"]),
    Case("prod-without-a-tag", "this environment needs an explicit image tag from 'product-service'; run with --var image_tag=TAG", args=["launch", "-y", "prod"]),
    Case("prod-tag-in-a-mutable-repository", "ECR repository 'mutable-repo' lets a tag be pushed again", key("image_repository", "mutable-repo"), file="config/config.yaml", args=["--var", "image_tag=v1", "launch", "-y", "prod"], setup=mutable_repository),
    # The command and the environment it runs in.
    Case("unknown-stack-group", "No stacks detected from the given path 'staging'", args=["launch", "-y", "staging"]),
    Case("endpoint-unreachable", "if AWS_ENDPOINT_URL points at the local emulator, start it ('make emulator')", env={"AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}"}),
    Case("credentials-missing", "no AWS credentials found: set AWS_PROFILE, run 'aws sso login'", env=NO_CREDENTIALS),
    Case("credentials-expired", "AWS refused the credentials (RequestExpired: Request has expired.)", env={"AWS_ACCESS_KEY_ID": "EXPIREDKEY"}),
]  # fmt: skip


def snapshot(aws) -> dict:
    """What a launch could create or change, as the emulator holds it now."""
    ecs, cfn = aws("ecs"), aws("cloudformation")
    clusters = ecs.list_clusters()["clusterArns"]
    return {
        "stacks": sorted(
            (s["StackName"], s["StackStatus"], str(s.get("LastUpdatedTime")))
            for s in cfn.list_stacks()["StackSummaries"]
        ),
        "clusters": sorted(clusters),
        "services": sorted(
            a for c in clusters for a in ecs.list_services(cluster=c)["serviceArns"]
        ),
        "task_definitions": sorted(ecs.list_task_definitions()["taskDefinitionArns"]),
        "log_groups": sorted(
            g["logGroupName"] for g in aws("logs").describe_log_groups()["logGroups"]
        ),
        "security_groups": sorted(
            g["GroupId"] for g in aws("ec2").describe_security_groups()["SecurityGroups"]
        ),
    }


@pytest.fixture(scope="module")
def last_seen() -> dict[str, dict]:
    """The emulator's state as the previous case left it ("after": its snapshot): only this
    module's cases change this module's emulator, so a case without setup starts from it
    (a snapshot is 7 calls, ~40 ms of CPU; one per case is saved)."""
    return {}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_bad_input_is_refused_clearly_and_changes_nothing(case, emulator, aws, tmp_path, last_seen):
    project = copy_project(tmp_path)
    if case.edit:
        path = project / case.file
        config = yaml.safe_load(path.read_text())
        case.edit(config)
        path.write_text(yaml.safe_dump(config))
    if case.replace:
        path = project / case.file
        old, new = case.replace
        assert old in path.read_text()
        path.write_text(path.read_text().replace(old, new))
    if case.setup:
        case.setup(aws)
    env = emulator.child_env()
    for name, value in case.env.items():
        env.pop(name, None) if value is None else env.__setitem__(name, value)
    before = last_seen["after"] if "after" in last_seen and not case.setup else snapshot(aws)
    last_seen.clear()  # until this case has read the state again

    result = sceptre_in_process(project, env, *case.args)

    assert result.returncode != 0
    assert case.expected in result.stdout + result.stderr
    last_seen["after"] = snapshot(aws)
    assert last_seen["after"] == before


def test_the_catalogue_is_large_enough():
    assert len(CASES) >= 60
    assert len({c.id for c in CASES}) == len(CASES)
