"""An SNS topic whose policy admits EventBridge (events.amazonaws.com may publish to it)."""

import json

import boto3

from mlops_seeds import aws


def topic_eventbridge_may_publish_to(session: boto3.Session, name: str) -> str:
    """Make the topic `name` with that policy; its ARN."""
    sns = aws.client("sns", session)
    topic = str(sns.create_topic(Name=name)["TopicArn"])
    admits_events = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sns:Publish",
                "Resource": topic,
            }
        ],
    }
    sns.set_topic_attributes(
        TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(admits_events)
    )
    return topic
