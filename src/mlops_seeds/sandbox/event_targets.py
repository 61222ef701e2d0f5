"""EventBridge delivering an event to a rule's SNS topic target or to an event bus of another
account.

A topic: EventBridge publishes as its service principal, events.amazonaws.com, with
`aws:SourceArn` the rule's ARN and `aws:SourceAccount` its account: the topic's access
policy must allow it ("Amazon SNS permissions", EventBridge User Guide), and for an
encrypted topic the key's policy too (kms:GenerateDataKey* and kms:Decrypt; SNS Developer
Guide, "Configure AWS KMS permissions for AWS services"). The message is what the target's
Input, InputPath or InputTransformer makes of the event (the event itself, as JSON,
without them: target_input.py).

An event bus of another account ("Sending and receiving events between AWS accounts",
EventBridge User Guide): EventBridge puts the event there unchanged (its `account` stays
the sender's) as the target's role when it has one (the role must trust
events.amazonaws.com and may events:PutEvents on the bus), else as the rule's account; the
receiving bus's resource-based policy must admit that principal, with the condition keys
events:source, events:detail-type and events:eventBusInvocation ("true": a rule sent it).
An event received so is not sent on to a third account.

On AWS a refused delivery is silent: the rule's FailedInvocations metric counts it and the
subscribers hear nothing. Here it is acting.AccessDenied with IAM's sentence, so whoever
plays the events can say what was lost and why.
"""

from typing import Any

from mlops_seeds import aws
from mlops_seeds.sandbox import runtime, target_input
from mlops_seeds.sandbox.iam import acting
from mlops_seeds.sandbox.iam.callers import root_identity
from mlops_seeds.sandbox.iam.evaluation import Request, evaluate
from mlops_seeds.sandbox.iam.principals import EVENTS
from mlops_seeds.sandbox.iam.requests import Where, bus_resource


def publish(
    rule_arn: str, topic_arn: str, event: dict[str, Any], settings: dict[str, Any] | None = None
) -> str:
    """Deliver `event` for rule `rule_arn` to topic `topic_arn`, as the target's input
    `settings` (Input, InputPath, InputTransformer) make it; SNS's message id.
    acting.AccessDenied when the topic's or its key's policy does not admit EventBridge."""
    parts = topic_arn.split(":")
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "sns":
        raise ValueError(f"not a topic ARN: {topic_arn!r}")
    partition, region, account = parts[1], parts[3], parts[4]
    sandbox = runtime.current()
    message = target_input.payload(settings or {}, event, rule_arn, sandbox.clock.now())
    if sandbox.enforcing:
        acting.authorize_service(
            EVENTS,
            "sns",
            "Publish",
            {"TopicArn": topic_arn, "Message": message},
            Where(partition, region, account),
            {"aws:SourceArn": rule_arn, "aws:SourceAccount": rule_arn.split(":")[4]},
        )
    sns = aws.client("sns", sandbox.account_session(account))
    return str(sns.publish(TopicArn=topic_arn, Message=message)["MessageId"])


def forward(rule_arn: str, bus_arn: str, event: dict[str, Any], role_arn: str = "") -> None:
    """Deliver `event`, matched by rule `rule_arn`, to event bus `bus_arn` of another account,
    as the target's role `role_arn` (or, without one, as the rule's account).
    acting.AccessDenied when the bus does not exist, the role cannot be assumed or may not
    put events there, or the bus's policy does not admit the sender; ValueError when
    `bus_arn` is not an event bus ARN."""
    parts = bus_arn.split(":", 5)
    if len(parts) != 6 or parts[2] != "events" or not parts[5].startswith("event-bus/"):
        raise ValueError(f"not an event bus ARN: {bus_arn!r}")
    region, account = parts[3], parts[4]
    rule_account = rule_arn.split(":")[4]
    if account == rule_account:
        raise ValueError(f"{bus_arn} is the rule's own account's: route the event there")
    sandbox = runtime.current()
    bus = bus_resource(bus_arn)
    if bus.policy is None and not _bus_exists(bus_arn):
        raise acting.AccessDenied(f"Event bus {parts[5].split('/', 1)[1]} does not exist.")
    if not sandbox.enforcing:
        return
    for_rule = {"aws:SourceArn": rule_arn, "aws:SourceAccount": rule_account}
    sender = (
        acting.identity_as_service(EVENTS, role_arn, "events", region, for_rule)
        if role_arn
        else root_identity(rule_account)
    )
    context: dict[str, str | bool] = {
        "aws:SecureTransport": True,
        "events:source": str(event.get("source", "")),
        "events:detail-type": str(event.get("detail-type", "")),
        "events:eventBusInvocation": "true",
    }
    decision = evaluate(Request("events:PutEvents", (bus,), context), sender)
    if decision.denied:
        raise acting.AccessDenied(decision.message())


def _bus_exists(bus_arn: str) -> bool:
    from moto.events.models import events_backends  # moto-heavy

    _, _, _, region, account, resource = bus_arn.split(":", 5)
    # Every account has its default bus: moto makes it with the account's backend.
    return resource.split("/", 1)[1] in events_backends[account][region].event_buses
