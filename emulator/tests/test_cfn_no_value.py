"""emulator/cfn_no_value.py: AWS::NoValue returned by Fn::If in a list removes the element, as
CloudFormation does (docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/
pseudo-parameter-reference.html, AWS::NoValue)."""

import json
import uuid


def test_a_statement_that_is_no_value_is_not_in_the_applied_policy(aws):
    name = f"bucket-{uuid.uuid4().hex[:8]}"
    statement = {
        "Sid": "Kept",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:DeleteBucket",
        "Resource": {"Fn::Sub": "arn:${AWS::Partition}:s3:::${Bucket}"},
    }
    template = {
        "Conditions": {"Never": {"Fn::Equals": ["a", "b"]}},
        "Resources": {
            "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": name}},
            "Policy": {
                "Type": "AWS::S3::BucketPolicy",
                "Properties": {
                    "Bucket": {"Ref": "Bucket"},
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            statement,
                            {"Fn::If": ["Never", statement, {"Ref": "AWS::NoValue"}]},
                            {"Ref": "AWS::NoValue"},
                        ],
                    },
                },
            },
        },
    }
    cfn = aws("cloudformation")
    cfn.create_stack(StackName=name, TemplateBody=json.dumps(template))
    assert cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    policy = json.loads(aws("s3").get_bucket_policy(Bucket=name)["Policy"])
    assert [s["Sid"] for s in policy["Statement"]] == ["Kept"]
