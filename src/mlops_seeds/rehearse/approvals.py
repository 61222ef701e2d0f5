"""Manual approval actions: who decides, and how. An approver is a function from the
request to the decision; the rehearsal approves automatically unless told otherwise."""

from collections.abc import Callable
from dataclasses import dataclass

import click


@dataclass(frozen=True)
class ApprovalRequest:
    """A manual approval action waiting for a decision."""

    pipeline: str
    stage: str
    action: str
    custom_data: str = ""
    external_link: str = ""


@dataclass(frozen=True)
class Approval:
    """The decision: approved or rejected, with the reviewer's comment."""

    approved: bool
    summary: str = ""


Approver = Callable[[ApprovalRequest], Approval]


def auto_approve(request: ApprovalRequest) -> Approval:
    """Approve every request."""
    return Approval(True, "approved automatically by the rehearsal")


def reject_all(request: ApprovalRequest) -> Approval:
    """Reject every request."""
    return Approval(False, "rejected by the rehearsal")


def ask_on_terminal(request: ApprovalRequest) -> Approval:
    """Ask on the terminal (click.confirm); the answer decides."""
    where = f"{request.pipeline}/{request.stage}/{request.action}"
    text = f"{where}: {request.custom_data}" if request.custom_data else where
    approved = click.confirm(f"Approve {text}?", default=True)
    return Approval(
        approved, "approved on the terminal" if approved else "rejected on the terminal"
    )
