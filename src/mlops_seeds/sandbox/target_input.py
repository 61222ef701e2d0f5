"""What an EventBridge target receives, and PutTargets' refusals of how a target asks for it
(EventBridge API Reference, Target and InputTransformer; User Guide, "Amazon EventBridge
input transformation"):

- nothing asked: the event, as JSON;
- `Input`: that JSON text, nothing of the event (PutTargets refuses text that is not JSON);
- `InputPath`: the JSON of the part of the event the path names (`$`, `$.detail.x`,
  `$.resources[0]`);
- `InputTransformer`: its `InputTemplate` with each `<name>` replaced by the value its
  `InputPathsMap` path finds, or a predefined one (`aws.events.rule-arn`,
  `aws.events.rule-name`, `aws.events.event.ingestion-time`, `aws.events.event` (the event
  without its detail), `aws.events.event.json` (all of it)). Inside a JSON string the value
  goes in as its text, unescaped; elsewhere as JSON (a string quoted). A path the event
  does not have gives an empty string.

PutTargets refuses more than one of the three, and a template placeholder that is neither
mapped nor predefined, with AWS's messages; a placeholder used as a JSON object key, more
than 100 paths, and a key outside `[A-Za-z0-9_-]` with messages of ours. The outputs of
missing paths and of the predefined `aws.events.event` follow responses LocalStack recorded
from AWS (tests/aws/services/events/test_events_inputs.snapshot.json), as the references
do not give them.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from moto.events.exceptions import ValidationException
from moto.events.models import EventsBackend

_MARK = "_mlops_seeds_target_input"
WAYS = ("Input", "InputPath", "InputTransformer")
MAX_PATHS = 100
_KEY = re.compile(r"[A-Za-z0-9_\-]{1,256}")
# A placeholder names a key of InputPathsMap ([A-Za-z0-9_-]) or a predefined variable (dots).
_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.\-]+)>")
MAX_INPUT = 8192  # Input and InputTemplate, characters
MAX_INPUT_PATH = 256
_STEP = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]")
PREDEFINED = (
    "aws.events.rule-arn",
    "aws.events.rule-name",
    "aws.events.event.ingestion-time",
    "aws.events.event",
    "aws.events.event.json",
)
_MISSING = object()


class TargetInputError(ValueError):
    """A target's input settings PutTargets refuses; the message is the refusal's."""


def check(target: Mapping[str, Any]) -> None:
    """TargetInputError when PutTargets refuses how `target` asks for its input."""
    target_id = target.get("Id", "")
    given = [way for way in WAYS if target.get(way) is not None]
    if len(given) > 1:
        raise TargetInputError(
            f"Only one of Input, InputPath, or InputTransformer must be provided for target "
            f"{target_id}."
        )
    for way, limit in (("Input", MAX_INPUT), ("InputPath", MAX_INPUT_PATH)):
        if way in given and (not isinstance(target[way], str) or len(target[way]) > limit):
            raise TargetInputError(f"{way} for target {target_id}: a string of at most {limit}.")
    if "Input" in given:
        try:
            json.loads(target["Input"])
        except json.JSONDecodeError as err:
            raise TargetInputError(
                f"JSON syntax error in input for target {target_id}: {err}"
            ) from err
    if "InputTransformer" in given:
        _check_transformer(target_id, target["InputTransformer"])


def _check_transformer(target_id: str, transformer: Mapping[str, Any]) -> None:
    paths = transformer.get("InputPathsMap") or {}
    if len(paths) > MAX_PATHS:
        raise TargetInputError(
            f"InputPathsMap for target {target_id} has {len(paths)} entries; at most {MAX_PATHS}."
        )
    for key in paths:
        if not _KEY.fullmatch(key):
            raise TargetInputError(
                f"InputPathsMap key {key!r} for target {target_id}: 1 to 256 letters, digits, "
                "_ and -."
            )
    template = transformer.get("InputTemplate")
    if not isinstance(template, str) or not 1 <= len(template) <= MAX_INPUT:
        raise TargetInputError(
            f"InputTemplate for target {target_id}: required, a string of 1 to {MAX_INPUT}."
        )
    for found in _placeholders(template):
        if found.name not in paths and found.name not in PREDEFINED:
            raise TargetInputError(
                f"InputTemplate for target {target_id} contains invalid placeholder {found.name}."
            )
        if found.as_key:
            raise TargetInputError(
                f"InputTemplate for target {target_id} uses placeholder {found.name} as an "
                "object key."
            )


@dataclass(frozen=True)
class _Placeholder:
    """A `<name>` of a template: where it is, whether inside a JSON string, and whether it
    stands where an object's key would."""

    name: str
    start: int
    end: int
    inside_string: bool
    as_key: bool


def _placeholders(template: str) -> list[_Placeholder]:
    """The placeholders of `template`, scanned as JSON text (strings, objects, arrays). A
    placeholder is a key when it stands, quoted or not, where an object's key would."""
    found: list[_Placeholder] = []
    containers: list[str] = []
    inside = escaped = string_is_key = False
    previous = ""  # the last character outside strings that is not blank
    position = 0
    while position < len(template):
        char = template[position]
        if inside and escaped:
            escaped = False
            position += 1
            continue
        match = _PLACEHOLDER.match(template, position) if char == "<" else None
        if match:
            key_position = previous in ("{", ",") and containers[-1:] == ["{"]
            as_key = string_is_key if inside else key_position
            found.append(_Placeholder(match[1], match.start(), match.end(), inside, as_key))
            position = match.end()
            if not inside:
                previous = ">"
            continue
        if inside:
            if char == "\\":
                escaped = True
            elif char == '"':
                inside = False
                previous = '"'
        elif char == '"':
            inside = True
            string_is_key = previous in ("{", ",") and containers[-1:] == ["{"]
        else:
            if char in "{[":
                containers.append(char)
            elif char in "}]" and containers:
                containers.pop()
            if not char.isspace():
                previous = char
        position += 1
    return found


def find(event: Any, path: str) -> Any:
    """The value `path` ($, $.a.b-c, $.a[0]) names in `event`; _MISSING when it has none."""
    if not path.startswith("$"):
        return _MISSING
    value, position = event, 1
    while position < len(path):
        step = _STEP.match(path, position)
        if step is None:
            return _MISSING
        if step[1] is not None:
            if not isinstance(value, dict) or step[1] not in value:
                return _MISSING
            value = value[step[1]]
        else:
            index = int(step[2])
            if not isinstance(value, list) or index >= len(value):
                return _MISSING
            value = value[index]
        position = step.end()
    return value


def payload(
    target: Mapping[str, Any],
    event: dict[str, Any],
    rule_arn: str,
    ingestion: datetime,
) -> str:
    """What `target` of rule `rule_arn` receives for `event`, received at `ingestion`."""
    if target.get("Input") is not None:
        return str(target["Input"])
    if target.get("InputPath") is not None:
        value = find(event, str(target["InputPath"]))
        return "" if value is _MISSING else json.dumps(value)
    transformer = target.get("InputTransformer")
    if transformer is None:
        return json.dumps(event, default=str)
    values = {
        name: find(event, str(path))
        for name, path in (transformer.get("InputPathsMap") or {}).items()
    }
    summary = {k: v for k, v in event.items() if k != "detail"}
    if "detail-type" in summary:
        summary["detailType"] = summary.pop("detail-type")
    summary["time"] = _iso(ingestion)
    values |= {
        "aws.events.rule-arn": rule_arn,
        "aws.events.rule-name": rule_arn.rsplit("/", 1)[-1],
        "aws.events.event.ingestion-time": _iso(ingestion),
        "aws.events.event": summary,
        "aws.events.event.json": event,
    }
    return _fill(str(transformer["InputTemplate"]), values)


def _fill(template: str, values: Mapping[str, Any]) -> str:
    out: list[str] = []
    last = 0
    for found in _placeholders(template):
        value = values.get(found.name, _MISSING)
        if value is _MISSING:
            value = ""  # a path the event does not have
        if found.inside_string and isinstance(value, str):
            text = value  # as it is, unescaped
        else:
            text = json.dumps(value, default=str)
        out += [template[last : found.start], text]
        last = found.end
    out.append(template[last:])
    return "".join(out)


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _put_targets(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def put_targets(self: EventsBackend, name: str, event_bus_arn: Any, targets: list[Any]) -> Any:
        for target in targets:
            try:
                check(target)
            except TargetInputError as err:
                raise ValidationException(str(err)) from err
        return original(self, name, event_bus_arn, targets)

    return put_targets


def install() -> None:
    """Refuse at PutTargets (and so in CloudFormation) what EventBridge refuses (once)."""
    if getattr(EventsBackend, _MARK, False):
        return
    EventsBackend.put_targets = _put_targets(EventsBackend.put_targets)  # type: ignore[method-assign]
    setattr(EventsBackend, _MARK, True)
