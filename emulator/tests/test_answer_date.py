"""emulator/answer_date.py: every event of a stack operation is later than the answer to the
call that started it, as on AWS, where CreateStack answers and then creates
(docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStack.html). Sceptre
prints only the events later than the answer's Date header (``_wait_for_completion``)."""

import json
import uuid
from email.utils import parsedate_to_datetime

from emulator.tests.stacks import fargate_service


def test_a_creates_events_are_all_later_than_its_answer(slow_aws):
    """The emulator creates inside CreateStack, and a service's create lasts until its task
    has started: 2 s on this emulator, so the create crosses a second boundary (what made
    Sceptre drop the events from before it: the header has whole seconds)."""
    subnet = slow_aws("ec2").describe_subnets()["Subnets"][0]["SubnetId"]
    cfn = slow_aws("cloudformation")
    name = f"dated-{uuid.uuid4().hex[:8]}"
    answer = cfn.create_stack(StackName=name, TemplateBody=json.dumps(fargate_service(subnet)))
    dated = parsedate_to_datetime(answer["ResponseMetadata"]["HTTPHeaders"]["date"])

    events = cfn.describe_stack_events(StackName=name)["StackEvents"]
    first, last = min(e["Timestamp"] for e in events), max(e["Timestamp"] for e in events)
    assert (last - first).total_seconds() > 1  # so the events span two seconds or more
    assert {e["ResourceStatus"] for e in events} >= {"CREATE_IN_PROGRESS", "CREATE_COMPLETE"}
    early = [e["LogicalResourceId"] for e in events if not e["Timestamp"] > dated]
    assert not early, f"{len(early)} of {len(events)} events are not later than {dated}"
