"""The invocation metrics SageMaker publishes to CloudWatch for an endpoint, per request,
in the endpoint's account and region ("Amazon SageMaker AI metrics in Amazon CloudWatch"):
namespace AWS/SageMaker, dimensions EndpointName and VariantName, and also with
EndpointConfigName, the config of the fleet that served the request (SageMaker publishes
that dimension once a new fleet takes traffic in a deployment; the deployment guardrails'
alarms watch the new fleet by it).

- Invocations: 1 per request that reached the model.
- Invocation4XXErrors / Invocation5XXErrors: 1 when the model answered 4xx / 5xx, else 0.
- ModelLatency: the model's time to answer, in microseconds.
- OverheadLatency: the rest of the request's time in SageMaker, in microseconds.

Timestamps are the sandbox clock's (clock.py).
"""

from __future__ import annotations

from moto.cloudwatch.models import cloudwatch_backends

from mlops_seeds.sandbox import runtime

NAMESPACE = "AWS/SageMaker"


def publish(
    account: str,
    region: str,
    endpoint: str,
    variant: str,
    config_name: str,
    status: int,
    model_microseconds: float,
    overhead_microseconds: float,
) -> None:
    """Record one invocation's metrics."""
    now = runtime.clock().now()
    values = (
        ("Invocations", 1.0, "None"),
        ("Invocation4XXErrors", 1.0 if 400 <= status < 500 else 0.0, "None"),
        ("Invocation5XXErrors", 1.0 if status >= 500 else 0.0, "None"),
        ("ModelLatency", float(model_microseconds), "Microseconds"),
        ("OverheadLatency", float(overhead_microseconds), "Microseconds"),
    )
    base = [{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": variant}]
    fleet = [*base, {"Name": "EndpointConfigName", "Value": config_name}]
    data = [
        {"MetricName": name, "Value": value, "Unit": unit, "Dimensions": dims, "Timestamp": now}
        for dims in (base, fleet)
        for name, value, unit in values
    ]
    cloudwatch_backends[account][region].put_metric_data(NAMESPACE, data)
