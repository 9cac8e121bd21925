"""emulator/answer_date.py: every event of a stack operation is later than the answer to the
call that started it, as on AWS, where CreateStack answers and then creates
(docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStack.html). Sceptre
prints only the events later than the answer's Date header (``_wait_for_completion``)."""

import json
import time
import uuid
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

TEMPLATE = {"Resources": {f"Queue{n}": {"Type": "AWS::SQS::Queue"} for n in range(20)}}


def _create_across_a_second_boundary(cfn) -> tuple[datetime, list[dict]]:
    """The answer's date and the events of a create whose events began in one second and whose
    answer came in the next (what made Sceptre drop events: the header has whole seconds)."""
    for _ in range(5):
        time.sleep((0.98 - time.time() % 1) % 1)  # 20 ms before a second begins
        name = f"dated-{uuid.uuid4().hex[:8]}"
        answer = cfn.create_stack(StackName=name, TemplateBody=json.dumps(TEMPLATE))
        answered = datetime.now(UTC)
        events = cfn.describe_stack_events(StackName=name)["StackEvents"]
        first = min(event["Timestamp"] for event in events)
        if first.replace(microsecond=0) < answered.replace(microsecond=0):
            dated = parsedate_to_datetime(answer["ResponseMetadata"]["HTTPHeaders"]["date"])
            return dated, events
    raise AssertionError("no create crossed a second boundary in five tries")


def test_a_creates_events_are_all_later_than_its_answer(aws):
    dated, events = _create_across_a_second_boundary(aws("cloudformation"))
    assert {e["ResourceStatus"] for e in events} >= {"CREATE_IN_PROGRESS", "CREATE_COMPLETE"}
    early = [e["LogicalResourceId"] for e in events if not e["Timestamp"] > dated]
    assert not early, f"{len(early)} of {len(events)} events are not later than {dated}"
