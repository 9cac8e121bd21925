"""Sceptre resolvers that look up what a stack needs in the target account.

Each resolver calls AWS through its stack's connection manager, so the stack's
profile, region and role (and AWS_ENDPOINT_URL, for the local emulator) apply.
"""

from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError
from sceptre.exceptions import InvalidAWSCredentialsError, SceptreException

# connection_manager.call(service, command, kwargs) -> response
AwsCall = Callable[[str, str, dict[str, Any]], dict[str, Any]]


class LookupFailedError(SceptreException):
    """A lookup found nothing usable; the message says what to change."""


# Error codes AWS answers a request with when its credentials are no longer (or never were)
# good; the message is the same advice for all of them.
CREDENTIAL_ERRORS = {
    "ExpiredToken",
    "ExpiredTokenException",
    "RequestExpired",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "AuthFailure",
}


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
    """Return a call function bound to the resolver's (or hook's) stack.

    The preflight's lookups are a launch's first AWS calls, so missing or expired
    credentials and an unreachable endpoint surface here: they become one clear message.
    """
    return connection_call(resolver.stack.connection_manager)


def connection_call(connection_manager: Any) -> AwsCall:
    """Return a call function of a Sceptre ConnectionManager (its profile, region and role),
    which turns missing or refused credentials and an unreachable endpoint into one
    LookupFailedError that says what to do."""

    def call(service: str, command: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        try:
            return connection_manager.call(service, command, kwargs)
        except (NoCredentialsError, InvalidAWSCredentialsError):
            raise LookupFailedError(
                "no AWS credentials found: set AWS_PROFILE, run 'aws sso login', or export "
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (any values for the local emulator)."
            ) from None
        except EndpointConnectionError as error:
            raise LookupFailedError(
                f"cannot reach {error.kwargs.get('endpoint_url')}: if AWS_ENDPOINT_URL points at "
                "the local emulator, start it ('make emulator'); otherwise check the network."
            ) from None
        except ClientError as error:
            code = error.response["Error"]["Code"]
            if code not in CREDENTIAL_ERRORS:
                raise
            raise LookupFailedError(
                f"AWS refused the credentials ({code}: {error.response['Error']['Message']}); "
                "refresh them ('aws sso login' or a new session) and launch again."
            ) from None

    return call
