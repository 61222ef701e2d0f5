"""Template parameters of an SSM parameter type (`AWS::SSM::Parameter::Value<String>`), read
as CloudFormation reads them (User Guide, "Specify existing resources at runtime with
CloudFormation-supplied parameter types"): when the stack is created, updated or a change
set made, the named Systems Manager parameter is read as whoever made the call (with
Service Catalog, the launch role), who needs ssm:GetParameters on it. moto reads it as
nobody and fails with an internal error when it does not exist. The refusals, in
CloudFormation's words (ValidationError):

- "Parameters: [ssm:<name>] cannot be found." when the parameter does not exist;
- "AccessDenied. User doesn't have permission to call ssm:GetParameters" when the caller
  may not read it; the sandbox adds IAM's sentence naming the caller and the parameter.
"""

import functools
from collections.abc import Callable
from typing import Any

from moto.cloudformation import parsing
from moto.cloudformation.exceptions import ValidationError
from moto.ssm.models import ssm_backends

from mlops_seeds.sandbox.iam import acting

_MARK = "_mlops_seeds_ssm_parameters"


def _checked(read: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(read)
    def parse_ssm_parameter(resource_map: Any, value: str, value_type: str) -> Any:
        if _overridden_default(resource_map, value):
            return value  # moto reads every default first; the caller's name replaces it
        account, region = resource_map._account_id, resource_map._region_name
        caller = acting.caller()
        if caller is not None:
            try:
                acting.authorize(caller, "ssm", "GetParameters", {"Names": [value]}, region)
            except acting.AccessDenied as denied:
                raise ValidationError(
                    message="AccessDenied. User doesn't have permission to call "
                    f"ssm:GetParameters ({denied.message})"
                ) from None
        if ssm_backends[account][region].get_parameter(value) is None:
            raise ValidationError(message=f"Parameters: [ssm:{value}] cannot be found.")
        return read(resource_map, value, value_type)

    return parse_ssm_parameter


def _overridden_default(resource_map: Any, name: str) -> bool:
    """Whether `name` is only the default of a parameter the caller gives another value
    (CloudFormation reads the name given, never the default it replaces)."""
    given = resource_map.input_parameters or {}
    for key, slot in (resource_map._template.get("Parameters") or {}).items():
        if slot.get("Default") == name and key in given and given[key] != name:
            return True
    return False


def install() -> None:
    """Check the reads of SSM-typed parameters (once)."""
    if getattr(parsing.ResourceMap, _MARK, False):
        return
    parsing.ResourceMap.parse_ssm_parameter = _checked(  # type: ignore[method-assign]
        parsing.ResourceMap.parse_ssm_parameter
    )
    setattr(parsing.ResourceMap, _MARK, True)
