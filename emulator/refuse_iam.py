"""Placeholder: filled in by the work on issue 10 (the emulator refuses what AWS refuses)."""


def install() -> None:
    """Nothing yet."""
