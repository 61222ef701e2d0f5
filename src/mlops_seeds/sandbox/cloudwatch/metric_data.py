"""PutMetricData's limits, as the CloudWatch API reference states them, checked on the
request (the sandbox itself publishes AWS/SageMaker metrics for its endpoints, through the
backend). moto refuses NaN only.

- Namespace: "You cannot specify a namespace that begins with "AWS/". Namespaces that begin
  with "AWS/" are reserved for use by Amazon Web Services products." (the reference's earlier
  wording; today's says "should not"). Case-sensitive: SageMaker Model Monitor's
  `aws/sagemaker/...` namespaces are not reserved.
- MetricData: "The array can include no more than 1000 metrics per call."
- Value, Values, StatisticValues: "Values must be in the range of -2^360 to 2^360. In
  addition, special values (for example, NaN, +Infinity, -Infinity) are not supported."
- Dimensions: at most 30 per metric.

The refusals are InvalidParameterValue, worded as CloudWatch words its other parameter
refusals ("The value ... for parameter ... is invalid."); AWS's exact sentences for these
limits are not published.
"""

import functools
import math
from collections.abc import Callable, Iterator
from typing import Any

from moto.cloudwatch.exceptions import InvalidParameterValue
from moto.cloudwatch.responses import CloudWatchResponse

RESERVED_PREFIX = "AWS/"
MAX_METRICS = 1000
MAX_DIMENSIONS = 30
MAX_MAGNITUDE = 2.0**360
_MARK = "_mlops_seeds_metric_data"


def _numbers(datum: dict[str, Any], index: int) -> Iterator[tuple[str, Any]]:
    """(parameter name, value) of each number a metric datum carries."""
    prefix = f"MetricData.member.{index}"
    if "Value" in datum:
        yield f"{prefix}.Value", datum["Value"]
    for n, value in enumerate(datum.get("Values") or [], start=1):
        yield f"{prefix}.Values.member.{n}", value
    for name, value in (datum.get("StatisticValues") or {}).items():
        yield f"{prefix}.StatisticValues.{name}", value


def _shown(number: float) -> str:
    """A number as the refusal shows it (Java's spelling of the special values)."""
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    return repr(number)


def check(namespace: str, metric_data: list[dict[str, Any]]) -> None:
    """InvalidParameterValue naming the first parameter beyond PutMetricData's limits."""
    if namespace.startswith(RESERVED_PREFIX):
        raise InvalidParameterValue(f"The value {namespace} for parameter Namespace is invalid.")
    if len(metric_data) > MAX_METRICS:
        raise InvalidParameterValue(
            f"The collection MetricData must not have a size greater than {MAX_METRICS}."
        )
    for index, datum in enumerate(metric_data, start=1):
        dimensions = datum.get("Dimensions") or []
        if len(dimensions) > MAX_DIMENSIONS:
            raise InvalidParameterValue(
                f"The collection MetricData.member.{index}.Dimensions must not have a size "
                f"greater than {MAX_DIMENSIONS}."
            )
        for parameter, value in _numbers(datum, index):
            number = float(value)
            if math.isnan(number) or math.isinf(number) or abs(number) > MAX_MAGNITUDE:
                raise InvalidParameterValue(
                    f"The value {_shown(number)} for parameter {parameter} is invalid."
                )


def _put_metric_data(original: Callable[[CloudWatchResponse], Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def put_metric_data(self: CloudWatchResponse) -> Any:
        check(str(self._get_param("Namespace") or ""), self._get_param("MetricData", []))
        return original(self)

    return put_metric_data


def install() -> None:
    """Patch moto's PutMetricData request (once)."""
    if getattr(CloudWatchResponse, _MARK, False):
        return
    CloudWatchResponse.put_metric_data = _put_metric_data(  # type: ignore[method-assign]
        CloudWatchResponse.put_metric_data
    )
    setattr(CloudWatchResponse, _MARK, True)
