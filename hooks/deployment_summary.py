"""``!deployment_summary``: after a launch, say what now runs.

    hooks:
      after_launch:
        - !deployment_summary

Prints the stack status, the service's URL, the ECS service, running/desired tasks, the
task definition revision and the image digest, read back from CloudFormation and ECS (not
from config), so the summary shows what the account really has.
"""

from dataclasses import dataclass

from sceptre.hooks import Hook

from hooks.outcome import first_failure, stack_status, stands
from resolvers import AwsCall, stack_call


@dataclass(frozen=True)
class Deployment:
    """What one service stack runs, as read back from AWS."""

    stack_name: str
    stack_status: str
    cluster: str
    service: str
    running: int
    desired: int
    task_definition: str  # family:revision
    image: str
    url: str = ""  # the stack's ServiceUrl output, where the service answers

    @property
    def digest(self) -> str:
        """The image's sha256 digest, or '' when the image is not pinned by digest."""
        return self.image.partition("@")[2]


def describe_deployment(call: AwsCall, stack_name: str) -> Deployment:
    """Read a service stack's outputs, then its ECS service and task definition."""
    stack = call("cloudformation", "describe_stacks", {"StackName": stack_name})["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    cluster, service_name = outputs["ClusterName"], outputs["ServiceName"]
    service = call("ecs", "describe_services", {"cluster": cluster, "services": [service_name]})[
        "services"
    ][0]
    task = call("ecs", "describe_task_definition", {"taskDefinition": service["taskDefinition"]})[
        "taskDefinition"
    ]
    essential = [c for c in task["containerDefinitions"] if c.get("essential", True)]
    return Deployment(
        stack_name=stack_name,
        stack_status=stack["StackStatus"],
        cluster=cluster,
        service=service["serviceName"],
        running=service["runningCount"],
        desired=service["desiredCount"],
        task_definition=f"{task['family']}:{task['revision']}",
        image=essential[0]["image"],
        url=outputs.get("ServiceUrl", ""),
    )


def format_deployment(d: Deployment) -> str:
    """The summary as a few aligned lines."""
    rows = [
        ("stack", f"{d.stack_name} ({d.stack_status})"),
        *([("url", d.url)] if d.url else []),
        ("service", f"{d.service} in cluster {d.cluster}"),
        ("tasks", f"{d.running} running / {d.desired} desired"),
        ("task definition", d.task_definition),
        ("image", d.image),
    ]
    return "\n".join(f"  {label:<16} {value}" for label, value in rows)


class DeploymentSummary(Hook):
    """Prints the deployment summary of the stack it is attached to."""

    def run(self) -> None:
        call, name = stack_call(self), self.stack.external_name
        status = stack_status(call, name)
        if not stands(status):  # say why, rather than describe a service that is not there
            failure = first_failure(call, name) if status else "the stack was deleted"
            print(
                f"Launch of {self.stack.name} failed: {name} ended {status or 'DELETED'}\n"
                f"  first failure    {failure}",
                flush=True,
            )
            return
        deployment = describe_deployment(call, name)
        print(f"Deployed {self.stack.name}:\n{format_deployment(deployment)}", flush=True)
