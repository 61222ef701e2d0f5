"""Parsing definitions, parameter values and overrides, and the dependency graph."""

import json
from typing import Any

import pytest

from mlops_seeds.errors import SeedsError
from mlops_seeds.local.definition import Branch, DefinitionError, Parameter, parse_definition
from mlops_seeds.local.graph import dependencies, topological_order
from mlops_seeds.local.parameters import convert, parse_pairs, resolve

PARAMETERS = [
    {"Name": "Url", "Type": "String", "DefaultValue": "s3://b/in"},
    {"Name": "Count", "Type": "Integer", "DefaultValue": 1},
    {"Name": "Threshold", "Type": "Float", "DefaultValue": 0.5},
    {"Name": "Flag", "Type": "Boolean", "DefaultValue": False},
]


def step(name: str, kind: str = "Fail", **fields: Any) -> dict[str, Any]:
    return {"Name": name, "Type": kind, "Arguments": fields.pop("Arguments", {}), **fields}


def definition(steps: list[dict[str, Any]], parameters: Any = None) -> dict[str, Any]:
    return {"Version": "2020-12-01", "Parameters": parameters or PARAMETERS, "Steps": steps}


def test_parameters_keep_their_defaults_without_overrides() -> None:
    parsed = parse_definition(definition([step("A")]))
    assert resolve(parsed.parameters, {}) == {
        "Url": "s3://b/in",
        "Count": 1,
        "Threshold": 0.5,
        "Flag": False,
    }


def test_overrides_are_converted_to_the_parameter_type() -> None:
    parsed = parse_definition(definition([step("A")]))
    values = resolve(
        parsed.parameters, {"Count": "7", "Threshold": "1e-3", "Flag": "True", "Url": "x=y"}
    )
    assert values == {"Url": "x=y", "Count": 7, "Threshold": 0.001, "Flag": True}


@pytest.mark.parametrize(
    ("kind", "value", "rule"),
    [
        ("Integer", "1.5", "an integer"),
        ("Integer", "ten", "an integer"),
        ("Float", "high", "a number"),
        ("Boolean", "yes", "true or false"),
        ("Integer", True, "an integer"),
    ],
)
def test_an_override_of_the_wrong_type_names_parameter_and_rule(
    kind: str, value: Any, rule: str
) -> None:
    with pytest.raises(SeedsError, match=rf"parameter P \({kind}\): .* is not {rule}"):
        convert(Parameter("P", kind), value)


def test_an_unknown_parameter_is_refused_with_the_known_ones() -> None:
    parsed = parse_definition(definition([step("A")]))
    with pytest.raises(SeedsError, match=r"--param Nope: no such pipeline parameter .*Url, Count"):
        resolve(parsed.parameters, {"Nope": "1"})


def test_a_parameter_without_default_needs_a_value() -> None:
    parsed = parse_definition(definition([step("A")], [{"Name": "Must", "Type": "String"}]))
    with pytest.raises(SeedsError, match="parameter Must has no default value"):
        resolve(parsed.parameters, {})
    assert resolve(parsed.parameters, {"Must": "x"}) == {"Must": "x"}


def test_param_pairs_need_an_equals_sign() -> None:
    assert parse_pairs(["A=1", "B=x=y"]) == {"A": "1", "B": "x=y"}
    with pytest.raises(SeedsError, match="expected NAME=VALUE"):
        parse_pairs(["A"])


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("{not json", "JSON syntax"),
        ("[]", "expected a JSON object"),
        (json.dumps({"Steps": []}), "Steps must be a non-empty list"),
        (json.dumps(definition([step("A"), step("A")])), "step A: defined twice"),
        (json.dumps(definition([{"Name": "A"}])), "step A: Type is missing"),
        (json.dumps(definition([step("A")], [{"Name": "P", "Type": "Date"}])), "Type 'Date'"),
        (json.dumps(definition([step("A", DependsOn="B")])), "DependsOn must be a list"),
    ],
)
def test_malformed_definitions_are_refused(source: str, message: str) -> None:
    with pytest.raises(DefinitionError, match=message):
        parse_definition(source)


def condition_step(name: str, if_steps: list[Any], else_steps: list[Any]) -> dict[str, Any]:
    conditions = [{"Type": "Equals", "LeftValue": {"Get": "Steps.B.X"}, "RightValue": 1}]
    return step(
        name,
        "Condition",
        Arguments={"Conditions": conditions, "IfSteps": if_steps, "ElseSteps": else_steps},
    )


def test_dependencies_come_from_depends_on_gets_and_condition_branches() -> None:
    steps = [
        step("A", "Processing"),
        step("B", "Processing", DependsOn=["A"]),
        step(
            "C",
            "Training",
            Arguments={
                "X": {"Std:Join": {"Values": [{"Get": "Steps.A.Y"}, {"Get": "Parameters.Url"}]}}
            },
        ),
        condition_step(
            "Check",
            [step("Yes", "RegisterModel", Arguments={"M": {"Get": "Steps.C.Z"}})],
            [step("No", "Fail")],
        ),
    ]
    parsed = parse_definition(definition(steps))
    assert parsed.steps["Yes"].branch == Branch("Check", True)
    assert parsed.steps["No"].branch == Branch("Check", False)
    assert parsed.steps["Check"].if_steps == ("Yes",)
    graph = dependencies(parsed)
    assert graph == {
        "A": set(),
        "B": {"A"},
        "C": {"A"},
        "Check": {"B"},  # its branches' references are theirs, not the condition's
        "Yes": {"Check", "C"},
        "No": {"Check"},
    }
    order = topological_order(graph)
    for name, needs in graph.items():
        assert all(order.index(n) < order.index(name) for n in needs)


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ([step("A", DependsOn=["Ghost"])], "step A: refers to unknown step Ghost"),
        (
            [step("A", Arguments={"X": {"Get": "Steps.Ghost.Y"}})],
            "step A: refers to unknown step Ghost",
        ),
        ([step("A", Arguments={"X": {"Get": "Parameters.Ghost"}})], "Parameters.Ghost: no such"),
        ([step("A", Arguments={"X": {"Get": "Nowhere.X"}})], "must start with Parameters"),
        ([step("A", DependsOn=["A"])], "step A: depends on itself"),
        (
            [step("A", DependsOn=["B"]), step("B", DependsOn=["A"]), step("C")],
            "cycle: A, B",
        ),
    ],
)
def test_bad_references_and_cycles_are_refused(steps: list[Any], message: str) -> None:
    with pytest.raises(DefinitionError, match=message):
        dependencies(parse_definition(definition(steps)))
