"""Sandbox extension: hosting (see install())."""


def install() -> None:
    """Patch moto for this extension (idempotent)."""


def reset() -> None:
    """Forget this extension's state and stop anything it runs (moto's reset follows)."""
