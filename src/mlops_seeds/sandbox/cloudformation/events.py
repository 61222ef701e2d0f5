"""EventBridge TestEventPattern, which moto answers with an empty body: the rules that
CloudFormation creates (AWS::Events::Rule with CodePipeline targets, kept by moto) can then
be checked against an event, as the rehearsal routes a push or an approval."""

import json
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.events.models import EventPattern
from moto.events.responses import EventsHandler

_MARK = "_mlops_seeds_test_event_pattern"
# The fields AWS requires of the event given to TestEventPattern.
REQUIRED = ("id", "account", "source", "time", "region", "resources", "detail-type")


def test_event_pattern(pattern: str, event: str) -> bool:
    """Whether `event` (JSON) matches the event pattern `pattern` (JSON)."""
    try:
        message = json.loads(event)
    except json.JSONDecodeError as err:
        raise JsonRESTError("ValidationException", "Parameter Event is not valid.") from err
    if not isinstance(message, dict):
        raise JsonRESTError("ValidationException", "Parameter Event is not valid.")
    missing = [field for field in REQUIRED if field not in message]
    if missing:
        raise JsonRESTError(
            "ValidationException", f"Parameter Event is not valid: {missing[0]} is required."
        )
    return bool(EventPattern.load(pattern).matches_event(message))  # type: ignore[arg-type]


def _respond(handler: Any) -> tuple[str, dict[str, Any]]:
    result = test_event_pattern(
        str(handler._get_param("EventPattern")), str(handler._get_param("Event"))
    )
    return json.dumps({"Result": result}), handler.response_headers


def install() -> None:
    """Answer TestEventPattern (once)."""
    if getattr(EventsHandler, _MARK, False):
        return
    EventsHandler.test_event_pattern = _respond  # type: ignore[method-assign,assignment]
    setattr(EventsHandler, _MARK, True)
