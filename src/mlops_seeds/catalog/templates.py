"""Read a project template's parameters and rewrite the defaults of its seed-code ones.

The rewrite edits the `Default:` lines in place, so the published template is the one
checked in (assembled from its parts) byte for byte except for those values.
"""

import re
from functools import lru_cache
from typing import Any

import yaml

from mlops_seeds.bounded_parsing import BoundedLoader, load_yaml
from mlops_seeds.errors import SeedsError

BUCKET_PARAMETER = "SeedCodeBucket"
CHECKIN_BUILDSPEC_PARAMETER = "SeedCheckinBuildspecKey"
SEED_KEY_SUFFIX = "SeedKey"
STUDIO_PARAMETERS = ("SageMakerProjectName", "SageMakerProjectId")

_TOP_LEVEL = re.compile(r"^(?P<key>[A-Za-z][\w]*)\s*:")
_PARAMETER = re.compile(r"^(?P<indent> +)(?P<name>[A-Za-z][A-Za-z0-9]*)\s*:\s*$")
_DEFAULT = re.compile(r"^(?P<head>(?P<indent> +)Default\s*:\s*)(?P<value>.*)$")


class CfnLoader(BoundedLoader):
    """A bounded YAML loader that reads CloudFormation short tags (!Ref, !Sub, ...) as plain
    values."""


def _untagged(loader: Any, _suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)


CfnLoader.add_multi_constructor("!", _untagged)


def parameters(text: str, source: str = "template") -> dict[str, Any]:
    """The template's Parameters section (name -> definition); a DocumentError naming
    `source` when the text breaks a parsing limit or does not parse."""
    return dict(_parameters(text, source))


@lru_cache(maxsize=64)
def _parameters(text: str, source: str) -> dict[str, Any]:
    body = load_yaml(text, source, CfnLoader)
    section = body.get("Parameters", {}) if isinstance(body, dict) else {}
    return dict(section) if isinstance(section, dict) else {}


def seed_parameter(seed_name: str) -> str:
    """The template parameter holding a seed's zip key: model-build -> ModelBuildSeedKey."""
    words = re.split(r"[^A-Za-z0-9]+", seed_name)
    return "".join(w[:1].upper() + w[1:] for w in words if w) + SEED_KEY_SUFFIX


def seed_parameters(text: str) -> set[str]:
    """The template's parameters that take a seed zip key (…SeedKey)."""
    return {name for name in parameters(text) if name.endswith(SEED_KEY_SUFFIX)}


def set_defaults(text: str, values: dict[str, str]) -> str:
    """`text` with the Default of each named parameter set to its value (double-quoted).

    Every named parameter must exist and have a one-line Default."""
    lines = text.splitlines(keepends=True)
    in_parameters = False
    current: str | None = None
    parameter_indent = ""
    done: set[str] = set()
    for number, line in enumerate(lines):
        top = _TOP_LEVEL.match(line)
        if top:
            in_parameters = top.group("key") == "Parameters"
            current = None
            continue
        if not in_parameters:
            continue
        declared = _PARAMETER.match(line)
        if declared and (not parameter_indent or declared.group("indent") == parameter_indent):
            parameter_indent = declared.group("indent")
            current = declared.group("name")
            continue
        default = _DEFAULT.match(line)
        if current in values and default and len(default.group("indent")) > len(parameter_indent):
            end = "\n" if line.endswith("\n") else ""
            lines[number] = f"{default.group('head')}{_quoted(values[current])}{end}"
            done.add(current)
    missing = sorted(set(values) - done)
    if missing:
        raise SeedsError(f"template has no one-line Default for parameter(s) {', '.join(missing)}")
    result = "".join(lines)
    rewritten = parameters(result)
    for name, value in values.items():
        if str(rewritten[name].get("Default")) != value:
            raise SeedsError(f"template parameter {name}: Default rewrite did not take")
    return result


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
