"""How stacks are deleted (DeleteStack, and the rollback of a failed creation), as AWS does
(patches of moto, which deletes in any order, unchecked, and drops a stack whose resource
will not go):

- Order: each resource after every resource that refers to it (Ref, GetAtt, Sub,
  DependsOn), the reverse of creation's.
- IAM: each resource's delete calls (calls.yaml, `delete`) are checked as the stack's
  principal: the RoleARN given to DeleteStack, else the stack's role, else the caller.
  A refused call, or the service's own error, fails the resource (DELETE_FAILED, with the
  handler's message); it stays, and so does everything it refers to. The rest is deleted.
- Outcome: the stack ends DELETE_FAILED ("The following resource(s) failed to delete:
  [A, B]. "), still listed and holding what was not deleted; DeleteStack itself succeeds,
  as on AWS. UpdateStack refuses a DELETE_FAILED stack.
- Retrying: DeleteStack on a DELETE_FAILED stack tries again. RetainResources leaves the
  named resources in place and DeletionMode FORCE_DELETE_STACK every remaining one; both
  are refused (ValidationError) for a stack in any other state, and RetainResources naming
  a resource the stack no longer holds is refused.
- DeletionPolicy Retain (and RetainExceptOnCreate, except in a creation's rollback) leaves
  the resource in place.
- A stack update's clean-up (`clean_up`) deletes what it replaced and what its template
  dropped the same way; what fails to go is left behind (DELETE_FAILED events) and the
  update stands, as on AWS.
"""

import functools
from collections.abc import Callable, Collection
from typing import Any

from moto.cloudformation.exceptions import ValidationError
from moto.cloudformation.models import CloudFormationBackend, Stack
from moto.cloudformation.responses import CloudFormationResponse
from moto.core.responses import EmptyResult

from mlops_seeds.sandbox.cloudformation import permissions, references
from mlops_seeds.sandbox.cloudformation.failures import (
    ResourceFailed,
    denial,
    event,
    principal,
    reason,
)
from mlops_seeds.sandbox.cloudformation.resource import SandboxResource

FORCE = "FORCE_DELETE_STACK"
RETAINED = {"Retain", "RetainExceptOnCreate"}  # DeletionPolicy values that keep a resource
_REQUEST = "_mlops_seeds_delete_request"
_MARK = "_mlops_seeds_deletion"


class DeleteFailed(Exception):
    """A stack's deletion ended DELETE_FAILED: the stack stays."""


def delete_resources(
    resource_map: Any, keep: Collection[str] = (), *, rolling_back: bool = False
) -> list[ResourceFailed]:
    """Delete the resources of `resource_map` (but `keep` and the retained ones) as the
    principal in force (permissions.acting_as); the failures, whose resources stay."""
    resources = dict(resource_map._resource_json_map)
    retained = {"Retain"} if rolling_back else RETAINED
    failed = _delete_each(resource_map, resources, keep, retained)
    # What is left is what the stack still holds (moto would make the rest again when the
    # stack's resources are listed). A new dict: the old one may be the template's.
    left = _held(resource_map)
    resource_map._resource_json_map = {n: e for n, e in resources.items() if n in left}
    return failed


def clean_up(
    resource_map: Any, replaced: list[SandboxResource], removed: dict[str, dict[str, Any]]
) -> list[ResourceFailed]:
    """A stack update's clean-up, as the principal in force: delete the resources it
    replaced and those its template no longer has (`removed`: their old entries). What
    fails to go is left behind, out of the stack, and the update stands (the failures)."""
    failed: list[ResourceFailed] = []
    for old in replaced:
        refused = denial({"Type": old.TYPE}, resource_map, old, "delete", old.properties)
        if refused is None:
            try:
                old.remove()
            except Exception as err:  # the service's refusal
                refused = reason(err)
        if refused is not None:
            logical_id = old.context.logical_id
            failed.append(ResourceFailed(logical_id, old.TYPE, refused, "DELETE_FAILED"))
    failed += _delete_each(resource_map, removed, (), RETAINED)
    for name in removed:
        resource_map._parsed_resources.pop(name, None)
    return failed


def _refusal(entry: dict[str, Any], resource_map: Any, resource: Any) -> str | None:
    """Why the principal may not delete `resource` (None: it may): its entry resolved in the
    stack's map, else (an entry an update removed, naming what is gone) its own properties."""
    try:
        return denial(entry, resource_map, resource, "delete")
    except Exception:  # the entry no longer resolves: check what it was made with
        own = getattr(resource, "properties", None)
        return denial(entry, resource_map, resource, "delete", own if isinstance(own, dict) else {})


def _delete_each(
    resource_map: Any, entries: dict[str, dict[str, Any]], keep: Collection[str], retained: set[str]
) -> list[ResourceFailed]:
    """Delete the resources of `entries` each after those that refer to it; a resource
    that fails stays, and so does what it refers to. The failures."""
    parsed = resource_map._parsed_resources
    failed: list[ResourceFailed] = []
    blocked: set[str] = set()
    for name in reversed(references.ordered(entries, entries)):
        entry = entries[name]
        if name in blocked:  # something that refers to it stays
            blocked |= references.dependencies(entry)
            continue
        resource = parsed.get(name)
        if resource is None or isinstance(resource, str):  # never made
            continue
        if name in keep or entry.get("DeletionPolicy") in retained:
            parsed.pop(name, None)
            continue
        refused = _refusal(entry, resource_map, resource)
        if refused is None:
            try:
                resource_map._delete_resource(resource, entry)
            except Exception as err:  # the service's refusal: the resource stays, as on AWS
                refused = reason(err)
        if refused is not None:
            failed.append(ResourceFailed(name, str(entry["Type"]), refused, "DELETE_FAILED"))
            blocked |= references.dependencies(entry)
            continue
        parsed.pop(name, None)
    return failed


def _held(resource_map: Any) -> set[str]:
    """The logical ids of the resources a stack's map holds (made, not yet deleted)."""
    parsed = resource_map._parsed_resources
    return {
        name
        for name in resource_map._resource_json_map
        if parsed.get(name) is not None and not isinstance(parsed.get(name), str)
    }


def summary(failed: list[ResourceFailed]) -> str:
    """The stack's status reason when `failed` could not be deleted."""
    if len(failed) == 1 and failed[0].resource_type == "AWS::CloudFormation::Stack":
        return failed[0].reason  # its role could not be assumed
    names = ", ".join(sorted(each.logical_id for each in failed))
    return f"The following resource(s) failed to delete: [{names}]. "


def _delete(stack: Stack) -> None:
    """Stack.delete: DeleteFailed when the stack ends DELETE_FAILED."""
    keep, role_arn = getattr(stack, _REQUEST, None) or ((), None)
    stack._add_stack_event("DELETE_IN_PROGRESS", resource_status_reason="User Initiated")
    try:
        acting = principal(stack, role_arn)
    except ResourceFailed as failure:
        failed = [failure]
    else:
        with permissions.acting_as(acting):
            failed = delete_resources(stack.resource_map, keep)
    if failed:
        why = summary(failed)
        stack.events.extend(event(stack, each) for each in failed)
        stack._add_stack_event("DELETE_FAILED", resource_status_reason=why)
        stack.status = "DELETE_FAILED"
        stack.stack_status_reason = why  # type: ignore[attr-defined]
        raise DeleteFailed(why)
    stack._add_stack_event("DELETE_COMPLETE")
    stack.status = "DELETE_COMPLETE"


def _delete_stack(original: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(original)
    def delete_stack(
        self: CloudFormationBackend,
        name_or_stack_id: str,
        retain: Collection[str] = (),
        role_arn: str | None = None,
        mode: str | None = None,
    ) -> None:
        stack = self.stacks.get(name_or_stack_id) or next(
            (s for s in self.stacks.values() if s.name == name_or_stack_id), None
        )
        if stack is None:  # as AWS: deleting a stack that is not there succeeds
            return
        if (retain or mode == FORCE) and stack.status != "DELETE_FAILED":
            option = "RetainResources" if retain else f"DeletionMode {FORCE}"
            raise ValidationError(
                stack.stack_id,
                message=f"Stack:{stack.stack_id} is in {stack.status} state: {option} "
                "applies only to a stack in the DELETE_FAILED state.",
            )
        held = _held(stack.resource_map)
        if set(retain) - held:
            raise ValidationError(
                stack.stack_id,
                message="The specified resources to retain must be in a valid state. "
                "Do not specify resources that are in the DELETE_COMPLETE state.",
            )
        setattr(stack, _REQUEST, (held if mode == FORCE else set(retain), role_arn))
        try:
            original(self, stack.stack_id)
        except DeleteFailed:
            self.stacks[stack.stack_id] = stack
        finally:
            setattr(stack, _REQUEST, None)

    return delete_stack


def _delete_stack_response(self: CloudFormationResponse) -> EmptyResult:
    """DeleteStack with RetainResources, RoleARN and DeletionMode (moto reads StackName)."""
    backend: Any = self.cloudformation_backend  # with delete_stack as patched here
    backend.delete_stack(
        self._get_param("StackName"),
        retain=self._get_param("RetainResources", []),
        role_arn=self._get_param("RoleARN"),
        mode=self._get_param("DeletionMode"),
    )
    return EmptyResult()


def _validate_status(original: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(original)
    def validate_status(self: CloudFormationResponse, stack: Stack) -> None:
        if stack.status == "DELETE_FAILED":
            raise ValidationError(
                stack.stack_id,
                message=f"Stack:{stack.stack_id} is in DELETE_FAILED state and can not be updated.",
            )
        original(self, stack)

    return validate_status


def install() -> None:
    """Patch moto's stack deletion (once)."""
    if getattr(Stack, _MARK, False):
        return
    Stack.delete = _delete  # type: ignore[method-assign,assignment]
    CloudFormationBackend.delete_stack = _delete_stack(  # type: ignore[method-assign]
        CloudFormationBackend.delete_stack
    )
    CloudFormationResponse.delete_stack = _delete_stack_response  # type: ignore[method-assign]
    CloudFormationResponse._validate_status = _validate_status(  # type: ignore[method-assign]
        CloudFormationResponse._validate_status
    )
    setattr(Stack, _MARK, True)
