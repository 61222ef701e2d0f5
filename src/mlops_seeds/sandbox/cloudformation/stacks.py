"""How stacks behave around the added types (patches of moto's CloudFormation).

- Templates: a resource type CloudFormation does not know is refused by CreateStack,
  UpdateStack and CreateChangeSet (ValidationError "Template format error: Unrecognized
  resource types: [...]"); a real type nothing in the sandbox creates fails its resource
  (unsupported.py). moto would skip both with a warning.
- Creation: a resource that fails to create is CREATE_FAILED with its reason (a stack
  event), the stack rolls back (what was created is deleted as the stack's principal,
  Retain kept: deletion.py) and ends ROLLBACK_COMPLETE (ROLLBACK_FAILED when a deletion is
  refused or fails), as AWS does with the default OnFailure=ROLLBACK. CreateStack itself
  succeeds; the failure is in the stack's status and events. (moto raises from CreateStack.)
- Update: a resource whose Ref/GetAtt/Sub/DependsOn targets changed is updated too when it
  is one of this extension's types (e.g. a new Model -> new EndpointConfig -> the Endpoint
  moves to it), in dependency order; replaced resources are deleted after the update.
  The first resource that fails to update (UPDATE_FAILED) or to be added (CREATE_FAILED)
  ends the update and the stack rolls back, as AWS does: resources made by the update are
  deleted, the extension's resources changed in place get their old properties back, the
  old template, parameters and outputs return, nothing replaced is deleted, and the stack
  ends UPDATE_ROLLBACK_COMPLETE (UPDATE_ROLLBACK_FAILED when a step of the rollback fails).
  UpdateStack itself succeeds. (moto raises from UpdateStack and keeps half the update.)
  A resource named by its template cannot be replaced (UPDATE_FAILED, AWS's "Rename ...").
  Its clean-up deletes, as the stack's principal, what it replaced and what its template
  dropped (deletion.py); what fails to go is left behind (DELETE_FAILED events) and the
  update stands, as on AWS. The update and its rollback act as UpdateStack's RoleARN, else
  the stack's role (which the update keeps: moto would drop it), else the caller.
  Limits: moto's own types changed in place are not changed back, and moto's own types it
  replaces are deleted by moto at once, unchecked.
- Deletion: see deletion.py.
"""

import contextlib
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from moto.cloudformation import parsing
from moto.cloudformation.models import Stack
from moto.cloudformation.parsing import OutputMap, ResourceMap

from mlops_seeds.sandbox.cloudformation import deletion, permissions, references, unsupported
from mlops_seeds.sandbox.cloudformation.failures import (
    ResourceFailed,
    denial,
    event,
    principal,
    reason,
)
from mlops_seeds.sandbox.cloudformation.resource import (
    SandboxResource,
    deferred_deletions,
    stack_tags,
)

_MARK = "_mlops_seeds_stacks"
_JOURNAL = "_mlops_seeds_journal"
_FAILURE = "_mlops_seeds_failure"
_REMOVED = "_mlops_seeds_removed"  # during an update: the old entries of dropped resources
_CLEANUP = "_mlops_seeds_cleanup"  # after it: what its clean-up could not delete


@dataclass
class Change:
    """What one step of a stack update did to a resource: `before` the resource object
    (None when added) with its properties, `after` the object the stack now holds."""

    logical_id: str
    json: dict[str, Any]
    before: Any
    before_properties: dict[str, Any] | None
    after: Any


def _creating(create: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(create)
    def parse_and_create_resource(
        logical_id: str, resource_json: dict[str, Any], *args: Any, **kwargs: Any
    ) -> Any:
        resources_map = args[0] if args else None
        with stack_tags(dict(getattr(resources_map, "tags", None) or {})):
            try:
                created = create(logical_id, resource_json, *args, **kwargs)
            except ResourceFailed:
                raise
            except Exception as err:
                raise ResourceFailed(logical_id, str(resource_json["Type"]), reason(err)) from err
            if created is not None and resources_map is not None:
                _check_permissions(logical_id, resource_json, resources_map, created)
        journal = getattr(args[0], _JOURNAL, None) if args else None
        if journal is not None and created is not None:
            journal.append(Change(logical_id, resource_json, None, None, created))
        return created

    return parse_and_create_resource


def _updating(update: Callable[..., Any]) -> Callable[..., Any]:
    """The first failure ends the update: moto would retry the failed resource and go on
    with the others; every later call raises the same failure."""

    @functools.wraps(update)
    def parse_and_update_resource(
        logical_id: str,
        resource_json: dict[str, Any],
        resources_map: ResourceMap,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        failed: ResourceFailed | None = getattr(resources_map, _FAILURE, None)
        if failed is not None:
            raise failed
        before = resources_map._parsed_resources.get(logical_id)
        properties = dict(before.properties) if isinstance(before, SandboxResource) else None
        if before is not None:
            with stack_tags(dict(getattr(resources_map, "tags", None) or {})):
                denied = denial(resource_json, resources_map, before, "update")
            if denied is not None:
                failed_update = ResourceFailed(
                    logical_id, str(resource_json["Type"]), denied, "UPDATE_FAILED"
                )
                setattr(resources_map, _FAILURE, failed_update)
                raise failed_update
        try:
            with stack_tags(dict(getattr(resources_map, "tags", None) or {})):
                after = update(logical_id, resource_json, resources_map, *args, **kwargs)
        except ResourceFailed as failed_add:
            setattr(resources_map, _FAILURE, failed_add)
            raise
        except Exception as err:
            failed_update = ResourceFailed(
                logical_id, str(resource_json["Type"]), reason(err), "UPDATE_FAILED"
            )
            setattr(resources_map, _FAILURE, failed_update)
            raise failed_update from err
        journal = getattr(resources_map, _JOURNAL, None)
        if journal is not None and after is not None:
            journal.append(Change(logical_id, resource_json, before, properties, after))
        return after

    return parse_and_update_resource


def _check_permissions(
    logical_id: str, resource_json: dict[str, Any], resources_map: Any, created: Any
) -> None:
    """ResourceFailed when the stack's principal may not make the calls that made
    `created` (then deleted, as the handler's failure leaves nothing behind)."""
    denied = denial(resource_json, resources_map, created, "create")
    if denied is not None:
        with contextlib.suppress(Exception):
            resources_map._delete_resource(created, resource_json)
        raise ResourceFailed(logical_id, str(resource_json["Type"]), denied)


def roll_back(stack: Stack, failure: ResourceFailed, acting: Any = None) -> None:
    """Record the failure, delete what the stack created as its principal `acting`, end in
    ROLLBACK_COMPLETE (or ROLLBACK_FAILED, with what failed to be deleted)."""
    stack.events.append(event(stack, failure))
    stack._add_stack_event(
        "ROLLBACK_IN_PROGRESS",
        resource_status_reason=(
            f"The following resource(s) failed to create: [{failure.logical_id}]. "
            "Rollback requested by user."
        ),
    )
    with permissions.acting_as(acting):
        kept = deletion.delete_resources(stack.resource_map, rolling_back=True)
    status = "ROLLBACK_FAILED" if kept else "ROLLBACK_COMPLETE"
    status_reason = deletion.summary(kept) if kept else None
    stack.events.extend(event(stack, each) for each in kept)
    # Nothing left to create lazily: describing the stack must not create resources.
    stack.resource_map._resource_json_map = {}
    stack.output_map = OutputMap(stack.resource_map, {"Outputs": {}}, stack.stack_id)
    stack._add_stack_event(status, resource_status_reason=status_reason)
    stack.status = status
    stack.stack_status_reason = failure.reason  # type: ignore[attr-defined]


def _create_resources(create_resources: Callable[[Stack], None]) -> Callable[[Stack], None]:
    @functools.wraps(create_resources)
    def wrapper(stack: Stack) -> None:
        try:
            acting = principal(stack)
        except ResourceFailed as failure:
            roll_back(stack, failure)
            return
        try:
            with permissions.acting_as(acting):
                create_resources(stack)
        except ResourceFailed as failure:
            roll_back(stack, failure, acting)

    return wrapper


def _diff(
    build_resource_diff: Callable[..., dict[str, list[str]]], ours: Callable[[str], bool]
) -> Callable[..., dict[str, list[str]]]:
    @functools.wraps(build_resource_diff)
    def wrapper(
        resource_map: ResourceMap, other_template: dict[str, Any], *args: Any, **kwargs: Any
    ) -> dict[str, list[str]]:
        diff = build_resource_diff(resource_map, other_template, *args, **kwargs)
        removed = getattr(resource_map, _REMOVED, None)
        if removed is not None:  # an update's: deleted in its clean-up (moto: before all)
            removed.update({n: resource_map._resource_json_map[n] for n in diff["Remove"]})
            diff["Remove"] = []
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
        setattr(resource_map, _JOURNAL, [])
        setattr(resource_map, _FAILURE, None)
        removed: dict[str, dict[str, Any]] = {}
        setattr(resource_map, _REMOVED, removed)
        try:
            with deferred_deletions() as replaced:
                update(resource_map, *args, **kwargs)
        finally:
            setattr(resource_map, _REMOVED, None)
        setattr(resource_map, _CLEANUP, deletion.clean_up(resource_map, replaced, removed))

    return wrapper


def _undo(resource_map: ResourceMap, journal: list[Change]) -> None:
    """Undo an update's changes, newest first, as the principal in force: delete what it
    made (ResourceFailed when refused), give the extension's resources their old
    properties."""
    for change in reversed(journal):
        after, before = change.after, change.before
        if after is not before:
            refused = denial(change.json, resource_map, after, "delete")
            if refused is not None:
                raise ResourceFailed(
                    change.logical_id, str(change.json["Type"]), refused, "DELETE_FAILED"
                )
            resource_map._delete_resource(after, change.json)
        elif (
            isinstance(after, SandboxResource)
            and change.before_properties is not None
            and after.properties != change.before_properties
        ):
            after.update(change.before_properties)
            after.properties = change.before_properties


@dataclass
class _Saved:
    """What a stack update changes in moto's stack and resource map before its resources."""

    template: Any
    template_dict: dict[str, Any]
    map_template: dict[str, Any]
    json_map: dict[str, Any]
    parsed: dict[str, Any]
    input_parameters: Any
    resolved: dict[str, Any]
    conditions: Any
    output_map: OutputMap

    @classmethod
    def of(cls, stack: Stack) -> "_Saved":
        rm = stack.resource_map
        return cls(
            stack.template,
            stack.template_dict,
            rm._template,
            rm._resource_json_map,
            dict(rm._parsed_resources),
            rm.input_parameters,
            dict(rm.resolved_parameters),
            getattr(rm, "lazy_condition_map", None),
            stack.output_map,
        )

    def restore(self, stack: Stack) -> None:
        rm = stack.resource_map
        stack.template, stack.template_dict = self.template, self.template_dict
        rm._template, rm._resource_json_map = self.map_template, self.json_map
        rm._parsed_resources.clear()  # in place: the condition map holds this dict
        rm._parsed_resources.update(self.parsed)
        rm.resolved_parameters.clear()
        rm.resolved_parameters.update(self.resolved)
        rm.input_parameters = self.input_parameters
        if self.conditions is not None:
            rm.lazy_condition_map = self.conditions
        stack.output_map = self.output_map


def roll_back_update(stack: Stack, failure: ResourceFailed, saved: _Saved) -> None:
    """Record the failure, undo the update, end in UPDATE_ROLLBACK_COMPLETE (or
    UPDATE_ROLLBACK_FAILED when a step of the rollback fails)."""
    stack.events.append(event(stack, failure))
    verb = "create" if failure.status == "CREATE_FAILED" else "update"
    stack._add_stack_event(
        "UPDATE_ROLLBACK_IN_PROGRESS",
        resource_status_reason=f"The following resource(s) failed to {verb}: "
        f"[{failure.logical_id}]. ",
    )
    journal: list[Change] = getattr(stack.resource_map, _JOURNAL, None) or []
    try:
        _undo(stack.resource_map, journal)
        status, status_reason = "UPDATE_ROLLBACK_COMPLETE", None
    except Exception as err:  # as AWS: the rollback fails, the stack needs attention
        status, status_reason = "UPDATE_ROLLBACK_FAILED", reason(err)
    saved.restore(stack)
    setattr(stack.resource_map, _JOURNAL, None)
    setattr(stack.resource_map, _FAILURE, None)
    if status == "UPDATE_ROLLBACK_COMPLETE":
        stack._add_stack_event("UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
    stack._add_stack_event(status, resource_status_reason=status_reason)
    stack.status = status
    stack.stack_status_reason = failure.reason  # type: ignore[attr-defined]


def _stack_update(
    update: Callable[..., None], creatable: Callable[[str], bool]
) -> Callable[..., None]:
    @functools.wraps(update)
    def wrapper(
        stack: Stack, template: str, role_arn: str | None = None, *args: Any, **kwargs: Any
    ) -> None:
        unsupported.check_template(Stack.parse_template(template), stack.region_name, creatable)
        saved = _Saved.of(stack)
        # "If you don't specify a value, CloudFormation uses the role that was previously
        # associated with the stack" (UpdateStack's RoleARN); moto would forget it.
        role_arn = role_arn or getattr(stack, "role_arn", None)
        acting = None
        try:
            acting = principal(stack, role_arn)
            with permissions.acting_as(acting):
                update(stack, template, role_arn, *args, **kwargs)
            _record_clean_up(stack)
        except ResourceFailed as failure:
            with permissions.acting_as(acting):
                roll_back_update(stack, failure, saved)
        finally:
            setattr(stack.resource_map, _JOURNAL, None)
            setattr(stack.resource_map, _FAILURE, None)
            setattr(stack.resource_map, _CLEANUP, None)

    return wrapper


def _record_clean_up(stack: Stack) -> None:
    """The clean-up of a successful update in its events, before UPDATE_COMPLETE: what it
    could not delete (DELETE_FAILED), left behind as AWS leaves it."""
    failed: list[ResourceFailed] = getattr(stack.resource_map, _CLEANUP, None) or []
    complete = stack.events.pop()  # moto's UPDATE_COMPLETE
    stack._add_stack_event("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
    stack.events.extend(event(stack, each) for each in failed)
    stack.events.append(complete)


def _load(load: Callable[[ResourceMap], None], creatable: Callable[[str], bool]) -> Any:
    @functools.wraps(load)
    def wrapper(resource_map: ResourceMap) -> None:
        unsupported.check_template(resource_map._template, resource_map._region_name, creatable)
        load(resource_map)

    return wrapper


def install(ours: Callable[[str], bool], creatable: Callable[[str], bool]) -> None:
    """Patch moto's stacks (once); `ours` tells the extension's resource types, `creatable`
    the types the sandbox creates (the extension's and moto's)."""
    if getattr(Stack, _MARK, False):
        return
    parsing.parse_and_create_resource = _creating(parsing.parse_and_create_resource)
    parsing.parse_and_update_resource = _updating(parsing.parse_and_update_resource)
    Stack.create_resources = _create_resources(  # type: ignore[method-assign,assignment]
        Stack.create_resources
    )
    Stack.update = _stack_update(Stack.update, creatable)  # type: ignore[method-assign]
    ResourceMap.load = _load(ResourceMap.load, creatable)  # type: ignore[method-assign]
    ResourceMap.build_resource_diff = _diff(  # type: ignore[method-assign]
        ResourceMap.build_resource_diff, ours
    )
    ResourceMap.update = _update(ResourceMap.update)  # type: ignore[method-assign]
    deletion.install()
    setattr(Stack, _MARK, True)
