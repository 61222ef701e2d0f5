"""AWS::SNS::Topic, AWS::SNS::TopicPolicy and AWS::SNS::Subscription -> moto's SNS backend.
moto's own Topic type hands every property to CreateTopic as an attribute (its Tags list
and Subscription list among them) and it has no TopicPolicy or Subscription type.

As the CloudFormation reference gives them:
- Topic: Ref is the topic's ARN; GetAtt TopicArn and TopicName. An unnamed topic is
  `<stack>-<LogicalId>-<random>`; a named one that exists already fails the resource
  (CreateTopic itself would return the existing topic). It carries the stack's tags too.
  A new TopicName or FifoTopic replaces it; DisplayName, KmsMasterKeyId, Tags and
  Subscription change in place.
- TopicPolicy: the policy of each topic of Topics (its Policy attribute, replaced whole);
  Ref is a generated id. Deleting it gives the topics SNS's default policy back.
- Subscription: Subscribe; Ref is the subscription's ARN. A new TopicArn, Protocol or
  Endpoint replaces it.
"""

import json
from typing import Any

from moto.core.utils import camelcase_to_underscores
from moto.sns.models import SNSBackend, sns_backends

from mlops_seeds.sandbox.cloudformation.resource import (
    Context,
    SandboxResource,
    random_name,
    tags,
)

_NAME_LIMIT = 256
# CreateTopic's attributes a template property sets (the API's names).
_ATTRIBUTES = ("DisplayName", "KmsMasterKeyId", "FifoTopic", "ContentBasedDeduplication")


def _backend(context: Context) -> SNSBackend:
    return sns_backends[context.account_id][context.region]


def _stack_name(context: Context) -> str:
    return context.stack_id.split("/")[1] if "/" in context.stack_id else "stack"


def _set(backend: SNSBackend, topic_arn: str, name: str, value: str) -> None:
    """SetTopicAttributes as moto's API does it (its backend takes the attribute's Python
    name)."""
    backend.set_topic_attribute(topic_arn, camelcase_to_underscores(name), value)


def _attributes(properties: dict[str, Any]) -> dict[str, str]:
    found = {}
    for name in _ATTRIBUTES:
        value = properties.get(name)
        if value is not None and value != "":
            found[name] = str(value).lower() if isinstance(value, bool) else str(value)
    return found


def _tags(properties: dict[str, Any]) -> dict[str, str]:
    """The stack's tags and the template's (CloudFormation tags what it creates with both)."""
    return {t["Key"]: t["Value"] for t in tags(properties)}


class Topic(SandboxResource):
    """An SNS topic, with the subscriptions its Subscription property lists."""

    TYPE = "AWS::SNS::Topic"
    NAME_PROPERTY = "TopicName"
    ATTRIBUTES = frozenset({"TopicArn", "TopicName"})
    REPLACE_ON = frozenset({"FifoTopic"})

    @classmethod
    def generated_name(cls, context: Context, moto_name: str) -> str:
        """`<stack name>-<LogicalId>-<random>`."""
        return random_name(f"{_stack_name(context)}-{context.logical_id}"[: _NAME_LIMIT - 13])

    def _subscribe(self, properties: dict[str, Any]) -> None:
        for item in properties.get("Subscription") or []:
            _backend(self.context).subscribe(
                self.physical_id, str(item["Endpoint"]), str(item["Protocol"])
            )

    def create(self) -> None:
        """CreateTopic with its attributes and tags, then Subscribe each subscription."""
        properties = self.properties
        context = self.context
        backend = _backend(context)
        arn = f"arn:{context.partition}:sns:{context.region}:{context.account_id}:{self.name}"
        if arn in backend.topics:
            raise RuntimeError(
                f"Resource of type '{self.TYPE}' with identifier '{self.name}' already exists."
            )
        topic = backend.create_topic(self.name, _attributes(properties), _tags(properties))
        self.physical_id = topic.arn
        self.attributes = {"TopicArn": topic.arn, "TopicName": topic.name}
        self._subscribe(properties)

    def update(self, properties: dict[str, Any]) -> None:
        """SetTopicAttributes for what changed, the tags replaced, new subscriptions made and
        those no longer listed removed."""
        backend = _backend(self.context)
        old, new = _attributes(self.properties), _attributes(properties)
        for name in _ATTRIBUTES:
            if old.get(name) != new.get(name):
                _set(backend, self.physical_id, name, new.get(name, ""))
        old_tags, new_tags = _tags(self.properties), _tags(properties)
        gone = [key for key in old_tags if key not in new_tags]
        if gone:
            backend.untag_resource(self.physical_id, gone)
        if new_tags:
            backend.tag_resource(self.physical_id, new_tags)
        wanted = {
            (str(s["Protocol"]), str(s["Endpoint"])) for s in properties.get("Subscription") or []
        }
        had = {
            (str(s["Protocol"]), str(s["Endpoint"]))
            for s in self.properties.get("Subscription") or []
        }
        for subscription in list(backend.list_subscriptions_by_topic(self.physical_id)[0]):
            if (subscription.protocol, subscription.endpoint) in had - wanted:
                backend.unsubscribe(subscription.arn)
        for protocol, endpoint in wanted - had:
            backend.subscribe(self.physical_id, endpoint, protocol)

    def remove(self) -> None:
        """DeleteTopic (its subscriptions go with it)."""
        _backend(self.context).delete_topic(self.physical_id)


class TopicPolicy(SandboxResource):
    """The access policy of one or more topics."""

    TYPE = "AWS::SNS::TopicPolicy"

    @classmethod
    def generated_name(cls, context: Context, moto_name: str) -> str:
        """`<stack name>-<LogicalId>-<random>`, what Ref returns."""
        return random_name(f"{_stack_name(context)}-{context.logical_id}")

    def _put(self, properties: dict[str, Any]) -> None:
        document = properties["PolicyDocument"]
        text = document if isinstance(document, str) else json.dumps(document)
        for topic in properties.get("Topics") or []:
            _set(_backend(self.context), str(topic), "Policy", text)

    def create(self) -> None:
        """SetTopicAttributes Policy on each topic."""
        self._put(self.properties)

    def update(self, properties: dict[str, Any]) -> None:
        """The new document on the topics listed now; the default back on those dropped."""
        self._restore(
            set(self.properties.get("Topics") or []) - set(properties.get("Topics") or [])
        )
        self._put(properties)

    def remove(self) -> None:
        """SNS's default policy back on each topic that still exists."""
        self._restore(set(self.properties.get("Topics") or []))

    def _restore(self, topics: set[Any]) -> None:
        backend = _backend(self.context)
        for arn in topics:
            topic = backend.topics.get(str(arn))
            if topic is not None:
                default = topic._create_default_topic_policy(
                    self.context.region, self.context.account_id, topic.name
                )
                topic.policy = json.dumps(default)


class Subscription(SandboxResource):
    """One subscription to a topic."""

    TYPE = "AWS::SNS::Subscription"
    REPLACE_ON = frozenset({"TopicArn", "Protocol", "Endpoint"})

    def create(self) -> None:
        """Subscribe."""
        subscription = _backend(self.context).subscribe(
            str(self.properties["TopicArn"]),
            str(self.properties["Endpoint"]),
            str(self.properties["Protocol"]),
        )
        self.physical_id = subscription.arn

    def update(self, properties: dict[str, Any]) -> None:
        """Nothing the sandbox keeps changes (filter policies and the like are not kept)."""

    def remove(self) -> None:
        """Unsubscribe (nothing when the topic took it away already)."""
        backend = _backend(self.context)
        if self.physical_id in backend.subscriptions:
            backend.unsubscribe(self.physical_id)
