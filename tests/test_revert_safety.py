"""The revert's safety rules and its CreateChangeSet request, on CloudFormation's answers.

No emulator offers a drift-aware change set that replaces or deletes a resource: with the
stack's own template CloudFormation does not reconcile immutable properties ("do not support
drift reconciliation for immutable properties", docs.aws.amazon.com/AWSCloudFormation/latest/
UserGuide/drift-aware-change-sets.html), so the emulator never plans one. The refusal is a
safety net for what AWS may still answer (a new resource type, a handler that replaces), so
it is tested here on DescribeChangeSet answers shaped as the API reference documents them
(ResourceChange: Action, Replacement; docs.aws.amazon.com/AWSCloudFormation/latest/
APIReference/API_ResourceChange.html), through a stand-in for the AWS call.
"""

from typing import Any

from drift.revert import create_request, plan_revert, reversals

STACK = {
    "StackName": "product-service-prod-service",
    "Parameters": [
        {"ParameterKey": "Image", "ParameterValue": "repo@sha256:abc"},
        {"ParameterKey": "VpcId", "ParameterValue": "vpc-1"},
    ],
    "Capabilities": ["CAPABILITY_IAM"],
    "RoleARN": "arn:aws:iam::123456789012:role/cfn",
    "Tags": [{"Key": "Environment", "Value": "prod"}],
}


def replacing(action: str = "Modify", replacement: str = "True") -> dict[str, Any]:
    return {
        "Type": "Resource",
        "ResourceChange": {
            "Action": action,
            "LogicalResourceId": "LogGroup",
            "ResourceType": "AWS::Logs::LogGroup",
            "Replacement": replacement,
            "ResourceDriftStatus": "MODIFIED",
            "Details": [
                {
                    "Target": {
                        "Attribute": "Properties",
                        "Name": "LogGroupName",
                        "Path": "/Properties/LogGroupName",
                        "RequiresRecreation": "Always",
                        "BeforeValue": "/ecs/renamed",
                        "BeforeValueFrom": "ACTUAL_STATE",
                        "AfterValue": "/ecs/product-service-prod",
                        "AfterValueFrom": "TEMPLATE",
                    }
                }
            ],
        },
    }


class FakeCloudFormation:
    """Answers the calls plan_revert makes, and records them."""

    def __init__(self, change: dict[str, Any]) -> None:
        self.change = change
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, service: str, command: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        assert service == "cloudformation"
        self.calls.append((command, kwargs))
        if command == "describe_stacks":
            return {"Stacks": [STACK]}
        if command == "create_change_set":
            return {"Id": "arn:aws:cloudformation:us-east-1:123456789012:changeSet/x/1"}
        if command == "describe_change_set":
            return {"Status": "CREATE_COMPLETE", "Changes": [self.change]}
        if command == "delete_change_set":
            return {}
        raise AssertionError(f"unexpected call {command}")

    def commands(self) -> list[str]:
        return [c for c, _ in self.calls]


def test_the_request_keeps_template_parameters_capabilities_role_and_tags():
    request = create_request(STACK, "drift-revert-1")
    assert request["DeploymentMode"] == "REVERT_DRIFT"
    assert request["UsePreviousTemplate"] is True and "TemplateBody" not in request
    assert request["Parameters"] == [
        {"ParameterKey": "Image", "UsePreviousValue": True},
        {"ParameterKey": "VpcId", "UsePreviousValue": True},
    ]
    assert request["Capabilities"] == ["CAPABILITY_IAM"]
    assert request["RoleARN"] == STACK["RoleARN"]
    # Without Tags or NotificationARNs CloudFormation keeps the stack's (API_CreateChangeSet).
    assert "Tags" not in request and "NotificationARNs" not in request


def test_a_replacement_is_refused_and_its_change_set_deleted():
    aws = FakeCloudFormation(replacing())
    plan = plan_revert(aws, "prod/service", STACK["StackName"], poll=0)
    assert plan.refused.startswith("the revert would replace LogGroup")
    assert plan.refused.endswith("run again with --allow-replacement to accept that")
    assert aws.commands()[-1] == "delete_change_set" and plan.change_set == ""


def test_a_possible_replacement_and_a_deletion_are_refused_too():
    conditional = plan_revert(
        FakeCloudFormation(replacing(replacement="Conditional")), "p/s", "s", poll=0
    )
    assert conditional.refused.startswith("the revert would maybe replace LogGroup")
    removal = plan_revert(FakeCloudFormation(replacing("Remove", "")), "p/s", "s", poll=0)
    assert removal.refused.startswith("the revert would delete LogGroup")


def test_allow_replacement_keeps_the_change_set_to_execute():
    aws = FakeCloudFormation(replacing())
    plan = plan_revert(aws, "prod/service", "s", allow_replacement=True, poll=0)
    assert plan.refused == "" and plan.change_set.endswith("changeSet/x/1")
    assert "delete_change_set" not in aws.commands()


def test_the_preview_shows_the_live_value_and_the_templates():
    (row,) = reversals("prod/service", {"Changes": [replacing()]})
    assert (row.resource, row.property, row.now, row.after) == (
        "LogGroup",
        "LogGroupName",
        "/ecs/renamed",
        "/ecs/product-service-prod",
    )


def test_a_resource_deleted_by_hand_is_shown_as_created_again():
    # A deleted resource: ResourceDriftStatus DELETED, Action Add (drift-aware-change-sets.html).
    change = {"ResourceChange": {"Action": "Add", "LogicalResourceId": "LogGroup"}}
    (row,) = reversals("dev/service", {"Changes": [change]})
    assert (row.property, row.now, row.after) == ("-", "deleted", "re-created")
