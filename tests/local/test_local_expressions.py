"""The expression language: Get on parameters, execution variables and step properties,
Std:Join, Std:JsonGet (property files and S3Uri), and every condition type."""

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from mlops_seeds.local.conditions import all_true, holds
from mlops_seeds.local.expressions import (
    ExpressionError,
    PathPart,
    Reference,
    evaluate,
    json_lookup,
    parse_get,
    parse_path,
    step_references,
)


class FakeScope:
    """Parameters, execution variables and finished steps given as dicts."""

    def __init__(self, tmp_path: Path) -> None:
        self.parameters: dict[str, Any] = {"Threshold": 0.9, "Count": 3, "Name": "abc", "On": True}
        self.variables = {"PipelineExecutionId": "exec123", "PipelineName": "demo"}
        self.steps: dict[str, dict[str, Any]] = {
            "Prep": {
                "ProcessingOutputConfig": {
                    "Outputs": [
                        {"OutputName": "train", "S3Output": {"S3Uri": "s3://b/train"}},
                        {"OutputName": "test", "S3Output": {"S3Uri": "s3://b/test"}},
                    ]
                },
                "PropertyFiles": {
                    "Report": {"metrics": {"accuracy": {"value": 0.93}}, "list": [5, 6, {"x": 7}]}
                },
            },
            "Train": {"ModelArtifacts": {"S3ModelArtifacts": "s3://b/model.tar.gz"}},
        }
        self.files = tmp_path

    def parameter(self, name: str) -> Any:
        return self.parameters[name]

    def execution_variable(self, name: str) -> Any:
        return self.variables[name]

    def step_property(self, step: str, path: Sequence[PathPart]) -> Any:
        return json_lookup(self.steps[step], path, f"Steps.{step}")

    def read_json(self, uri: str) -> Any:
        return json.loads(Path(uri).read_text())


@pytest.fixture
def scope(tmp_path: Path) -> FakeScope:
    return FakeScope(tmp_path)


def get(text: str) -> dict[str, str]:
    return {"Get": text}


def json_get(path: str) -> dict[str, Any]:
    return {"Std:JsonGet": {"PropertyFile": get("Steps.Prep.PropertyFiles.Report"), "Path": path}}


def test_get_resolves_parameters_execution_variables_and_step_properties(
    scope: FakeScope,
) -> None:
    assert evaluate(get("Parameters.Threshold"), scope) == 0.9
    assert evaluate(get("Execution.PipelineExecutionId"), scope) == "exec123"
    uri = "Steps.Prep.ProcessingOutputConfig.Outputs['test'].S3Output.S3Uri"
    assert evaluate(get(uri), scope) == "s3://b/test"
    assert evaluate(get("Steps.Train.ModelArtifacts.S3ModelArtifacts"), scope) == (
        "s3://b/model.tar.gz"
    )


def test_expressions_are_evaluated_anywhere_in_a_tree(scope: FakeScope) -> None:
    tree = {"A": [get("Parameters.Count"), {"B": get("Parameters.Name")}], "C": 1, "D": None}
    assert evaluate(tree, scope) == {"A": [3, {"B": "abc"}], "C": 1, "D": None}


def test_join_writes_values_as_strings_with_json_booleans(scope: FakeScope) -> None:
    join = {
        "Std:Join": {
            "On": "/",
            "Values": [
                "s3://b",
                get("Execution.PipelineExecutionId"),
                2,
                0.5,
                get("Parameters.On"),
            ],
        }
    }
    assert evaluate(join, scope) == "s3://b/exec123/2/0.5/true"


def test_join_without_on_concatenates(scope: FakeScope) -> None:
    assert evaluate({"Std:Join": {"Values": ["a", get("Parameters.Name")]}}, scope) == "aabc"


def test_json_get_reads_a_property_file(scope: FakeScope) -> None:
    assert evaluate(json_get("metrics.accuracy.value"), scope) == 0.93
    assert evaluate(json_get("list[2].x"), scope) == 7
    assert evaluate(json_get("$.list[0]"), scope) == 5


def test_json_get_reads_a_document_by_uri(scope: FakeScope, tmp_path: Path) -> None:
    (tmp_path / "report.json").write_text(json.dumps({"rmse": {"value": 41.5}}))
    expression = {
        "Std:JsonGet": {
            "S3Uri": {"Std:Join": {"On": "/", "Values": [str(tmp_path), "report.json"]}},
            "Path": "rmse.value",
        }
    }
    assert evaluate(expression, scope) == 41.5


def test_json_get_names_the_missing_path(scope: FakeScope) -> None:
    with pytest.raises(ExpressionError, match=r"nothing at metrics\.f1"):
        evaluate(json_get("metrics.f1.value"), scope)


def test_a_missing_step_property_is_an_error(scope: FakeScope) -> None:
    with pytest.raises(ExpressionError, match=r"Steps\.Train: nothing at ModelArtifacts\.Nope"):
        evaluate(get("Steps.Train.ModelArtifacts.Nope"), scope)


def test_property_paths_parse_names_keys_and_indexes() -> None:
    assert parse_path("""A.B['k 1'][0].C["d"]""") == ("A", "B", "k 1", 0, "C", "d")
    with pytest.raises(ExpressionError, match="bad property path"):
        parse_path("A..B")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Parameters.X", Reference("Parameters", "X")),
        ("Execution.StartDateTime", Reference("Execution", "StartDateTime")),
        ("Steps.S-1.A.B[0]", Reference("Steps", "S-1", ("A", "B", 0))),
    ],
)
def test_get_strings_parse(text: str, expected: Reference) -> None:
    assert parse_get(text) == expected


@pytest.mark.parametrize(
    "text", ["Params.X", "Parameters", "Execution.Nope", "Steps.OnlyAName", "Steps..X"]
)
def test_bad_get_strings_are_refused(text: str) -> None:
    with pytest.raises(ExpressionError):
        parse_get(text)


def test_step_references_see_inside_join_and_json_get() -> None:
    tree = {
        "A": {"Std:Join": {"Values": [get("Steps.One.X"), get("Parameters.P")]}},
        "B": [json_get("a.b")],
        "C": get("Execution.PipelineName"),
    }
    assert step_references(tree) == {"One", "Prep"}


def test_an_unknown_function_is_refused() -> None:
    with pytest.raises(ExpressionError, match="unknown function Std:Concat"):
        step_references({"Std:Concat": {"Values": []}})


def binary(kind: str, left: Any, right: Any) -> dict[str, Any]:
    return {"Type": kind, "LeftValue": left, "RightValue": right}


@pytest.mark.parametrize(
    ("kind", "left", "right", "expected"),
    [
        ("Equals", get("Parameters.Name"), "abc", True),
        ("Equals", get("Parameters.Count"), 3.0, True),
        ("Equals", get("Parameters.Name"), "abd", False),
        ("Equals", get("Parameters.On"), True, True),
        ("NotEquals", get("Parameters.Name"), "abd", True),
        ("NotEquals", get("Parameters.Count"), 3, False),
        ("GreaterThan", json_get("metrics.accuracy.value"), get("Parameters.Threshold"), True),
        ("GreaterThan", 0.9, get("Parameters.Threshold"), False),
        ("GreaterThanOrEqualTo", 0.9, get("Parameters.Threshold"), True),
        ("GreaterThanOrEqualTo", 0.89, get("Parameters.Threshold"), False),
        ("LessThan", get("Parameters.Count"), 4, True),
        ("LessThan", get("Parameters.Count"), 3, False),
        ("LessThanOrEqualTo", get("Parameters.Count"), 3, True),
        ("LessThanOrEqualTo", get("Parameters.Count"), 2, False),
        ("LessThan", "10.5", 11, True),
        ("LessThan", "abc", "abd", True),
    ],
)
def test_binary_conditions(
    scope: FakeScope, kind: str, left: Any, right: Any, expected: bool
) -> None:
    assert holds(binary(kind, left, right), scope) is expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"Type": "In", "QueryValue": get("Parameters.Name"), "Values": ["x", "abc"]}, True),
        ({"Type": "In", "QueryValue": get("Parameters.Count"), "Values": [1, 2]}, False),
        ({"Type": "In", "QueryValue": 3, "Values": [get("Parameters.Count")]}, True),
        ({"Type": "In", "Value": "abc", "In": [get("Parameters.Name")]}, True),
        ({"Type": "NotIn", "Value": "abc", "In": ["x"]}, True),
        ({"Type": "NotIn", "QueryValue": "x", "Values": ["x"]}, False),
    ],
)
def test_in_conditions_in_both_spellings(
    scope: FakeScope, condition: dict[str, Any], expected: bool
) -> None:
    assert holds(condition, scope) is expected


def test_not_and_or_combine_conditions(scope: FakeScope) -> None:
    yes = binary("Equals", 1, 1)
    no = binary("Equals", 1, 2)
    assert holds({"Type": "Not", "Condition": no}, scope) is True
    assert holds({"Type": "Not", "Condition": yes}, scope) is False
    assert holds({"Type": "Or", "Conditions": [no, yes]}, scope) is True
    assert holds({"Type": "Or", "Conditions": [no, {"Type": "Not", "Condition": yes}]}, scope) is (
        False
    )
    assert holds({"Type": "Or", "Conditions": []}, scope) is False


def test_a_step_holds_when_all_its_conditions_hold(scope: FakeScope) -> None:
    yes = binary("Equals", 1, 1)
    no = binary("Equals", 1, 2)
    assert all_true([yes, yes], scope) is True
    assert all_true([yes, no], scope) is False
    assert all_true([], scope) is True


def test_unknown_condition_types_and_incomparable_values_are_errors(scope: FakeScope) -> None:
    with pytest.raises(ExpressionError, match="condition type 'Between'"):
        holds({"Type": "Between"}, scope)
    with pytest.raises(ExpressionError, match="cannot compare 'abc' with 3"):
        holds(binary("GreaterThan", "abc", 3), scope)
    with pytest.raises(ExpressionError, match="LeftValue is missing"):
        holds({"Type": "Equals", "RightValue": 1}, scope)
