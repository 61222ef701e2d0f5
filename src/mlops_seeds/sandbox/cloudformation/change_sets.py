"""ExecuteChangeSet as CloudFormation runs it: the stack operation the change set describes,
made the way CreateStack and UpdateStack make theirs (stacks.py): each resource's calls
checked under IAM as the change set's RoleARN, else the stack's role, else the caller of
ExecuteChangeSet; a failed resource rolls the stack back; an update keeps the stack's role
and cleans up what it replaced or dropped. (moto applies the template's resources directly:
unchecked, and a failure leaves half a stack.)

A change set's ExecutionStatus ends EXECUTE_COMPLETE when its operation completes, else
EXECUTE_FAILED (the stack's status and events say why). CreateChangeSet of an UPDATE names
its stack by name or by its ARN, as the API reference allows (moto knew names only).
"""

import functools
from collections.abc import Callable
from typing import Any

from moto.cloudformation.exceptions import CloudFormationError
from moto.cloudformation.models import ChangeSet, CloudFormationBackend, Stack

_MARK = "_mlops_seeds_change_sets"


class InvalidChangeSetStatus(CloudFormationError):
    """ExecuteChangeSet of a change set that is not AVAILABLE (one already executed, or one
    with nothing to change)."""

    code = "InvalidChangeSetStatus"


def _find(backend: CloudFormationBackend, name: str) -> ChangeSet | None:
    """The change set named by ARN or by name (moto's lookup)."""
    found = backend.change_sets.get(name)
    if found is not None:
        return found
    return next((c for c in backend.change_sets.values() if c.change_set_name == name), None)


def _create(stack: Stack, change_set: ChangeSet) -> None:
    """A CREATE change set: the stack made in REVIEW_IN_PROGRESS gets its template and
    parameters, then its resources as CreateStack makes them."""
    stack.template = change_set.template
    stack.parameters = change_set.parameters
    stack._parse_template()
    stack.resource_map = stack._create_resource_map()
    stack.output_map = stack._create_output_map()
    stack._add_stack_event("CREATE_IN_PROGRESS", resource_status_reason="User Initiated")
    stack.create_resources()


def _execute(original: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(original)
    def execute_change_set(
        self: CloudFormationBackend, change_set_name: str, stack_name: str | None = None
    ) -> None:
        change_set = _find(self, change_set_name)
        if change_set is None:  # moto's refusal
            original(self, change_set_name, stack_name)
            return
        if change_set.execution_status != "AVAILABLE":
            raise InvalidChangeSetStatus(
                f"ChangeSet [{change_set.change_set_id}] cannot be executed in its current "
                f"execution status of [{change_set.execution_status}]"
            )
        stack: Any = self.stacks[change_set.stack_id]
        if change_set.change_set_type == "CREATE":
            _create(stack, change_set)
        else:
            stack.update(
                change_set.template,
                change_set.role_arn,
                parameters=change_set.parameters,
                tags=change_set.tags,
            )
        done = stack.status in ("CREATE_COMPLETE", "UPDATE_COMPLETE")
        change_set.execution_status = "EXECUTE_COMPLETE" if done else "EXECUTE_FAILED"

    return execute_change_set


def _create_change_set(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def create_change_set(
        self: CloudFormationBackend, stack_name: str, *args: Any, **kw: Any
    ) -> Any:
        stack = self.stacks.get(stack_name) if stack_name.startswith("arn:") else None
        return original(self, stack.name if stack is not None else stack_name, *args, **kw)

    return create_change_set


def install() -> None:
    """Patch moto's CreateChangeSet and ExecuteChangeSet (once)."""
    if getattr(CloudFormationBackend, _MARK, False):
        return
    CloudFormationBackend.execute_change_set = _execute(  # type: ignore[method-assign]
        CloudFormationBackend.execute_change_set
    )
    CloudFormationBackend.create_change_set = _create_change_set(  # type: ignore[method-assign]
        CloudFormationBackend.create_change_set
    )
    setattr(CloudFormationBackend, _MARK, True)
