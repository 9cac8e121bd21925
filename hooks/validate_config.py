"""``!validate_config``: check an environment's configuration before anything calls AWS.

    hooks:
      before_launch:
        - !validate_config     # first: no AWS call happens before it
        - !preflight ...

Checks the merged configuration of the stack it is attached to (config/config.yaml plus
the environment's config.yaml) against hooks/config_schema.py. Every problem is reported
at once, each naming the file, the key, the bad value and what is allowed; the launch
stops before any stack is created or changed.
"""

import sys
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError
from sceptre.exceptions import SceptreException
from sceptre.hooks import Hook

from hooks.config_schema import SCHEMAS, cross_field_problems


class InvalidConfigError(SceptreException):
    """The configuration breaks a rule; the message lists every problem."""


def find_problems(
    config: dict[str, Any], folder: str, kind: str = "environment"
) -> list[tuple[str, Any, str]]:
    """(key, value, what is allowed) for every rule the configuration breaks, all at once.

    kind: which schema of hooks/config_schema.SCHEMAS applies ("environment", or "account"
    for the account-level stacks of config/shared).

    The schema's problems come first; then every cross-field rule whose inputs the schema
    found sound (a rule reading a faulty value would only repeat or guess).
    """
    schema_errors = sorted(
        Draft7Validator(SCHEMAS.get(kind, SCHEMAS["environment"])).iter_errors(config),
        key=lambda e: list(map(str, e.path)),
    )
    problems = [_describe(error) for error in schema_errors]
    invalid = frozenset(_faulty_path(error) for error in schema_errors)
    return problems + cross_field_problems(config, folder, invalid)


def defining_file(project: Path, folder: str, key: str) -> str:
    """The config file that sets a top-level key: the environment's, else the shared one."""
    top = key.split(".")[0].split("[")[0]
    for candidate in (Path("config") / folder / "config.yaml", Path("config/config.yaml")):
        path = project / candidate
        if path.exists() and top in (yaml.safe_load(path.read_text()) or {}):
            return candidate.as_posix()
    return (Path("config") / folder / "config.yaml").as_posix()


def format_problems(project: Path, folder: str, problems: list[tuple[str, Any, str]]) -> str:
    """One line per problem: file: key = value is not allowed; allowed: ..."""
    lines = [f"{len(problems)} problem(s) in the {folder} configuration; nothing was changed:"]
    for key, value, allowed in problems:
        shown = "missing" if value is _MISSING else repr(value)
        lines.append(
            f"  {defining_file(project, folder, key)}: {key} = {shown}; allowed: {allowed}"
        )
    return "\n".join(lines)


def refuse(
    project: Path, folder: str, problems: list[tuple[str, Any, str]], report: bool = True
) -> None:
    """Raise InvalidConfigError naming the first problem; with report, print all to stderr."""
    if not problems:
        return
    text = format_problems(project, folder, problems)
    if report:
        # Sceptre prints exceptions JSON-encoded on one line: the full report goes to
        # stderr as it is, the exception carries the first problem.
        print(text, file=sys.stderr, flush=True)
    first = text.splitlines()[1].strip()
    more = f" (and {len(problems) - 1} more, listed above)" if len(problems) > 1 else ""
    raise InvalidConfigError(f"invalid {folder} configuration: {first}{more}")


class ValidateConfig(Hook):
    """Raises InvalidConfigError listing every configuration problem of this environment."""

    def run(self) -> None:
        config = self.stack.config
        folder = self.stack.name.rsplit("/", 1)[0]  # the StackGroup: "dev", or "bench/env-1"
        kind = config.get("config_schema", "environment")
        refuse(Path(config["project_path"]), folder, find_problems(config, folder, kind))


_MISSING = object()


def _describe(error: ValidationError) -> tuple[str, Any, str]:
    key = _dotted(error.absolute_path)
    kind, expected = error.validator, error.validator_value
    if kind == "enum":
        return key, error.instance, "one of " + ", ".join(map(repr, expected))
    if kind == "type":
        return key, error.instance, f"a value of type {expected}"
    if kind in ("minimum", "maximum", "minItems", "minLength", "maxLength"):
        word = {"minimum": "at least", "maximum": "at most", "minItems": "at least",
                "minLength": "at least", "maxLength": "at most"}[kind]  # fmt: skip
        unit = " item(s)" if kind == "minItems" else " character(s)" if "Length" in kind else ""
        return key, error.instance, f"{word} {expected}{unit}"
    if kind == "pattern":
        return key, error.instance, f"a string matching {expected}"
    if kind == "required":
        missing = error.message.split("'")[1]
        return _join(key, missing), _MISSING, "a value (this key is required)"
    if kind == "additionalProperties":
        known = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(known))
        return _join(key, extra[0]), error.instance[extra[0]], "a known key: " + ", ".join(known)
    return key, error.instance, error.message


def _faulty_path(error: ValidationError) -> tuple[str, ...]:
    """Where the fault is: the missing or unknown key itself, else the value's own path."""
    path = tuple(str(part) for part in error.absolute_path)
    if error.validator == "required":
        return (*path, error.message.split("'")[1])
    if error.validator == "additionalProperties":
        known = set(error.schema.get("properties", {}))
        return (*path, sorted(set(error.instance) - known)[0])
    return path


def _dotted(path) -> str:
    key = ""
    for part in path:
        key += f"[{part}]" if isinstance(part, int) else (f".{part}" if key else str(part))
    return key


def _join(key: str, child: str) -> str:
    return f"{key}.{child}" if key else child
