"""Both layouts from the same templates, the difference only in config/config.yaml's accounts.

One account (all three ids "", the default) and an account per environment (the emulator's
ids: tools 123456789012, dev 111111111111, prod 222222222222). Every stack of dev, prod and
shared is rendered in both; with accounts set, the policies name exactly those accounts and
the roles' paths (README: "One account or several"), and the templates pass cfn-lint,
parliament and checkov (in tests/test_scanners.py's one checkov run); with accounts empty,
no statement admits another account, and there is no release key and no event bus policy.

The registry stack is plain CloudFormation whose account ids arrive as parameters: it is read
here as CloudFormation would deploy it (conditions, !If, !Ref and !Sub evaluated by
``deployed`` below) with the parameters config/shared/registry.yaml passes.
"""

import json
import re
from pathlib import Path
from typing import Any

import pytest
from sceptre.context import SceptreContext
from sceptre.plan.plan import SceptrePlan

from tests.templates import cfn_lint, copy_project, render, rendered, resources
from tests.test_iam_lint import documents, explained, findings

TOOLS, DEV, PROD = "123456789012", "111111111111", "222222222222"
REGION = "us-east-1"
GROUPS = ("shared", "dev", "prod")
ACCOUNT_ID = re.compile(r"(?<![0-9])[0-9]{12}(?![0-9])")
# IAM role ARNs hold the role's path before its name: arn:aws:iam::ACCOUNT:role/PATH/NAME
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-arns).
# The design gives the roles that cross accounts these paths, in both layouts.
PATHS = {
    ("service", "ExecutionRole"): "/product-service/execution/",
    ("pipeline", "BuildRole"): "/product-service/build/",
    ("pipeline", "PipelineRole"): "/product-service/pipeline/",
    ("pipeline", "DeployRole"): "/product-service/deploy/",
}


def project_with(tmp_path: Path, tools: str, dev: str, prod: str) -> Path:
    """A copy of the project whose config/config.yaml names these accounts."""
    project = copy_project(tmp_path)
    path = project / "config" / "config.yaml"
    text = path.read_text()
    for role, account in (("tools", tools), ("dev", dev), ("prod", prod)):
        assert f'  {role}: ""' in text
        text = text.replace(f'  {role}: ""', f'  {role}: "{account}"', 1)
    path.write_text(text)
    return project


@pytest.fixture(scope="module")
def layouts(tmp_path_factory) -> dict[str, Path]:
    """The project as shipped (one account) and with an account per environment."""
    return {
        "one": project_with(tmp_path_factory.mktemp("one"), "", "", ""),
        "several": project_with(tmp_path_factory.mktemp("several"), TOOLS, DEV, PROD),
    }


def stacks(project: Path) -> dict[str, dict[str, Any]]:
    """Every stack of shared, dev and prod, rendered: "dev/pipeline" -> {text, template}."""
    return {name: found for group in GROUPS for name, found in render(group, project).items()}


def registry_parameters(project: Path) -> dict[str, str]:
    """What config/shared/registry.yaml passes to the registry stack."""
    plan = SceptrePlan(SceptreContext(project_path=str(project), command_path="shared"))
    (stack,) = [s for s in plan.graph if s.name == "shared/registry"]
    return {key: str(value) for key, value in stack.parameters.items()}


# --- the registry stack as CloudFormation deploys it ---

NO_VALUE = object()


def deployed(template: dict, parameters: dict[str, str]) -> dict:
    """The template's resources and outputs with its conditions, !If, !Ref and !Sub of
    parameters and pseudo parameters evaluated, resources without their condition dropped.
    A resource's own attributes stay as "<Name.Attr>" (known only once deployed)."""
    values: dict[str, Any] = {
        "AWS::Partition": "aws",
        "AWS::Region": REGION,
        "AWS::AccountId": TOOLS,
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::NoValue": NO_VALUE,
    }
    for name, spec in template["Parameters"].items():
        value = parameters.get(name, spec.get("Default", ""))
        values[name] = value.split(",") if spec["Type"] == "CommaDelimitedList" else value
    conditions: dict[str, bool] = {}

    def condition(name: str) -> bool:
        if name not in conditions:
            conditions[name] = bool(evaluate(template["Conditions"][name]))
        return conditions[name]

    def evaluate(value: Any) -> Any:
        if isinstance(value, list):
            return [v for v in (evaluate(item) for item in value) if v is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, arg), = value.items()  # fmt: skip
            if key == "Ref":
                return values.get(arg, f"<{arg}>")
            if key == "Fn::GetAtt":
                return f"<{'.'.join(arg)}>"
            if key == "Fn::If":
                return evaluate(arg[1] if condition(arg[0]) else arg[2])
            if key == "Condition":
                return condition(arg)
            if key == "Fn::Not":
                return not evaluate(arg[0])
            if key == "Fn::Or":
                return any(evaluate(a) for a in arg)
            if key == "Fn::Equals":
                return evaluate(arg[0]) == evaluate(arg[1])
            if key == "Fn::Join":
                return arg[0].join(evaluate(arg[1]))
            if key == "Fn::Sub":
                return re.sub(
                    r"\$\{([^}]+)\}",
                    lambda m: str(values.get(m.group(1), f"<{m.group(1)}>")),
                    arg,
                )
        return {k: v for k, v in ((k, evaluate(v)) for k, v in value.items()) if v is not NO_VALUE}

    kept = {
        name: evaluate(resource)
        for name, resource in template["Resources"].items()
        if "Condition" not in resource or condition(resource["Condition"])
    }
    outputs = {
        name: evaluate(output)
        for name, output in template.get("Outputs", {}).items()
        if "Condition" not in output or condition(output["Condition"])
    }
    return {"Resources": kept, "Outputs": outputs}


def statements(document: dict | None) -> dict[str, dict]:
    """A policy document's statements by Sid."""
    return {s["Sid"]: s for s in (document or {}).get("Statement", [])}


def pipeline_arn(account: str, purpose: str) -> str:
    return f"arn:aws:iam::{account}:role/product-service/{purpose}/*"


@pytest.fixture(scope="module")
def registry(layouts) -> dict[str, dict]:
    """The registry stack as deployed in each layout, with the parameters config passes."""
    return {
        layout: deployed(
            stacks(project)["shared/registry"]["template"], registry_parameters(project)
        )
        for layout, project in layouts.items()
    }


# --- config passes the accounts ---


def test_shared_passes_the_environments_accounts(layouts):
    assert registry_parameters(layouts["several"]) == {
        "RepositoryName": "product-service",
        "PullAccountIds": f"{DEV},{PROD}",
        "PublishAccountId": DEV,
        "ReleaseAccountId": PROD,
    }
    assert registry_parameters(layouts["one"]) == {
        "RepositoryName": "product-service",
        "PullAccountIds": "",
        "PublishAccountId": "",
        "ReleaseAccountId": "",
    }


# --- an account per environment: the tools account's resource policies ---


def test_the_repository_admits_exactly_the_environments_roles(registry):
    """ECR repository policies name other accounts as principals; pushing takes these five
    actions (https://docs.aws.amazon.com/AmazonECR/latest/userguide/
    repository-policy-examples.html, "Allow another account"); aws:PrincipalArn narrows an
    account to the roles on a path."""
    repository = registry["several"]["Resources"]["Repository"]["Properties"]
    found = statements(repository["RepositoryPolicyText"])
    assert set(found) == {
        "PullByExecutionRoles",
        "DescribeByEnvironmentAccounts",
        "PushByTheBuildRole",
    }
    pull = found["PullByExecutionRoles"]
    assert pull["Principal"] == {"AWS": [DEV, PROD]}
    assert sorted(pull["Action"]) == [
        "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"
    ]  # fmt: skip
    # The account segment is *: Principal already names the accounts.
    assert pull["Condition"] == {
        "ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/product-service/execution/*"}
    }
    describe = found["DescribeByEnvironmentAccounts"]
    assert describe["Principal"] == {"AWS": [DEV, PROD]}
    assert sorted(describe["Action"]) == ["ecr:DescribeImages", "ecr:DescribeRepositories"]
    push = found["PushByTheBuildRole"]
    assert push["Principal"] == {"AWS": DEV}
    assert sorted(push["Action"]) == [
        "ecr:BatchCheckLayerAvailability", "ecr:CompleteLayerUpload", "ecr:InitiateLayerUpload",
        "ecr:PutImage", "ecr:UploadLayerPart",
    ]  # fmt: skip
    assert push["Condition"] == {"ArnLike": {"aws:PrincipalArn": pipeline_arn(DEV, "build")}}


def test_the_release_key_admits_the_pipelines_through_s3_only(registry):
    """A key policy admits another account by its root principal, whose IAM then delegates
    (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-
    accounts.html); the key's own account administers it as in AWS's default key policy
    (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html).
    kms:ViaService is SERVICE.REGION.amazonaws.com
    (https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html)."""
    key = registry["several"]["Resources"]["ReleaseKey"]["Properties"]
    found = statements(key["KeyPolicy"])
    assert found["ToolsAccountAdministers"]["Principal"] == {"AWS": f"arn:aws:iam::{TOOLS}:root"}
    via_s3 = {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}
    publish = found["PublishingPipelineEncrypts"]
    assert publish["Principal"] == {"AWS": f"arn:aws:iam::{DEV}:root"}
    assert sorted(publish["Action"]) == [
        "kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"
    ]  # fmt: skip
    assert publish["Condition"] == {
        "ArnLike": {"aws:PrincipalArn": pipeline_arn(DEV, "pipeline")},
        "StringEquals": via_s3,
    }
    release = found["ReleasingPipelineDecrypts"]
    assert release["Principal"] == {"AWS": f"arn:aws:iam::{PROD}:root"}
    assert sorted(release["Action"]) == ["kms:Decrypt", "kms:DescribeKey"]
    assert release["Condition"] == {
        "ArnLike": {"aws:PrincipalArn": pipeline_arn(PROD, "pipeline")},
        "StringEquals": via_s3,
    }
    assert set(found) == {
        "ToolsAccountAdministers", "PublishingPipelineEncrypts", "ReleasingPipelineDecrypts"
    }  # fmt: skip
    assert registry["several"]["Outputs"]["ReleaseKeyArn"]["Value"] == "<ReleaseKey.Arn>"


def test_the_release_bucket_is_written_by_dev_read_by_prod(registry):
    resources_ = registry["several"]["Resources"]
    bucket = resources_["ReleaseBucket"]["Properties"]
    (rule,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"] == "<ReleaseKey.Arn>"
    found = statements(resources_["ReleaseBucketPolicy"]["Properties"]["PolicyDocument"])
    release_zip = "<ReleaseBucket.Arn>/product-service/release.zip"
    promote = found["PublishingPipelinePromotes"]
    assert (promote["Principal"], promote["Action"], promote["Resource"]) == (
        {"AWS": DEV}, "s3:PutObject", release_zip
    )  # fmt: skip
    assert promote["Condition"] == {"ArnLike": {"aws:PrincipalArn": pipeline_arn(DEV, "pipeline")}}
    read = found["ReleasingPipelineReadsReleases"]
    assert (read["Principal"], sorted(read["Action"]), read["Resource"]) == (
        {"AWS": PROD}, ["s3:GetObject", "s3:GetObjectVersion"], release_zip
    )  # fmt: skip
    bucket_read = found["ReleasingPipelineReadsTheBucket"]
    assert bucket_read["Principal"] == {"AWS": PROD}
    assert sorted(bucket_read["Action"]) == ["s3:GetBucketLocation", "s3:GetBucketVersioning"]
    for sid in ("ReleasingPipelineReadsReleases", "ReleasingPipelineReadsTheBucket"):
        assert found[sid]["Condition"] == {
            "ArnLike": {"aws:PrincipalArn": pipeline_arn(PROD, "pipeline")}
        }


def test_release_events_go_to_prods_default_bus(registry):
    """A rule sends to another account's bus by its ARN, with a role in the sending account
    allowed events:PutEvents on it (https://docs.aws.amazon.com/eventbridge/latest/userguide/
    eb-cross-account.html)."""
    resources_ = registry["several"]["Resources"]
    bus = f"arn:aws:events:{REGION}:{PROD}:event-bus/default"
    (target,) = resources_["ForwardReleases"]["Properties"]["Targets"]
    assert target["Arn"] == bus
    assert target["RoleArn"] == "<ForwardReleasesRole.Arn>"
    (policy,) = resources_["ForwardReleasesRole"]["Properties"]["Policies"]
    assert policy["PolicyDocument"]["Statement"] == [
        {"Effect": "Allow", "Action": "events:PutEvents", "Resource": bus}
    ]


def test_the_registry_names_no_other_account(registry):
    text = json.dumps(registry["several"])
    assert set(ACCOUNT_ID.findall(text)) == {TOOLS, DEV, PROD}


# --- an account per environment: the environments' stacks ---


def env_resources(project: Path) -> dict[str, dict]:
    """Each environment stack's resources, keyed "dev/pipeline"."""
    return {
        name: found["template"]["Resources"]
        for name, found in stacks(project).items()
        if not name.startswith("shared/")
    }


@pytest.mark.parametrize("layout", ["one", "several"])
def test_roles_that_cross_accounts_have_their_paths(layouts, layout):
    for name, found in env_resources(layouts[layout]).items():
        stack = name.split("/")[1]
        for (kind, role), path in PATHS.items():
            if kind == stack and role in found:
                assert found[role]["Properties"]["Path"] == path, (name, role)
    dev = env_resources(layouts[layout])["dev/pipeline"]
    assert {role for kind, role in PATHS if kind == "pipeline"} <= set(dev)


def test_environments_name_only_the_tools_account(layouts):
    """Their own account is ${AWS::AccountId}; the registry, bucket and key are the tools one's."""
    for name, found in env_resources(layouts["several"]).items():
        assert set(ACCOUNT_ID.findall(json.dumps(found))) <= {TOOLS}, name


def test_environments_use_the_tools_registry_bucket_and_key(layouts):
    found = env_resources(layouts["several"])
    repository = f"arn:${{AWS::Partition}}:ecr:${{AWS::Region}}:{TOOLS}:repository/product-service"
    for env in ("dev", "prod"):
        execution = found[f"{env}/service"]["ExecutionRole"]["Properties"]["Policies"][0]
        pull = [
            s
            for s in execution["PolicyDocument"]["Statement"]
            if "ecr:BatchGetImage" in s["Action"]
        ]
        assert [s["Resource"] for s in pull] == [{"Fn::Sub": repository}]
        deploy = statements(
            found[f"{env}/pipeline"]["DeployRole"]["Properties"]["Policies"][0]["PolicyDocument"]
        )
        assert deploy["ReadTheRepository"]["Resource"] == {"Fn::Sub": repository}
    build = statements(
        found["dev/pipeline"]["BuildRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    )
    assert build["PushToTheRepository"]["Resource"] == {"Fn::Sub": repository}
    variables = found["dev/pipeline"]["BuildProject"]["Properties"]["Environment"][
        "EnvironmentVariables"
    ]
    # A repository URI: ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME
    # (https://docs.aws.amazon.com/AmazonECR/latest/userguide/Registries.html).
    uri = f"{TOOLS}.dkr.ecr.${{AWS::Region}}.${{AWS::URLSuffix}}/product-service"
    assert {"Name": "REPOSITORY_URI", "Value": {"Fn::Sub": uri}} in variables
    key = f"arn:${{AWS::Partition}}:kms:${{AWS::Region}}:{TOOLS}:key/*"
    via_s3 = {"StringEquals": {"kms:ViaService": {"Fn::Sub": "s3.${AWS::Region}.amazonaws.com"}}}
    for env, sid, actions in (
        ("dev", "EncryptReleasesWithTheToolsKey",
         ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"]),
        ("prod", "DecryptReleasesWithTheToolsKey", ["kms:Decrypt", "kms:DescribeKey"]),
    ):  # fmt: skip
        policy = found[f"{env}/pipeline"]["PipelineRole"]["Properties"]["Policies"][0]
        statement = statements(policy["PolicyDocument"])[sid]
        assert (statement["Resource"], sorted(statement["Action"]), statement["Condition"]) == (
            {"Fn::Sub": key}, actions, via_s3
        )  # fmt: skip
    bucket = f"product-service-releases-{TOOLS}-${{AWS::Region}}"
    source = found["prod/pipeline"]["Pipeline"]["Properties"]["Stages"][0]["Actions"][0]
    assert source["Configuration"]["S3Bucket"] == {"Fn::Sub": bucket}
    promote = found["dev/pipeline"]["Pipeline"]["Properties"]["Stages"][-1]["Actions"][0]
    assert promote["Configuration"]["BucketName"] == {"Fn::Sub": bucket}


def test_prods_bus_admits_the_tools_account(layouts):
    """The receiving bus's policy lets the sending account put events
    (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cross-account.html)."""
    found = env_resources(layouts["several"])
    (policy,) = resources(
        {"Resources": found["prod/pipeline"]}, "AWS::Events::EventBusPolicy"
    ).values()
    statement = policy["Properties"]["Statement"]
    assert statement["Principal"] == {
        "AWS": {"Fn::Sub": f"arn:${{AWS::Partition}}:iam::{TOOLS}:root"}
    }
    assert statement["Action"] == "events:PutEvents"
    assert not resources({"Resources": found["dev/pipeline"]}, "AWS::Events::EventBusPolicy")


# --- one account: nothing crosses ---


def test_one_account_has_no_cross_account_statement_key_or_bus_policy(layouts, registry):
    one = registry["one"]["Resources"]
    assert "RepositoryPolicyText" not in one["Repository"]["Properties"]
    assert not {"ReleaseKey", "ReleaseKeyAlias", "ForwardReleases", "ForwardReleasesRole"} & set(
        one
    )
    assert "ReleaseKeyArn" not in registry["one"]["Outputs"]
    bucket = one["ReleaseBucket"]["Properties"]["BucketEncryption"]
    (rule,) = bucket["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms"}  # AWS managed key
    policy = one["ReleaseBucketPolicy"]["Properties"]["PolicyDocument"]
    assert list(statements(policy)) == ["DenyPlainHttp"]
    assert set(ACCOUNT_ID.findall(json.dumps(registry["one"]))) <= {TOOLS}  # its own only
    for name, found in env_resources(layouts["one"]).items():
        text = json.dumps(found)
        assert not ACCOUNT_ID.findall(text), name
        assert "AWS::Events::EventBusPolicy" not in text and "kms:ViaService" not in text, name
        assert "ToolsKey" not in text, name


# --- scanners over the layout with accounts ---


def changed_by_accounts(project: Path) -> dict[str, dict[str, Any]]:
    """The stacks of project (a layout with accounts) that accounts change: the others render
    exactly as the shipped project's, which tests/test_templates.py and tests/test_scanners.py
    scan already. tests/test_scanners.py scans these with checkov."""
    shipped = {name: found for group in GROUPS for name, found in rendered(group).items()}
    changed = {
        name: found
        for name, found in stacks(project).items()
        if found["text"] != shipped[name]["text"]
    }
    assert changed, "accounts changed no template: a scan of them would check nothing"
    return changed


@pytest.fixture(scope="module")
def several_stacks(layouts) -> dict[str, dict[str, Any]]:
    return changed_by_accounts(layouts["several"])


def test_cfn_lint_finds_nothing_with_accounts(several_stacks):
    for name, found in several_stacks.items():
        assert cfn_lint(found["text"], REGION) == [], name


def test_parliament_finds_nothing_with_accounts(several_stacks):
    unexplained = [
        (name, where, finding)
        for name, found in several_stacks.items()
        for where, document in documents(found["template"])
        for finding in findings(document)
        if not explained(finding)
    ]
    assert unexplained == []
