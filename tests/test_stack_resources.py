"""The !stack_resources hook, against a stack on the emulator that holds a skipped type."""

import uuid
from types import SimpleNamespace

from sceptre.connection_manager import ConnectionManager

from hooks.stack_resources import (
    StackResources,
    declared_resources,
    format_report,
    missing_resources,
)
from resolvers import stack_call

TEMPLATE = """
Resources:
  Topic:
    Type: AWS::SNS::Topic
  Policy:
    Type: AWS::SNS::TopicPolicy   # moto's CloudFormation skips this type
    Properties:
      Topics: [!Ref Topic]
      PolicyDocument: {Statement: [{Effect: Deny, Principal: "*", Action: sns:Publish,
                                    Resource: !Ref Topic}]}
"""


def test_declared_resources_reads_templates_with_intrinsic_tags():
    assert declared_resources(TEMPLATE) == {
        "Topic": "AWS::SNS::Topic",
        "Policy": "AWS::SNS::TopicPolicy",
    }


def test_reports_what_the_endpoint_did_not_create(aws_env, aws, capsys):
    name = f"report-{uuid.uuid4().hex[:8]}"
    aws("cloudformation").create_stack(StackName=name, TemplateBody=TEMPLATE)
    stack = SimpleNamespace(
        connection_manager=ConnectionManager(region="us-east-1"),
        name="shared/report",
        external_name=name,
        template=SimpleNamespace(body=TEMPLATE),
    )
    missing = missing_resources(
        stack_call(SimpleNamespace(stack=stack)), name, declared_resources(TEMPLATE)
    )
    assert missing == {"Policy": "AWS::SNS::TopicPolicy"}

    StackResources(stack=stack).run()
    out = capsys.readouterr().out
    assert f"{name}: 1 of 2 declared resources exist" in out
    assert "Policy (AWS::SNS::TopicPolicy)" in out


def test_a_complete_stack_is_one_line():
    assert format_report("s", {"A": "T"}, {}) == "s: 1 of 1 declared resources exist"
