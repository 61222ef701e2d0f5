"""The execution record (what ran, how it ended, what it wrote) and the progress lines."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SUCCEEDED = "Succeeded"
FAILED = "Failed"
EXECUTING = "Executing"
SKIPPED = "Skipped"
NOT_STARTED = "NotStarted"


def now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


@dataclass
class StepRecord:
    """One step of the execution."""

    name: str
    type: str
    status: str = NOT_STARTED
    started: str | None = None
    ended: str | None = None
    duration_seconds: float | None = None
    failure_reason: str | None = None
    skip_reason: str | None = None
    job_name: str | None = None
    outputs: dict[str, str] = field(default_factory=dict)
    properties: dict[str, Any] = field(default_factory=dict)
    logs: str | None = None


@dataclass
class ExecutionRecord:
    """One execution of a pipeline definition."""

    pipeline_name: str
    execution_id: str
    parameters: dict[str, Any]
    status: str = EXECUTING
    started: str | None = None
    ended: str | None = None
    duration_seconds: float | None = None
    failure_reason: str | None = None
    workdir: str | None = None
    steps: list[StepRecord] = field(default_factory=list)

    def step(self, name: str) -> StepRecord:
        """The record of one step."""
        return next(s for s in self.steps if s.name == name)

    def to_json(self) -> str:
        """The record as indented JSON."""
        return json.dumps(asdict(self), indent=2, default=str)

    def write(self, path: Path) -> None:
        """Write the record as JSON to `path`."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_json() + "\n")


Echo = Callable[[str], None]


def progress_line(step: StepRecord) -> str:
    """`PreprocessData (Processing): Succeeded in 2.1 s` and the like."""
    line = f"{step.name} ({step.type}): {step.status}"
    if step.duration_seconds is not None and step.status != EXECUTING:
        line += f" in {step.duration_seconds:.1f} s"
    reason = step.failure_reason or step.skip_reason
    if reason and step.status != SUCCEEDED:
        first, _, rest = reason.partition("\n")
        line += f": {first}" + "".join(f"\n    {r}" for r in rest.splitlines())
    return line
