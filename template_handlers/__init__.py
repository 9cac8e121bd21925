"""Sceptre template handlers of this project (registered in pyproject.toml)."""
