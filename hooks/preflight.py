"""``!preflight``: look up the inputs of later stacks before this one changes anything.

    hooks:
      before_launch:
        - !preflight
            Image: !image_url {repository: product-service}

Sceptre resolves resolvers inside a hook's argument when the hook runs, so a lookup that
fails here (no such VPC, repository or tag) stops the launch while nothing has changed.
"""

import logging

from sceptre.hooks import Hook

logger = logging.getLogger(f"sceptre.{__name__}")


class Preflight(Hook):
    """Resolves every value of its mapping argument and logs what each resolved to."""

    def run(self) -> None:
        if not isinstance(self.argument, dict):
            raise TypeError("!preflight takes a mapping of names to resolvers")
        for name, value in self.argument.items():  # reading the argument resolves it
            logger.info("%s - preflight: %s = %s", self.stack.name, name, value)
