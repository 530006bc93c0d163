"""The spokehub version (one place; pyproject.toml repeats it and a test keeps the two equal)."""

__version__ = "0.1.0"
