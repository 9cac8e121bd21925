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


def paginate(
    call: AwsCall, service: str, command: str, kwargs: dict[str, Any], items: str, token: str
) -> list[dict[str, Any]]:
    """Every item of a paged AWS list call: ``items`` from each page, following ``token``."""
    found: list[dict[str, Any]] = []
    kwargs = dict(kwargs)
    while True:
        page = call(service, command, kwargs)
        found += page[items]
        if not page.get(token):
            return found
        kwargs[token] = page[token]


def stack_call(resolver: Any) -> AwsCall:
    """Return a call function bound to the resolver's (or hook's) stack."""

    def call(service: str, command: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        return resolver.stack.connection_manager.call(service, command, kwargs)

    return call
