"""The former toolkit's `beta` package."""
