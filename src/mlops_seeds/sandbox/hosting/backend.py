"""moto's SageMaker endpoint operations with real model servers behind them.

CreateEndpoint starts a server per production variant before it returns (the endpoint is
Creating meanwhile, then InService, or Failed with a FailureReason); UpdateEndpoint, which
moto lacks, starts the new config's servers and then stops the old ones (on failure the
endpoint keeps serving its old config, InService with the FailureReason, as AWS rolls
back); DeleteEndpoint stops the servers. CloudFormation reaches the same backend methods.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.models import FakeEndpoint, SageMakerModelBackend

from mlops_seeds.sandbox.hosting import endpoints

Method = Callable[..., Any]


def _key(backend: SageMakerModelBackend, endpoint_name: str) -> endpoints.Key:
    return (backend.account_id, backend.region_name, endpoint_name)


def _missing(backend: SageMakerModelBackend, endpoint_name: str) -> ValidationError:
    arn = FakeEndpoint.arn_formatter(endpoint_name, backend.account_id, backend.region_name)
    return ValidationError(message=f"Could not find endpoint '{arn}'.")


def set_status(endpoint: FakeEndpoint, status: str, reason: str | None = None) -> None:
    """Set EndpointStatus and FailureReason (None clears it)."""
    endpoint.endpoint_status = status
    endpoint.failure_reason = reason  # type: ignore[assignment]  # moto types it None


def bring_up(backend: SageMakerModelBackend, endpoint: FakeEndpoint) -> None:
    """Deploy the endpoint's config: InService, or Failed with the reason."""
    endpoint.endpoint_status = "Creating"
    try:
        started = endpoints.deploy(backend, endpoint.endpoint_name, endpoint.endpoint_config_name)
    except endpoints.DeployError as err:
        endpoints.replace(_key(backend, endpoint.endpoint_name), None)
        set_status(endpoint, "Failed", str(err))
        return
    endpoints.replace(_key(backend, endpoint.endpoint_name), started)
    set_status(endpoint, "InService")


def patched_create(original: Method) -> Method:
    """CreateEndpoint: refuse an existing name, record the endpoint, deploy it."""

    def create_endpoint(
        self: SageMakerModelBackend,
        endpoint_name: str,
        endpoint_config_name: str,
        tags: list[dict[str, str]] | None = None,
        **kwargs: Any,
    ) -> FakeEndpoint:
        if endpoint_name in self.endpoints:
            arn = FakeEndpoint.arn_formatter(endpoint_name, self.account_id, self.region_name)
            raise ValidationError(message=f'Cannot create already existing endpoint "{arn}".')
        endpoint: FakeEndpoint = original(
            self, endpoint_name=endpoint_name, endpoint_config_name=endpoint_config_name, tags=tags
        )
        bring_up(self, endpoint)
        return endpoint

    create_endpoint.__doc__ = original.__doc__
    return create_endpoint


def update_endpoint(
    self: SageMakerModelBackend, endpoint_name: str, endpoint_config_name: str, **kwargs: Any
) -> FakeEndpoint:
    """UpdateEndpoint: serve `endpoint_config_name` in place of the current config.

    Extra keyword arguments (RetainAllVariantProperties, DeploymentConfig, ...) are
    accepted and ignored: the new config's variants replace the old ones at once.
    """
    endpoint = self.endpoints.get(endpoint_name)
    if endpoint is None:
        raise _missing(self, endpoint_name)
    config = self.describe_endpoint_config(endpoint_config_name)
    key = _key(self, endpoint_name)
    had_servers = endpoints.deployment(*key) is not None
    endpoint.endpoint_status = "Updating"
    try:
        started = endpoints.deploy(self, endpoint_name, endpoint_config_name)
    except endpoints.DeployError as err:
        set_status(endpoint, "InService" if had_servers else "Failed", str(err))
        return endpoint
    endpoints.replace(key, started)
    endpoint.endpoint_config_name = endpoint_config_name
    endpoint.production_variants = endpoint._process_production_variants(
        config["ProductionVariants"]
    )
    endpoint.data_capture_config = config.get("DataCaptureConfig") or {}
    endpoint.last_modified_time = utcnow()
    set_status(endpoint, "InService")
    return endpoint


def patched_delete(original: Method) -> Method:
    """DeleteEndpoint: forget the endpoint, then stop its servers."""

    def delete_endpoint(self: SageMakerModelBackend, endpoint_name: str) -> None:
        original(self, endpoint_name)
        endpoints.replace(_key(self, endpoint_name), None)

    delete_endpoint.__doc__ = original.__doc__
    return delete_endpoint


def update_endpoint_response(response: Any) -> ActionResult:
    """The UpdateEndpoint action of moto's SageMaker responses."""
    endpoint = response.sagemaker_backend.update_endpoint(
        endpoint_name=response._get_param("EndpointName"),
        endpoint_config_name=response._get_param("EndpointConfigName"),
    )
    return ActionResult({"EndpointArn": endpoint.arn})
