"""``!checked_config VALUE``: VALUE unchanged, on a stack whose environment configuration is
sound.

    # in every stack file (config/*/*.yaml)
    cloudformation_service_role: !checked_config "{{ stack_group_config.cloudformation_... }}"

Attaching the resolver to a stack (Sceptre calls ``setup()`` while it builds the plan, before
any command runs or calls AWS) checks the stack's environment against hooks/config_schema.py
(hooks/environment_check.py says why this seam and which commands are checked). The
argument passes through as the key's value.

Importing this module (Sceptre imports every resolver before it reads any config) also
installs hooks/config_errors.py: a config file that is not valid YAML is then reported as one
line naming the file, line and column, not as a traceback.
"""

from typing import Any

from sceptre.resolvers import Resolver

from hooks import config_errors
from hooks.environment_check import check_environment

config_errors.install()


class CheckedConfig(Resolver):
    """Checks the stack's environment configuration on attach; resolves to its argument."""

    def setup(self) -> None:
        """Refuse (InvalidConfigError) a stack whose environment configuration is unsound."""
        check_environment(self.stack)

    def resolve(self) -> Any:
        """The argument, unchanged."""
        return self.argument
