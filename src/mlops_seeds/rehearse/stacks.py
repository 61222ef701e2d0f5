"""CodePipeline's CloudFormation deploy action: create or update a stack from a template and
a template configuration file, wait for it to settle, and say why it failed if it did."""

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.exceptions import ClientError

from mlops_seeds import aws
from mlops_seeds.sandbox import runtime

MODES = ("CREATE_UPDATE", "REPLACE_ON_FAILURE", "DELETE_ONLY")
SUCCESS = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE")
STACK_TYPE = "AWS::CloudFormation::Stack"
# The stack event that begins an operation (rollbacks and cleanups happen inside one).
OPERATION_STARTS = ("CREATE_IN_PROGRESS", "UPDATE_IN_PROGRESS", "DELETE_IN_PROGRESS")
NO_REASON = "no failure reason in the stack events"
# A stack in one of these states is replaced by REPLACE_ON_FAILURE.
FAILED_STATES = ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "CREATE_FAILED", "DELETE_FAILED")
NO_UPDATES = "No updates are to be performed"
WAIT_SECONDS = 600.0


class StackConfigError(ValueError):
    """A template configuration file or parameter overrides that CodePipeline would refuse."""


@dataclass(frozen=True)
class TemplateConfiguration:
    """A template configuration file: {Parameters, Tags, StackPolicy}."""

    parameters: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    stack_policy: str | None = None


@dataclass(frozen=True)
class Deployment:
    """How a deploy ended: the stack's final status, its outputs, and what happened."""

    stack_name: str
    succeeded: bool
    status: str
    summary: str
    outputs: dict[str, str] = field(default_factory=dict)


def _string_map(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise StackConfigError(f"{where}: must be a JSON object of names to values")
    return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in value.items()}


def template_configuration(text: str) -> TemplateConfiguration:
    """Read a template configuration file; StackConfigError naming the field at fault."""
    try:
        body = json.loads(text) if text.strip() else {}
    except ValueError as err:
        raise StackConfigError(f"template configuration: not valid JSON: {err}") from err
    if not isinstance(body, dict):
        raise StackConfigError("template configuration: must be a JSON object")
    unknown = sorted(set(body) - {"Parameters", "Tags", "StackPolicy"})
    if unknown:
        raise StackConfigError(f"template configuration: unknown key {unknown[0]}")
    policy = body.get("StackPolicy")
    return TemplateConfiguration(
        parameters=_string_map(body.get("Parameters"), "template configuration Parameters"),
        tags=_string_map(body.get("Tags"), "template configuration Tags"),
        stack_policy=json.dumps(policy) if policy is not None else None,
    )


def parameter_overrides(text: str) -> dict[str, str]:
    """The ParameterOverrides of a deploy action (a JSON object)."""
    try:
        body = json.loads(text) if text.strip() else {}
    except ValueError as err:
        raise StackConfigError(f"ParameterOverrides: not valid JSON: {err}") from err
    return _string_map(body, "ParameterOverrides")


def _describe(cloudformation: Any, name: str) -> dict[str, Any] | None:
    try:
        stacks = cloudformation.describe_stacks(StackName=name)["Stacks"]
    except ClientError as err:
        if "does not exist" in str(err):
            return None
        raise
    return stacks[0] if stacks else None


def _wait(cloudformation: Any, name: str, timeout: float) -> dict[str, Any] | None:
    """The stack once no operation is in progress (None once deleted)."""
    deadline = time.monotonic() + timeout
    delay = 0.1
    while True:
        stack = _describe(cloudformation, name)
        if stack is None or not stack["StackStatus"].endswith("_IN_PROGRESS"):
            return stack
        if time.monotonic() > deadline:
            raise TimeoutError(f"stack {name} still {stack['StackStatus']} after {timeout:.0f} s")
        time.sleep(delay)
        delay = min(delay * 2, 2.0)


def failure_reason(cloudformation: Any, name: str) -> str:
    """The first failure of the stack's latest operation: its events, newest first, are read
    back to the stack's own *_IN_PROGRESS event that began the operation."""
    failures: list[str] = []
    try:
        for page in cloudformation.get_paginator("describe_stack_events").paginate(StackName=name):
            for event in page["StackEvents"]:
                status = str(event.get("ResourceStatus", ""))
                if status.endswith("FAILED") and event.get("ResourceStatusReason"):
                    failures.append(
                        f"{event['LogicalResourceId']}: {event['ResourceStatusReason']}"
                    )
                if event.get("ResourceType") == STACK_TYPE and status in OPERATION_STARTS:
                    return failures[-1] if failures else NO_REASON
    except ClientError as err:
        return str(err)
    return failures[-1] if failures else NO_REASON


def _outputs(stack: dict[str, Any]) -> dict[str, str]:
    return {o["OutputKey"]: o.get("OutputValue", "") for o in stack.get("Outputs") or []}


def _settled(cloudformation: Any, events: Any, name: str, timeout: float, verb: str) -> Deployment:
    """How the stack's operation ended; a failure's reason read from its events by
    `events` (CodePipeline shows them as the service, not as the pipeline's role, which
    needs no cloudformation:DescribeStackEvents)."""
    stack = _wait(cloudformation, name, timeout)
    if stack is None:
        return Deployment(name, False, "DELETE_COMPLETE", f"stack {name} is gone")
    status = stack["StackStatus"]
    if status in SUCCESS:
        return Deployment(name, True, status, f"stack {name} {verb}: {status}", _outputs(stack))
    reason = failure_reason(events, name)
    return Deployment(name, False, status, f"stack {name} {status}: {reason}", _outputs(stack))


def _delete(cloudformation: Any, name: str, timeout: float) -> None:
    cloudformation.delete_stack(StackName=name)
    _wait(cloudformation, name, timeout)


def deploy_stack(
    session: boto3.Session,
    stack_name: str,
    template: str,
    *,
    mode: str = "CREATE_UPDATE",
    config: TemplateConfiguration | None = None,
    overrides: Mapping[str, str] | None = None,
    role_arn: str | None = None,
    capabilities: Sequence[str] = (),
    timeout: float = WAIT_SECONDS,
) -> Deployment:
    """Deploy `template` as stack `stack_name` in the way of CodePipeline's `mode`:
    CREATE_UPDATE creates or updates; REPLACE_ON_FAILURE first deletes a stack left failed;
    DELETE_ONLY deletes. Parameters come from `config` with `overrides` on top. An update
    with nothing to change succeeds. A failed stack gives a failed Deployment whose summary
    is the first failure in its events; API errors give a failed Deployment too."""
    if mode not in MODES:
        return Deployment(stack_name, False, "", f"ActionMode {mode} unsupported ({MODES})")
    cloudformation = aws.client("cloudformation", session)
    service = runtime.current().account_session(aws.account_id(session))
    events = aws.client("cloudformation", service)
    config = config or TemplateConfiguration()
    try:
        existing = _wait(cloudformation, stack_name, timeout)
        if mode == "DELETE_ONLY":
            if existing is not None:
                _delete(cloudformation, stack_name, timeout)
            return Deployment(stack_name, True, "DELETE_COMPLETE", f"stack {stack_name} deleted")
        status = existing["StackStatus"] if existing is not None else ""
        if mode == "REPLACE_ON_FAILURE" and status in FAILED_STATES:
            _delete(cloudformation, stack_name, timeout)
            existing = None
        arguments: dict[str, Any] = {
            "StackName": stack_name,
            "TemplateBody": template,
            "Parameters": [
                {"ParameterKey": k, "ParameterValue": v}
                for k, v in {**config.parameters, **(overrides or {})}.items()
            ],
            "Tags": [{"Key": k, "Value": v} for k, v in config.tags.items()],
            "Capabilities": list(capabilities),
            **({"RoleARN": role_arn} if role_arn else {}),
        }
        if existing is None:
            if config.stack_policy:
                arguments["StackPolicyBody"] = config.stack_policy
            cloudformation.create_stack(**arguments)
            return _settled(cloudformation, events, stack_name, timeout, "created")
        try:
            cloudformation.update_stack(**arguments)
        except ClientError as err:
            if NO_UPDATES in str(err):
                return Deployment(
                    stack_name,
                    True,
                    existing["StackStatus"],
                    f"stack {stack_name}: no updates are to be performed",
                    _outputs(existing),
                )
            raise
        if config.stack_policy:
            cloudformation.set_stack_policy(
                StackName=stack_name, StackPolicyBody=config.stack_policy
            )
        return _settled(cloudformation, events, stack_name, timeout, "updated")
    except (ClientError, TimeoutError) as err:
        return Deployment(stack_name, False, "", f"stack {stack_name}: {err}")
