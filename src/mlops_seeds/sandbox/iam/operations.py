"""Which API operation a request calls, and with which parameters, read from botocore's
service models (the same models the SDKs serialize with): `X-Amz-Target` for JSON
services, `Action=` for query services, and the HTTP method with the `requestUri` of each
operation for REST services (S3, sagemaker-runtime).

Parameters are the request's top-level members by their API names: the JSON body, the
query form (flattened names such as `Tags.member.1.Key` are kept as sent), or a REST
request's URI labels, query-string and header members (by the model's `locationName`)
and its JSON body.
"""

import json
import re
import threading
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import botocore.session
from botocore.model import OperationModel, ServiceModel

# The signing name in a SigV4 scope -> the botocore services that sign with it.
SERVICES: dict[str, tuple[str, ...]] = {
    "sts": ("sts",),
    "iam": ("iam",),
    "s3": ("s3",),
    "cloudformation": ("cloudformation",),
    "servicecatalog": ("servicecatalog",),
    "sagemaker": ("sagemaker", "sagemaker-runtime"),
    "codepipeline": ("codepipeline",),
    "codebuild": ("codebuild",),
    "codecommit": ("codecommit",),
    "events": ("events",),
    "organizations": ("organizations",),
    "application-autoscaling": ("application-autoscaling",),
    "monitoring": ("cloudwatch",),
    "logs": ("logs",),
    "sns": ("sns",),
    "sqs": ("sqs",),
    "kms": ("kms",),
}


@dataclass(frozen=True)
class Operation:
    """A request's botocore service name, operation name and parameters."""

    service: str
    name: str
    params: Mapping[str, Any]


_lock = threading.Lock()
_botocore = botocore.session.get_session()


@lru_cache(maxsize=64)
def service_model(name: str) -> ServiceModel:
    with _lock:
        return _botocore.get_service_model(name)


@dataclass(frozen=True)
class _Route:
    operation: OperationModel
    method: str
    pattern: re.Pattern[str]
    labels: tuple[str, ...]
    qualifiers: tuple[tuple[str, str | None], ...]  # required query keys (and values)
    literal: int  # characters of fixed path text: more is more specific


def _route(operation: OperationModel) -> _Route:
    uri = str(operation.http.get("requestUri", "/"))
    path, _, qualifier_text = uri.partition("?")
    regex, labels, literal = "", [], 0
    for piece in re.split(r"(\{[^}]+\})", path):
        if piece.startswith("{"):
            name = piece[1:-1]
            greedy = name.endswith("+")
            labels.append(name.rstrip("+"))
            regex += "(.+)" if greedy else "([^/]+)"
        else:
            regex += re.escape(piece)
            literal += len(piece)
    qualifiers = []
    for pair in filter(None, qualifier_text.split("&")):
        key, eq, value = pair.partition("=")
        qualifiers.append((key, value if eq else None))
    return _Route(
        operation,
        str(operation.http.get("method", "POST")),
        re.compile(f"^{regex}/?$"),
        tuple(labels),
        tuple(qualifiers),
        literal,
    )


@lru_cache(maxsize=32)
def _routes(name: str) -> tuple[_Route, ...]:
    model = service_model(name)
    return tuple(_route(model.operation_model(op)) for op in model.operation_names)


def _match_rest(
    name: str, method: str, path: str, query: Mapping[str, str]
) -> tuple[_Route, dict[str, str]] | None:
    best: tuple[tuple[int, int], _Route, dict[str, str]] | None = None
    for route in _routes(name):
        if route.method != method:
            continue
        found = route.pattern.match(path)
        if not found:
            continue
        score = 0
        for key, value in route.qualifiers:
            if key == "x-id":  # botocore's own hint: may be absent, must agree if present
                if key in query and query[key] != value:
                    break
                score += key in query
            elif key not in query or (value is not None and query[key] != value):
                break
            else:
                score += 1
        else:
            rank = (score, route.literal)
            if best is None or rank > best[0]:
                labels = {
                    label: urllib.parse.unquote(value)
                    for label, value in zip(route.labels, found.groups(), strict=True)
                }
                best = (rank, route, labels)
    return None if best is None else (best[1], best[2])


def _rest_params(
    operation: OperationModel,
    labels: Mapping[str, str],
    query: Mapping[str, str],
    headers: Mapping[str, str],
    body: bytes,
) -> dict[str, Any]:
    params: dict[str, Any] = {}
    shape = operation.input_shape
    members = shape.members if shape is not None else {}
    for member, member_shape in members.items():
        where = member_shape.serialization.get("location")
        location_name = str(member_shape.serialization.get("name", member))
        if where == "uri" and location_name in labels:
            params[member] = labels[location_name]
        elif where == "querystring" and location_name in query:
            params[member] = query[location_name]
        elif where == "header" and location_name.lower() in headers:
            params[member] = headers[location_name.lower()]
    if body[:1] == b"{" and operation.metadata.get("protocol") == "rest-json":
        try:
            decoded = json.loads(body)
        except ValueError:
            decoded = None
        if isinstance(decoded, dict) and not (shape and shape.serialization.get("payload")):
            params = {**decoded, **params}
    return params


def _json_target(candidates: tuple[str, ...], target: str) -> tuple[str, str] | None:
    prefix, _, operation = target.rpartition(".")
    for name in candidates:
        if service_model(name).metadata.get("targetPrefix") == prefix:
            return name, operation
    return None


def operation_of(
    signing_name: str,
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
) -> Operation | None:
    """The operation a request calls, or None when no model of its signing name has it."""
    candidates = SERVICES.get(signing_name)
    if candidates is None:
        return None
    target = headers.get("x-amz-target")
    if target:
        found = _json_target(candidates, target)
        if found is None:
            return None
        try:
            params = json.loads(body) if body else {}
        except ValueError:
            params = {}
        return Operation(found[0], found[1], params if isinstance(params, dict) else {})
    query_pairs = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
    form: dict[str, str] = dict(query_pairs)
    if "x-www-form-urlencoded" in headers.get("content-type", ""):
        form.update(urllib.parse.parse_qsl(body.decode("utf-8", "replace"), True))
    for name in candidates:
        model = service_model(name)
        protocol = model.metadata.get("protocol")
        if protocol in ("query", "ec2"):
            action = form.get("Action")
            if action and action in model.operation_names:
                return Operation(name, action, form)
            continue
        if protocol in ("rest-json", "rest-xml"):
            matched = _match_rest(name, method, path, query_pairs)
            if matched is not None:
                route, labels = matched
                params = _rest_params(route.operation, labels, query_pairs, headers, body)
                return Operation(name, route.operation.name, params)
    return None
