"""Faster Sceptre and boto3 inside a test worker: each cache returns what the call it skips would.

A test worker runs Sceptre in process hundreds of times (about 400 plans in a whole run), and
every plan reads the project's config files afresh and makes its own boto3 clients. Four
parts of that cost the most, measured by timing them over a whole run of the suite:

- Sceptre builds a new jinja2 Environment for every config file it reads and every template
  it renders, so each file is compiled again: 3,461 compiles, 22.5 s of CPU. Here the code
  Jinja compiles is kept per source, name, file name and every environment setting Jinja's
  lexer, parser and code generator read, so a second compile of the same input returns the
  same code.
- The rendered config is parsed by PyYAML's pure-Python parser: 3,403 loads, 18.4 s. Here
  libyaml parses it, and PyYAML's own constructors (Sceptre's resolvers and hooks included)
  build the values, as ``yaml.safe_load`` does. A YAML error is raised by the pure-Python
  parser again, so its message and position are what users see (hooks/config_errors.py).
- Each plan looks its resolvers', hooks' and template handlers' entry points up afresh, and
  importlib.metadata reads every installed distribution's metadata to find them. The
  installed packages do not change during a run, so each lookup is made once.
- botocore builds a client class for every client it creates, with a method (and its lazily
  written documentation) per API operation: 1,785 clients, 24.1 s, over
  two fifths of it those methods (py-spy).
  A method calls its operation by name and nothing else, so each service version's methods
  are built once; each class still gets its own copy of the methods' dictionary, which
  boto3's handlers may extend. And a client asked for again with the same service, region,
  credentials and AWS_ settings (each plan's Sceptre asks anew) is the one made before:
  a client holds nothing but those and its connections.

Only the test worker's process is changed: the ``sceptre`` command users run is not.
"""

import functools
import importlib.metadata
import os
import threading
import types
from typing import Any

import boto3
import jinja2
import yaml
from botocore.client import ClientCreator
from yaml.cyaml import CParser

# Environment attributes that decide what Environment.compile produces from a source.
COMPILE_SETTINGS = (
    "block_start_string",
    "block_end_string",
    "variable_start_string",
    "variable_end_string",
    "comment_start_string",
    "comment_end_string",
    "line_statement_prefix",
    "line_comment_prefix",
    "trim_blocks",
    "lstrip_blocks",
    "newline_sequence",
    "keep_trailing_newline",
    "optimized",
    "is_async",
    "finalize",
    "sandboxed",
    "code_generator_class",
    "concat",
)


def compile_key(environment: jinja2.Environment, source: str, name: str | None) -> tuple:
    """What a compile's result depends on: the source, its name, the settings, and the
    extensions, filters and tests the environment has (the code generator checks names)."""
    autoescape = environment.autoescape
    return (
        type(environment),
        source,
        name,
        autoescape(name) if callable(autoescape) else autoescape,
        tuple(getattr(environment, setting, None) for setting in COMPILE_SETTINGS),
        tuple(environment.extensions),
        frozenset(environment.filters),
        frozenset(environment.tests),
    )


def _cached_compile() -> Any:
    compile_source = jinja2.Environment.compile
    compiled: dict[tuple, Any] = {}

    @functools.wraps(compile_source)
    def compile_once(self, source, name=None, filename=None, raw=False, defer_init=False):
        if not isinstance(source, str):  # an already parsed template: compiled as given
            return compile_source(self, source, name, filename, raw, defer_init)
        key = (compile_key(self, source, name), filename, raw, defer_init)
        if key not in compiled:
            compiled[key] = compile_source(self, source, name, filename, raw, defer_init)
        return compiled[key]

    compile_once._cached = True
    return compile_once


class LibyamlSafeLoader(CParser, yaml.SafeLoader):
    """yaml.SafeLoader with libyaml's parser: the constructors and resolvers are SafeLoader's
    own, so those Sceptre adds to it (``!stack_output`` and the like) build the values."""

    def __init__(self, stream: str) -> None:
        CParser.__init__(self, stream)
        yaml.constructor.SafeConstructor.__init__(self)
        yaml.resolver.Resolver.__init__(self)


def safe_load(stream: str) -> Any:
    """yaml.safe_load's result, parsed by libyaml; on a YAML error, yaml.safe_load's own error."""
    try:
        return yaml.load(stream, LibyamlSafeLoader)
    except yaml.YAMLError:
        return yaml.safe_load(stream)  # raises it again, with the pure-Python parser's marks


def _yaml_parsed_by_libyaml() -> types.ModuleType:
    """The yaml module as sceptre.config.reader uses it, with safe_load parsed by libyaml (as
    emulator/cfn_yaml.py gives moto's CloudFormation a yaml module of its own)."""
    module = types.ModuleType("yaml")
    module.__dict__.update(vars(yaml))
    module.safe_load = safe_load
    return module


def _methods_built_once() -> Any:
    create_methods = ClientCreator._create_methods
    built: dict[tuple, dict[str, Any]] = {}

    @functools.wraps(create_methods)
    def methods(self, service_model):
        key = (
            service_model.service_name,
            service_model.api_version,
            tuple(service_model.operation_names),
        )
        if key not in built:
            built[key] = create_methods(self, service_model)
        return dict(built[key])

    methods._cached = True
    return methods


def client_key(session: boto3.Session, service: str, region: str | None) -> tuple:
    """What a client made by session.client(service, region_name=region) depends on: the
    service, region, profile and credentials, and the AWS_ variables botocore reads its
    configuration from (the endpoint AWS_ENDPOINT_URL among them)."""
    credentials = session.get_credentials()
    return (
        service,
        region or session.region_name,
        session.profile_name,
        credentials and tuple(credentials.get_frozen_credentials()),
        frozenset((name, value) for name, value in os.environ.items() if name.startswith("AWS_")),
    )


def _clients_kept() -> Any:
    make_client = boto3.Session.client
    kept: dict[tuple, Any] = {}
    lock = threading.Lock()

    @functools.wraps(make_client)
    def client(self, service_name, *args, **kwargs):
        if args or kwargs.keys() - {"region_name"}:  # an endpoint, a config: made as asked
            return make_client(self, service_name, *args, **kwargs)
        key = client_key(self, service_name, kwargs.get("region_name"))
        with lock:
            if key not in kept:
                kept[key] = make_client(self, service_name, **kwargs)
            return kept[key]

    client._cached = True
    return client


def install() -> None:
    """Install the five caches in this process. Idempotent."""
    import sceptre.config.reader

    if not getattr(jinja2.Environment.compile, "_cached", False):
        jinja2.Environment.compile = _cached_compile()
    sceptre.config.reader.yaml = _yaml_parsed_by_libyaml()
    if not hasattr(importlib.metadata.entry_points, "cache_info"):
        lookup = importlib.metadata.entry_points
        importlib.metadata.entry_points = functools.cache(lookup)
    if not getattr(ClientCreator._create_methods, "_cached", False):
        ClientCreator._create_methods = _methods_built_once()
    if not getattr(boto3.Session.client, "_cached", False):
        boto3.Session.client = _clients_kept()
