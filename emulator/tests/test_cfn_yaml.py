"""emulator/cfn_yaml.py: YAML templates, short forms included, read as CloudFormation reads
them (docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html:
``!Ref``, ``!Sub``, ``!GetAtt A.B``, ``!If``, ``!Equals``, ``!Or`` and ``!Condition``), through
libyaml's loader."""

import uuid

TEMPLATE = """\
Parameters:
  Stage:
    Type: String
Conditions:
  IsDev: !Equals [!Ref Stage, dev]
  IsProd: !Equals [!Ref Stage, prod]
  IsNamed: !Or [!Condition IsDev, !Condition IsProd]  # the short form moto misread
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Condition: IsNamed
    Properties:
      TopicName: !Sub "${AWS::StackName}-${Stage}"
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !If [IsNamed, !Sub "${AWS::StackName}-named", !Sub "${AWS::StackName}-other"]
Outputs:
  QueueArn:
    Value: !GetAtt Queue.Arn
"""


def _create(aws, stage: str) -> tuple[str, dict[str, str]]:
    name = f"yaml-{uuid.uuid4().hex[:8]}"
    cfn = aws("cloudformation")
    cfn.create_stack(
        StackName=name,
        TemplateBody=TEMPLATE,
        Parameters=[{"ParameterKey": "Stage", "ParameterValue": stage}],
    )
    (stack,) = cfn.describe_stacks(StackName=name)["Stacks"]
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    resources = cfn.describe_stack_resources(StackName=name)["StackResources"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    return name, {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources} | outputs


def test_a_condition_referring_to_others_holds_when_one_of_them_does(aws):
    name, created = _create(aws, "prod")
    assert created["Topic"].endswith(f":{name}-prod")
    assert created["QueueArn"].endswith(f":{name}-named")


def test_a_condition_referring_to_others_fails_when_none_of_them_holds(aws):
    name, created = _create(aws, "test")
    assert "Topic" not in created
    assert created["QueueArn"].endswith(f":{name}-other")
