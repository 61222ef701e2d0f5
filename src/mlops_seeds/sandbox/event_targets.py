"""EventBridge delivering an event to a rule's SNS topic target. It publishes as its service
principal, events.amazonaws.com, with `aws:SourceArn` the rule's ARN and `aws:SourceAccount`
its account: the topic's access policy must allow it ("Amazon SNS permissions", EventBridge
User Guide), and for an encrypted topic the key's policy too (kms:GenerateDataKey* and
kms:Decrypt; SNS Developer Guide, "Configure AWS KMS permissions for AWS services"). The
message is what the target's Input, InputPath or InputTransformer makes of the event (the
event itself, as JSON, without them: target_input.py).

On AWS a refused delivery is silent: the rule's FailedInvocations metric counts it and the
subscribers hear nothing. Here it is acting.AccessDenied with IAM's sentence, so whoever
plays the events can say what was lost and why.
"""

from typing import Any

from mlops_seeds import aws
from mlops_seeds.sandbox import runtime, target_input
from mlops_seeds.sandbox.iam import acting
from mlops_seeds.sandbox.iam.principals import EVENTS
from mlops_seeds.sandbox.iam.requests import Where


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
