"""Faults the emulator can play on request, to test how the project reports them.

- Credentials whose access key id starts with EXPIRED are answered as AWS answers a
  request signed with an expired session token: RequestExpired from EC2, ExpiredToken
  from other query APIs, ExpiredTokenException from JSON APIs. (moto checks no
  credentials at all, so without this no test could see that error.)

The one seam: moto's WSGI dispatcher, wrapped; every other request passes through.
"""

import json
import re

from moto.moto_server.werkzeug_app import DomainDispatcherApplication

EXPIRED_PREFIX = "EXPIRED"
_SCOPE = re.compile(r"Credential=([^/]+)/[^/]+/[^/]+/([^/]+)/")


def _expired_response(service: str, content_type: str) -> tuple[str, list[tuple[str, str]], bytes]:
    message = "The security token included in the request is expired"
    if "json" in content_type:
        body = json.dumps({"__type": "ExpiredTokenException", "message": message})
        return "400 Bad Request", [("Content-Type", "application/x-amz-json-1.1")], body.encode()
    if service == "ec2":
        error = "<Error><Code>RequestExpired</Code><Message>Request has expired.</Message></Error>"
        body = f"<Response><Errors>{error}</Errors><RequestID>emulator</RequestID></Response>"
    else:
        code = "<Type>Sender</Type><Code>ExpiredToken</Code>"
        error = f"<Error>{code}<Message>{message}</Message></Error>"
        body = f"<ErrorResponse>{error}<RequestId>emulator</RequestId></ErrorResponse>"
    return "400 Bad Request", [("Content-Type", "text/xml")], body.encode()


def install() -> None:
    """Wrap moto's dispatcher so that requests signed with an EXPIRED key fail. Idempotent."""
    original = DomainDispatcherApplication.__call__
    if getattr(original, "_emulator_faults", False):
        return

    def dispatch(self, environ, start_response):
        scope = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
        if scope and scope.group(1).startswith(EXPIRED_PREFIX):
            status, headers, body = _expired_response(
                scope.group(2), environ.get("CONTENT_TYPE", "")
            )
            start_response(status, headers)
            return [body]
        return original(self, environ, start_response)

    dispatch._emulator_faults = True
    DomainDispatcherApplication.__call__ = dispatch
