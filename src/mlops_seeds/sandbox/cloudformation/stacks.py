"""How stacks behave around the added types (patches of moto's CloudFormation).

- Creation: a resource that fails to create is CREATE_FAILED with its reason (a stack
  event), the stack rolls back (what was created is deleted, Retain kept) and ends
  ROLLBACK_COMPLETE, as AWS does with the default OnFailure=ROLLBACK. CreateStack itself
  succeeds; the failure is in the stack's status and events. (moto raises from CreateStack.)
- Update: a resource whose Ref/GetAtt/Sub/DependsOn targets changed is updated too when it
  is one of this extension's types (e.g. a new Model -> new EndpointConfig -> the Endpoint
  moves to it), in dependency order; replaced resources are deleted after the update.
  A failing update still raises from UpdateStack (moto's behaviour), keeping the old
  resources.
"""

import functools
from collections.abc import Callable
from typing import Any

from moto.cloudformation import parsing
from moto.cloudformation.models import Event, Stack
from moto.cloudformation.parsing import OutputMap, ResourceMap

from mlops_seeds.sandbox.cloudformation import references
from mlops_seeds.sandbox.cloudformation.resource import deferred_deletions

_MARK = "_mlops_seeds_stacks"


class ResourceFailed(Exception):
    """A resource of a stack failed to create."""

    def __init__(self, logical_id: str, resource_type: str, reason: str) -> None:
        super().__init__(f"{logical_id} ({resource_type}): {reason}")
        self.logical_id = logical_id
        self.resource_type = resource_type
        self.reason = reason


def _reason(err: Exception) -> str:
    message = getattr(err, "message", None) or str(err) or type(err).__name__
    return str(message)


def _creating(create: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(create)
    def parse_and_create_resource(
        logical_id: str, resource_json: dict[str, Any], *args: Any, **kwargs: Any
    ) -> Any:
        try:
            return create(logical_id, resource_json, *args, **kwargs)
        except ResourceFailed:
            raise
        except Exception as err:
            raise ResourceFailed(logical_id, str(resource_json["Type"]), _reason(err)) from err

    return parse_and_create_resource


def _event(stack: Stack, failure: ResourceFailed) -> Event:
    return Event(
        stack_id=stack.stack_id,
        stack_name=stack.name,
        logical_resource_id=failure.logical_id,
        physical_resource_id="",
        resource_type=failure.resource_type,
        resource_status="CREATE_FAILED",
        resource_status_reason=failure.reason,
        resource_properties=None,
    )


def roll_back(stack: Stack, failure: ResourceFailed) -> None:
    """Record the failure, delete what the stack created, end in ROLLBACK_COMPLETE (or
    ROLLBACK_FAILED when a deletion fails)."""
    stack.events.append(_event(stack, failure))
    stack._add_stack_event(
        "ROLLBACK_IN_PROGRESS",
        resource_status_reason=(
            f"The following resource(s) failed to create: [{failure.logical_id}]. "
            "Rollback requested by user."
        ),
    )
    try:
        stack.resource_map.delete()
        status, reason = "ROLLBACK_COMPLETE", None
    except Exception as err:  # a resource that will not go: as AWS, the rollback fails
        status, reason = "ROLLBACK_FAILED", _reason(err)
    # Nothing left to create lazily: describing the stack must not create resources.
    stack.resource_map._resource_json_map = {}
    stack.output_map = OutputMap(stack.resource_map, {"Outputs": {}}, stack.stack_id)
    stack._add_stack_event(status, resource_status_reason=reason)
    stack.status = status
    stack.stack_status_reason = failure.reason  # type: ignore[attr-defined]


def _create_resources(create_resources: Callable[[Stack], None]) -> Callable[[Stack], None]:
    @functools.wraps(create_resources)
    def wrapper(stack: Stack) -> None:
        try:
            create_resources(stack)
        except ResourceFailed as failure:
            roll_back(stack, failure)

    return wrapper


def _diff(
    build_resource_diff: Callable[..., dict[str, list[str]]], ours: Callable[[str], bool]
) -> Callable[..., dict[str, list[str]]]:
    @functools.wraps(build_resource_diff)
    def wrapper(
        resource_map: ResourceMap, other_template: dict[str, Any], *args: Any, **kwargs: Any
    ) -> dict[str, list[str]]:
        diff = build_resource_diff(resource_map, other_template, *args, **kwargs)
        new = other_template["Resources"]
        created = {
            name
            for name in new
            if name in resource_map._parsed_resources
            and name in resource_map._resource_json_map
            and ours(str(new[name].get("Type", "")))
        }
        changed = set(diff["Modify"]) | set(diff["Add"])
        modify = set(diff["Modify"]) | references.dependents(changed, new, created)
        diff["Modify"] = references.ordered(modify - set(diff["Add"]), new)
        return diff

    return wrapper


def _update(update: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(update)
    def wrapper(resource_map: ResourceMap, *args: Any, **kwargs: Any) -> None:
        with deferred_deletions():
            update(resource_map, *args, **kwargs)

    return wrapper


def install(ours: Callable[[str], bool]) -> None:
    """Patch moto's stacks (once); `ours` tells the extension's resource types."""
    if getattr(Stack, _MARK, False):
        return
    parsing.parse_and_create_resource = _creating(parsing.parse_and_create_resource)
    Stack.create_resources = _create_resources(  # type: ignore[method-assign,assignment]
        Stack.create_resources
    )
    ResourceMap.build_resource_diff = _diff(  # type: ignore[method-assign]
        ResourceMap.build_resource_diff, ours
    )
    ResourceMap.update = _update(ResourceMap.update)  # type: ignore[method-assign]
    setattr(Stack, _MARK, True)
