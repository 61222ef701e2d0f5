"""SageMaker types -> moto's SageMaker backend, with the names the template gives.

- AWS::SageMaker::ModelPackageGroup: Ref is the group's ARN (as AWS documents); GetAtt
  ModelPackageGroupArn, ModelPackageGroupName, CreationTime, ModelPackageGroupStatus.
- AWS::SageMaker::Model: PrimaryContainer or Containers, each with an Image or a
  ModelPackageName (which must exist); Ref is the ARN; GetAtt ModelName.
- AWS::SageMaker::EndpointConfig: Ref is the ARN; GetAtt EndpointConfigName.
- AWS::SageMaker::Endpoint: created, updated and deleted only through the backend's
  `create_endpoint`, `update_endpoint` and `delete_endpoint` (the hosting extension
  patches those to run local model servers); a new EndpointConfigName updates the
  endpoint in place, as AWS does, with the template's DeploymentConfig (a blue/green
  update is waited for). An endpoint that does not reach InService, or whose update
  rolled back, fails its resource (the stack then rolls back, the endpoint keeping its
  old config).
  Ref is the ARN; GetAtt EndpointName.
- AWS::SageMaker::Pipeline: PipelineName (required, as in the resource schema), a
  PipelineDefinition given as PipelineDefinitionBody (JSON text) or
  PipelineDefinitionS3Location ({Bucket, Key, Version}), RoleArn; Ref is the pipeline's
  name (its primary identifier). Changes update it in place (UpdatePipeline), a new
  PipelineName replaces it.

Unnamed models and endpoint configs get `<LogicalId>-<random>` names, as CloudFormation
gives them; a changed property of either replaces it (new name), and the old one is deleted
after the stack update, once the endpoint has moved to the new config.
"""

import json
from typing import Any

from moto.core.utils import utcnow
from moto.s3.models import s3_backends
from moto.sagemaker.models import SageMakerModelBackend, sagemaker_backends

from mlops_seeds.sandbox.cloudformation.resource import (
    Context,
    SandboxResource,
    random_name,
    tags,
)
from mlops_seeds.sandbox.hosting import rollout
from mlops_seeds.sandbox.sagemaker import group_policies

_NAME_LIMIT = 63


def _backend(context: Context) -> SageMakerModelBackend:
    return sagemaker_backends[context.account_id][context.region]


def _unnamed(context: Context) -> str:
    return random_name(context.logical_id[: _NAME_LIMIT - 13].strip("-") or "Resource")


def _set_tags(resource: Any, properties: dict[str, Any]) -> None:
    resource.tags = tags(properties)


class ModelPackageGroup(SandboxResource):
    """A model package group (the model registry of a project)."""

    TYPE = "AWS::SageMaker::ModelPackageGroup"
    NAME_PROPERTY = "ModelPackageGroupName"
    ATTRIBUTES = frozenset(
        {"ModelPackageGroupArn", "ModelPackageGroupName", "CreationTime", "ModelPackageGroupStatus"}
    )
    REPLACE_ON = frozenset({"ModelPackageGroupDescription"})

    def create(self) -> None:
        """CreateModelPackageGroup."""
        backend = _backend(self.context)
        arn = backend.create_model_package_group(
            model_package_group_name=self.name,
            model_package_group_description=str(
                self.properties.get("ModelPackageGroupDescription", "")
            ),
            tags=tags(self.properties),
        )
        group = backend.model_package_groups[self.name]
        group_policies.set_policy(backend, self.name, _policy_text(self.properties))
        self.physical_id = arn
        self.attributes = {
            "ModelPackageGroupArn": arn,
            "ModelPackageGroupName": self.name,
            "CreationTime": str(group.creation_time),
            "ModelPackageGroupStatus": group.model_package_group_status,
        }

    def update(self, properties: dict[str, Any]) -> None:
        """Tags and the resource policy."""
        backend = _backend(self.context)
        _set_tags(backend.model_package_groups[self.name], properties)
        group_policies.set_policy(backend, self.name, _policy_text(properties))

    def remove(self) -> None:
        """DeleteModelPackageGroup; refused while the group holds model packages."""
        backend = _backend(self.context)
        delete = getattr(backend, "delete_model_package_group", None)
        if delete is not None:
            delete(model_package_group_name=self.name)
            return
        held = [
            p for p in backend.model_packages.values() if p.model_package_group_name == self.name
        ]
        if held:
            raise RuntimeError(
                f"Model package group {self.name} holds {len(held)} model package(s); "
                "it cannot be deleted"
            )
        backend.model_package_groups.pop(self.name, None)


def _policy_text(properties: dict[str, Any]) -> str | None:
    """ModelPackageGroupPolicy as JSON text (the template may give an object)."""
    policy = properties.get("ModelPackageGroupPolicy")
    if policy is None or isinstance(policy, str):
        return policy
    return json.dumps(policy)


def _container(context: Context, container: dict[str, Any]) -> dict[str, Any]:
    package = container.get("ModelPackageName")
    if package:
        _backend(context).describe_model_package(str(package))  # ValidationError if absent
    elif not container.get("Image"):
        raise ValueError("a container needs an Image or a ModelPackageName")
    return dict(container)


class Model(SandboxResource):
    """A SageMaker model."""

    TYPE = "AWS::SageMaker::Model"
    NAME_PROPERTY = "ModelName"
    ATTRIBUTES = frozenset({"ModelName"})
    REPLACE_ON = frozenset(
        {
            "ExecutionRoleArn",
            "PrimaryContainer",
            "Containers",
            "VpcConfig",
            "EnableNetworkIsolation",
            "InferenceExecutionConfig",
        }
    )

    @classmethod
    def generated_name(cls, context: Context, moto_name: str) -> str:
        """`<LogicalId>-<random>`."""
        return _unnamed(context)

    def create(self) -> None:
        """CreateModel."""
        primary = self.properties.get("PrimaryContainer")
        containers = self.properties.get("Containers") or []
        if not primary and not containers:
            raise ValueError(f"Model {self.name}: PrimaryContainer or Containers is required")
        model = _backend(self.context).create_model(
            model_name=self.name,
            execution_role_arn=str(self.properties.get("ExecutionRoleArn", "")),
            primary_container=_container(self.context, primary) if primary else None,
            vpc_config=self.properties.get("VpcConfig"),
            containers=[_container(self.context, c) for c in containers],
            tags=tags(self.properties),
        )
        model.enable_network_isolation = bool(self.properties.get("EnableNetworkIsolation"))
        self.physical_id = model.arn
        self.attributes = {"ModelName": self.name}

    def update(self, properties: dict[str, Any]) -> None:
        """Tags."""
        _set_tags(_backend(self.context)._models[self.name], properties)

    def remove(self) -> None:
        """DeleteModel."""
        _backend(self.context).delete_model(self.name)


def _data_capture(config: dict[str, Any] | None) -> dict[str, Any]:
    if not config:
        return {}
    shaped = dict(config)
    if "EnableCapture" in shaped:
        shaped["EnableCapture"] = str(shaped["EnableCapture"]).lower() == "true"
    if "InitialSamplingPercentage" in shaped:
        shaped["InitialSamplingPercentage"] = int(shaped["InitialSamplingPercentage"])
    return shaped


def _variants(variants: list[dict[str, Any]]) -> list[dict[str, Any]]:
    shaped = []
    for variant in variants:
        variant = dict(variant)
        if "InitialInstanceCount" in variant:
            variant["InitialInstanceCount"] = int(variant["InitialInstanceCount"])
        if "InitialVariantWeight" in variant:
            variant["InitialVariantWeight"] = float(variant["InitialVariantWeight"])
        shaped.append(variant)
    return shaped


class EndpointConfig(SandboxResource):
    """A SageMaker endpoint configuration."""

    TYPE = "AWS::SageMaker::EndpointConfig"
    NAME_PROPERTY = "EndpointConfigName"
    ATTRIBUTES = frozenset({"EndpointConfigName"})
    REPLACE_ON = frozenset(
        {
            "ProductionVariants",
            "ShadowProductionVariants",
            "DataCaptureConfig",
            "AsyncInferenceConfig",
            "KmsKeyId",
            "ExplainerConfig",
            "VpcConfig",
            "ExecutionRoleArn",
            "EnableNetworkIsolation",
        }
    )

    @classmethod
    def generated_name(cls, context: Context, moto_name: str) -> str:
        """`<LogicalId>-<random>`."""
        return _unnamed(context)

    def create(self) -> None:
        """CreateEndpointConfig (its variants' models must exist)."""
        config = _backend(self.context).create_endpoint_config(
            endpoint_config_name=self.name,
            production_variants=_variants(self.properties.get("ProductionVariants") or []),
            data_capture_config=_data_capture(self.properties.get("DataCaptureConfig")),
            async_inference_config=self.properties.get("AsyncInferenceConfig") or {},
            tags=tags(self.properties),
            kms_key_id=self.properties.get("KmsKeyId"),  # type: ignore[arg-type]
        )
        self.physical_id = config.endpoint_config_arn
        self.attributes = {"EndpointConfigName": self.name}

    def update(self, properties: dict[str, Any]) -> None:
        """Tags."""
        _set_tags(_backend(self.context).endpoint_configs[self.name], properties)

    def remove(self) -> None:
        """DeleteEndpointConfig."""
        _backend(self.context).delete_endpoint_config(self.name)


def _move_endpoint(backend: SageMakerModelBackend, name: str, config_name: str) -> None:
    """UpdateEndpoint as moto would do it, for a backend without `update_endpoint`: the
    endpoint takes the new config's variants and data capture at once."""
    endpoint = backend.endpoints[name]
    config = backend.describe_endpoint_config(config_name)
    endpoint.endpoint_config_name = config_name
    endpoint.production_variants = endpoint._process_production_variants(
        config["ProductionVariants"]
    )
    endpoint.data_capture_config = config.get("DataCaptureConfig") or {}
    endpoint.last_modified_time = utcnow()


# DeploymentConfig members the resource schema types as integers: CloudFormation sends them
# as numbers, whatever a template's Ref to a Number parameter gives (a string).
_INTEGER_MEMBERS = frozenset(
    {
        "WaitIntervalInSeconds",
        "Value",
        "TerminationWaitInSeconds",
        "MaximumExecutionTimeoutInSeconds",
    }
)


def _integers(value: Any, key: str = "") -> Any:
    """A DeploymentConfig with its integer members as integers (when they read as one)."""
    if isinstance(value, dict):
        return {k: _integers(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_integers(v) for v in value]
    if key in _INTEGER_MEMBERS and isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return value
    return value


class EndpointFailed(Exception):
    """An endpoint that did not reach InService."""


class Endpoint(SandboxResource):
    """A SageMaker endpoint, named as the template says."""

    TYPE = "AWS::SageMaker::Endpoint"
    NAME_PROPERTY = "EndpointName"
    ATTRIBUTES = frozenset({"EndpointName"})

    @classmethod
    def generated_name(cls, context: Context, moto_name: str) -> str:
        """`<LogicalId>-<random>`."""
        return _unnamed(context)

    def create(self) -> None:
        """CreateEndpoint through the backend. An endpoint that ends Failed fails the
        resource, as CloudFormation waits for InService; the failed endpoint is deleted."""
        backend = _backend(self.context)
        endpoint = backend.create_endpoint(
            endpoint_name=self.name,
            endpoint_config_name=str(self.properties["EndpointConfigName"]),
            tags=tags(self.properties),
        )
        if endpoint.endpoint_status == "Failed":
            reason = endpoint.failure_reason or "no reason given"
            backend.delete_endpoint(endpoint_name=self.name)
            raise EndpointFailed(f"endpoint {self.name} is Failed: {reason}")
        self.physical_id = endpoint.arn
        self.attributes = {"EndpointName": self.name}

    def update(self, properties: dict[str, Any]) -> None:
        """UpdateEndpoint through the backend when the config changes (with the template's
        DeploymentConfig); tags. CloudFormation waits for the update to end: an endpoint
        left on its old config (rolled back, with a FailureReason) or Failed fails the
        resource. An endpoint already on the config (a stack rolling back after such a
        failure) is left as it is."""
        backend = _backend(self.context)
        config_name = str(properties["EndpointConfigName"])
        endpoint = backend.endpoints[self.name]
        if config_name != endpoint.endpoint_config_name:
            update = getattr(backend, "update_endpoint", None)
            if update is not None:
                update(
                    endpoint_name=self.name,
                    endpoint_config_name=config_name,
                    deployment_config=_integers(properties.get("DeploymentConfig")),
                    retain_deployment_config=bool(properties.get("RetainDeploymentConfig")),
                )
                rollout.wait((self.context.account_id, self.context.region, self.name))
            else:
                _move_endpoint(backend, self.name, config_name)
            endpoint = backend.endpoints[self.name]
            if endpoint.endpoint_config_name != config_name or endpoint.endpoint_status != (
                "InService"
            ):
                reason = endpoint.failure_reason or "no reason given"
                raise EndpointFailed(
                    f"endpoint {self.name} failed to update to {config_name} "
                    f"({endpoint.endpoint_status} on {endpoint.endpoint_config_name}): {reason}"
                )
        _set_tags(backend.endpoints[self.name], properties)

    def remove(self) -> None:
        """DeleteEndpoint through the backend."""
        _backend(self.context).delete_endpoint(endpoint_name=self.name)


def _definition(properties: dict[str, Any]) -> str:
    """The definition's JSON text: PipelineDefinitionBody, or the object that
    PipelineDefinitionS3Location ({Bucket, Key, Version}) names; exactly one is given."""
    definition = properties.get("PipelineDefinition") or {}
    body, location = (
        definition.get("PipelineDefinitionBody"),
        definition.get("PipelineDefinitionS3Location"),
    )
    if bool(body) == bool(location):
        raise ValueError(
            "PipelineDefinition needs exactly one of PipelineDefinitionBody and "
            "PipelineDefinitionS3Location"
        )
    if not location:
        return str(body)
    # Read here, not by moto (which keeps an S3 definition as a Python dict, not JSON).
    bucket, key = str(location.get("Bucket", "")), str(location.get("Key", ""))
    located = s3_backends.bucket_accounts.get(bucket)
    if located is None:
        raise ValueError(f"PipelineDefinitionS3Location: bucket {bucket} does not exist")
    account, partition = located[1], located[0]
    found = s3_backends[account][partition].get_object(
        bucket, key, version_id=location.get("Version")
    )
    if found is None:
        raise ValueError(f"PipelineDefinitionS3Location: no object s3://{bucket}/{key}")
    return bytes(found.value).decode("utf-8")


class Pipeline(SandboxResource):
    """A SageMaker pipeline (its executions run in the sandbox like any pipeline's)."""

    TYPE = "AWS::SageMaker::Pipeline"
    NAME_PROPERTY = "PipelineName"

    def create(self) -> None:
        """CreatePipeline."""
        _backend(self.context).create_pipeline(
            pipeline_name=self.name,
            pipeline_display_name=str(self.properties.get("PipelineDisplayName") or self.name),
            pipeline_definition=_definition(self.properties),
            pipeline_definition_s3_location=None,  # type: ignore[arg-type]
            pipeline_description=str(self.properties.get("PipelineDescription") or ""),
            role_arn=str(self.properties.get("RoleArn", "")),
            tags=tags(self.properties),
            parallelism_configuration=self.properties.get("ParallelismConfiguration"),  # type: ignore[arg-type]
        )
        self.physical_id = self.name

    def update(self, properties: dict[str, Any]) -> None:
        """UpdatePipeline with the new definition, role, names and tags."""
        backend = _backend(self.context)
        backend.update_pipeline(
            self.name,
            pipeline_display_name=str(properties.get("PipelineDisplayName") or self.name),
            pipeline_description=str(properties.get("PipelineDescription") or ""),
            role_arn=str(properties.get("RoleArn", "")),
            parallelism_configuration=properties.get("ParallelismConfiguration"),
            pipeline_definition=_definition(properties),
        )
        _set_tags(backend.pipelines[self.name], properties)

    def remove(self) -> None:
        """DeletePipeline."""
        _backend(self.context).delete_pipeline(self.name)
