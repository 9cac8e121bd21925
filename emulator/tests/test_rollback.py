"""emulator/rollback.py: what a failed stack operation leaves, as CloudFormation leaves it."""

import json
import uuid

import pytest

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
