"""Tell an environment's SNS topic (``drift_topic_arn`` in its config.yaml) about drift."""

from sceptre.stack import Stack

from drift.detect import IN_SYNC, StackDrift
from drift.report import table

TOPIC_KEY = "drift_topic_arn"


def topics(stacks: list[Stack]) -> dict[str, list[Stack]]:
    """The stacks of each configured topic; stacks whose group sets none are left out."""
    by_topic: dict[str, list[Stack]] = {}
    for stack in stacks:
        topic = stack.stack_group_config.get(TOPIC_KEY)
        if topic:
            by_topic.setdefault(topic, []).append(stack)
    return by_topic


def notify(stacks: list[Stack], results: list[StackDrift], postscript: str = "") -> list[str]:
    """Publish the report of each topic's stacks when one of them is not in sync.

    In-sync runs send nothing: a nightly "all fine" trains people to ignore the topic.
    postscript (what a revert did, say) follows the report. Returns the topics notified.
    Raises botocore errors: a lost alert must not pass silently.
    """
    by_name = {r.stack: r for r in results}
    notified = []
    for topic, members in topics(stacks).items():
        mine = [by_name[s.name] for s in members]
        if all(r.status == IN_SYNC for r in mine):
            continue
        groups = sorted({r.group for r in mine})
        text = table(groups, mine)
        subject_line = text.splitlines()[0]
        if postscript:
            text += f"\n{postscript}"
        subject = f"Drift check {', '.join(groups)}: {subject_line}"
        members[0].connection_manager.call(
            "sns",
            "publish",
            {"TopicArn": topic, "Subject": subject[:100], "Message": text},
        )
        notified.append(topic)
    return notified
