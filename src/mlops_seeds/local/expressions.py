"""The definition's expression language: `Get` (Parameters.N, Execution.V,
Steps.S.<property path>), `Std:Join` and `Std:JsonGet`, evaluated anywhere in a JSON tree."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

GET = "Get"
JOIN = "Std:Join"
JSON_GET = "Std:JsonGet"
ROOTS = ("Parameters", "Execution", "Steps")
EXECUTION_VARIABLES = (
    "PipelineExecutionId",
    "PipelineExecutionArn",
    "PipelineName",
    "PipelineArn",
    "StartDateTime",
    "CurrentDateTime",
    "ProcessingJobName",
    "TrainingJobName",
)
_PATH_PART = re.compile(r"""\.?([A-Za-z0-9_\-:]+)|\[(\d+)\]|\['([^']*)'\]|\["([^"]*)"\]""")

PathPart = str | int


class ExpressionError(Exception):
    """An expression cannot be evaluated (a missing property, a bad path, a type clash)."""


@dataclass(frozen=True)
class Reference:
    """What a `Get` names: root (Parameters, Execution, Steps), a name and, for steps, the
    property path under the step."""

    root: str
    name: str
    path: tuple[PathPart, ...] = ()

    def __str__(self) -> str:
        return ".".join([self.root, self.name, *(str(p) for p in self.path)])


class Scope(Protocol):
    """What expressions are evaluated against."""

    def parameter(self, name: str) -> Any:
        """A parameter's value."""

    def execution_variable(self, name: str) -> Any:
        """An execution variable's value."""

    def step_property(self, step: str, path: Sequence[PathPart]) -> Any:
        """A property of a finished step (`PropertyFiles.<name>` is the parsed file)."""

    def read_json(self, uri: str) -> Any:
        """The JSON document at an s3:// URI or local path."""


def parse_path(text: str) -> tuple[PathPart, ...]:
    """`A.B['k'][0].C` -> ("A", "B", "k", 0, "C"); a leading `$.` is ignored."""
    text = text.removeprefix("$.").removeprefix("$")
    parts: list[PathPart] = []
    position = 0
    while position < len(text):
        match = _PATH_PART.match(text, position)
        if not match or match.end() == position:
            raise ExpressionError(f"bad property path {text!r} at position {position}")
        word, index, single, double = match.groups()
        if index is not None:
            parts.append(int(index))
        else:
            parts.append(next(p for p in (word, single, double) if p is not None))
        position = match.end()
    return tuple(parts)


def parse_get(text: str) -> Reference:
    """Parse the string of a `Get`."""
    root, _, rest = text.partition(".")
    if root not in ROOTS or not rest:
        raise ExpressionError(f"Get {text!r}: must start with Parameters., Execution. or Steps.")
    if root != "Steps":
        if root == "Execution" and rest not in EXECUTION_VARIABLES:
            known = ", ".join(EXECUTION_VARIABLES)
            raise ExpressionError(f"Get {text!r}: unknown execution variable (known: {known})")
        return Reference(root, rest)
    name, _, path = rest.partition(".")
    if not name or not path:
        raise ExpressionError(f"Get {text!r}: expected Steps.<step name>.<property>")
    return Reference(root, name, parse_path(path))


def references(value: Any) -> Iterator[Reference]:
    """Every `Get` in a JSON tree (including inside Std:Join and Std:JsonGet)."""
    if isinstance(value, dict):
        if _is_function(value, GET):
            yield parse_get(_get_text(value))
            return
        for key, item in value.items():
            if key.startswith("Std:") and key not in (JOIN, JSON_GET):
                raise ExpressionError(f"unknown function {key}")
            yield from references(item)
    elif isinstance(value, list):
        for item in value:
            yield from references(item)


def step_references(value: Any) -> set[str]:
    """Names of the steps a JSON tree refers to."""
    return {ref.name for ref in references(value) if ref.root == "Steps"}


def evaluate(value: Any, scope: Scope) -> Any:
    """The JSON tree with every expression replaced by its value."""
    if isinstance(value, dict):
        if _is_function(value, GET):
            return _get(parse_get(_get_text(value)), scope)
        if _is_function(value, JOIN):
            return _join(value[JOIN], scope)
        if _is_function(value, JSON_GET):
            return _json_get(value[JSON_GET], scope)
        return {key: evaluate(item, scope) for key, item in value.items()}
    if isinstance(value, list):
        return [evaluate(item, scope) for item in value]
    return value


def as_text(value: Any) -> str:
    """A value as Std:Join writes it: JSON spelling for booleans, null and containers."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None or isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def json_lookup(document: Any, path: Sequence[PathPart], where: str) -> Any:
    """The value at `path` in a JSON document (dict keys, list indexes, and `['name']` on a
    list of objects picks the one whose `...Name` field is `name`)."""
    current = document
    for depth, part in enumerate(path):
        found, current = _step_into(current, part)
        if not found:
            walked = ".".join(str(p) for p in path[: depth + 1])
            raise ExpressionError(f"{where}: nothing at {walked}")
    return current


def _step_into(current: Any, part: PathPart) -> tuple[bool, Any]:
    if isinstance(part, int):
        if isinstance(current, list) and -len(current) <= part < len(current):
            return True, current[part]
        return False, None
    if isinstance(current, dict):
        return (part in current), current.get(part)
    if isinstance(current, list):
        for item in current:
            if isinstance(item, dict) and any(
                key.endswith("Name") and value == part for key, value in item.items()
            ):
                return True, item
    return False, None


def _is_function(value: dict[str, Any], name: str) -> bool:
    return len(value) == 1 and name in value


def _get_text(value: dict[str, Any]) -> str:
    text = value[GET]
    if not isinstance(text, str):
        raise ExpressionError(f"Get: expected a string, got {text!r}")
    return text


def _get(ref: Reference, scope: Scope) -> Any:
    if ref.root == "Parameters":
        return scope.parameter(ref.name)
    if ref.root == "Execution":
        return scope.execution_variable(ref.name)
    return scope.step_property(ref.name, ref.path)


def _join(body: Any, scope: Scope) -> str:
    if not isinstance(body, dict) or not isinstance(body.get("Values"), list):
        raise ExpressionError("Std:Join: needs a Values list")
    separator = as_text(evaluate(body.get("On", ""), scope))
    return separator.join(as_text(evaluate(item, scope)) for item in body["Values"])


def _json_get(body: Any, scope: Scope) -> Any:
    if not isinstance(body, dict) or "Path" not in body:
        raise ExpressionError("Std:JsonGet: needs a Path and a PropertyFile or S3Uri")
    path_text = evaluate(body["Path"], scope)
    if not isinstance(path_text, str):
        raise ExpressionError(f"Std:JsonGet: Path must be a string, got {path_text!r}")
    if "PropertyFile" in body:
        source = body["PropertyFile"]
        where = f"Std:JsonGet {_get_text(source) if isinstance(source, dict) else source}"
        document = evaluate(source, scope)
    elif "S3Uri" in body:
        uri = evaluate(body["S3Uri"], scope)
        where = f"Std:JsonGet {uri}"
        document = scope.read_json(str(uri))
    else:
        raise ExpressionError("Std:JsonGet: needs a PropertyFile or an S3Uri")
    return json_lookup(document, parse_path(path_text), where)
