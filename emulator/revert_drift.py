"""Drift-aware change sets (CreateChangeSet with DeploymentMode REVERT_DRIFT): placeholder,
filled in by the issue-12 work."""


def install() -> None:
    """Patch moto's CloudFormation to answer drift-aware change sets (not yet)."""
