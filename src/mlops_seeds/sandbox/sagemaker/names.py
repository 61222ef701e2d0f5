"""SageMaker names checked as the API checks them, before moto records anything: the
names the sandbox turns into folders (pipelines, endpoints and their variants) and model
names. A bad name is AWS's ValidationException, for the API and for CloudFormation alike
(both reach moto's backend methods, which are wrapped here).

Rules from the SageMaker API reference: CreatePipeline.PipelineName,
CreateEndpoint.EndpointName, ProductionVariant.VariantName, CreateModel.ModelName.
"""

import functools
from collections.abc import Callable, Iterable
from typing import Any

from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.models import SageMakerModelBackend

from mlops_seeds.resource_names import (
    ENDPOINT_NAME,
    MODEL_NAME,
    PIPELINE_NAME,
    VARIANT_NAME,
    NameRule,
)

_MARK = "_mlops_seeds_names"
Method = Callable[..., Any]


def check(value: object, rule: NameRule, member: str | None = None) -> None:
    """ValidationException, worded as SageMaker words it, unless `value` obeys `rule`."""
    problem = rule.violation(value)
    if problem is not None:
        raise ValidationError(
            message=f"1 validation error detected: Value '{value}' at "
            f"'{member or rule.member}' failed to satisfy constraint: {problem}"
        )


def check_variants(variants: Iterable[Any]) -> None:
    """Every ProductionVariant's VariantName."""
    for index, variant in enumerate(variants or []):
        name = variant.get("VariantName") if isinstance(variant, dict) else None
        check(name, VARIANT_NAME, f"productionVariants.{index + 1}.member.variantName")


def _checked(method: Method, parameter: str, checker: Callable[[Any], None]) -> Method:
    @functools.wraps(method)
    def wrapper(self: SageMakerModelBackend, *args: Any, **kwargs: Any) -> Any:
        checker(kwargs[parameter] if parameter in kwargs else (args[0] if args else None))
        return method(self, *args, **kwargs)

    return wrapper


def _variants_checked(method: Method) -> Method:
    @functools.wraps(method)
    def wrapper(self: SageMakerModelBackend, *args: Any, **kwargs: Any) -> Any:
        variants = kwargs.get("production_variants", args[1] if len(args) > 1 else [])
        check_variants(variants)
        return method(self, *args, **kwargs)

    return wrapper


def install() -> None:
    """Wrap moto's create methods with the name checks (once)."""
    backend = SageMakerModelBackend
    if getattr(backend, _MARK, False):
        return
    for method, parameter, rule in (
        ("create_pipeline", "pipeline_name", PIPELINE_NAME),
        ("create_endpoint", "endpoint_name", ENDPOINT_NAME),
        ("create_model", "model_name", MODEL_NAME),
    ):
        original = getattr(backend, method)
        setattr(backend, method, _checked(original, parameter, functools.partial(check, rule=rule)))
    backend.create_endpoint_config = _variants_checked(  # type: ignore[method-assign]
        backend.create_endpoint_config
    )
    setattr(backend, _MARK, True)
