"""AWS::Events::EventBusPolicy -> a statement of an event bus's resource-based policy in
moto's EventBridge backend (moto has no such type).

As the CloudFormation reference and the type's schema give it:
- StatementId (1 to 64 of `[a-zA-Z0-9-_]`) is required; EventBusName defaults to the
  account's default bus. Both are create-only: changing either replaces the statement.
- Statement is the whole statement (Effect, Principal, Action, Resource, Condition) as a
  JSON object or text; without it, the legacy Action, Principal (an account id or `*`)
  and Condition ({Type, Key, Value}) make it, as PutPermission's parameters do.
- Ref returns the statement id. Delete is RemovePermission of that statement.
- The bus must exist (its handlers read it: events:DescribeEventBus), or the resource
  fails with EventBridge's ResourceNotFoundException.
"""

import json
import re
from typing import Any

from moto.events.models import EventBus, EventBusPolicyStatement, events_backends

from mlops_seeds.sandbox.cloudformation.resource import SandboxResource

_STATEMENT_ID = re.compile(r"^[a-zA-Z0-9-_]{1,64}$")
_ACCOUNT_OR_ANY = re.compile(r"^(\d{12}|\*)$")


def _statement(properties: dict[str, Any], sid: str, bus: EventBus) -> dict[str, Any]:
    """The statement the properties make, with its Sid; ValueError naming the property
    and the rule when it cannot be one."""
    given = properties.get("Statement")
    if given is not None and given != "":
        try:
            statement = json.loads(given) if isinstance(given, str) else dict(given)
        except (json.JSONDecodeError, TypeError, ValueError) as err:
            raise ValueError("Statement: not a JSON object") from err
        if not isinstance(statement, dict):
            raise ValueError("Statement: not a JSON object")
        missing = [k for k in ("Effect", "Principal", "Action") if k not in statement]
        if missing:
            raise ValueError(f"Statement: {missing[0]} is required")
        if statement["Effect"] not in ("Allow", "Deny"):
            raise ValueError("Statement: Effect must be Allow or Deny")
        return {"Resource": bus.arn, **statement, "Sid": sid}
    principal = str(properties.get("Principal") or "")
    if not _ACCOUNT_OR_ANY.match(principal):
        raise ValueError(
            f"Principal: {principal or 'none'} must be an account id (12 digits) or * "
            "(or give Statement)"
        )
    if properties.get("Action") != "events:PutEvents":
        raise ValueError("Action: only events:PutEvents is supported (or give Statement)")
    partition = bus.arn.split(":")[1]
    made: dict[str, Any] = {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:{partition}:iam::{principal}:root"} if principal != "*" else "*",
        "Action": "events:PutEvents",
        "Resource": bus.arn,
    }
    condition = properties.get("Condition")
    if condition:
        made["Condition"] = {str(condition["Type"]): {str(condition["Key"]): condition["Value"]}}
    return made


class EventBusPolicy(SandboxResource):
    """One statement of an event bus's resource-based policy."""

    TYPE = "AWS::Events::EventBusPolicy"
    REPLACE_ON = frozenset({"EventBusName", "StatementId"})

    def _bus(self) -> EventBus:
        backend = events_backends[self.context.account_id][self.context.region]
        name = str(self.properties.get("EventBusName") or "default")
        bus = backend.event_buses.get(name.rsplit("/", 1)[-1])
        if bus is None:
            raise RuntimeError(f"Event bus {name} does not exist. (ResourceNotFoundException)")
        return bus

    def _put(self, properties: dict[str, Any]) -> None:
        sid = str(properties.get("StatementId") or "")
        if not _STATEMENT_ID.match(sid):
            raise ValueError(f"StatementId: {sid!r} must be 1 to 64 of a-z, A-Z, 0-9, - and _")
        bus = self._bus()
        statement = _statement(properties, sid, bus)
        bus._statements[sid] = EventBusPolicyStatement.from_dict(statement)

    def create(self) -> None:
        """PutPermission: the statement on the bus; Ref is its id."""
        self._put(self.properties)
        self.physical_id = str(self.properties["StatementId"])

    def update(self, properties: dict[str, Any]) -> None:
        """The statement replaced in place (same bus, same id)."""
        self._put(properties)

    def remove(self) -> None:
        """RemovePermission of the statement (nothing when the bus or it is gone)."""
        backend = events_backends[self.context.account_id][self.context.region]
        name = str(self.properties.get("EventBusName") or "default").rsplit("/", 1)[-1]
        bus = backend.event_buses.get(name)
        if bus is not None:
            bus.remove_statement(self.physical_id)
