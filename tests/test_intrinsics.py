"""The intrinsic-function evaluator behind the derived-name check."""

from typing import Any

import pytest

from mlops_seeds.validate.intrinsics import parameter_values, resolve

TEMPLATE = {
    "Parameters": {
        "SageMakerProjectName": {"Type": "String"},
        "SageMakerProjectId": {"Type": "String"},
        "Stage": {"Type": "String", "AllowedValues": ["staging", "prod"]},
        "Suffix": {"Type": "String", "Default": "x"},
        "Free": {"Type": "String"},
    }
}
VALUES = parameter_values(TEMPLATE)
NAME, PID = "Longest-Legal-Project-Name-12345", "p-abcdefghijklmnopqr"


@pytest.mark.parametrize(
    ("node", "expected"),
    [
        ("literal", ["literal"]),
        (7, ["7"]),
        ({"Ref": "SageMakerProjectName"}, [NAME]),
        ({"Ref": "Stage"}, ["staging", "prod"]),
        ({"Fn::Sub": "${SageMakerProjectId}-${Suffix}"}, [f"{PID}-x"]),
        ({"Fn::Sub": "${AWS::Region}/${!Literal}"}, ["ap-southeast-2/${Literal}"]),
        ({"Fn::Sub": ["${A}-${Stage}", {"A": "a"}]}, ["a-staging", "a-prod"]),
        ({"Fn::Join": ["-", ["a", {"Ref": "Suffix"}, "b"]]}, ["a-x-b"]),
        ({"Fn::If": ["C", "yes", {"Ref": "AWS::NoValue"}]}, ["yes"]),
        ({"Fn::If": ["C", "yes", "no"]}, ["yes", "no"]),
        ({"Fn::Select": [1, ["a", {"Ref": "Suffix"}]]}, ["x"]),
    ],
    ids=lambda v: str(v)[:40],
)
def test_resolves_known_values(node: Any, expected: list[str]) -> None:
    assert resolve(node, VALUES) == expected


@pytest.mark.parametrize(
    "node",
    [
        {"Ref": "Free"},
        {"Ref": "SomeResource"},
        {"Fn::GetAtt": ["Bucket", "Arn"]},
        {"Fn::Sub": "${Bucket.Arn}/x"},
        {"Fn::Join": ["-", ["a", {"Ref": "Free"}]]},
        {"Fn::ImportValue": "x"},
        {"Fn::Select": [5, ["a"]]},
    ],
    ids=lambda v: str(v)[:40],
)
def test_unknown_values_stay_unresolved(node: Any) -> None:
    assert resolve(node, VALUES) is None
