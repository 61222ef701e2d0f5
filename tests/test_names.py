import pytest

from mlops_seeds.errors import SeedsError
from mlops_seeds.names import (
    LONGEST_PROJECT_ID,
    LONGEST_PROJECT_NAME,
    PROJECT_ID_MAX,
    PROJECT_NAME_MAX,
    check_project_id,
    check_project_name,
)


def test_longest_values_are_legal_and_longest() -> None:
    assert len(LONGEST_PROJECT_NAME) == PROJECT_NAME_MAX
    assert len(LONGEST_PROJECT_ID) == PROJECT_ID_MAX
    check_project_name(LONGEST_PROJECT_NAME)
    check_project_id(LONGEST_PROJECT_ID)


@pytest.mark.parametrize("name", ["a", "my-project", "A--b9", "x" * 32])
def test_legal_project_names_pass(name: str) -> None:
    check_project_name(name)


@pytest.mark.parametrize(
    "name", ["", "1abc", "-abc", "abc-", "a_b", "a b", "a.b", "x" * 33, "proj\u00e9"]
)
def test_illegal_project_names_name_the_field_and_rule(name: str) -> None:
    with pytest.raises(SeedsError, match=r"project_name .*1-32 characters"):
        check_project_name(name)


@pytest.mark.parametrize("project_id", ["", "p-", "p_1", "x" * 21])
def test_illegal_project_ids_are_refused(project_id: str) -> None:
    with pytest.raises(SeedsError, match="project_id"):
        check_project_id(project_id)
