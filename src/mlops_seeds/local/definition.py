"""The pipeline definition JSON (schema 2020-12-01, as the SageMaker SDK emits it) as
plain dataclasses: parameters, and steps with the steps of condition branches flattened."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops_seeds.errors import SeedsError

PARAMETER_TYPES = ("String", "Integer", "Float", "Boolean")


class DefinitionError(SeedsError):
    """The definition JSON is malformed or refers to something it does not define."""


@dataclass(frozen=True)
class Parameter:
    """A pipeline parameter; `default` is None when the definition gives none."""

    name: str
    type: str
    default: Any = None


@dataclass(frozen=True)
class PropertyFile:
    """A JSON file a processing step writes to one of its outputs, read after the step."""

    name: str
    output_name: str
    path: str


@dataclass(frozen=True)
class Branch:
    """Where a step sits when it is in a condition step's IfSteps or ElseSteps."""

    condition: str
    outcome: bool


@dataclass(frozen=True)
class StepDef:
    """One step of the definition."""

    name: str
    type: str
    arguments: dict[str, Any]
    depends_on: tuple[str, ...] = ()
    property_files: tuple[PropertyFile, ...] = ()
    branch: Branch | None = None
    if_steps: tuple[str, ...] = ()
    else_steps: tuple[str, ...] = ()


@dataclass(frozen=True)
class Definition:
    """Parameters by name and steps by name, in the order the definition lists them."""

    parameters: dict[str, Parameter]
    steps: dict[str, StepDef] = field(default_factory=dict)


def load_definition(path: Path) -> Definition:
    """Read and parse a definition file."""
    try:
        text = path.read_text()
    except OSError as err:
        raise DefinitionError(f"cannot read definition {path}: {err.strerror}") from err
    return parse_definition(text)


def parse_definition(source: str | dict[str, Any]) -> Definition:
    """Parse a definition from its JSON text or the decoded object."""
    if isinstance(source, str):
        try:
            source = json.loads(source)
        except json.JSONDecodeError as err:
            raise DefinitionError(f"definition is not valid JSON: {err}") from err
    if not isinstance(source, dict):
        raise DefinitionError("definition: expected a JSON object")
    parameters = _parameters(source.get("Parameters") or [])
    steps: dict[str, StepDef] = {}
    raw_steps = source.get("Steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise DefinitionError("definition: Steps must be a non-empty list")
    for raw in raw_steps:
        _add_step(steps, raw, None)
    return Definition(parameters=parameters, steps=steps)


def _parameters(raw: Any) -> dict[str, Parameter]:
    if not isinstance(raw, list):
        raise DefinitionError("definition: Parameters must be a list")
    parameters: dict[str, Parameter] = {}
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("Name"), str):
            raise DefinitionError("Parameters: every parameter needs a Name")
        name = item["Name"]
        kind = item.get("Type", "String")
        if kind not in PARAMETER_TYPES:
            raise DefinitionError(
                f"parameter {name}: Type {kind!r} must be one of {', '.join(PARAMETER_TYPES)}"
            )
        if name in parameters:
            raise DefinitionError(f"parameter {name}: defined twice")
        parameters[name] = Parameter(name, kind, item.get("DefaultValue"))
    return parameters


def _add_step(steps: dict[str, StepDef], raw: Any, branch: Branch | None) -> None:
    if not isinstance(raw, dict) or not isinstance(raw.get("Name"), str):
        raise DefinitionError("Steps: every step needs a Name")
    name = raw["Name"]
    kind = raw.get("Type")
    if not isinstance(kind, str):
        raise DefinitionError(f"step {name}: Type is missing")
    if name in steps:
        raise DefinitionError(f"step {name}: defined twice")
    arguments = raw.get("Arguments") or {}
    if not isinstance(arguments, dict):
        raise DefinitionError(f"step {name}: Arguments must be an object")
    depends_on = raw.get("DependsOn") or []
    if not isinstance(depends_on, list) or not all(isinstance(d, str) for d in depends_on):
        raise DefinitionError(f"step {name}: DependsOn must be a list of step names")
    if_raw: list[Any] = []
    else_raw: list[Any] = []
    if kind == "Condition":
        if_raw = list(arguments.get("IfSteps") or [])
        else_raw = list(arguments.get("ElseSteps") or [])
        if not isinstance(arguments.get("Conditions"), list):
            raise DefinitionError(f"step {name}: Conditions must be a list")
    steps[name] = StepDef(
        name=name,
        type=kind,
        arguments=arguments,
        depends_on=tuple(depends_on),
        property_files=_property_files(name, raw.get("PropertyFiles") or []),
        branch=branch,
        if_steps=tuple(_step_name(s) for s in if_raw),
        else_steps=tuple(_step_name(s) for s in else_raw),
    )
    for item in if_raw:
        _add_step(steps, item, Branch(name, True))
    for item in else_raw:
        _add_step(steps, item, Branch(name, False))


def _step_name(raw: Any) -> str:
    if not isinstance(raw, dict) or not isinstance(raw.get("Name"), str):
        raise DefinitionError("Steps: every step needs a Name")
    return str(raw["Name"])


def _property_files(step: str, raw: Any) -> tuple[PropertyFile, ...]:
    files = []
    for item in raw if isinstance(raw, list) else [None]:
        keys = ("PropertyFileName", "OutputName", "FilePath")
        if not isinstance(item, dict) or not all(isinstance(item.get(k), str) for k in keys):
            raise DefinitionError(f"step {step}: PropertyFiles entries need {', '.join(keys)}")
        files.append(PropertyFile(item["PropertyFileName"], item["OutputName"], item["FilePath"]))
    return tuple(files)
