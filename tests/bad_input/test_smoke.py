"""A first case through the harness: an unknown seed."""

import pytest
from harness import Case, Places, check_one_line, ids, invoke

CASES = [
    Case(
        "new-unknown-seed", ["new", "no-such-seed", "-o", "{place}"], "unknown seed 'no-such-seed'"
    ),
]


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_new_bad_input(case: Case, places: Places, monkeypatch: pytest.MonkeyPatch) -> None:
    result = invoke(places, case, monkeypatch)
    check_one_line(result, case, places)
