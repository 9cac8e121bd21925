"""emulator/protection.py: termination protection set and enforced as CloudFormation does."""

import uuid

import pytest
from botocore.exceptions import ClientError

TEMPLATE = "Resources:\n  Group: {Type: AWS::Logs::LogGroup}\n"


def test_a_protected_stack_is_not_deleted_until_protection_is_off(aws):
    cfn = aws("cloudformation")
    name = f"protected-{uuid.uuid4().hex[:8]}"
    cfn.create_stack(StackName=name, TemplateBody=TEMPLATE)
    cfn.update_termination_protection(StackName=name, EnableTerminationProtection=True)
    assert cfn.describe_stacks(StackName=name)["Stacks"][0]["EnableTerminationProtection"]

    with pytest.raises(ClientError, match="cannot be deleted while TerminationProtection"):
        cfn.delete_stack(StackName=name)
    assert cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"

    cfn.update_termination_protection(StackName=name, EnableTerminationProtection=False)
    cfn.delete_stack(StackName=name)
    with pytest.raises(ClientError, match="does not exist"):
        cfn.describe_stacks(StackName=name)
