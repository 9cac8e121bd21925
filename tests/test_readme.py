"""The README cannot go stale: its samples, commands, paths and config keys are checked.

- Every sample output (a fenced block after ``<!-- sample: NAME -->``) is printed again by
  the commands that print it (scripts/readme_samples.py), against one emulator of this
  module's, dev and prod launched once each, and compared after removing only what differs
  between runs. A failure shows a diff and names the README line.
- Every other unlabelled fenced block is a figure (``<!-- figure: ... -->``), so a new
  output block cannot slip in without a producer.
- Every ``make`` target and project path it names exists; every ``sceptre``, ``drift-check``
  and ``python -m`` command it shows parses; every config key it shows is in
  hooks/config_schema.py's SCHEMA or is one of Sceptre's own.
"""

import difflib
import fnmatch
import importlib.util
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from sceptre.cli import cli as sceptre_cli

from drift.cli import parse_args as drift_check_args
from emulator.process import ROOT
from hooks.config_schema import SCHEMA
from scripts import readme_samples
from scripts.readme_samples import (
    FIGURE,
    MARKER,
    PRODUCERS,
    WALK_OUTPUT,
    blocks,
    normalise,
    samples,
)
from tests.roles import in_process, python_module_in_process, quick

README = (ROOT / "README.md").read_text()
SAMPLES = samples(README)


@pytest.fixture(scope="module")
def produced() -> dict[str, str]:
    """Every sample, printed once by its commands on one fresh emulator (sceptre and
    drift-check in this process: tests/roles.py in_process)."""
    return readme_samples.produce(quick, in_process)


def test_every_sample_has_its_producer_and_every_producer_its_sample():
    assert sorted(s.name for s in SAMPLES) == sorted(PRODUCERS)


def test_every_plain_block_is_a_sample_or_a_figure():
    unmarked = [
        f"README.md:{b.line - 1}"
        for b in blocks(README)
        if not b.info and not any(m.match(b.marker) for m in (MARKER, FIGURE, WALK_OUTPUT))
    ]
    assert unmarked == [], (
        "an output block needs <!-- sample: NAME --> and a producer of NAME in "
        "scripts/readme_samples.py (a drawing: <!-- figure: WHAT -->; what a command of the "
        "empty-account walk prints: <!-- walk: empty-account prints: COMMAND -->)"
    )


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.name)
def test_sample_is_what_its_command_prints(sample, produced):
    expected, actual = normalise(sample.text), normalise(produced[sample.name])
    diff = "\n".join(
        difflib.unified_diff(
            expected.splitlines(),
            actual.splitlines(),
            f"README.md:{sample.line}",
            sample.name,
            lineterm="",
        )
    )
    assert expected == actual, f"stale sample at README.md:{sample.line}:\n{diff}"


def test_normalise_keeps_what_does_not_vary():
    """A stale figure must still show: only ids, digests, times, ports, durations go."""
    a = "  tasks            1 running / 1 desired"
    assert normalise(a) != normalise(a.replace("1 running", "2 running"))
    assert normalise("rollout  dev: check every 5 s  10 s") != normalise(
        "rollout  dev: check every 5 s  15 s"
    )
    assert normalise("launch  1 environment  13.8 s") == normalise("launch  1 environment  9.1 s")
    assert normalise("x-Service-OU1C907WAVEY sha256:7ad5…") == normalise(
        "x-Service-ID0910SRIPO0 sha256:7ad54e42ab00"
    )


# --- commands -----------------------------------------------------------------------------

COMMAND = re.compile(r"^(sceptre|drift-check|python3? -m|make)\b")


def shown_commands(readme: str = README) -> list[tuple[int, str]]:
    """(line, command) for every command in sh blocks, after a '$ ' prompt in any block, or
    in inline code; environment assignments and comments removed, `a|b` alternatives split."""
    found = []
    for block in blocks(readme):
        for offset, line in enumerate(block.text.splitlines()):
            if block.info == "sh" or line.startswith("$ "):
                found.append((block.line + offset, line.removeprefix("$ ").split(" #")[0]))
    for number, line in enumerate(readme.splitlines(), 1):
        for code in re.findall(r"`([^`]+)`", line):
            found.append((number, code))
    commands = []
    for number, text in found:
        words = [w for w in text.split() if not re.match(r"^[A-Z_]+=", w)]
        text = " ".join(words)
        if not COMMAND.match(text):
            continue
        alternatives = re.search(r"(\S+)\|(\S+)", text)
        for choice in alternatives.groups() if alternatives else [None]:
            command = text.replace(alternatives[0], choice) if choice else text
            commands.append((number, command.replace("…", "").strip()))
    return commands


COMMANDS = shown_commands()


def of(kind: str) -> list[tuple[int, str]]:
    return [(n, c) for n, c in COMMANDS if c.split()[0] == kind or c.startswith(kind)]


def test_the_readme_shows_commands_of_every_kind():
    assert {c.split()[0] for _, c in COMMANDS} >= {"sceptre", "drift-check", "python", "make"}


def makefile_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return {
        target
        for line in re.findall(r"^([^\s#:=][^:=]*):(?!=)", text, re.MULTILINE)
        for target in line.split()
    }


@pytest.mark.parametrize(("line", "command"), of("make"), ids=lambda x: str(x))
def test_make_target_exists(line, command):
    for target in command.split()[1:]:
        assert target in makefile_targets(), f"README.md:{line}: no make target {target!r}"


def expand_variables(command: str) -> list[str]:
    """The command's words with $VARIABLES given a value, as a user's shell would."""
    return [re.sub(r"\$[A-Z_]+|<env>", "dev", w) for w in shlex.split(command)]


@pytest.mark.parametrize(("line", "command"), of("sceptre"), ids=lambda x: str(x))
def test_sceptre_command_parses_and_names_a_stack_or_group(line, command):
    args = expand_variables(command)[1:]
    result = CliRunner().invoke(sceptre_cli, [*args, "--help"])
    assert result.exit_code == 0, f"README.md:{line}: {command!r}: {result.output}"
    paths = [a for a in args if re.match(r"^(dev|prod|shared)(/[\w.-]+)?$", a)]
    for path in paths:
        assert (ROOT / "config" / path).exists(), f"README.md:{line}: no config/{path}"


@pytest.mark.parametrize(("line", "command"), of("drift-check"), ids=lambda x: str(x))
def test_drift_check_command_parses(line, command):
    if command == "drift-check":  # the tool named in prose: it is installed
        assert (Path(sys.executable).parent / "drift-check").exists()
        return
    options = drift_check_args(expand_variables(command)[1:])
    for group in options.groups:
        assert (ROOT / "config" / group).is_dir(), f"README.md:{line}: no StackGroup {group}"


@pytest.mark.parametrize(("line", "command"), of("python"), ids=lambda x: str(x))
def test_python_module_exists_and_takes_the_options_shown(line, command):
    words = expand_variables(command)
    if len(words) == 2:  # "python -m" named in prose
        return
    module = words[2]
    assert importlib.util.find_spec(module), f"README.md:{line}: no module {module}"
    options = [w.split("=")[0] for w in words[3:] if w.startswith("--")]
    if options:
        # In this process, as python -m prints it (tests/test_in_process.py): a new Python
        # spent a second or more importing.
        shown = python_module_in_process(ROOT, dict(os.environ), module, "--help").stdout
        missing = [o for o in options if o not in shown]
        assert missing == [], f"README.md:{line}: {module} takes no {missing}"


# --- paths --------------------------------------------------------------------------------

TOP = {p.name for p in ROOT.iterdir()} - {".venv", ".venv-emulator", "node_modules"}
# Names in inline code that look like paths but are not the project's files, and why.
NOT_FILES = {
    "product-service/release.zip": "an S3 key in the release bucket",
    "release.json": "written by the build step, not kept in the repository",
    "config/staging": "the environment the README tells you how to add",
    ".cache/cdk/": "the CDK handler's cache, made by the first synthesis",
}


def shown_paths(readme: str = README) -> list[tuple[int, str]]:
    """(line, path) for inline code naming a project path or a file, and the first column of
    the Layout block."""
    found = []
    for number, line in enumerate(readme.splitlines(), 1):
        for code in re.findall(r"`([^`\s]+)`", line):
            first = code.split("/")[0]
            is_file = re.search(r"\.(py|ya?ml|json|j2|md|toml|txt|sh)$", code)
            if (first in TOP and "/" in code) or is_file:
                found.append((number, code))
    layout = next(b for b in blocks(readme) if "config/config.yaml" in b.text)
    for offset, line in enumerate(layout.text.splitlines()):
        if line and not line.startswith(" "):
            found.append((layout.line + offset, line.split()[0]))
    return [(n, p) for n, p in found if p not in NOT_FILES]


def exists(path: str) -> bool:
    """Whether the path exists: <env> and {dev,prod} expanded, * globbed, a bare file name
    found anywhere in the project's tracked files."""
    expanded = [path]
    for pattern, choices in (("<env>", ["dev", "prod"]), ("{dev,prod}", ["dev", "prod"])):
        expanded = [p.replace(pattern, c) for p in expanded for c in choices]
    if "/" not in path:
        tracked = subprocess.run(
            ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True
        ).stdout.split()
        return any(Path(t).name == path for t in tracked) or (ROOT / path).exists()
    return all(any(ROOT.glob(p.rstrip("/"))) for p in expanded)


@pytest.mark.parametrize(("line", "path"), shown_paths(), ids=lambda x: str(x))
def test_path_exists(line, path):
    assert exists(path), f"README.md:{line}: {path} does not exist"


# --- config keys --------------------------------------------------------------------------

# Sceptre's own StackGroup and Stack config keys, which the schema leaves to Sceptre:
# https://docs.sceptre-project.org/latest/docs/stack_group_config.html and
# https://docs.sceptre-project.org/latest/docs/stack_config.html
SCEPTRE_KEYS = {
    "profile", "project_code", "region", "required_version", "sceptre_role",
    "sceptre_role_session_duration", "template_bucket_name", "template_key_prefix",
    "j2_environment", "cloudformation_service_role", "stack_tags", "on_failure",
    "stack_timeout", "template", "parameters", "hooks", "dependencies", "stack_name",
    "sceptre_user_data", "disable_rollback", "ignore", "obsolete", "notifications",
}  # fmt: skip
# snake_case names in inline code that are not config keys, and what they are.
NOT_KEYS = {
    "image_tag": "a --var of the sceptre command, read by the stack files",
    "require_tag": "an argument of the !image_url resolver",
    "cached_cdk": "a template handler",
}


def schema_keys(schema: dict, prefix: str = "") -> set[str]:
    """Every key path the schema declares ("network.vpc_name"), list items included; a key
    the user names (a mapping's additionalProperties, e.g. variables.LOG_LEVEL) is "*"."""
    keys = set()
    for key, sub in schema.get("properties", {}).items():
        keys.add(prefix + key)
        keys |= schema_keys(sub, f"{prefix}{key}.")
    if isinstance(schema.get("items"), dict):
        keys |= schema_keys(schema["items"], prefix)
    if isinstance(schema.get("additionalProperties"), dict):
        keys.add(prefix + "*")
        keys |= schema_keys(schema["additionalProperties"], f"{prefix}*.")
    return keys


KEYS = schema_keys(SCHEMA)
LEAVES = {k.split(".")[-1] for k in KEYS}


def known(key: str) -> bool:
    """A dotted key path, at the top or under sceptre_user_data, or a key name anywhere."""
    if "." in key:
        return any(
            fnmatch.fnmatchcase(path, pattern)
            for path in (key, f"sceptre_user_data.{key}")
            for pattern in KEYS
            if pattern.count(".") == path.count(".")
        )
    return key in LEAVES or key in SCEPTRE_KEYS


def yaml_keys(text: str) -> list[tuple[int, str]]:
    """(line offset, dotted path) of each mapping key in a YAML snippet, by indentation."""
    found, stack = [], []
    for offset, line in enumerate(text.splitlines()):
        match = re.match(r"^(\s*)(?:- )?([A-Za-z_][\w-]*):(\s|$)", line)
        if not match:
            continue
        indent = len(match[1])
        stack = [(i, k) for i, k in stack if i < indent] + [(indent, match[2])]
        found.append((offset, ".".join(k for _, k in stack)))
    return found


def shown_keys(readme: str = README) -> list[tuple[int, str]]:
    """(line, key) for each config key the README shows: in yaml blocks, as `key:` or
    `key: value`, as a dotted path, or as a snake_case name in inline code."""
    found = []
    for block in blocks(readme):
        if block.info in ("yaml", "yml"):
            found += [(block.line + o, k) for o, k in yaml_keys(block.text)]
    for number, line in enumerate(readme.splitlines(), 1):
        for code in re.findall(r"`([^`]+)`", line):
            match = re.match(r"^([a-z_]+(?:\.[a-z_]+)*)(?::(?: \S+)?)?$", code)
            if not match or code in NOT_KEYS or re.search(r"\.(py|ya?ml|json|md)$", code):
                continue
            key = match[1]
            first = key.split(".")[0]
            named_as_key = code.endswith(":") or ": " in code
            dotted = "." in key and (first in LEAVES or first in SCEPTRE_KEYS)
            snake = "_" in key and "." not in key
            if named_as_key or dotted or snake:
                found.append((number, key))
    return found


def test_the_readme_shows_config_keys():
    assert {k for _, k in shown_keys()} >= {"network.vpc_name", "log_retention_days"}


@pytest.mark.parametrize(("line", "key"), shown_keys(), ids=lambda x: str(x))
def test_config_key_is_in_the_schema(line, key):
    assert known(key), f"README.md:{line}: {key} is not a key of hooks/config_schema.py SCHEMA"


def test_a_stale_key_is_caught():
    assert not known("desired_count")
    assert not known("network.desired_count")
    assert known("variables.LOG_LEVEL") and known("secrets.API_TOKEN.ssm")
    assert not known("secrets.API_TOKEN.parameter")
    assert known("autoscaling.min") and known("network.vpc_name")
    assert yaml_keys("a:\n  b: 1\n  c:\n    d: x\ne: 2") == [
        (0, "a"),
        (1, "a.b"),
        (2, "a.c"),
        (3, "a.c.d"),
        (4, "e"),
    ]


STALE = """
Run `make deploy`, then `sceptre lanch -y dev` and see `config/dev/nothing.yaml`.

```yaml
sceptre_user_data:
  desired_count: 2
  autoscaling:
    min: 1
```

```
config/config.yaml   the layout block
```
"""


def test_stale_text_is_caught():
    """What each check finds in a README gone stale, and that it refuses it."""
    assert {(2, "make deploy"), (2, "sceptre lanch -y dev")} <= set(shown_commands(STALE))
    assert "deploy" not in makefile_targets()
    result = CliRunner().invoke(sceptre_cli, ["lanch", "-y", "dev", "--help"])
    assert result.exit_code != 0
    assert (2, "config/dev/nothing.yaml") in shown_paths(STALE)
    assert not exists("config/dev/nothing.yaml")
    keys = {k for _, k in shown_keys(STALE)}
    assert {"sceptre_user_data.desired_count", "sceptre_user_data.autoscaling.min"} <= keys
    assert not known("sceptre_user_data.desired_count")
    assert known("sceptre_user_data.autoscaling.min")
