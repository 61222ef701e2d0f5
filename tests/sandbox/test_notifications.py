"""SNS topics on the sandbox, as the project templates make them and EventBridge uses them:
AWS::SNS::Topic, TopicPolicy and Subscription through CloudFormation; a publisher needs the
topic's KMS key (kms:GenerateDataKey and kms:Decrypt through SNS, SNS Developer Guide); and
EventBridge, publishing as events.amazonaws.com for a rule, needs both the topic's access
policy and the key's policy to admit it (EventBridge User Guide, "Amazon SNS permissions"),
which the AWS managed key aws/sns never does."""

import json
from typing import Any

import boto3
import pytest
import yaml
from accounts import role_allowed
from botocore.exceptions import ClientError
from moto.sns.models import sns_backends

from mlops_seeds import aws
from mlops_seeds.sandbox import event_targets
from mlops_seeds.sandbox.iam import acting

HUB = "123456789012"
REGION = "us-east-1"
RULE = f"arn:aws:events:{REGION}:{HUB}:rule/sagemaker-p-abc123-notify-package-pending"
OTHER_RULE = f"arn:aws:events:{REGION}:{HUB}:rule/sagemaker-p-zzz999-notify-package-pending"
EVENT = {"detail-type": "SageMaker Model Package State Change", "detail": {"x": 1}}


def _template(
    *,
    key_admits_events: bool = True,
    topic_admits_events: bool = True,
    key: str = "project",
    email: bool = True,
) -> str:
    key_statements: list[dict[str, Any]] = [
        {
            "Sid": "AccountAdministers",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{HUB}:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
    ]
    if key_admits_events:
        key_statements.append(
            {
                "Sid": "EventBridgePublishes",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                "Resource": "*",
            }
        )
    topic_statement = {
        "Sid": "ProjectRulesPublish",
        "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"},
        "Action": "sns:Publish",
        "Resource": {"Ref": "Topic"},
        "Condition": {
            "ArnLike": {"aws:SourceArn": f"arn:aws:events:{REGION}:{HUB}:rule/sagemaker-p-abc123-*"}
        },
    }
    resources: dict[str, Any] = {
        "Key": {
            "Type": "AWS::KMS::Key",
            "Properties": {"KeyPolicy": {"Version": "2012-10-17", "Statement": key_statements}},
        },
        "Topic": {
            "Type": "AWS::SNS::Topic",
            "Properties": {
                "TopicName": "sagemaker-p-abc123-notifications",
                "DisplayName": "SageMaker p",
                "KmsMasterKeyId": {"Ref": "Key"} if key == "project" else key,
                "Tags": [{"Key": "sagemaker:project-id", "Value": "abc123"}],
            },
        },
        "TopicPolicy": {
            "Type": "AWS::SNS::TopicPolicy",
            "Properties": {
                "Topics": [{"Ref": "Topic"}],
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [topic_statement] if topic_admits_events else [],
                },
            },
        },
        "Email": {
            "Type": "AWS::SNS::Subscription",
            "Properties": {
                "TopicArn": {"Ref": "Topic"},
                "Protocol": "email",
                "Endpoint": "scientist@example.com",
            },
        },
    }
    if not topic_admits_events:
        del resources["TopicPolicy"]
    if not email:
        del resources["Email"]
    outputs = {
        "TopicArn": {"Value": {"Ref": "Topic"}},
        "TopicName": {"Value": {"Fn::GetAtt": ["Topic", "TopicName"]}},
        "KeyId": {"Value": {"Ref": "Key"}},
    }
    return yaml.safe_dump({"Resources": resources, "Outputs": outputs})


def _launch(hub: boto3.Session, **options: Any) -> dict[str, str]:
    cloudformation = aws.client("cloudformation", hub)
    cloudformation.create_stack(
        StackName="notifications",
        TemplateBody=_template(**options),
        Tags=[{"Key": "team", "Value": "risk"}],
    )
    stack = cloudformation.describe_stacks(StackName="notifications")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack
    return {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}


def _refusal(call: Any) -> str:
    with pytest.raises(acting.AccessDenied) as caught:
        call()
    return caught.value.message


def _sent(topic_arn: str) -> list[str]:
    topic = sns_backends[HUB][REGION].topics[topic_arn]
    return [message for _, message, *_ in topic.sent_notifications]


def test_a_topic_its_policy_and_its_subscription_through_cloudformation(
    hub: boto3.Session,
) -> None:
    outputs = _launch(hub)
    sns = aws.client("sns", hub)
    topic = outputs["TopicArn"]
    assert topic == f"arn:aws:sns:{REGION}:{HUB}:sagemaker-p-abc123-notifications"
    assert outputs["TopicName"] == "sagemaker-p-abc123-notifications"
    attributes = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    assert attributes["KmsMasterKeyId"] == outputs["KeyId"]
    assert attributes["DisplayName"] == "SageMaker p"
    policy = json.loads(attributes["Policy"])
    assert [s["Sid"] for s in policy["Statement"]] == ["ProjectRulesPublish"]
    # The template's tags and the stack's, as CloudFormation tags what it creates.
    tags = sns.list_tags_for_resource(ResourceArn=topic)["Tags"]
    assert {"Key": "sagemaker:project-id", "Value": "abc123"} in tags
    assert {"Key": "team", "Value": "risk"} in tags
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert [(s["Protocol"], s["Endpoint"]) for s in subscriptions] == [
        ("email", "scientist@example.com")
    ]

    # Without the policy and the subscription, the topic keeps SNS's default policy.
    cloudformation = aws.client("cloudformation", hub)
    cloudformation.update_stack(
        StackName="notifications", TemplateBody=_template(topic_admits_events=False, email=False)
    )
    attributes = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    default = json.loads(attributes["Policy"])["Statement"][0]
    assert default["Sid"] == "__default_statement_ID"
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []

    cloudformation.delete_stack(StackName="notifications")
    with pytest.raises(ClientError) as caught:
        sns.get_topic_attributes(TopicArn=topic)
    assert caught.value.response["Error"]["Code"] == "NotFound"


def test_a_named_topic_that_exists_fails_the_resource_and_is_left_alone(
    hub: boto3.Session,
) -> None:
    topic = _launch(hub)["TopicArn"]
    cloudformation = aws.client("cloudformation", hub)
    cloudformation.create_stack(
        StackName="again", TemplateBody=_template(email=False), DisableRollback=True
    )
    events = cloudformation.describe_stack_events(StackName="again")["StackEvents"]
    failed = [e for e in events if e["ResourceStatus"] == "CREATE_FAILED"]
    assert [e["LogicalResourceId"] for e in failed] == ["Topic"]
    assert failed[0]["ResourceStatusReason"] == (
        "Resource of type 'AWS::SNS::Topic' with identifier"
        " 'sagemaker-p-abc123-notifications' already exists."
    )
    # The first stack's topic keeps its subscription.
    subscriptions = aws.client("sns", hub).list_subscriptions_by_topic(TopicArn=topic)
    assert len(subscriptions["Subscriptions"]) == 1


def test_eventbridge_publishes_for_a_rule_the_topic_and_key_policies_admit(
    hub: boto3.Session,
) -> None:
    topic = _launch(hub)["TopicArn"]
    message_id = event_targets.publish(RULE, topic, EVENT)
    assert message_id
    assert [json.loads(m) for m in _sent(topic)] == [EVENT]


@pytest.mark.parametrize(
    ("options", "rule", "refused"),
    [
        # No statement for EventBridge: SNS's default policy admits the account's own
        # publishers only (AWS:SourceOwner), not a service.
        ({"topic_admits_events": False}, RULE, "sns:Publish"),
        # Another project's rule (aws:SourceArn outside the statement's pattern).
        ({}, OTHER_RULE, "sns:Publish"),
        # The key's policy leaves EventBridge out.
        ({"key_admits_events": False}, RULE, "kms:GenerateDataKey"),
        # The AWS managed key admits principals of the account only, through SNS.
        ({"key": "alias/aws/sns"}, RULE, "kms:GenerateDataKey"),
    ],
    ids=["topic-policy", "other-rule", "key-policy", "aws-sns-key"],
)
def test_eventbridge_is_refused_what_either_policy_does_not_admit(
    hub: boto3.Session, options: dict[str, Any], rule: str, refused: str
) -> None:
    topic = _launch(hub, **options)["TopicArn"]
    message = _refusal(lambda: event_targets.publish(rule, topic, EVENT))
    assert message.startswith(f"User: events.amazonaws.com is not authorized to perform: {refused}")
    assert "because no resource-based policy allows" in message
    if refused == "sns:Publish":
        assert f"on resource: {topic}" in message
    assert _sent(topic) == []


def test_a_publisher_needs_the_topics_key_unless_it_is_aws_sns(hub: boto3.Session) -> None:
    outputs = _launch(hub)
    publish = {"Effect": "Allow", "Action": "sns:Publish", "Resource": "*"}
    use_key = {
        "Effect": "Allow",
        "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
        "Resource": "*",
    }
    publisher = aws.client("sns", role_allowed(HUB, "publisher", publish))
    with pytest.raises(ClientError) as caught:
        publisher.publish(TopicArn=outputs["TopicArn"], Message="hello")
    message = caught.value.response["Error"]["Message"]
    assert "is not authorized to perform: kms:GenerateDataKey on resource: arn:aws:kms:" in message
    keyed = aws.client("sns", role_allowed(HUB, "keyed-publisher", publish, use_key))
    assert keyed.publish(TopicArn=outputs["TopicArn"], Message="hello")["MessageId"]
    # A batch is authorized as sns:Publish (there is no sns:PublishBatch action).
    batch = [{"Id": "1", "Message": "hello"}]
    sent = keyed.publish_batch(TopicArn=outputs["TopicArn"], PublishBatchRequestEntries=batch)
    assert [s["Id"] for s in sent["Successful"]] == ["1"]

    # aws/sns admits every principal of its account through SNS: sns:Publish is enough.
    sns = aws.client("sns", hub)
    managed = sns.create_topic(Name="managed", Attributes={"KmsMasterKeyId": "alias/aws/sns"})
    assert publisher.publish(TopicArn=managed["TopicArn"], Message="hello")["MessageId"]
    # Its key policy is AWS's for aws/sns (no Encrypt or ReEncrypt, unlike aws/s3).
    kms = aws.client("kms", hub)
    key_id = kms.describe_key(KeyId="alias/aws/sns")["KeyMetadata"]["KeyId"]
    policy = json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])
    assert policy["Statement"][0]["Action"] == [
        "kms:Decrypt",
        "kms:GenerateDataKey*",
        "kms:CreateGrant",
        "kms:ListGrants",
        "kms:DescribeKey",
    ]
