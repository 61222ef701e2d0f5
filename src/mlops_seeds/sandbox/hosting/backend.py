"""moto's SageMaker endpoint operations with real model servers behind them.

CreateEndpoint starts a server per production variant before it returns (the endpoint is
Creating meanwhile, then InService, or Failed with a FailureReason); UpdateEndpoint, which
moto lacks, starts the new config's servers and then stops the old ones (on failure the
endpoint keeps serving its old config, InService with the FailureReason, as AWS rolls
back), shifting traffic step by step under a blue/green DeploymentConfig (rollout.py);
DeleteEndpoint stops the servers. CloudFormation reaches the same backend methods.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.models import FakeEndpoint, SageMakerModelBackend

from mlops_seeds.sandbox.hosting import endpoints, rollout

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


def _switch(endpoint: FakeEndpoint, config_name: str, config: dict[str, Any]) -> None:
    """The endpoint now serves `config_name`."""
    endpoint.endpoint_config_name = config_name
    endpoint.production_variants = endpoint._process_production_variants(
        config["ProductionVariants"]
    )
    endpoint.data_capture_config = config.get("DataCaptureConfig") or {}
    endpoint.last_modified_time = utcnow()


def _instances(config: dict[str, Any]) -> int:
    """The instance count a traffic step is measured against: the first variant's."""
    variants = config.get("ProductionVariants") or [{}]
    return int(variants[0].get("InitialInstanceCount") or 1)


def _roles(self: SageMakerModelBackend, config: dict[str, Any]) -> list[str]:
    """The execution roles of the config's models."""
    models = (self._models.get(str(v.get("ModelName"))) for v in config["ProductionVariants"])
    return [str(m.execution_role_arn) for m in models if m is not None and m.execution_role_arn]


def update_endpoint(
    self: SageMakerModelBackend,
    endpoint_name: str,
    endpoint_config_name: str,
    deployment_config: dict[str, Any] | None = None,
    retain_deployment_config: bool = False,
    **kwargs: Any,
) -> FakeEndpoint:
    """UpdateEndpoint: serve `endpoint_config_name` in place of the current config.

    Without a DeploymentConfig the new config's servers replace the old ones before the
    call returns. With a BlueGreenUpdatePolicy (rollout.py) the endpoint is Updating while
    traffic shifts and the alarms are watched in a thread; it ends InService on the new
    config, or rolled back on the old one with the FailureReason. An endpoint that is not
    InService is refused, as AWS refuses to update an in-progress endpoint.
    """
    endpoint = self.endpoints.get(endpoint_name)
    if endpoint is None:
        raise _missing(self, endpoint_name)
    key = _key(self, endpoint_name)
    with rollout.starting(key):
        if endpoint.endpoint_status != "InService" or rollout.in_progress(key):
            raise ValidationError(message=f'Cannot update in-progress endpoint "{endpoint.arn}".')
        config = self.describe_endpoint_config(endpoint_config_name)
        if retain_deployment_config:
            deployment_config = getattr(endpoint, "last_deployment_config", None)
        steps = rollout.plan(deployment_config, _instances(config))
        if steps is not None and steps.alarms:
            rollout.check_alarms(self, _roles(self, config), steps.alarms)
        if deployment_config:
            endpoint.last_deployment_config = deployment_config  # type: ignore[attr-defined]
        endpoint.endpoint_status = "Updating"
    had_servers = endpoints.deployment(*key) is not None
    endpoint.failure_reason = None
    try:
        started = endpoints.deploy(self, endpoint_name, endpoint_config_name)
    except endpoints.DeployError as err:
        set_status(endpoint, "InService" if had_servers else "Failed", str(err))
        return endpoint
    if steps is None or not had_servers:
        endpoints.replace(key, started)
        _switch(endpoint, endpoint_config_name, config)
        set_status(endpoint, "InService")
        return endpoint
    endpoint.pending_deployment_summary = {  # type: ignore[attr-defined]
        "EndpointConfigName": endpoint_config_name,
        "StartTime": utcnow(),
    }

    def finish(promoted: bool, reason: str | None) -> None:
        endpoint.pending_deployment_summary = None  # type: ignore[attr-defined]
        if promoted:
            _switch(endpoint, endpoint_config_name, config)
        set_status(endpoint, "InService", reason)

    rollout.start(key, started, steps, finish)
    return endpoint


def patched_delete(original: Method) -> Method:
    """DeleteEndpoint: forget the endpoint, then stop its servers."""

    def delete_endpoint(self: SageMakerModelBackend, endpoint_name: str) -> None:
        original(self, endpoint_name)
        rollout.cancel(_key(self, endpoint_name))
        endpoints.replace(_key(self, endpoint_name), None)

    delete_endpoint.__doc__ = original.__doc__
    return delete_endpoint


def update_endpoint_response(response: Any) -> ActionResult:
    """The UpdateEndpoint action of moto's SageMaker responses."""
    endpoint = response.sagemaker_backend.update_endpoint(
        endpoint_name=response._get_param("EndpointName"),
        endpoint_config_name=response._get_param("EndpointConfigName"),
        deployment_config=response._get_param("DeploymentConfig"),
        retain_deployment_config=bool(response._get_param("RetainDeploymentConfig")),
    )
    return ActionResult({"EndpointArn": endpoint.arn})
