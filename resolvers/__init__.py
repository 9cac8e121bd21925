"""Sceptre resolvers that look up what a stack needs in the target account.

Each resolver calls AWS through its stack's connection manager, so the stack's
profile, region and role (and AWS_ENDPOINT_URL, for the local emulator) apply.
"""

from collections.abc import Callable
from typing import Any

from sceptre.exceptions import SceptreException

# connection_manager.call(service, command, kwargs) -> response
AwsCall = Callable[[str, str, dict[str, Any]], dict[str, Any]]


class LookupFailedError(SceptreException):
    """A lookup found nothing usable; the message says what to change."""


def stack_call(resolver: Any) -> AwsCall:
    """Return a call function bound to the resolver's (or hook's) stack."""

    def call(service: str, command: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        return resolver.stack.connection_manager.call(service, command, kwargs)

    return call
