"""A config file with a syntax error is reported in one line naming file, line and column.

Sceptre 4.7 (config/reader.py, ``ConfigReader._render``) turns a YAML error in a config file
into a bare ``ValueError`` its CLI does not catch: the user sees a Python traceback whose
position names "<unicode string>" (the file's text after Jinja) and a path with the folder
and file name run together ("config/devconfig.yaml"). A Jinja error is caught, but its line
is not named.

``install()`` wraps ``_render`` so that both become an ``InvalidConfigFileError``, which the
CLI prints as one line and exits 1 on:

    config/dev/config.yaml:37:11: not valid YAML: mapping values are not allowed here,
      in 'cpu: 256: x'
    config/dev/config.yaml:12: Jinja: 'nope' is undefined

A stack file whose Jinja fails because its environment's configuration breaks a rule (a
required key removed) is reported as that configuration problem instead.

This is a workaround kept in the project until Sceptre reports such errors itself; the
upstream patch is proposed in docs/sceptre-upstream.md. It is installed when Sceptre imports
the project's resolvers (resolvers/checked_config.py), before it reads any config file.
"""

import functools
import re
from pathlib import Path
from typing import Any

import yaml
from jinja2 import TemplateError
from sceptre.config.reader import ConfigReader
from sceptre.exceptions import InvalidConfigFileError, SceptreException


def yaml_position(error: yaml.MarkedYAMLError, source: str) -> tuple[int, int, str]:
    """(line, column, text of that line), 1-based, in the source file the user edits.

    YAML parsed the file as Jinja rendered it; where Jinja removed or added lines, the
    rendered line is looked up in the source by its text."""
    mark = error.problem_mark or error.context_mark
    rendered = str(mark.buffer).rstrip("\0").splitlines()
    text = rendered[mark.line] if mark.line < len(rendered) else ""
    lines = source.splitlines()
    line = mark.line
    if not (line < len(lines) and _renders_as(lines[line], text)):
        found = [n for n, candidate in enumerate(lines) if _renders_as(candidate, text)]
        line = found[0] if len(found) == 1 else line
    return line + 1, mark.column + 1, text


def _renders_as(source_line: str, rendered_line: str) -> bool:
    """Whether Jinja could have rendered this source line as that text: equal, once each
    {{ expression }} of the source stands for any text."""
    parts = re.split(r"{{.*?}}", source_line)
    pattern = ".*?".join(re.escape(part) for part in parts)
    return re.fullmatch(pattern, rendered_line) is not None


def jinja_line(error: BaseException, template_path: Path) -> int | None:
    """The template line a Jinja error points at, if Jinja tells it."""
    line = getattr(error, "lineno", None)
    if line:
        return int(line)
    traceback = error.__traceback__
    found = None
    while traceback is not None:  # Jinja rewrites its frames to the template's own lines
        if Path(traceback.tb_frame.f_code.co_filename) == template_path:
            found = traceback.tb_lineno
        traceback = traceback.tb_next
    return found


def describe(reader: ConfigReader, directory: str, basename: str, error: Exception) -> str | None:
    """One line for a syntax error in a config file, or None if it is no such error."""
    shown = Path(Path(reader.context.config_path).name, directory, basename).as_posix()
    path = Path(reader.full_config_path, directory, basename)
    cause = error.__cause__ or error.__context__
    if isinstance(error, ValueError) and isinstance(cause, yaml.MarkedYAMLError):
        line, column, text = yaml_position(cause, path.read_text())
        return f"{shown}:{line}:{column}: not valid YAML: {cause.problem}, in '{text.strip()}'"
    if isinstance(error, SceptreException) and isinstance(cause, TemplateError):
        line = jinja_line(cause, path)
        where = f"{shown}:{line}" if line else shown
        return f"{where}: Jinja: {cause.message or cause}"
    return None


def install() -> None:
    """Wrap ConfigReader._render (once) so syntax errors in config files read as one line."""
    original = ConfigReader._render
    if getattr(original, "readable_errors", False):
        return

    @functools.wraps(original)
    def _render(self: ConfigReader, directory_path: str, basename: str, config: Any) -> Any:
        try:
            return original(self, directory_path, basename, config)
        except (ValueError, SceptreException) as error:
            line = describe(self, directory_path, basename, error)
            if line is None:
                raise
            if basename != self.context.config_file:
                # A stack file failed on a key its environment's configuration lacks or
                # breaks: name what to fix in the configuration, not the symptom.
                from hooks.environment_check import check_folder  # imports this module

                check_folder(str(self.context.project_path), directory_path)
            raise InvalidConfigFileError(line) from error

    _render.readable_errors = True  # type: ignore[attr-defined]
    ConfigReader._render = _render  # type: ignore[method-assign]
