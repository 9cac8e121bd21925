"""``type: cached_cdk``: sceptre-cdk-handler's ``cdk`` handler, run only when its input changed.

sceptre-cdk-handler loads the CDK libraries into Node.js through jsii (about 10 s) and
synthesizes on every launch, diff and drift check of the stack, though the template only
changes when its input does. This handler takes the same arguments as ``type: cdk`` and
keeps each synthesized template in ``.cache/cdk/`` under a hash of everything the synthesis
reads: the stack class's module source, the handler arguments, the resolved
sceptre_user_data and the versions of the CDK libraries and the handler. Only on a miss
does it import the ``cdk`` handler, which then checks its arguments and prerequisites and
synthesizes; parallel runs of the same input wait for the first (a lock file beside the
template). Delete the folder to force a synthesis. ``CDK_TEMPLATE_CACHE`` names another
folder: copies of the project (the tests make many) then share one cache, which is sound
because the key holds all that the synthesis reads.

On a miss, ``CDK_SYNTHESIS_SOCKET`` may name a Unix socket where another process, which keeps
the CDK loaded, synthesizes instead of this one (loading the CDK costs each process about 10 s
of CPU; the test suite runs one such process for all of its workers: tests/cdk_synthesis.py).
Its answer is the template, or the error the ``cdk`` handler raised, raised here again.
"""

import fcntl
import hashlib
import json
import os
import socket
import tempfile
from importlib.metadata import version
from pathlib import Path
from typing import Any

from sceptre import exceptions
from sceptre.exceptions import SceptreException
from sceptre.template_handlers import TemplateHandler

# What decides the synthesized template besides the stack's own input.
LIBRARIES = (
    "aws-cdk-lib",
    "cdk-bootstrapless-synthesizer",
    "constructs",
    "jsii",
    "sceptre-cdk-handler",
)


class CachedCdk(TemplateHandler):
    """The ``cdk`` template handler behind a synthesis cache keyed by its whole input."""

    def schema(self) -> dict[str, Any]:
        """Any mapping with a path: the ``cdk`` handler checks the rest when it runs."""
        return {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}

    def cache_key(self) -> str:
        """A hash of everything the synthesis reads."""
        module = Path(self.stack_group_config["project_path"], "templates", self.arguments["path"])
        described = json.dumps(
            {
                "arguments": self.arguments,
                "sceptre_user_data": self.sceptre_user_data,
                "libraries": {name: version(name) for name in LIBRARIES},
            },
            sort_keys=True,
            default=str,
        ).encode()
        return hashlib.sha256(module.read_bytes() + b"\0" + described).hexdigest()

    def handle(self) -> str:
        """The cached template for this input, synthesized by the ``cdk`` handler once."""
        default = Path(self.stack_group_config["project_path"], ".cache", "cdk")
        folder = Path(os.environ.get("CDK_TEMPLATE_CACHE") or default)
        key = self.cache_key()
        cached = folder / f"{key}.yaml"
        if cached.is_file():
            self.logger.debug("%s - CDK template from %s", self.name, cached)
            return cached.read_text()
        folder.mkdir(parents=True, exist_ok=True)
        # One synthesis per input at a time, across processes: parallel launches (a test run's
        # workers on a fresh clone) wait for the first and read what it wrote.
        with open(folder / f"{key}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if cached.is_file():
                self.logger.debug(
                    "%s - CDK template from %s (synthesized meanwhile)", self.name, cached
                )
                return cached.read_text()
            template = self._synthesize()
            # Written whole, then renamed: a parallel launch never reads half a file.
            fd, partial = tempfile.mkstemp(dir=folder, suffix=".partial")
            with os.fdopen(fd, "w") as sink:
                sink.write(template)
            os.replace(partial, cached)
        return template

    def _synthesize(self) -> str:
        """The template as the ``cdk`` handler synthesizes it (after checking its arguments),
        here or in the process CDK_SYNTHESIS_SOCKET names."""
        address = os.environ.get("CDK_SYNTHESIS_SOCKET")
        if address:
            try:
                request = json.dumps(self.synthesis_request())
            except TypeError:  # a value JSON cannot carry (a YAML date, say): synthesize here
                self.logger.debug("%s - input not sent to %s: not JSON", self.name, address)
            else:
                return self._synthesize_at(address, request)
        return synthesize_here(
            self.name,
            self.arguments,
            self.sceptre_user_data,
            self.connection_manager,
            self.stack_group_config,
        )

    def synthesis_request(self) -> dict[str, Any]:
        """What a synthesizing process needs to run the ``cdk`` handler as this process would:
        its arguments, this process's connection settings, environment and directory."""
        manager = self.connection_manager
        connection = manager and {
            "region": manager.region,
            "profile": manager.profile,
            "stack_name": manager.stack_name,
            "sceptre_role": manager.sceptre_role,
            "sceptre_role_session_duration": manager.sceptre_role_session_duration,
        }
        return {
            "name": self.name,
            "arguments": self.arguments,
            "sceptre_user_data": self.sceptre_user_data,
            "stack_group_config": self.stack_group_config,
            "connection": connection,
            "env": dict(os.environ),
            "cwd": os.getcwd(),
        }

    def _synthesize_at(self, address: str, request: str) -> str:
        """The template as the process listening at ``address`` synthesizes it for ``request``
        (synthesis_request, in JSON)."""
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
                connection.connect(address)
                with connection.makefile("rw") as stream:
                    stream.write(request + "\n")
                    stream.flush()
                    answer = json.loads(stream.readline() or "{}")
        except OSError as error:
            raise SceptreException(
                f"{self.name}: no CDK synthesis at {address} ({error}); "
                "unset CDK_SYNTHESIS_SOCKET to synthesize here"
            ) from error
        if "template" in answer:
            return answer["template"]
        # The error the cdk handler raised there, as the same Sceptre exception class.
        kind = getattr(exceptions, answer.get("type", ""), SceptreException)
        if not (isinstance(kind, type) and issubclass(kind, SceptreException)):
            kind = SceptreException
        raise kind(answer.get("error") or f"{self.name}: the CDK synthesis gave no answer")


def synthesize_here(
    name: str,
    arguments: dict[str, Any],
    sceptre_user_data: Any,
    connection_manager: Any,
    stack_group_config: dict[str, Any],
) -> str:
    """The template the ``cdk`` handler synthesizes in this process, after checking its
    arguments (also run by the synthesizing process of tests/cdk_synthesis.py)."""
    from sceptre_cdk_handler.cdk import CDK  # loads the CDK into Node.js: only when needed

    synthesizer = CDK(
        name=name,
        arguments=arguments,
        sceptre_user_data=sceptre_user_data,
        connection_manager=connection_manager,
        stack_group_config=stack_group_config,
    )
    synthesizer.validate()
    return synthesizer.handle()
