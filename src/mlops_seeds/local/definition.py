"""The pipeline definition JSON (schema 2020-12-01, as the SageMaker SDK emits it) as
plain dataclasses: parameters, and steps with the steps of condition branches flattened."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops_seeds.bounded_parsing import DocumentError, load_json, read_text
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
    where: str = ""  # its place in the JSON: Steps[2], Steps[2].Arguments.IfSteps[0], ...


@dataclass(frozen=True)
class Definition:
    """Parameters by name and steps by name, in the order the definition lists them."""

    parameters: dict[str, Parameter]
    steps: dict[str, StepDef] = field(default_factory=dict)


def load_definition(path: Path) -> Definition:
    """Read and parse a definition file (UTF-8, at most 1 MiB as CreatePipeline allows,
    nesting and duplicate keys bounded: see `mlops_seeds.bounded_parsing`)."""
    try:
        document = load_json(read_text(path), f"definition {path}")
    except DocumentError as err:
        message = str(err)
        prefix = "" if message.startswith("definition") else "definition "
        raise DefinitionError(prefix + message) from None
    return parse_definition(document)


def parse_definition(source: str | dict[str, Any]) -> Definition:
    """Parse a definition from its JSON text or the decoded object."""
    if isinstance(source, str):
        try:
            source = load_json(source, "definition")
        except DocumentError as err:
            raise DefinitionError(str(err)) from None
    if not isinstance(source, dict):
        raise DefinitionError("definition: expected a JSON object")
    parameters = _parameters(source.get("Parameters") or [])
    steps: dict[str, StepDef] = {}
    raw_steps = source.get("Steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise DefinitionError("definition: Steps must be a non-empty list")
    for index, raw in enumerate(raw_steps):
        _add_step(steps, raw, None, f"Steps[{index}]")
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


def _add_step(steps: dict[str, StepDef], raw: Any, branch: Branch | None, where: str) -> None:
    if not isinstance(raw, dict) or not isinstance(raw.get("Name"), str):
        raise DefinitionError(f"{where}: every step needs a Name")
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
        if_raw = _branch_steps(arguments, "IfSteps", where)
        else_raw = _branch_steps(arguments, "ElseSteps", where)
        if not isinstance(arguments.get("Conditions"), list):
            raise DefinitionError(f"step {name}: Conditions must be a list")
    steps[name] = StepDef(
        name=name,
        type=kind,
        arguments=arguments,
        depends_on=tuple(depends_on),
        property_files=_property_files(name, raw.get("PropertyFiles") or []),
        branch=branch,
        if_steps=tuple(
            _step_name(s, f"{where}.Arguments.IfSteps[{i}]") for i, s in enumerate(if_raw)
        ),
        else_steps=tuple(
            _step_name(s, f"{where}.Arguments.ElseSteps[{i}]") for i, s in enumerate(else_raw)
        ),
        where=where,
    )
    for index, item in enumerate(if_raw):
        _add_step(steps, item, Branch(name, True), f"{where}.Arguments.IfSteps[{index}]")
    for index, item in enumerate(else_raw):
        _add_step(steps, item, Branch(name, False), f"{where}.Arguments.ElseSteps[{index}]")


def _branch_steps(arguments: dict[str, Any], key: str, where: str) -> list[Any]:
    steps = arguments.get(key) or []
    if not isinstance(steps, list):
        raise DefinitionError(f"{where}.Arguments.{key}: must be a list of steps")
    return steps


def _step_name(raw: Any, where: str) -> str:
    if not isinstance(raw, dict) or not isinstance(raw.get("Name"), str):
        raise DefinitionError(f"{where}: every step needs a Name")
    return str(raw["Name"])


def _property_files(step: str, raw: Any) -> tuple[PropertyFile, ...]:
    files = []
    for item in raw if isinstance(raw, list) else [None]:
        keys = ("PropertyFileName", "OutputName", "FilePath")
        if not isinstance(item, dict) or not all(isinstance(item.get(k), str) for k in keys):
            raise DefinitionError(f"step {step}: PropertyFiles entries need {', '.join(keys)}")
        files.append(PropertyFile(item["PropertyFileName"], item["OutputName"], item["FilePath"]))
    return tuple(files)
