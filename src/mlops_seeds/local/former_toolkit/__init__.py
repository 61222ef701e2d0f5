"""Folders the runner adds, last, to each step's environment (never to the tool's own)."""

from pathlib import Path

SITE = Path(__file__).parent
