"""Fixtures of the bad-input suite (see harness.py)."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import Places, make_places


@pytest.fixture
def places(tmp_path: Path) -> Iterator[Places]:
    """A case's folder and an `outside` folder holding a secret, checked untouched after."""
    yield from make_places(tmp_path)
