"""What a failed resource is to a stack, shared by creation, update and deletion: the
failure, its stack event, and the refusals of the stack's principal (permissions.py)."""

from typing import Any

from moto.cloudformation import parsing
from moto.cloudformation.models import Event, Stack

from mlops_seeds.sandbox.cloudformation import permissions
from mlops_seeds.sandbox.iam import acting


class ResourceFailed(Exception):
    """A resource of a stack failed to create (or, with status UPDATE_FAILED or
    DELETE_FAILED, to update or to be deleted)."""

    def __init__(
        self, logical_id: str, resource_type: str, reason: str, status: str = "CREATE_FAILED"
    ) -> None:
        super().__init__(f"{logical_id} ({resource_type}): {reason}")
        self.logical_id = logical_id
        self.resource_type = resource_type
        self.reason = reason
        self.status = status


def reason(err: Exception) -> str:
    """The message of a service's error (its class name when it has none)."""
    message = getattr(err, "message", None) or str(err) or type(err).__name__
    return str(message)


def _physical_name(resource: Any) -> str:
    """The name a resource's API calls use: its name, else its physical id."""
    return str(getattr(resource, "name", None) or getattr(resource, "physical_resource_id", ""))


def denial(
    resource_json: dict[str, Any],
    resources_map: Any,
    resource: Any,
    phase: str,
    properties: dict[str, Any] | None = None,
) -> str | None:
    """AWS's refusal when the stack's principal may not make the calls of `phase` on
    `resource` (None when it may, or nobody is checked); `properties` are the resolved ones
    when the template's entry can no longer be resolved (a resource an update removed)."""
    if properties is None:
        properties = parsing.clean_json(resource_json.get("Properties") or {}, resources_map)
    try:
        permissions.check(
            str(resource_json["Type"]),
            properties,
            _physical_name(resource),
            resources_map._region_name,
            phase,
        )
    except acting.AccessDenied as denied:
        return denied.message
    return None


def principal(stack: Stack, role_arn: str | None = None) -> Any:
    """The principal of an operation on `stack` (permissions.principal_of), as `role_arn`
    when given, else the stack's role; ResourceFailed naming the role when CloudFormation
    may not assume it."""
    role_arn = role_arn or getattr(stack, "role_arn", None)
    try:
        return permissions.principal_of(role_arn, stack.region_name)
    except acting.AccessDenied as denied:
        raise ResourceFailed(
            stack.name,
            "AWS::CloudFormation::Stack",
            f"Role {role_arn} is invalid or cannot be assumed: {denied.message}",
        ) from denied


def event(stack: Stack, failure: ResourceFailed) -> Event:
    """The stack event of a resource's failure."""
    return Event(
        stack_id=stack.stack_id,
        stack_name=stack.name,
        logical_resource_id=failure.logical_id,
        physical_resource_id="",
        resource_type=failure.resource_type,
        resource_status=failure.status,
        resource_status_reason=failure.reason,
        resource_properties=None,
    )
