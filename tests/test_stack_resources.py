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
  Bucket:
    Type: AWS::S3::Bucket
  Policy:
    Type: AWS::S3::BucketPolicy   # moto's CloudFormation skips this type
    Properties:
      Bucket: !Ref Bucket
      PolicyDocument: {Statement: [{Effect: Deny, Principal: "*", Action: s3:GetObject,
                                    Resource: !Sub "${Bucket.Arn}/*"}]}
"""


def test_declared_resources_reads_templates_with_intrinsic_tags():
    assert declared_resources(TEMPLATE) == {
        "Bucket": "AWS::S3::Bucket",
        "Policy": "AWS::S3::BucketPolicy",
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
    assert missing == {"Policy": "AWS::S3::BucketPolicy"}

    StackResources(stack=stack).run()
    out = capsys.readouterr().out
    assert f"{name}: 1 of 2 declared resources exist" in out
    assert "Policy (AWS::S3::BucketPolicy)" in out


def test_a_complete_stack_is_one_line():
    assert format_report("s", {"A": "T"}, {}) == "s: 1 of 1 declared resources exist"
