"""An event bus of another account as a rule's target, on the sandbox: the receiving bus's
policy through AWS::Events::EventBusPolicy (a type moto lacks), and EventBridge putting an
event there as the target's role, which the role's own policy and the bus's policy must
both allow (EventBridge User Guide, "Sending and receiving events between AWS accounts"
and "Permissions for event buses"; PutEvents' condition keys events:source and
events:detail-type, Service Authorization Reference)."""

import json
from typing import Any

import boto3
import pytest
import yaml
from accounts import member_admin

from mlops_seeds import aws
from mlops_seeds.sandbox import event_targets
from mlops_seeds.sandbox.iam import acting

TOOLING = "111111111111"
PROD = "444444444444"
REGION = "us-east-1"
BUS = f"arn:aws:events:{REGION}:{TOOLING}:event-bus/default"
RULE = f"arn:aws:events:{REGION}:{PROD}:rule/rehearsal-prod-data-drift"
ALARM_EVENT = {
    "version": "0",
    "id": "1",
    "detail-type": "CloudWatch Alarm State Change",
    "source": "aws.cloudwatch",
    "account": PROD,
    "time": "2026-12-04T00:00:00Z",
    "region": REGION,
    "resources": [f"arn:aws:cloudwatch:{REGION}:{PROD}:alarm:rehearsal-prod-data-drift"],
    "detail": {"alarmName": "rehearsal-prod-data-drift", "state": {"value": "ALARM"}},
}
FORWARDING_ROLE = "DriftEvents"


def _bus_policy_stack(
    session: boto3.Session, statement: dict[str, Any] | None = None, **legacy: str
) -> dict[str, Any]:
    """Create a stack of one EventBusPolicy on the default bus; the stack."""
    properties: dict[str, Any] = {"StatementId": "prod-drift-alarms", **legacy}
    if statement is not None:
        properties["Statement"] = statement
    template = {
        "Resources": {"Policy": {"Type": "AWS::Events::EventBusPolicy", "Properties": properties}}
    }
    cloudformation = aws.client("cloudformation", session)
    cloudformation.create_stack(StackName="bus-policy", TemplateBody=yaml.safe_dump(template))
    return dict(cloudformation.describe_stacks(StackName="bus-policy")["Stacks"][0])


def _admits_prod_alarms(source: str = "aws.cloudwatch") -> dict[str, Any]:
    return {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{PROD}:root"},
        "Action": "events:PutEvents",
        "Resource": BUS,
        "Condition": {
            "StringEquals": {
                "events:source": source,
                "events:detail-type": "CloudWatch Alarm State Change",
            }
        },
    }


def _forwarding_role(session: boto3.Session, bus: str = BUS) -> str:
    """A role of the prod account EventBridge may assume, allowed to put events on `bus`."""
    iam = aws.client("iam", session)
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": PROD}},
            }
        ],
    }
    role = iam.create_role(RoleName=FORWARDING_ROLE, AssumeRolePolicyDocument=json.dumps(trust))
    allowed = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "events:PutEvents", "Resource": bus}],
    }
    iam.put_role_policy(
        RoleName=FORWARDING_ROLE, PolicyName="put", PolicyDocument=json.dumps(allowed)
    )
    return str(role["Role"]["Arn"])


def test_an_event_bus_policy_through_cloudformation_and_its_removal(sandbox: Any) -> None:
    tooling = member_admin(TOOLING)
    stack = _bus_policy_stack(tooling, _admits_prod_alarms())
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    events = aws.client("events", tooling)
    policy = json.loads(events.describe_event_bus(Name="default")["Policy"])
    assert policy["Statement"] == [{**_admits_prod_alarms(), "Sid": "prod-drift-alarms"}]
    resources = aws.client("cloudformation", tooling).describe_stack_resources(
        StackName="bus-policy"
    )["StackResources"]
    assert resources[0]["PhysicalResourceId"] == "prod-drift-alarms"
    aws.client("cloudformation", tooling).delete_stack(StackName="bus-policy")
    assert "Policy" not in events.describe_event_bus(Name="default")


def test_the_legacy_properties_make_an_account_statement(sandbox: Any) -> None:
    tooling = member_admin(TOOLING)
    _bus_policy_stack(tooling, Action="events:PutEvents", Principal=PROD)
    statement = json.loads(
        aws.client("events", tooling).describe_event_bus(Name="default")["Policy"]
    )["Statement"][0]
    assert statement["Principal"] == {"AWS": f"arn:aws:iam::{PROD}:root"}
    assert statement["Action"] == "events:PutEvents"


def test_a_statement_without_a_principal_fails_the_resource(sandbox: Any) -> None:
    tooling = member_admin(TOOLING)
    stack = _bus_policy_stack(tooling, Action="events:PutEvents", Principal="prod")
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    events = aws.client("cloudformation", tooling).describe_stack_events(StackName="bus-policy")
    reasons = [e.get("ResourceStatusReason", "") for e in events["StackEvents"]]
    assert any("Principal: prod must be an account id" in r for r in reasons)


def test_eventbridge_forwards_as_a_role_both_policies_allow(sandbox: Any) -> None:
    tooling, prod = member_admin(TOOLING), member_admin(PROD)
    _bus_policy_stack(tooling, _admits_prod_alarms())
    role = _forwarding_role(prod)
    event_targets.forward(RULE, BUS, ALARM_EVENT, role)  # allowed: nothing raised


def test_the_bus_policy_must_admit_the_events_source(sandbox: Any) -> None:
    tooling, prod = member_admin(TOOLING), member_admin(PROD)
    _bus_policy_stack(tooling, _admits_prod_alarms(source="aws.sagemaker"))
    role = _forwarding_role(prod)
    with pytest.raises(acting.AccessDenied, match=f"events:PutEvents on resource: {BUS}"):
        event_targets.forward(RULE, BUS, ALARM_EVENT, role)


def test_a_bus_without_a_policy_admits_no_other_account(sandbox: Any) -> None:
    prod = member_admin(PROD)
    role = _forwarding_role(prod)
    with pytest.raises(acting.AccessDenied, match="is not authorized to perform: events:Put"):
        event_targets.forward(RULE, BUS, ALARM_EVENT, role)


def test_the_role_must_be_allowed_to_put_events_on_the_bus(sandbox: Any) -> None:
    tooling, prod = member_admin(TOOLING), member_admin(PROD)
    _bus_policy_stack(tooling, _admits_prod_alarms())
    other_bus = f"arn:aws:events:{REGION}:{TOOLING}:event-bus/other"
    role = _forwarding_role(prod, bus=other_bus)
    with pytest.raises(acting.AccessDenied, match="assumed-role/DriftEvents/events"):
        event_targets.forward(RULE, BUS, ALARM_EVENT, role)


def test_without_a_role_the_rules_account_must_be_admitted(sandbox: Any) -> None:
    tooling = member_admin(TOOLING)
    _bus_policy_stack(tooling, _admits_prod_alarms())
    event_targets.forward(RULE, BUS, ALARM_EVENT)
    elsewhere = f"arn:aws:events:{REGION}:555555555555:rule/r"
    with pytest.raises(acting.AccessDenied, match="555555555555:root is not authorized"):
        event_targets.forward(elsewhere, BUS, {**ALARM_EVENT, "account": "555555555555"})


def test_a_role_eventbridge_may_not_assume_is_refused(sandbox: Any) -> None:
    tooling = member_admin(TOOLING)
    _bus_policy_stack(tooling, _admits_prod_alarms())
    missing = f"arn:aws:iam::{PROD}:role/Nobody"
    with pytest.raises(acting.AccessDenied, match="the role does not exist"):
        event_targets.forward(RULE, BUS, ALARM_EVENT, missing)


def test_a_bus_that_does_not_exist_and_an_arn_that_is_not_a_bus(sandbox: Any) -> None:
    member_admin(TOOLING)
    missing = f"arn:aws:events:{REGION}:{TOOLING}:event-bus/nowhere"
    with pytest.raises(acting.AccessDenied, match=r"Event bus nowhere does not exist\."):
        event_targets.forward(RULE, missing, ALARM_EVENT)
    with pytest.raises(ValueError, match="not an event bus ARN"):
        event_targets.forward(RULE, f"arn:aws:sns:{REGION}:{TOOLING}:topic", ALARM_EVENT)


def test_eventbridge_assumes_the_role_for_its_rules_account(sandbox: Any) -> None:
    tooling, prod = member_admin(TOOLING), member_admin(PROD)
    _bus_policy_stack(tooling, _admits_prod_alarms())
    role = _forwarding_role(prod)  # trusted for rules of PROD only (aws:SourceAccount)
    elsewhere = f"arn:aws:events:{REGION}:555555555555:rule/r"
    with pytest.raises(acting.AccessDenied, match="its trust policy does not allow"):
        event_targets.forward(elsewhere, BUS, ALARM_EVENT, role)
