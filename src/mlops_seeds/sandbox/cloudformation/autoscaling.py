"""Application Auto Scaling types -> moto's applicationautoscaling backend (the prod endpoint
stack's autoscaling option).

- AWS::ApplicationAutoScaling::ScalableTarget: Ref is `ResourceId|ScalableDimension|
  ServiceNamespace`, as CloudFormation returns it; GetAtt Id.
- AWS::ApplicationAutoScaling::ScalingPolicy: by ScalingTargetId (that Ref) or by
  ResourceId/ScalableDimension/ServiceNamespace; Ref is the policy ARN; GetAtt Arn.
"""

from typing import Any

from moto.applicationautoscaling.models import (
    ApplicationAutoscalingBackend,
    applicationautoscaling_backends,
)

from mlops_seeds.sandbox.cloudformation.resource import Context, SandboxResource


def _backend(context: Context) -> ApplicationAutoscalingBackend:
    return applicationautoscaling_backends[context.account_id][context.region]


class ScalableTarget(SandboxResource):
    """RegisterScalableTarget."""

    TYPE = "AWS::ApplicationAutoScaling::ScalableTarget"
    ATTRIBUTES = frozenset({"Id"})
    REPLACE_ON = frozenset({"ResourceId", "ScalableDimension", "ServiceNamespace"})

    def _register(self, properties: dict[str, Any]) -> None:
        suspended = properties.get("SuspendedState")
        _backend(self.context).register_scalable_target(
            namespace=str(properties["ServiceNamespace"]),
            r_id=str(properties["ResourceId"]),
            dimension=str(properties["ScalableDimension"]),
            min_capacity=int(properties["MinCapacity"]),
            max_capacity=int(properties["MaxCapacity"]),
            role_arn=str(properties.get("RoleARN", "")),
            suspended_state=suspended,  # type: ignore[arg-type]
        )

    def create(self) -> None:
        """Register the target."""
        self._register(self.properties)
        p = self.properties
        self.physical_id = f"{p['ResourceId']}|{p['ScalableDimension']}|{p['ServiceNamespace']}"
        self.attributes = {"Id": self.physical_id}

    def update(self, properties: dict[str, Any]) -> None:
        """Register again with the new capacities."""
        self._register(properties)

    def remove(self) -> None:
        """DeregisterScalableTarget."""
        p = self.properties
        _backend(self.context).deregister_scalable_target(
            str(p["ServiceNamespace"]), str(p["ResourceId"]), str(p["ScalableDimension"])
        )


def _target(properties: dict[str, Any]) -> tuple[str, str, str]:
    """(namespace, resource id, dimension) of a policy."""
    if properties.get("ScalingTargetId"):
        resource_id, dimension, namespace = str(properties["ScalingTargetId"]).split("|")
        return namespace, resource_id, dimension
    return (
        str(properties["ServiceNamespace"]),
        str(properties["ResourceId"]),
        str(properties["ScalableDimension"]),
    )


class ScalingPolicy(SandboxResource):
    """PutScalingPolicy."""

    TYPE = "AWS::ApplicationAutoScaling::ScalingPolicy"
    ATTRIBUTES = frozenset({"Arn"})
    REPLACE_ON = frozenset(
        {"PolicyName", "ScalingTargetId", "ResourceId", "ScalableDimension", "ServiceNamespace"}
    )

    def _put(self, properties: dict[str, Any]) -> str:
        namespace, resource_id, dimension = _target(properties)
        body = properties.get("TargetTrackingScalingPolicyConfiguration") or properties.get(
            "StepScalingPolicyConfiguration"
        )
        policy = _backend(self.context).put_scaling_policy(
            policy_name=str(properties["PolicyName"]),
            service_namespace=namespace,
            resource_id=resource_id,
            scalable_dimension=dimension,
            policy_body=body or {},
            policy_type=properties.get("PolicyType"),
        )
        return str(policy.policy_arn)

    def create(self) -> None:
        """Put the policy."""
        self.physical_id = self._put(self.properties)
        self.attributes = {"Arn": self.physical_id}

    def update(self, properties: dict[str, Any]) -> None:
        """Put the policy again."""
        self._put(properties)

    def remove(self) -> None:
        """DeleteScalingPolicy."""
        namespace, resource_id, dimension = _target(self.properties)
        _backend(self.context).delete_scaling_policy(
            str(self.properties["PolicyName"]), namespace, resource_id, dimension
        )
