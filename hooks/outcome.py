"""What a launch left behind: whether the stack stands, and what failed first when not.

Sceptre runs after_launch hooks whatever the launch's outcome. A hook that changes or
describes the stack acts only on one that stands: its status ends ``_COMPLETE`` and is not
a rollback. A failed first create is never protected, so the next launch can delete it and
retry (a stack in ROLLBACK_COMPLETE can only be deleted:
docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/troubleshooting.html).
"""

from botocore.exceptions import ClientError

from resolvers import AwsCall, paginate


def stack_status(call: AwsCall, stack_name: str) -> str:
    """The stack's status, or "" when no such stack exists (a failed create deleted it)."""
    try:
        stacks = call("cloudformation", "describe_stacks", {"StackName": stack_name})["Stacks"]
    except ClientError as error:
        if "does not exist" in error.response["Error"].get("Message", ""):
            return ""
        raise
    return stacks[0]["StackStatus"]


def stands(status: str) -> bool:
    """Whether a launch that ended in this status left a working stack."""
    return status.endswith("_COMPLETE") and "ROLLBACK" not in status and "DELETE" not in status


def first_failure(call: AwsCall, stack_name: str) -> str:
    """The first resource that failed in the stack's latest operation, as
    "LogicalId (Type): reason", or the stack's own reason when no resource failed."""
    events = paginate(
        call,
        "cloudformation",
        "describe_stack_events",
        {"StackName": stack_name},
        "StackEvents",
        "NextToken",
    )
    latest = []  # newest first, back to where the latest operation started
    for event in events:
        latest.append(event)
        started = event["ResourceStatus"] in ("CREATE_IN_PROGRESS", "UPDATE_IN_PROGRESS")
        if started and event["LogicalResourceId"] == stack_name:
            break
    failed = [e for e in latest if e["ResourceStatus"].endswith("_FAILED")]
    own = [e for e in failed if e["LogicalResourceId"] != stack_name] or failed
    if not own:
        return "no resource reported a failure"
    first = own[-1]  # the oldest
    return (
        f"{first['LogicalResourceId']} ({first['ResourceType']}): "
        f"{first.get('ResourceStatusReason', 'no reason given')}"
    )
