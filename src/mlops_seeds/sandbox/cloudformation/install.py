"""Install the CloudFormation extension into moto (idempotent): the resource types below
take precedence over moto's own for the same type, custom resources fail fast, a type
nothing here creates fails (or is refused, when CloudFormation does not know it either, see
unsupported.py), stacks roll back on failure, CodeCommit repositories are git
repositories."""

from collections.abc import Callable

from moto.cloudformation import parsing
from moto.core.common_models import CloudFormationModel

from mlops_seeds.sandbox.cloudformation import (
    change_sets,
    codecommit,
    events,
    kms,
    novalue,
    s3,
    ssm_parameters,
    stacks,
    template_urls,
)
from mlops_seeds.sandbox.cloudformation.autoscaling import ScalableTarget, ScalingPolicy
from mlops_seeds.sandbox.cloudformation.cloudwatch import Alarm
from mlops_seeds.sandbox.cloudformation.codebuild import CodeBuildProject
from mlops_seeds.sandbox.cloudformation.codecommit import CodeCommitRepository
from mlops_seeds.sandbox.cloudformation.codepipeline import CodePipelinePipeline
from mlops_seeds.sandbox.cloudformation.custom import CustomResource
from mlops_seeds.sandbox.cloudformation.event_bus_policy import EventBusPolicy
from mlops_seeds.sandbox.cloudformation.resource import SandboxResource
from mlops_seeds.sandbox.cloudformation.s3 import BucketPolicy
from mlops_seeds.sandbox.cloudformation.sagemaker import (
    Endpoint,
    EndpointConfig,
    Model,
    ModelPackageGroup,
    Pipeline,
)
from mlops_seeds.sandbox.cloudformation.sns import Subscription, Topic, TopicPolicy
from mlops_seeds.sandbox.cloudformation.unsupported import UnsupportedResource

TYPES: dict[str, type[SandboxResource]] = {
    kind.TYPE: kind
    for kind in (
        CodeBuildProject,
        CodePipelinePipeline,
        CodeCommitRepository,
        ModelPackageGroup,
        Model,
        EndpointConfig,
        Endpoint,
        Pipeline,
        ScalableTarget,
        ScalingPolicy,
        Alarm,
        BucketPolicy,
        Topic,
        TopicPolicy,
        Subscription,
        EventBusPolicy,
        CustomResource,
    )
}

_MARK = "_mlops_seeds_types"


def sandbox_type(name: str) -> type[SandboxResource] | None:
    """The extension's class of a CloudFormation type (None: moto's own, or none)."""
    if name.startswith("Custom::"):
        return CustomResource
    return TYPES.get(name)


def creatable(name: str) -> bool:
    """Whether the extension or moto creates resources of a CloudFormation type."""
    return sandbox_type(name) is not None or name in parsing.get_model_map()


def _class_from_type(
    original: Callable[[str], type[CloudFormationModel]],
) -> Callable[[str], type[CloudFormationModel]]:
    def resource_class_from_type(resource_type: str) -> type[CloudFormationModel]:
        kind = sandbox_type(resource_type)
        if kind is not None:
            return kind
        if resource_type in parsing.get_model_map():
            return original(resource_type)
        return UnsupportedResource  # moto would skip it (None) with a warning

    return resource_class_from_type


def _name_property(original: Callable[[str], str | None]) -> Callable[[str], str | None]:
    def resource_name_property_from_type(resource_type: str) -> str | None:
        kind = sandbox_type(resource_type)
        return (kind.NAME_PROPERTY or None) if kind else original(resource_type)

    return resource_name_property_from_type


def install() -> None:
    """Patch moto (once)."""
    if getattr(parsing, _MARK, False):
        return
    original_class, original_name = (
        parsing.resource_class_from_type,
        parsing.resource_name_property_from_type,
    )
    parsing.resource_class_from_type = _class_from_type(original_class)  # type: ignore[assignment]
    parsing.resource_name_property_from_type = _name_property(original_name)  # type: ignore[assignment]
    stacks.install(lambda name: sandbox_type(name) is not None, creatable)
    change_sets.install()
    novalue.install()
    codecommit.install()
    events.install()
    s3.install()
    kms.install()
    ssm_parameters.install()
    template_urls.install()
    setattr(parsing, _MARK, True)
