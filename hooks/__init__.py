"""Sceptre hooks of the Product Service project."""
