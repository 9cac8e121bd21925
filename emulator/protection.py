"""Termination protection in the emulator, as CloudFormation enforces it.

moto 5.2.5 keeps a stack's EnableTerminationProtection from CreateStack but has no
UpdateTerminationProtection call and deletes protected stacks anyway. This module adds the
call and makes DeleteStack refuse a protected stack with AWS's message. Stack policies are
stored by moto (SetStackPolicy, GetStackPolicy) but not enforced; tests check the policy.
"""

from moto.cloudformation.exceptions import ValidationError
from moto.cloudformation.models import CloudFormationBackend
from moto.cloudformation.responses import CloudFormationResponse
from moto.core.responses import ActionResult


def _update_termination_protection(self) -> ActionResult:
    stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
    stack.enable_termination_protection = self._get_bool_param("EnableTerminationProtection")
    return ActionResult({"StackId": stack.stack_id})


def install() -> None:
    """Add UpdateTerminationProtection and enforce it on DeleteStack. Idempotent."""
    CloudFormationResponse.update_termination_protection = _update_termination_protection
    delete = CloudFormationBackend.delete_stack
    if getattr(delete, "_enforces_protection", False):
        return

    def delete_stack(self, name_or_stack_id: str) -> None:
        for stack in self.stacks.values():
            if name_or_stack_id in (stack.name, stack.stack_id) and (
                stack.enable_termination_protection
            ):
                raise ValidationError(
                    message=f"Stack [{stack.name}] cannot be deleted while TerminationProtection "
                    "is enabled"
                )
        delete(self, name_or_stack_id)

    delete_stack._enforces_protection = True
    CloudFormationBackend.delete_stack = delete_stack
