"""The delivery pipelines and the shared registry, rendered through Sceptre and checked."""

import copy

import pytest
import yaml

from tests.templates import ENVIRONMENTS, ROOT, cfn_lint, only, render, resources, stack_config


def pipeline(env: str) -> dict:
    """The env's pipeline stack, rendered (when first asked, not at collection: every test
    worker collects every file)."""
    return render(f"{env}/pipeline.yaml")[f"{env}/pipeline"]


def registry() -> dict:
    """The shared registry stack, rendered (when first asked)."""
    return render("shared/registry.yaml")["shared/registry"]


OTHER = {"dev": "prod", "prod": "dev"}

# Actions the IAM reference gives no resource type, so "*" is their only form
# (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerservice.html
# and the other services' pages of the Service Authorization Reference).
UNSCOPABLE = {
    "acm:ListCertificates",
    "cloudformation:ValidateTemplate",
    "ec2:DescribeSubnets",
    "ec2:DescribeVpcs",
    "ecr:GetAuthorizationToken",
    "ecs:DescribeTaskDefinition",
}


def template(env: str) -> dict:
    return pipeline(env)["template"]


def stages(env: str) -> list[dict]:
    return only(template(env), "AWS::CodePipeline::Pipeline")["Properties"]["Stages"]


def actions(env: str) -> dict[str, dict]:
    return {a["Name"]: a for stage in stages(env) for a in stage["Actions"]}


def role_statements(tmpl: dict) -> dict[str, list[dict]]:
    return {
        name: [
            s for p in r["Properties"].get("Policies", []) for s in p["PolicyDocument"]["Statement"]
        ]
        for name, r in resources(tmpl, "AWS::IAM::Role").items()
    }


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


# --- stages ---


def test_dev_builds_once_deploys_smoke_tests_then_promotes():
    assert [s["Name"] for s in stages("dev")] == [
        "Source",
        "Build",
        "Deploy",
        "SmokeTest",
        "Promote",
    ]
    source = actions("dev")["Git"]
    assert source["ActionTypeId"]["Provider"] == "CodeStarSourceConnection"
    assert source["Configuration"]["BranchName"] == "main"
    assert actions("dev")["PublishRelease"]["ActionTypeId"]["Provider"] == "S3"


def test_prod_deploys_the_promoted_release_after_approval_and_never_builds():
    assert [s["Name"] for s in stages("prod")] == ["Source", "Approve", "Deploy", "SmokeTest"]
    source = actions("prod")["PromotedRelease"]
    assert source["ActionTypeId"]["Provider"] == "S3"
    assert source["Configuration"]["S3ObjectKey"] == "product-service/release.zip"
    # What dev publishes is what prod starts from.
    published = actions("dev")["PublishRelease"]["Configuration"]
    assert published["ObjectKey"] == source["Configuration"]["S3ObjectKey"]
    assert published["BucketName"] == source["Configuration"]["S3Bucket"]
    # No build anywhere in prod: no build project, no privileged CodeBuild, no ECR push.
    assert "BuildProject" not in template("prod")["Resources"]
    for project in resources(template("prod"), "AWS::CodeBuild::Project").values():
        assert project["Properties"]["Environment"]["PrivilegedMode"] is False
    granted = {
        a
        for ss in role_statements(template("prod")).values()
        for s in ss
        for a in as_list(s["Action"])
    }
    assert not {"ecr:PutImage", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart"} & granted


def test_both_deploy_the_image_tag_the_release_names():
    for env in ENVIRONMENTS:
        deploy = actions(env)["SceptreLaunch"]
        assert deploy["InputArtifacts"] == [{"Name": "Release"}]
        project = template(env)["Resources"]["DeployProject"]["Properties"]
        assert project["Source"]["BuildSpec"] == "buildspecs/deploy.yml"
        variables = {v["Name"]: v["Value"] for v in project["Environment"]["EnvironmentVariables"]}
        # Sceptre passes CLOUDFORMATION_ROLE_ARN as the stacks' RoleARN (config/config.yaml).
        assert variables == {
            "ENVIRONMENT": env,
            "CLOUDFORMATION_ROLE_ARN": {"Fn::GetAtt": ["CloudFormationRole", "Arn"]},
        }
    build = actions("dev")["TestBuildPush"]
    assert "#{SourceVariables.CommitId}" in build["Configuration"]["EnvironmentVariables"]


def test_approval_only_in_prod():
    assert "Approve" in actions("prod")
    assert not any(a["ActionTypeId"]["Category"] == "Approval" for a in actions("dev").values())


def test_prod_pipeline_starts_when_a_release_lands():
    rule = only(template("prod"), "AWS::Events::Rule")["Properties"]
    assert rule["EventPattern"]["detail"]["object"]["key"] == ["product-service/release.zip"]
    assert actions("prod")["PromotedRelease"]["Configuration"]["PollForSourceChanges"] is False


# --- privilege ---


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_no_wildcard_action_admin_policy_or_iam_star(env):
    for name, statements in role_statements(template(env)).items():
        role = template(env)["Resources"][name]["Properties"]
        assert "ManagedPolicyArns" not in role, f"{name} attaches managed policies"
        for statement in statements:
            for action in as_list(statement["Action"]):
                assert "*" not in action, f"{name}: wildcard action {action}"
            if statement["Resource"] == "*":
                assert set(as_list(statement["Action"])) <= UNSCOPABLE, f"{name}: {statement}"


def foreign_references(role: dict, env: str) -> list[str]:
    """Every resource or condition value of a role that names the other environment."""
    found = []

    def walk(value):
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, str) and (
            f"product-service-{OTHER[env]}" in value or value == OTHER[env]
        ):
            found.append(value)

    for policy in role["Properties"].get("Policies", []):
        for statement in policy["PolicyDocument"]["Statement"]:
            walk(statement.get("Resource"))
            walk(statement.get("Condition"))
    return found


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_deploy_role_reaches_nothing_of_the_other_environment(env):
    assert foreign_references(template(env)["Resources"]["DeployRole"], env) == []
    statements = {s["Sid"]: s for s in role_statements(template(env))["DeployRole"] if "Sid" in s}
    stacks = [r["Fn::Sub"] for r in statements["OwnStacks"]["Resource"]]
    assert [s.split(":stack/")[1] for s in stacks] == [
        f"product-service-{env}-cluster/*",
        f"product-service-{env}-load-balancer/*",
        f"product-service-{env}-service/*",
    ]  # the workload stacks, not the pipeline: it cannot change itself
    # It passes one role, CloudFormation's, and only to CloudFormation.
    passing = [
        s for s in role_statements(template(env))["DeployRole"] if s["Action"] == "iam:PassRole"
    ]
    assert passing == [
        {
            "Sid": "PassTheCloudFormationRoleToCloudFormationOnly",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": {"Fn::GetAtt": ["CloudFormationRole", "Arn"]},
            "Condition": {"StringEquals": {"iam:PassedToService": "cloudformation.amazonaws.com"}},
        }
    ]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_deploy_role_creates_nothing_but_stacks(env):
    """Resources are CloudFormation's to create, as its service role: the deploy role may
    create stacks and, once, the two service-linked roles, nothing else."""
    actions = {
        a for s in role_statements(template(env))["DeployRole"] for a in as_list(s["Action"])
    }
    creating = {a for a in actions if a.split(":")[1].startswith(("Create", "Register", "Put"))}
    assert creating == {
        "cloudformation:CreateStack",
        "logs:PutLogEvents",  # its own build log
        "s3:PutObject",  # the pipeline's artifacts
        "logs:CreateLogStream",
    }


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_cloudformation_role_is_trusted_by_cloudformation_only(env):
    role = template(env)["Resources"]["CloudFormationRole"]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    # The form AWS documents for a service role: the service principal, nothing more
    # (docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-iam-servicerole.html).
    assert trust["Principal"] == {"Service": "cloudformation.amazonaws.com"}
    assert trust["Action"] == "sts:AssumeRole" and "Condition" not in trust
    outputs = template(env)["Outputs"]
    assert outputs["CloudFormationRoleArn"]["Value"] == {
        "Fn::GetAtt": ["CloudFormationRole", "Arn"]
    }
    assert outputs["DeployRoleArn"]["Value"] == {"Fn::GetAtt": ["DeployRole", "Arn"]}
    assert ("BuildRoleArn" in outputs) == (env == "dev")


def test_a_role_that_grew_beyond_its_environment_is_caught():
    """The check above bites: dev's deploy role given prod's stack is reported."""
    role = copy.deepcopy(template("dev")["Resources"]["DeployRole"])
    statements = role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    by_sid = {s.get("Sid"): s for s in statements}
    by_sid["OwnStacks"]["Resource"].append(
        "arn:aws:cloudformation:*:*:stack/product-service-prod-service/*"
    )
    by_sid["ReadOwnClusterAndServices"]["Resource"].append("product-service-prod")
    assert len(foreign_references(role, "dev")) == 2


def test_the_build_may_look_up_pushed_tags():
    """A retried build skips a tag already pushed: ECR tags are immutable."""
    statements = {s["Sid"]: s for s in role_statements(template("dev"))["BuildRole"] if "Sid" in s}
    assert "ecr:DescribeImages" in statements["PushToTheRepository"]["Action"]


def test_privileged_mode_only_for_the_docker_build_with_its_reason():
    privileged = [
        name
        for env in ENVIRONMENTS
        for name, p in resources(template(env), "AWS::CodeBuild::Project").items()
        if p["Properties"]["Environment"]["PrivilegedMode"]
    ]
    assert privileged == ["BuildProject"]
    (skip,) = template("dev")["Resources"]["BuildProject"]["Metadata"]["checkov"]["skip"]
    assert skip == {
        "id": "CKV_PS_5",
        "comment": "docker build needs the Docker daemon, which only privileged mode starts",
    }


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_artifact_bucket_is_kms_encrypted_versioned_and_private(env):
    bucket = template(env)["Resources"]["ArtifactBucket"]["Properties"]
    rule = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True}
    policy = only(template(env), "AWS::S3::BucketPolicy")["Properties"]["PolicyDocument"]
    assert policy["Statement"][0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_the_pipeline_deploys_only_the_workload_stacks(monkeypatch):
    """Inside the pipeline, sceptre launch skips every stack the deploy role may not touch."""
    workload = yaml.safe_load((ROOT / "config/config.yaml").read_text())["workload_stacks"]
    for env in ENVIRONMENTS:
        # Outside the pipeline only the network stack is skipped: neither environment as
        # shipped creates its network (network.create: false).
        ignored = {n for n, s in stack_config(env).items() if s.ignore}
        assert ignored == {f"{env}/network"}
    monkeypatch.setenv("IN_PIPELINE", "true")  # what buildspecs/deploy.yml sets
    for env in ENVIRONMENTS:
        launched = {
            n.split("/")[1]
            for n, s in stack_config(env).items()
            if n.startswith(f"{env}/") and not s.ignore
        }
        assert launched == set(workload)


# --- the shared registry ---


def test_registry_owns_the_repository_with_immutable_scanned_images():
    repository = only(registry()["template"], "AWS::ECR::Repository")
    properties = repository["Properties"]
    assert properties["ImageTagMutability"] == "IMMUTABLE"
    assert properties["ImageScanningConfiguration"] == {"ScanOnPush": True}
    assert "rulePriority" in properties["LifecyclePolicy"]["LifecyclePolicyText"]
    assert repository["DeletionPolicy"] == "Retain"
    for env in ENVIRONMENTS:
        assert not resources(template(env), "AWS::ECR::Repository")  # one owner only


def test_registry_takes_pull_accounts_from_config():
    parameters = registry()["template"]["Parameters"]
    assert parameters["PullAccountIds"]["Type"] == "CommaDelimitedList"
    # The emulator's seed creates this stack with RepositoryName and PullAccountIds alone.
    accounts = ("PullAccountIds", "PublishAccountId", "ReleaseAccountId")
    assert [parameters[name]["Default"] for name in accounts] == ["", "", ""]
    policy = registry()["template"]["Resources"]["Repository"]["Properties"]["RepositoryPolicyText"]
    assert policy["Fn::If"][0] == "HasRepositoryPolicy"  # none at all in one account


# --- cfn-lint ---


@pytest.mark.parametrize("name", [*ENVIRONMENTS, "shared"])
def test_cfn_lint_finds_nothing(name):
    text = registry()["text"] if name == "shared" else pipeline(name)["text"]
    assert cfn_lint(text) == []
