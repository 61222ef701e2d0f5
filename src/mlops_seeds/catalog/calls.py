"""Tell mutating AWS operations from reads, and count the calls a session sends."""

from collections import Counter
from typing import Any

MUTATING_PREFIXES = (
    "Accept",
    "Add",
    "Associate",
    "Copy",
    "Create",
    "Delete",
    "Disassociate",
    "Execute",
    "Import",
    "Provision",
    "Put",
    "Reject",
    "Remove",
    "Tag",
    "Terminate",
    "Untag",
    "Update",
    "Upload",
)


def is_mutating(operation: str) -> bool:
    """True for an operation that changes state (CreateProduct, PutObject, ...)."""
    return operation.startswith(MUTATING_PREFIXES)


class CallCounter:
    """Counts the API calls of every client made from the sessions it watches."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def watch(self, session: Any) -> Any:
        """Register on `session` (a boto3 Session); return it."""
        session.events.register("before-call", self._record)
        return session

    def _record(self, model: Any, **_: Any) -> None:
        self.calls[model.name] += 1

    @property
    def total(self) -> int:
        """All calls seen."""
        return sum(self.calls.values())

    @property
    def mutating(self) -> int:
        """The mutating calls seen."""
        return sum(n for name, n in self.calls.items() if is_mutating(name))
