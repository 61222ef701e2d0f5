"""sagemaker-runtime InvokeEndpoint, answered by the endpoint's model server.

The request's Body, Content-Type, Accept and CustomAttributes go to the server of the
TargetVariant, or of a variant drawn by weight; its answer comes back with the
InvokedProductionVariant. An unknown endpoint is a ValidationError, an endpoint without
servers (Failed) too; a non-2xx answer of the model is a ModelError (HTTP 424) carrying
OriginalStatusCode and OriginalMessage, whose message points at the server's log file
where AWS points at CloudWatch. During a blue/green update the new fleet takes its share of
the requests. Every request that reaches a model is counted in the endpoint's CloudWatch
metrics (metrics.py); every request the model answered is captured to S3 when the endpoint
config asks for data capture (capture.py).
"""

from __future__ import annotations

import json
import random
import time
from typing import Any
from urllib.parse import unquote

from moto.core.common_types import TYPE_RESPONSE
from moto.sagemaker.models import sagemaker_backends

from mlops_seeds.sandbox.hosting import capture, endpoints, metrics
from mlops_seeds.sandbox.hosting.processes import ModelServer

TARGET_VARIANT = "X-Amzn-SageMaker-Target-Variant"
CUSTOM_ATTRIBUTES = "X-Amzn-SageMaker-Custom-Attributes"
INVOKED_VARIANT = "x-Amzn-Invoked-Production-Variant"
MESSAGE_LIMIT = 1024
ATTEMPTS = 3

_random = random.Random()


def error(status: int, code: str, message: str, **members: Any) -> TYPE_RESPONSE:
    """A rest-json error response as the SageMaker runtime sends it."""
    # moto takes the status of a response from its "status" header.
    headers = {"x-amzn-ErrorType": code, "Content-Type": "application/json", "status": str(status)}
    return status, headers, json.dumps({"message": message, **members})


def endpoint_name_of(path: str) -> str:
    """/endpoints/<name>/invocations -> name."""
    return unquote(path.strip("/").split("/")[1])


def choose(deployment: endpoints.Deployment, target: str | None) -> str | None:
    """The variant to invoke: the target if it exists, else one drawn by weight."""
    if target:
        return target if target in deployment.servers else None
    names = list(deployment.servers)
    weights = [deployment.weights.get(n, endpoints.DEFAULT_WEIGHT) for n in names]
    if sum(weights) <= 0:
        return names[0]
    return _random.choices(names, weights)[0]


def model_error(
    server: ModelServer, account: str, region: str, name: str, status: int, body: bytes
) -> TYPE_RESPONSE:
    """ModelError (424) for a model that answered `status`."""
    original = body.decode("utf-8", errors="replace")[:MESSAGE_LIMIT]
    kind = "client" if status < 500 else "server"
    message = (
        f'Received {kind} error ({status}) from primary with message "{original}". '
        f"See {server.log} for more information."
    )
    log_stream = f"arn:aws:logs:{region}:{account}:log-group:/aws/sagemaker/Endpoints/{name}"
    return error(
        424,
        "ModelError",
        message,
        OriginalStatusCode=status,
        OriginalMessage=original,
        LogStreamArn=log_stream,
    )


def invoke_endpoint(response: Any) -> TYPE_RESPONSE:
    """InvokeEndpoint on moto's SageMakerRuntimeResponse."""
    entered = time.perf_counter()
    account, region = response.current_account, response.region
    name = endpoint_name_of(response.path)
    endpoint = sagemaker_backends[account][region].endpoints.get(name)
    if endpoint is None:
        return error(400, "ValidationError", f"Endpoint {name} of account {account} not found.")
    for _ in range(ATTEMPTS):  # a fleet can stop between choosing it and serving from it
        deployment = endpoints.deployment(account, region, name)
        if deployment is None:
            return error(
                400,
                "ValidationError",
                f"Endpoint {name} of account {account} is {endpoint.endpoint_status}, "
                "not InService.",
            )
        shift = endpoints.shift((account, region, name))
        if shift is not None and _random.random() < shift.share:
            deployment = shift.green
        with deployment.serving() as open_:
            if open_:
                return _serve(response, deployment, account, region, name, entered)
    return error(500, "InternalFailure", f"Endpoint {name} changed fleets during the request.")


def _serve(
    response: Any,
    deployment: endpoints.Deployment,
    account: str,
    region: str,
    name: str,
    entered: float,
) -> TYPE_RESPONSE:
    """Answer the request from `deployment`'s servers."""
    headers = response.headers
    target = headers.get(TARGET_VARIANT)
    variant = choose(deployment, target)
    if variant is None:
        return error(400, "ValidationError", f"Variant {target} not found for endpoint {name}.")
    server = deployment.servers[variant]
    body = response.raw_body or b""
    if isinstance(body, str):
        body = body.encode()
    started = time.perf_counter()
    try:
        answer = server.invoke(
            body, headers.get("Content-Type"), headers.get("Accept"), headers.get(CUSTOM_ATTRIBUTES)
        )
    except OSError as err:
        metrics.publish(  # a model that does not answer counts as a 5xx of the model
            account,
            region,
            name,
            variant,
            deployment.config_name,
            500,
            (time.perf_counter() - started) * 1e6,
            (started - entered) * 1e6,
        )
        return error(
            500,
            "InternalFailure",
            f"The model server of variant {variant} of endpoint {name} did not answer: {err}",
        )
    answered = time.perf_counter()
    model_us = (answered - started) * 1e6
    overhead_us = (started - entered) * 1e6  # up to the model; the reply's own is not counted
    metrics.publish(
        account, region, name, variant, deployment.config_name, answer.status, model_us, overhead_us
    )
    if not 200 <= answer.status < 300:
        return model_error(server, account, region, name, answer.status, answer.body)
    refused = capture.record(
        (account, region, name, variant, deployment.config_name),
        (body, headers.get("Content-Type") or ""),
        (answer.body, answer.content_type),
    )
    if refused:
        with server.log.open("a", encoding="utf-8") as log:
            log.write(refused + "\n")
    reply_headers = {"Content-Type": answer.content_type, INVOKED_VARIANT: variant}
    if answer.custom_attributes:
        reply_headers[CUSTOM_ATTRIBUTES] = answer.custom_attributes
    return 200, reply_headers, answer.body
