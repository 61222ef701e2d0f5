"""Evaluate CloudFormation intrinsic functions to every string a value can take.

Parameters take the values given (the longest legal project name and id, a parameter's
allowed values or default); anything only known at deploy time (GetAtt, a resource's Ref,
an import) leaves the value unresolved (None)."""

import itertools
import re
from collections.abc import Mapping
from typing import Any

from mlops_seeds.names import LONGEST_PROJECT_ID, LONGEST_PROJECT_NAME

Candidates = list[str] | None
MAX_CANDIDATES = 64
MAX_DEPTH = 32  # intrinsic functions nested deeper than this are left unresolved

# The longest value of each pseudo parameter across AWS partitions and regions.
PSEUDO_PARAMETERS: dict[str, Candidates] = {
    "AWS::AccountId": ["123456789012"],
    "AWS::Region": ["ap-southeast-2"],
    "AWS::Partition": ["aws-us-gov"],
    "AWS::URLSuffix": ["amazonaws.com.cn"],
    "AWS::StackName": ["s" * 128],
    "AWS::StackId": None,
    "AWS::NotificationARNs": None,
    "AWS::NoValue": None,
}
PROJECT_PARAMETERS = {
    "SageMakerProjectName": [LONGEST_PROJECT_NAME],
    "SageMakerProjectId": [LONGEST_PROJECT_ID],
}
_SUB = re.compile(r"\$\{([^}]*)\}")


def parameter_values(template: Mapping[str, Any]) -> dict[str, Candidates]:
    """Candidate values of each template parameter and pseudo parameter."""
    values: dict[str, Candidates] = {}
    parameters = template.get("Parameters") or {}
    if not isinstance(parameters, Mapping):  # cfn-lint reports the shape
        parameters = {}
    for name, spec in parameters.items():
        if name in PROJECT_PARAMETERS:
            values[name] = PROJECT_PARAMETERS[name]
        elif not isinstance(spec, Mapping):
            values[name] = None
        elif isinstance(spec.get("AllowedValues"), list) and spec["AllowedValues"]:
            values[name] = [str(v) for v in spec["AllowedValues"]]
        elif "Default" in spec and not isinstance(spec["Default"], (list, dict)):
            values[name] = [str(spec["Default"])]
        else:
            values[name] = None
    values.update(PSEUDO_PARAMETERS)
    return values


def resolve(node: Any, values: Mapping[str, Candidates], depth: int = 0) -> Candidates:
    """Every string `node` can evaluate to, or None when any part is unknown (or nested
    deeper than MAX_DEPTH)."""
    if depth > MAX_DEPTH:
        return None
    if isinstance(node, bool):
        return [str(node).lower()]
    if isinstance(node, (str, int, float)):
        return [str(node)]
    if not isinstance(node, Mapping) or len(node) != 1:
        return None
    ((function, argument),) = node.items()
    if function == "Ref":
        return values.get(argument) if isinstance(argument, str) else None
    if function == "Fn::Sub":
        return _sub(argument, values, depth + 1)
    if function == "Fn::Join":
        return _join(argument, values, depth + 1)
    if function == "Fn::If":
        return _if(argument, values, depth + 1)
    if function == "Fn::Select":
        return _select(argument, values, depth + 1)
    return None


def _product(parts: list[Candidates]) -> Candidates:
    if any(p is None for p in parts):
        return None
    combos = itertools.islice(itertools.product(*parts), MAX_CANDIDATES)  # type: ignore[arg-type]
    return ["".join(c) for c in combos]


def _sub(argument: Any, values: Mapping[str, Candidates], depth: int) -> Candidates:
    if isinstance(argument, list) and len(argument) == 2:
        text, variables = argument
        if not isinstance(variables, Mapping):
            return None
        local = {str(k): resolve(v, values, depth) for k, v in variables.items()}
        values = {**values, **local}
    else:
        text = argument
    if not isinstance(text, str):
        return None
    parts: list[Candidates] = []
    position = 0
    for match in _SUB.finditer(text):
        parts.append([text[position : match.start()]])
        name = match.group(1)
        if name.startswith("!"):
            parts.append(["${" + name[1:] + "}"])
        elif "." in name and name not in values:
            return None  # a resource attribute
        else:
            parts.append(values.get(name))
        position = match.end()
    parts.append([text[position:]])
    return _product(parts)


def _join(argument: Any, values: Mapping[str, Candidates], depth: int) -> Candidates:
    if not isinstance(argument, list) or len(argument) != 2 or not isinstance(argument[1], list):
        return None
    delimiter, items = argument
    parts: list[Candidates] = []
    for index, item in enumerate(items):
        if index:
            parts.append([str(delimiter)])
        parts.append(resolve(item, values, depth))
    return _product(parts)


def _if(argument: Any, values: Mapping[str, Candidates], depth: int) -> Candidates:
    if not isinstance(argument, list) or len(argument) != 3:
        return None
    branches = [resolve(branch, values, depth) for branch in argument[1:]]
    known = [value for branch in branches if branch for value in branch]
    return known or None


def _select(argument: Any, values: Mapping[str, Candidates], depth: int) -> Candidates:
    if not isinstance(argument, list) or len(argument) != 2:
        return None
    index, items = argument
    if not isinstance(items, list) or not str(index).isdigit() or int(index) >= len(items):
        return None
    return resolve(items[int(index)], values, depth)
