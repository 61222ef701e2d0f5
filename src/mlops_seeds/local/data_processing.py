"""A batch transform's DataProcessing, as SageMaker documents it ("Associate prediction
results with input records"): InputFilter picks what of each input record reaches the model,
JoinSource=Input joins each input record with its prediction, OutputFilter picks what of
the joined record is written.

Records are CSV lines (read as JSON arrays of their fields) or JSON lines (objects or
arrays). Filters are the JSONPath subset the guide uses: `$`, `$[i]`, `$[i:j]`, `$[i,j,...]`
(negative indexes too), `$.key`, `$['key']`, and chains of them (`$.features[0:3]`).
"""

from __future__ import annotations

import json
import re
from typing import Any

CSV, JSON = "text/csv", "application/json"
_PART = re.compile(
    r"\.(?P<key>[A-Za-z_][\w-]*)"
    r"|\[\s*'(?P<quoted>[^']*)'\s*\]"
    r"|\[\s*(?P<start>-?\d*)\s*:\s*(?P<stop>-?\d*)\s*\]"
    r"|\[\s*(?P<indexes>-?\d+(?:\s*,\s*-?\d+)*)\s*\]"
)
OUTPUT_KEY = "SageMakerOutput"
INPUT_KEY = "SageMakerInput"


class FilterError(ValueError):
    """A filter outside the supported subset, or one a record does not fit."""


def parse_filter(expression: str) -> list[re.Match[str]]:
    """The parts of a filter; FilterError naming the filter when it is not supported."""
    text = expression.strip()
    if not text.startswith("$"):
        raise FilterError(f"{expression!r}: a filter starts with $")
    parts, position = [], 1
    while position < len(text):
        match = _PART.match(text, position)
        if match is None:
            raise FilterError(
                f"{expression!r}: not in the supported JSONPath subset at {text[position:]!r}"
            )
        parts.append(match)
        position = match.end()
    return parts


def apply_filter(expression: str, value: Any) -> Any:
    """`value` with the filter applied."""
    for part in parse_filter(expression):
        value = _step(part, value, expression)
    return value


def _step(part: re.Match[str], value: Any, expression: str) -> Any:
    key = part["key"] or part["quoted"]
    if key is not None:
        if not isinstance(value, dict) or key not in value:
            raise FilterError(f"{expression!r}: the record has no key {key!r}")
        return value[key]
    if not isinstance(value, list):
        raise FilterError(f"{expression!r}: indexes a record that is not an array")
    if part["indexes"] is not None:
        try:
            return [value[int(i)] for i in part["indexes"].split(",")]
        except IndexError:
            raise FilterError(f"{expression!r}: index out of the record's range") from None
    start = int(part["start"]) if part["start"] else None
    stop = int(part["stop"]) if part["stop"] else None
    return value[start:stop]


def parse_record(record: str, media: str) -> Any:
    """A CSV line as the array of its fields, a JSON line as its value."""
    if media == JSON:
        try:
            return json.loads(record)
        except ValueError as err:
            raise FilterError(f"a record is not JSON: {err}") from None
    return record.split(",")


def render_record(value: Any, media: str) -> str:
    """A filtered record back as a CSV line or JSON text."""
    if media == JSON:
        return json.dumps(value)
    if isinstance(value, list):
        return ",".join(_field(v) for v in value)
    return _field(value)


def _field(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def join(record: str, output: str, input_media: str, output_media: str) -> Any:
    """The input record joined with its prediction (JoinSource=Input): CSV to CSV appends
    the prediction's fields to the record's; JSON input gets the prediction under
    SageMakerOutput; a CSV record with a JSON prediction becomes
    {"SageMakerInput": [...], "SageMakerOutput": ...}."""
    if input_media == CSV and output_media == CSV:
        return record.split(",") + output.split(",")
    prediction = json.loads(output) if output_media == JSON else output
    if input_media == JSON:
        value = json.loads(record)
        if not isinstance(value, dict):
            return {INPUT_KEY: value, OUTPUT_KEY: prediction}
        return {**value, OUTPUT_KEY: prediction}
    return {INPUT_KEY: record.split(","), OUTPUT_KEY: prediction}
