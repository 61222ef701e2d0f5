"""What a step executor gets (the step, its folder, storage, AWS) and what it gives back."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops_seeds.containment import PathEscape, contained
from mlops_seeds.local import contract
from mlops_seeds.local.clients import Clients
from mlops_seeds.local.definition import StepDef
from mlops_seeds.local.expressions import Scope, evaluate
from mlops_seeds.local.storage import Storage

CONTAINER_ROOT = "/opt/ml"
# "/opt/ml" where a path starts: at the beginning, or after a quote, `=`, `:` or space.
_CONTAINER_PATH = re.compile(r"(?<![\w/.\-])/opt/ml(?=/|$|[\"'\s:;,])")


class StepFailed(Exception):
    """The step ran and failed; `reason` goes into the execution record."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class StepResult:
    """A finished step: its properties (as `Steps.<name>.<path>` sees them), the S3 URIs
    it wrote, and for a condition step the branch taken."""

    properties: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    outcome: bool | None = None


@dataclass(frozen=True)
class ContainerTree:
    """A folder standing for the container's file system under /opt/ml."""

    root: Path
    real: bool = False  # the step runs with the tree mounted at /opt/ml (container_paths)

    def host(self, container_path: str) -> Path:
        """Where a container path lives in the tree (`/opt/ml/x` -> `<root>/opt/ml/x`);
        StepFailed for a path that would leave the tree (`..`, or a symlink the step made)."""
        try:
            return contained(self.root, container_path.lstrip("/"), what=repr(container_path))
        except PathEscape as err:
            raise StepFailed(f"container path {err}") from None

    def rewrite(self, text: str) -> str:
        """`text` with every container path starting with /opt/ml moved into the tree
        (unchanged when the step sees the real paths)."""
        if self.real:
            return text
        return _CONTAINER_PATH.sub(lambda _: (self.root / "opt/ml").as_posix(), text)

    def visible(self, path: Path) -> str:
        """A host path of the tree as the step sees it (/opt/ml/... when real)."""
        inside = self.root / "opt" / "ml"
        if not self.real:
            return str(path)
        if inside in path.parents:
            return "/opt/ml/" + path.relative_to(inside).as_posix()
        return "/opt/ml"  # the tree itself, or its root (not in the container's view)

    def rewrite_sources(self, folder: Path) -> None:
        """Rewrite container paths in the Python sources under `folder`, so that scripts
        whose defaults are container paths read and write inside the tree (nothing to do
        when the step sees the real paths)."""
        if self.real:
            return
        for source in folder.rglob("*.py"):
            text = source.read_text(errors="surrogateescape")
            changed = self.rewrite(text)
            if changed != text:
                source.write_text(changed, errors="surrogateescape")


@dataclass
class StepContext:
    """Everything an executor needs besides the definition."""

    step: StepDef
    job_name: str
    tree: ContainerTree
    storage: Storage
    scope: Scope
    interpreter: Callable[[str], str]
    clients: Clients

    def evaluate(self, value: Any) -> Any:
        """`value` with its expressions evaluated in the step's scope."""
        return evaluate(value, self.scope)

    def checked_arguments(self) -> Any:
        """The step's arguments evaluated; StepFailed when they break the container
        contract."""
        args = self.evaluate(self.step.arguments)
        violations = contract.step_violations(self.step, {}, args)
        if violations:
            raise StepFailed("; ".join(violations))
        return args

    @property
    def logs(self) -> Path:
        """The folder for the step's stdout.log and stderr.log."""
        return self.tree.root / "logs"
