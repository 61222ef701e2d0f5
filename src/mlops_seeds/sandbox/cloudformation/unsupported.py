"""Resource types the sandbox cannot create: refused, never skipped.

moto skips a type it does not implement with a logged warning ("No Moto CloudFormation
support for ...") and creates the rest, so a stack with a typo in a type, or with a real
type nothing here emulates, ends CREATE_COMPLETE with the resource missing. Instead:

- A type CloudFormation itself does not know in the stack's region (not in the resource
  schemas cfn-lint ships, not `Custom::*`) is refused when the template is read, as AWS
  refuses it at CreateStack, UpdateStack and CreateChangeSet: ValidationError "Template
  format error: Unrecognized resource types: [AWS::SageMaker::Endpont]".
- A real type that neither moto nor this extension creates fails its resource
  (CREATE_FAILED, the reason naming the type, see `reason`) and the stack rolls back, as
  for any resource that fails to create (stacks.py). A resource whose Condition is false
  is not created, so it does not fail.
"""

import functools
from collections.abc import Callable, Iterable
from typing import Any

from moto.cloudformation.exceptions import ValidationError

from mlops_seeds.sandbox.cloudformation.resource import FailingResource

_SCHEMA_REGION = "us-east-1"


class ResourceTypeUnsupported(Exception):
    """A resource type the sandbox cannot create."""


def reason(resource_type: str) -> str:
    """Why a resource of a real type the sandbox does not emulate cannot be created."""
    return (
        f"Resource type {resource_type} is not emulated by the sandbox: neither moto nor the "
        "mlops-seeds sandbox extension can create it (AWS would). Remove it from the template, "
        "put it under a Condition that is false in the sandbox, or add the type to the "
        "sandbox's CloudFormation extension."
    )


@functools.cache
def _known_types(region: str) -> frozenset[str]:
    """The resource types CloudFormation has in `region` (cfn-lint's resource schemas)."""
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER  # 0.7 s: only when needed

    try:
        return frozenset(PROVIDER_SCHEMA_MANAGER.get_resource_types(region))
    except Exception:  # a region cfn-lint does not ship: the main region's list
        return frozenset(PROVIDER_SCHEMA_MANAGER.get_resource_types(_SCHEMA_REGION))


def recognised(resource_type: str, region: str) -> bool:
    """Whether CloudFormation knows `resource_type` in `region`."""
    if resource_type.startswith("Custom::"):
        return True
    return resource_type in _known_types(region)


def check_template(template: dict[str, Any], region: str, creatable: Callable[[str], bool]) -> None:
    """ValidationError, worded as CloudFormation words it, when the template has resource
    types CloudFormation does not know. `creatable` (moto's or the extension's types) is
    asked first, so a template of known types costs no schema lookup."""
    resources = template.get("Resources") if isinstance(template, dict) else None
    if not isinstance(resources, dict):
        return
    types: Iterable[Any] = (r.get("Type") for r in resources.values() if isinstance(r, dict))
    unknown = sorted(
        {
            str(t)
            for t in types
            if isinstance(t, str) and not creatable(t) and not recognised(t, region)
        }
    )
    if unknown:
        raise ValidationError(
            message=f"Template format error: Unrecognized resource types: [{', '.join(unknown)}]"
        )


class UnsupportedResource(FailingResource):
    """A real resource type nothing in the sandbox creates: always fails to create."""

    TYPE = "AWS::CloudFormation::Unsupported"

    @classmethod
    def failure(cls, resource_type: str) -> Exception:
        """ResourceTypeUnsupported, with the reason."""
        return ResourceTypeUnsupported(reason(resource_type))
