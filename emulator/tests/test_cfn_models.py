"""emulator/cfn_models.py: buckets created and updated through CloudFormation keep what the
template declares, as CloudFormation's AWS::S3::Bucket handler applies it."""

import json
import uuid


def test_an_update_applies_a_bucket_configuration_added_later(aws):
    # VersioningConfiguration is updated in place ("Update requires: No interruption":
    # docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-s3-bucket.html).
    name = f"bucket-{uuid.uuid4().hex[:8]}"
    bare = {"Resources": {"Bucket": {"Type": "AWS::S3::Bucket"}}}
    versioned = {
        "Resources": {
            "Bucket": {
                "Type": "AWS::S3::Bucket",
                "Properties": {"VersioningConfiguration": {"Status": "Enabled"}},
            }
        }
    }
    cfn = aws("cloudformation")
    cfn.create_stack(StackName=name, TemplateBody=json.dumps(bare))
    bucket = cfn.describe_stack_resource(StackName=name, LogicalResourceId="Bucket")[
        "StackResourceDetail"
    ]["PhysicalResourceId"]
    cfn.update_stack(StackName=name, TemplateBody=json.dumps(versioned))
    assert cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"] == "UPDATE_COMPLETE"
    assert aws("s3").get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
