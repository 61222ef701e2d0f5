"""What the container contract lets a definition name, checked before any step runs and
again on the evaluated arguments when the step runs.

Every path a step's arguments give lands inside the step's own folder (its tree standing
for /opt/ml), so the rules are SageMaker's own:

- processing inputs and outputs: `LocalPath` is an absolute path under /opt/ml/processing/
  of at most 256 characters (API reference: ProcessingS3Input, ProcessingS3Output);
- training channels: `ChannelName` is 1-64 of `[A-Za-z0-9.-_]` (API reference: Channel),
  and not `.` or `..`, since the channel is the folder /opt/ml/input/data/<ChannelName>;
- the training entry point (`sagemaker_program`) is a file inside /opt/ml/code;
- a property file's `FilePath` is a file inside the output it names;
- container paths (/opt/ml/...) in entry points, arguments and environment stay under
  /opt/ml/ once `..` is resolved.

A violation is one line naming the field and the rule, e.g.
`Steps[2].Arguments.ProcessingInputs[0].S3Input.LocalPath '/opt/ml/../etc': must stay
under /opt/ml/processing/`. Values only known while running (step properties) are checked
then; literals and parameters are checked before anything runs.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Mapping
from typing import Any

from mlops_seeds.local.definition import StepDef
from mlops_seeds.local.expressions import GET, JOIN, as_text
from mlops_seeds.resource_names import CHANNEL_NAME

CONTAINER_ROOT = "/opt/ml"
PROCESSING_ROOT = "/opt/ml/processing"
CODE_DIR = "/opt/ml/code"
PROGRAM = "sagemaker_program"
LOCAL_PATH_MAX = 256
SHOWN_CHARACTERS = 300  # a LocalPath may be 256 characters
# A container path where one starts (as context.ContainerTree.rewrite finds them), up to
# the next quote, space or separator.
_CONTAINER_PATH = re.compile(r"(?<![\w/.\-])/opt/ml(?:/[^\s\"':;,]*)?(?=$|[\"'\s:;,])")


class _Dynamic:
    """A value only known while the execution runs."""

    def __repr__(self) -> str:
        return "<dynamic>"


DYNAMIC = _Dynamic()


def static(value: Any, values: Mapping[str, Any]) -> Any:
    """`value` with Parameters and Std:Join of known values worked out; DYNAMIC when it
    needs a step property or execution variable (evaluated values pass unchanged)."""
    if not isinstance(value, dict):
        return value
    if len(value) == 1 and GET in value:
        reference = value[GET]
        if isinstance(reference, str) and reference.startswith("Parameters."):
            name = reference.removeprefix("Parameters.")
            return values.get(name, DYNAMIC)
        return DYNAMIC
    if len(value) == 1 and JOIN in value:
        body = value[JOIN]
        if not isinstance(body, dict) or not isinstance(body.get("Values"), list):
            return DYNAMIC
        parts = [static(item, values) for item in [body.get("On", ""), *body["Values"]]]
        if any(part is DYNAMIC for part in parts):
            return DYNAMIC
        return as_text(parts[0]).join(as_text(part) for part in parts[1:])
    if any(key.startswith("Std:") for key in value):
        return DYNAMIC
    return value


def under(path: str, root: str) -> bool:
    """Whether the absolute container path `path` is `root` or below it, `..` resolved."""
    if not path.startswith("/") or path.startswith("//") or "\x00" in path:
        return False
    normal = posixpath.normpath(path)
    return normal == root or normal.startswith(root + "/")


def inside(relative: str) -> bool:
    """Whether `relative` is a relative path naming something below its folder."""
    if not relative or relative.startswith("/") or "\x00" in relative:
        return False
    normal = posixpath.normpath(relative)
    return normal not in (".", "..") and not normal.startswith("../")


def shown(value: Any) -> str:
    """A value as a violation line quotes it (long values shortened)."""
    text = repr(value)
    return text if len(text) <= SHOWN_CHARACTERS else text[: SHOWN_CHARACTERS - 3] + "..."


class _Findings:
    """Violations of one step, each `where value: rule`."""

    def __init__(self, step: StepDef, values: Mapping[str, Any]) -> None:
        self.step = step
        self.values = values
        self.lines: list[str] = []

    def add(self, where: str, value: Any, rule: str) -> None:
        self.lines.append(f"{self.step.where}.{where} {shown(value)}: {rule}")

    def value(self, raw: Any) -> Any:
        return static(raw, self.values)

    def object(self, raw: Any, where: str, required: bool = False) -> dict[str, Any]:
        """`raw` when it is an object; {} (and a finding unless it may be missing)."""
        value = self.value(raw)
        if isinstance(value, dict) or value is DYNAMIC:
            return value if isinstance(value, dict) else {}
        if value is not None or required:
            self.add(where, value, "must be an object")
        return {}

    def items(self, raw: Any, where: str) -> list[tuple[str, dict[str, Any]]]:
        """(where, object) of each item of a list; a finding for anything else."""
        value = self.value(raw)
        if value is None or value is DYNAMIC:
            return []
        if not isinstance(value, list):
            self.add(where, value, "must be a list")
            return []
        found = []
        for index, item in enumerate(value):
            item_where = f"{where}[{index}]"
            item_value = self.value(item)
            if isinstance(item_value, dict):
                found.append((item_where, item_value))
            elif item_value is not DYNAMIC:
                self.add(item_where, item_value, "must be an object")
        return found

    def local_path(self, raw: Any, where: str) -> None:
        value = self.value(raw)
        rule = f"must stay under {PROCESSING_ROOT}/"
        if value is DYNAMIC:
            return
        if not isinstance(value, str):
            self.add(where, value, f"must be a path under {PROCESSING_ROOT}/")
        elif len(value) > LOCAL_PATH_MAX:
            self.add(where, value, f"must be at most {LOCAL_PATH_MAX} characters")
        elif not under(value, PROCESSING_ROOT):
            self.add(where, value, rule)

    def container_paths(self, raw: Any, where: str) -> None:
        value = self.value(raw)
        if not isinstance(value, str):
            return
        for match in _CONTAINER_PATH.finditer(value):
            if not under(match.group(), CONTAINER_ROOT):
                self.add(where, value, f"must stay under {CONTAINER_ROOT}/")
                return

    def commands(self, section: dict[str, Any], keys: tuple[str, ...], where: str) -> None:
        """Container paths in command lists and environment values."""
        for key in keys:
            raw = self.value(section.get(key))
            if isinstance(raw, list):
                for index, part in enumerate(raw):
                    self.container_paths(part, f"{where}{key}[{index}]")
            elif isinstance(raw, dict):
                for name, part in raw.items():
                    self.container_paths(part, f"{where}{key}.{name}")
            elif raw is not None and raw is not DYNAMIC:
                kind = "an object" if key == "Environment" else "a list"
                self.add(f"{where}{key}", raw, f"must be {kind}")


def step_violations(
    step: StepDef, values: Mapping[str, Any], arguments: Mapping[str, Any] | None = None
) -> list[str]:
    """The container-contract violations of a step: of its definition's arguments before
    the run (`values` the parameters), or of its evaluated `arguments` while it runs."""
    findings = _Findings(step, values)
    args = dict(step.arguments if arguments is None else arguments)
    if step.type == "Processing":
        _processing(findings, args)
    elif step.type == "Training":
        _training(findings, args)
    return findings.lines


def _processing(findings: _Findings, args: dict[str, Any]) -> None:
    app = findings.object(args.get("AppSpecification"), "Arguments.AppSpecification")
    findings.commands(
        app, ("ContainerEntrypoint", "ContainerArguments"), "Arguments.AppSpecification."
    )
    findings.commands(args, ("Environment",), "Arguments.")
    for where, item in findings.items(args.get("ProcessingInputs"), "Arguments.ProcessingInputs"):
        s3_input = findings.object(item.get("S3Input"), f"{where}.S3Input")
        if s3_input:
            findings.local_path(s3_input.get("LocalPath"), f"{where}.S3Input.LocalPath")
    config = findings.object(args.get("ProcessingOutputConfig"), "Arguments.ProcessingOutputConfig")
    outputs: dict[str, bool] = {}
    complete = True
    for where, item in findings.items(
        config.get("Outputs"), "Arguments.ProcessingOutputConfig.Outputs"
    ):
        name = findings.value(item.get("OutputName"))
        s3_output = findings.object(item.get("S3Output"), f"{where}.S3Output")
        if s3_output:
            findings.local_path(s3_output.get("LocalPath"), f"{where}.S3Output.LocalPath")
        if isinstance(name, str):
            outputs[name] = bool(s3_output)
        else:
            complete = False
    for index, spec in enumerate(findings.step.property_files):
        where = f"PropertyFiles[{index}]"
        if complete and not outputs.get(spec.output_name):
            findings.add(f"{where}.OutputName", spec.output_name, "names no S3Output of the step")
        if not inside(spec.path):
            findings.add(
                f"{where}.FilePath",
                spec.path,
                f"must stay inside output {spec.output_name} (a relative path without '..')",
            )


def _training(findings: _Findings, args: dict[str, Any]) -> None:
    for where, channel in findings.items(args.get("InputDataConfig"), "Arguments.InputDataConfig"):
        name = findings.value(channel.get("ChannelName"))
        if name is DYNAMIC:
            continue
        problem = CHANNEL_NAME.violation(name)
        if problem is None and name in (".", ".."):
            problem = "must name a folder under /opt/ml/input/data/"
        if problem is not None:
            findings.add(f"{where}.ChannelName", name, problem)
    hyperparameters = findings.object(args.get("HyperParameters"), "Arguments.HyperParameters")
    program = findings.value(hyperparameters.get(PROGRAM))
    if isinstance(program, str) and not inside(_decoded(program)):
        findings.add(
            f"Arguments.HyperParameters.{PROGRAM}", program, f"must stay inside {CODE_DIR}/"
        )
    findings.object(
        args.get("AlgorithmSpecification"), "Arguments.AlgorithmSpecification", required=True
    )
    findings.commands(args, ("Environment",), "Arguments.")
    output = findings.value(args.get("OutputDataConfig"))
    if output is not DYNAMIC and (
        not isinstance(output, dict) or findings.value(output.get("S3OutputPath")) is None
    ):
        findings.add("Arguments.OutputDataConfig", output, "must be an object with S3OutputPath")


def _decoded(hyperparameter: str) -> str:
    """A hyperparameter as the training toolkit reads it: JSON-decoded when it can be."""
    try:
        value = json.loads(hyperparameter)
    except ValueError:
        return hyperparameter
    return value if isinstance(value, str) else hyperparameter
