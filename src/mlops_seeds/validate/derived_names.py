"""Check every name a template derives from the project name and id against AWS limits,
using the longest legal project name and id."""

import re
from collections.abc import Iterator, Mapping
from functools import cache
from importlib import resources
from typing import Any

from mlops_seeds.bounded_parsing import load_yaml
from mlops_seeds.validate.documents import Document, line_of
from mlops_seeds.validate.findings import Finding
from mlops_seeds.validate.intrinsics import Candidates, parameter_values, resolve

Limit = Mapping[str, Any]


@cache
def limits() -> dict[str, Any]:
    """The name limits of data/name_limits.yaml."""
    text = resources.files("mlops_seeds").joinpath("data/name_limits.yaml").read_text()
    data: dict[str, Any] = load_yaml(text, "mlops_seeds/data/name_limits.yaml")
    return data


def _mapping(node: Any) -> Mapping[str, Any]:
    """`node` when it is a mapping, else an empty one (cfn-lint reports the wrong shape)."""
    return node if isinstance(node, Mapping) else {}


def _sequence(node: Any) -> list[Any]:
    """`node` when it is a list, else an empty one (cfn-lint reports the wrong shape)."""
    return node if isinstance(node, list) else []


def _named_values(resource: Mapping[str, Any]) -> Iterator[tuple[str, Any, Limit]]:
    """(what, node, limit) for each name-bearing value of one resource."""
    table = limits()
    kind = resource.get("Type")
    if not isinstance(kind, str):
        return
    props = _mapping(resource.get("Properties"))
    for prop, limit in table["resources"].get(kind, {}).items():
        if prop in props:
            yield prop, props[prop], limit
    if kind == "AWS::CodePipeline::Pipeline":
        for stage in _sequence(props.get("Stages")):
            for action in _sequence(_mapping(stage).get("Actions")):
                action = _mapping(action)
                provider = _mapping(action.get("ActionTypeId")).get("Provider")
                config = _mapping(action.get("Configuration"))
                known = (
                    table["pipeline_actions"].get(provider, {}) if isinstance(provider, str) else {}
                )
                for key, limit in known.items():
                    if key in config:
                        yield f"action {action.get('Name')} {key}", config[key], limit
    if kind == "AWS::CodeBuild::Project":
        env = _sequence(_mapping(props.get("Environment")).get("EnvironmentVariables"))
        for variable in map(_mapping, env):
            name = variable.get("Name")
            limit = table["codebuild_environment"].get(name) if isinstance(name, str) else None
            if limit and "Value" in variable:
                yield f"variable {name}", variable["Value"], limit


def _check(value: str, limit: Limit) -> str | None:
    if len(value) > limit["max"]:
        return f"is {len(value)} characters, over the limit of {limit['max']}"
    if not re.fullmatch(limit["pattern"], value):
        return f"does not match {limit['pattern']}"
    return None


def check(doc: Document) -> list[Finding]:
    """A finding for each derived name that breaks its limit for some parameter value."""
    template = doc.body
    values = parameter_values(template)
    findings = []
    for logical_id, resource in _mapping(template.get("Resources")).items():
        if not isinstance(resource, Mapping):
            continue
        for what, node, limit in _named_values(resource):
            candidates: Candidates = resolve(node, values)
            for value in candidates or []:
                problem = _check(value, limit)
                if problem:
                    findings.append(
                        Finding(
                            doc.label,
                            line_of(node, line_of(resource)),
                            "MS201",
                            f"{logical_id} {what} {value!r} {problem} "
                            "(with the longest legal project name and id)",
                        )
                    )
                    break
    return findings
