"""``!drift_preview``: placeholder, filled in by the issue-12 work."""

from sceptre.hooks import Hook


class DriftPreview(Hook):
    """Says which hand changes a launch would overwrite (not yet)."""

    def run(self) -> None:
        """Nothing yet."""
