"""``!dependency_output STACK.yaml::OUTPUT``: Sceptre's ``!stack_output``, usable on its own.

Sceptre 4.7's ``!stack_output`` finds the dependency among the stack's dependencies; with
``--ignore-dependencies`` Sceptre empties that list, so the resolver ends in a StopIteration
traceback even when the dependency stack exists. And when the dependency stack does not exist
it says only "Stack with id ... does not exist". This subclass keeps the dependency (the
same ``setup()``: launch order is unchanged) and, in ``resolve()``:

* reads the output of the dependency's stack when Sceptre dropped the dependency, by the
  same name Sceptre gives it (``project_code-path-of-stack``), in this stack's region;
* refuses with one line naming the missing output and the command that works (launching
  the dependency, or the whole group) when the dependency stack or its output is missing.

The upstream fix is proposed in docs/sceptre-upstream.md.
"""

import shlex

import click
from sceptre.exceptions import (
    DependencyStackMissingOutputError,
    SceptreException,
    StackDoesNotExistError,
)
from sceptre.helpers import get_external_stack_name
from sceptre.resolvers.stack_output import TEMPLATE_EXTENSION, StackOutput


class MissingDependencyOutputError(SceptreException):
    """A stack output this stack needs is not there: its stack must be launched first."""


class DependencyOutput(StackOutput):
    """The value of an output of a dependency stack, or a one-line error saying what to run."""

    def setup(self) -> None:
        """Add the dependency (as !stack_output does); note the command line being run (the
        CLI's context is visible here, not in the threads that resolve)."""
        super().setup()
        self.sceptre = sceptre_command()

    def resolve(self) -> str:
        """The output's value; MissingDependencyOutputError if it does not exist yet."""
        name = self.dependency_stack_name.replace(TEMPLATE_EXTENSION, "")
        dependency = next((s for s in self.stack.dependencies if s.name == name), None)
        source = dependency or self.stack  # dropped by --ignore-dependencies: same account
        stack_name = get_external_stack_name(source.project_code, name)
        try:
            return self._get_output_value(
                stack_name,
                self.output_key,
                profile=source.profile,
                region=source.region,
                sceptre_role=source.sceptre_role,
            )
        except (StackDoesNotExistError, DependencyStackMissingOutputError) as error:
            missing = (
                f"stack {stack_name} does not exist"
                if isinstance(error, StackDoesNotExistError)
                else f"stack {stack_name} has no output {self.output_key}"
            )
            sceptre, group = getattr(self, "sceptre", "sceptre"), name.rsplit("/", 1)[0]
            raise MissingDependencyOutputError(
                f"{self.stack.name} needs stack output {name}.yaml::{self.output_key}, but "
                f"{missing}. Launch it first: {sceptre} launch -y {name}.yaml "
                f"(or the whole group: {sceptre} launch -y {group})"
            ) from error


def sceptre_command() -> str:
    """`sceptre` with the --var and --dir options of the running command, to repeat them."""
    context = click.get_current_context(silent=True)
    params = context.find_root().params if context else {}
    words = ["sceptre"]
    if params.get("directory"):
        words += ["--dir", shlex.quote(params["directory"])]
    words += [f"--var {shlex.quote(var)}" for var in params.get("var") or ()]
    words += [f"--var-file {shlex.quote(f.name)}" for f in params.get("var_file") or ()]
    return " ".join(words)
