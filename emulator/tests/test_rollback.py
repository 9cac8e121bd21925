"""emulator/rollback.py: what a failed stack operation leaves, as CloudFormation leaves it."""

import json
import threading
import uuid

import pytest

from emulator.tests.stacks import fargate_service, until_created_meanwhile

# A log group CloudWatch Logs refuses (retention 8 is not an allowed value:
# docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html),
# with an output that reads an attribute of it.
TEMPLATE = {
    "Resources": {"Group": {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 8}}},
    "Outputs": {"Arn": {"Value": {"Fn::GetAtt": ["Group", "Arn"]}}},
}


@pytest.mark.parametrize(
    ("on_failure", "status"), [("ROLLBACK", "ROLLBACK_COMPLETE"), ("DO_NOTHING", "CREATE_FAILED")]
)
def test_a_failed_create_has_no_outputs(aws, on_failure, status):
    # Outputs are set when a stack operation completes; a failed create has none, and
    # DescribeStacks answers normally ("Outputs" is optional in the Stack type:
    # docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_Stack.html).
    name = f"failed-outputs-{uuid.uuid4().hex[:8]}"
    cfn = aws("cloudformation")
    cfn.create_stack(StackName=name, TemplateBody=json.dumps(TEMPLATE), OnFailure=on_failure)
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    assert stack["StackStatus"] == status
    assert "Outputs" not in stack


def test_reads_while_a_create_runs_create_nothing(slow_aws):
    aws = slow_aws
    # While a stack is created, another client may poll it; CloudFormation shows the resources
    # created so far and no outputs until the create completes
    # (docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/
    # cfn-console-view-stack-data-resources.html).
    # A service's create lasts until its tasks start (emulator/task_lifecycle.py; 2 s here).
    subnet = aws("ec2").describe_subnets()["Subnets"][0]["SubnetId"]
    name = f"polled-{uuid.uuid4().hex[:8]}"
    template = fargate_service(subnet)
    cfn = aws("cloudformation")
    body = json.dumps(template)
    create = threading.Thread(
        target=cfn.create_stack, kwargs={"StackName": name, "TemplateBody": body}
    )
    create.start()
    polled = aws("cloudformation")
    until_created_meanwhile(polled, name)
    during = polled.describe_stacks(StackName=name)["Stacks"][0]
    listed = polled.describe_stack_resources(StackName=name)["StackResources"]
    create.join()

    assert during["StackStatus"] == "CREATE_IN_PROGRESS"
    assert "Outputs" not in during
    complete = [r["LogicalResourceId"] for r in listed if r["ResourceStatus"] == "CREATE_COMPLETE"]
    assert "Service" not in complete
    outputs = {
        o["OutputKey"]: o["OutputValue"]
        for o in cfn.describe_stacks(StackName=name)["Stacks"][0]["Outputs"]
    }
    services = aws("ecs").list_services(cluster=outputs["Cluster"])["serviceArns"]
    assert len(services) == 1
