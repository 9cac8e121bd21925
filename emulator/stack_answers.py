"""CloudFormation's answers as AWS gives them: stack parameters, resource tags, ValidateTemplate.

moto 5.2.5 differs from AWS in three answers that clients (``sceptre diff``, ``sceptre
validate``, IAM conditions on ``aws:ResourceTag``) read:

- DescribeStacks returns a ``List<...>`` or ``CommaDelimitedList`` parameter as the Python
  repr of a list ("['subnet-a', 'subnet-b']"); AWS returns the value as given, "subnet-a,
  subnet-b". It also masks a NoEcho parameter only when its *value* happens to be a key name
  (``Stack.parameter_list`` compares the value with the NoEcho keys). AWS masks every NoEcho
  parameter as "****"
  (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/parameters-section-structure.html).
- Stack tags reach EC2 resources only. CloudFormation applies stack-level tags, and its own
  aws:cloudformation:stack-name / stack-id / logical-id tags, to every resource that supports
  tags (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-resource-tags.html).
- ValidateTemplate refuses a template on any cfn-lint finding, warnings included (an unused
  parameter is "refused"); AWS refuses template errors only. And it returns no Parameters;
  AWS returns each with ParameterKey, DefaultValue,
  NoEcho and Description, and the template's Description
  (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ValidateTemplate.html).

- CreateStack of a name another CreateStack is still creating: moto checks the name, then
  parses the template and only then records the stack, so two clients that create the same
  stack at once (two launches) both succeed and the account ends with two of every resource.
  AWS refuses the second with AlreadyExistsException "Stack [NAME] already exists"
  (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStack.html,
  Errors).

Seams: ``CloudFormationBackend.create_stack`` (the name reserved for the call); the
``Stack.parameter_list`` property (what moto serializes as Parameters),
``parsing.parse_and_create_resource`` / ``parse_and_update_resource`` (wrapped around
emulator/rollback.py's wrappers, so tags go on a resource once it stands), ``Stack.update``
(stack tags changed by UpdateStack reach every resource),
``CloudFormationResponse.validate_template`` and ``CloudFormationBackend.validate_template``
(cfn-lint's errors kept, its warnings and informational findings dropped).

Gaps: tags go on the types in ``_TAGGERS`` (what this project's templates declare with Tags
support); a tag removed from the stack stays on its resources; CodeBuild, CodePipeline and
CodeStar Connections (emulator/delivery.py's models) are not tagged.
"""

import threading
from collections.abc import Callable
from typing import Any

from moto.cloudformation import parsing
from moto.cloudformation.exceptions import AlreadyExistsException
from moto.cloudformation.models import CloudFormationBackend, Stack
from moto.cloudformation.responses import CloudFormationResponse

NO_ECHO = "****"


# --- DescribeStacks parameters ------------------------------------------------------------


def parameter_text(value: Any) -> str:
    """A resolved parameter value as CloudFormation returns it: lists comma-joined."""
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    return str(value)


def _parameter_list(self: Any) -> list[dict[str, Any]]:
    declared = (self.template_dict or {}).get("Parameters") or {}
    answers = []
    for key, value in self.resource_map.resolved_parameters.items():
        no_echo = str((declared.get(key) or {}).get("NoEcho", "false")).lower() == "true"
        answers.append(
            {"ParameterKey": key, "ParameterValue": NO_ECHO if no_echo else parameter_text(value)}
        )
    return answers


# --- ValidateTemplate ---------------------------------------------------------------------


def template_parameters(template: dict[str, Any]) -> list[dict[str, Any]]:
    """ValidateTemplate's Parameters for a parsed template."""
    answers = []
    for key, slot in (template.get("Parameters") or {}).items():
        slot = slot or {}
        answer: dict[str, Any] = {
            "ParameterKey": key,
            "NoEcho": str(slot.get("NoEcho", "false")).lower() == "true",
        }
        if "Default" in slot:
            answer["DefaultValue"] = parameter_text(slot["Default"])
        if "Description" in slot:
            answer["Description"] = str(slot["Description"])
        answers.append(answer)
    return answers


def _wrap_lint(original: Callable[..., list[Any]]) -> Callable[..., list[Any]]:
    def validate_template(self, template: str) -> list[Any]:
        findings = original(self, template)
        return [f for f in findings if str(getattr(f.rule, "id", "E")).startswith("E")]

    return validate_template


def _wrap_validate_template(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def validate_template(self) -> Any:
        result = original(self)  # cfn-lint's refusal, if any, is raised here
        body = self._get_param("TemplateBody")
        if not body and self._get_param("TemplateURL"):
            body = self._get_stack_from_s3_url(self._get_param("TemplateURL"))
        try:
            template = Stack.parse_template(body)
        except Exception:  # noqa: BLE001 - moto's answer stands
            return result
        if isinstance(template, dict):
            result.result["Parameters"] = template_parameters(template)
            if "Description" in template:
                result.result["Description"] = str(template["Description"])
            else:
                result.result.pop("Description", None)
        return result

    return validate_template


# --- tags on resources --------------------------------------------------------------------


def _ecs(model: Any, account: str, region: str, tags: dict[str, str]) -> None:
    from moto.ecs.models import ecs_backends

    ecs_backends[account][region].tag_resource(model.arn, tags)


def _logs(model: Any, account: str, region: str, tags: dict[str, str]) -> None:
    from moto.logs.models import logs_backends

    backend = logs_backends[account][region]
    backend.tag_resource(backend.groups[model.name].arn, tags)


def _iam_role(model: Any, account: str, region: str, tags: dict[str, str]) -> None:
    # Written to the role itself: TagRole refuses the aws: prefix that CloudFormation may use.
    kept = [t for t in model.tags if t["Key"] not in tags]
    model.tags = kept + [{"Key": k, "Value": v} for k, v in tags.items()]


def _elbv2(model: Any, account: str, region: str, tags: dict[str, str]) -> None:
    from moto.elbv2.models import elbv2_backends

    # The tagging store itself: AddTags holds moto to 10 tags (ELB allows 50).
    service = elbv2_backends[account][region].tagging_service
    service.tag_resource(model.arn, [{"Key": k, "Value": v} for k, v in tags.items()])


def _s3(model: Any, account: str, region: str, tags: dict[str, str]) -> None:
    from moto.s3.models import s3_backends

    tagger = s3_backends[account]["global"].tagger
    tagger.tag_resource(model.arn, [{"Key": k, "Value": v} for k, v in tags.items()])


def _sns(model: Any, account: str, region: str, tags: dict[str, str]) -> None:
    from moto.sns.models import sns_backends

    sns_backends[account][region].tag_resource(model.arn, tags)


def _ec2(model: Any, account: str, region: str, tags: dict[str, str]) -> None:
    from moto.ec2.models import ec2_backends

    ec2_backends[account][region].create_tags([model.physical_resource_id], tags)


def _ecr(model: Any, account: str, region: str, tags: dict[str, str]) -> None:
    from moto.ecr.models import ecr_backends

    pairs = [{"Key": k, "Value": v} for k, v in tags.items()]
    ecr_backends[account][region].tag_resource(model.arn, pairs)


_TAGGERS: dict[str, Callable[[Any, str, str, dict[str, str]], None]] = {
    "AWS::ECS::Cluster": _ecs,
    "AWS::ECS::Service": _ecs,
    "AWS::ECS::TaskDefinition": _ecs,
    "AWS::Logs::LogGroup": _logs,
    "AWS::IAM::Role": _iam_role,
    "AWS::ElasticLoadBalancingV2::LoadBalancer": _elbv2,
    "AWS::ElasticLoadBalancingV2::TargetGroup": _elbv2,
    "AWS::S3::Bucket": _s3,
    "AWS::SNS::Topic": _sns,
    "AWS::EC2::SecurityGroup": _ec2,
    "AWS::ECR::Repository": _ecr,
}


def resource_tags(stack: Any, logical_id: str) -> dict[str, str]:
    """The tags CloudFormation gives one resource of a stack: the stack's, then its own."""
    return {
        **{k: v for k, v in (stack.tags or {}).items() if not k.startswith("aws:")},
        "aws:cloudformation:stack-name": stack.name,
        "aws:cloudformation:stack-id": stack.stack_id,
        "aws:cloudformation:logical-id": logical_id,
    }


def _stack_of(resources_map: Any) -> Any:
    from moto.cloudformation.models import cloudformation_backends

    backend = cloudformation_backends[resources_map._account_id][resources_map._region_name]
    return backend.stacks.get(resources_map.stack_id)


def tag_resource(stack: Any, logical_id: str, resource_type: str, model: Any) -> None:
    """Put the stack's tags on one of its resources, if CloudFormation would."""
    tagger = _TAGGERS.get(resource_type)
    if tagger is None or model is None or stack is None:
        return
    tagger(model, stack.account_id, stack.region_name, resource_tags(stack, logical_id))


def _wrap_resource(original: Callable[..., Any]) -> Callable[..., Any]:
    def parse_and_handle_resource(
        logical_id, resource_json, resources_map, account_id, region_name
    ):
        model = original(logical_id, resource_json, resources_map, account_id, region_name)
        tag_resource(_stack_of(resources_map), logical_id, resource_json["Type"], model)
        return model

    return parse_and_handle_resource


def _wrap_update_stack(original: Callable[..., Any]) -> Callable[..., Any]:
    def update(self, template, role_arn=None, parameters=None, tags=None) -> None:
        original(self, template, role_arn, parameters=parameters, tags=tags)
        if tags is None or not self.status.endswith("_COMPLETE") or "ROLLBACK" in self.status:
            return
        resource_map = self.resource_map
        for logical_id, resource_json in resource_map._resource_json_map.items():
            model = resource_map._parsed_resources.get(logical_id)
            tag_resource(self, logical_id, resource_json.get("Type", ""), model)

    return update


_creating_lock = threading.Lock()
_creating: set[tuple[str, str, str]] = set()  # (account, region, stack name)


def _wrap_create_stack(original: Callable[..., Any]) -> Callable[..., Any]:
    def create_stack(self, name: str, *args: Any, **kwargs: Any) -> Any:
        key = (self.account_id, self.region_name, name)
        with _creating_lock:
            if key in _creating:
                raise AlreadyExistsException(f"Stack [{name}] already exists")
            _creating.add(key)
        try:
            return original(self, name, *args, **kwargs)
        finally:
            with _creating_lock:
                _creating.discard(key)

    return create_stack


def install() -> None:
    """Make moto's CloudFormation answer as AWS does (see the module text). Idempotent."""
    Stack.parameter_list = property(_parameter_list)  # type: ignore[assignment]
    wraps = {
        (parsing, "parse_and_create_resource"): _wrap_resource,
        (parsing, "parse_and_update_resource"): _wrap_resource,
        (Stack, "update"): _wrap_update_stack,
        (CloudFormationBackend, "create_stack"): _wrap_create_stack,
        (CloudFormationResponse, "validate_template"): _wrap_validate_template,
        (CloudFormationBackend, "validate_template"): _wrap_lint,
    }
    for (owner, name), wrap in wraps.items():
        current = getattr(owner, name)
        if getattr(current, "_emulator_stack_answers", False):
            continue
        wrapped = wrap(current)
        wrapped._emulator_stack_answers = True
        setattr(owner, name, wrapped)
