"""The model-deploy seed's endpoint template through the sandbox's CloudFormation: names
honoured, model packages deployed, updates through the backend's update_endpoint."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from accounts import member_admin, model_role
from moto.sagemaker.models import SageMakerModelBackend

from mlops_seeds import aws
from mlops_seeds.sandbox import Sandbox
from mlops_seeds.sandbox.cloudformation import sagemaker as cfn_sagemaker

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "seed_code" / "model-deploy" / "{{cookiecutter.__repo_name}}"
SPOKE = "333333333333"
GROUP = "churn-p-abc123"


@pytest.fixture
def spoke(sandbox: Sandbox) -> boto3.Session:
    """The spoke's admin, with the endpoints' model execution role."""
    session = member_admin(SPOKE)
    model_role(session, "model-execution")
    return session


@pytest.fixture
def packages(spoke: boto3.Session) -> list[str]:
    """Two approved model packages of one group."""
    sagemaker = aws.client("sagemaker", spoke)
    sagemaker.create_model_package_group(ModelPackageGroupName=GROUP)
    arns = []
    for version in (1, 2):
        arns.append(
            sagemaker.create_model_package(
                ModelPackageGroupName=GROUP,
                ModelApprovalStatus="Approved",
                InferenceSpecification={
                    "Containers": [
                        {
                            "Image": "123.dkr.ecr.us-east-1.amazonaws.com/xgboost:1",
                            "ModelDataUrl": f"s3://artifacts/model-{version}.tar.gz",
                        }
                    ],
                    "SupportedContentTypes": ["text/csv"],
                    "SupportedResponseMIMETypes": ["text/csv"],
                },
            )["ModelPackageArn"]
        )
    return arns


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """The endpoint calls reaching the SageMaker backend. The packages' model data is fake:
    created endpoints are taken as InService, and update_endpoint moves the endpoint to the
    new config without starting model servers."""
    seen: list[tuple[str, dict[str, Any]]] = []

    def record(name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        def recorded(self: SageMakerModelBackend, *args: Any, **kwargs: Any) -> Any:
            seen.append((name, kwargs))
            return method(self, *args, **kwargs)

        return recorded

    def update_endpoint(
        self: SageMakerModelBackend, endpoint_name: str, endpoint_config_name: str, **_: Any
    ) -> None:
        cfn_sagemaker._move_endpoint(self, endpoint_name, endpoint_config_name)

    create = SageMakerModelBackend.create_endpoint

    def create_endpoint(self: SageMakerModelBackend, *args: Any, **kwargs: Any) -> Any:
        endpoint = create(self, *args, **kwargs)
        endpoint.endpoint_status = "InService"  # no model server can serve the fake data
        return endpoint

    monkeypatch.setattr(
        SageMakerModelBackend, "create_endpoint", record("create_endpoint", create_endpoint)
    )
    monkeypatch.setattr(
        SageMakerModelBackend,
        "delete_endpoint",
        record("delete_endpoint", SageMakerModelBackend.delete_endpoint),
    )
    monkeypatch.setattr(
        SageMakerModelBackend,
        "update_endpoint",
        record("update_endpoint", update_endpoint),
        raising=False,
    )
    return seen


def _parameters(stage: str, package: str, **extra: str) -> list[dict[str, str]]:
    values = {
        "SageMakerProjectName": "churn",
        "ModelExecutionRoleArn": f"arn:aws:iam::{SPOKE}:role/model-execution",
        "ModelPackageName": package,
        "StageName": stage,
        "DataCaptureUploadPath": "s3://artifacts/datacapture",
        **extra,
    }
    return [{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()]


def _stack(spoke: boto3.Session, name: str, parameters: list[dict[str, str]]) -> dict[str, Any]:
    cfn = aws.client("cloudformation", spoke)
    cfn.create_stack(
        StackName=name,
        TemplateBody=(TEMPLATE / "endpoint-config-template.yml").read_text(),
        Parameters=parameters,
    )
    stack: dict[str, Any] = cfn.describe_stacks(StackName=name)["Stacks"][0]
    return stack


def _deployed_package(sagemaker: Any, endpoint_name: str) -> str:
    endpoint = sagemaker.describe_endpoint(EndpointName=endpoint_name)
    config = sagemaker.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    model = sagemaker.describe_model(ModelName=config["ProductionVariants"][0]["ModelName"])
    return str(model["PrimaryContainer"]["ModelPackageName"])


def test_endpoint_is_named_as_the_template_says(
    spoke: boto3.Session, packages: list[str], calls: list[tuple[str, dict[str, Any]]]
) -> None:
    stack = _stack(spoke, "deploy-staging", _parameters("staging", packages[0]))
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    assert outputs["EndpointName"] == "churn-staging"
    assert outputs["EndpointArn"] == f"arn:aws:sagemaker:us-east-1:{SPOKE}:endpoint/churn-staging"
    sagemaker = aws.client("sagemaker", spoke)
    endpoint = sagemaker.describe_endpoint(EndpointName="churn-staging")
    assert endpoint["EndpointConfigName"].startswith("EndpointConfig-")
    config = sagemaker.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    variant = config["ProductionVariants"][0]
    assert (variant["VariantName"], variant["InstanceType"], variant["InitialInstanceCount"]) == (
        "AllTraffic",
        "ml.m5.large",
        1,
    )
    assert config["DataCaptureConfig"]["EnableCapture"] is True
    assert variant["ModelName"].startswith("Model-")
    assert _deployed_package(sagemaker, "churn-staging") == packages[0]
    assert [name for name, _ in calls] == ["create_endpoint"]
    assert calls[0][1]["endpoint_name"] == "churn-staging"


def test_a_new_model_package_updates_the_endpoint_in_place(
    spoke: boto3.Session, packages: list[str], calls: list[tuple[str, dict[str, Any]]]
) -> None:
    _stack(spoke, "deploy-staging", _parameters("staging", packages[0]))
    sagemaker = aws.client("sagemaker", spoke)
    before = sagemaker.describe_endpoint(EndpointName="churn-staging")["EndpointConfigName"]
    aws.client("cloudformation", spoke).update_stack(
        StackName="deploy-staging",
        UsePreviousTemplate=True,
        Parameters=[
            {"ParameterKey": p["ParameterKey"], "UsePreviousValue": True}
            for p in _parameters("staging", packages[0])
            if p["ParameterKey"] != "ModelPackageName"
        ]
        + [{"ParameterKey": "ModelPackageName", "ParameterValue": packages[1]}],
    )
    after = sagemaker.describe_endpoint(EndpointName="churn-staging")["EndpointConfigName"]
    assert after != before
    assert [name for name, _ in calls] == ["create_endpoint", "update_endpoint"]
    assert calls[1][1]["endpoint_name"] == "churn-staging"
    assert calls[1][1]["endpoint_config_name"] == after
    assert _deployed_package(sagemaker, "churn-staging") == packages[1]
    # The replaced model and config are gone once the update is over.
    assert [
        c["EndpointConfigName"] for c in sagemaker.list_endpoint_configs()["EndpointConfigs"]
    ] == [after]
    assert len(sagemaker.list_models()["Models"]) == 1


def test_prod_autoscaling_and_deletion(
    spoke: boto3.Session, packages: list[str], calls: list[tuple[str, dict[str, Any]]]
) -> None:
    parameters = _parameters(
        "prod", packages[0], EnableAutoScaling="true", AutoScalingMaxCapacity="4"
    )
    assert _stack(spoke, "deploy-prod", parameters)["StackStatus"] == "CREATE_COMPLETE"
    scaling = aws.client("application-autoscaling", spoke)
    targets = scaling.describe_scalable_targets(ServiceNamespace="sagemaker")["ScalableTargets"]
    assert [(t["ResourceId"], t["MinCapacity"], t["MaxCapacity"]) for t in targets] == [
        ("endpoint/churn-prod/variant/AllTraffic", 1, 4)
    ]
    policies = scaling.describe_scaling_policies(ServiceNamespace="sagemaker")["ScalingPolicies"]
    assert [p["PolicyName"] for p in policies] == ["churn-prod-invocations"]
    assert policies[0]["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] == 100
    aws.client("cloudformation", spoke).delete_stack(StackName="deploy-prod")
    sagemaker = aws.client("sagemaker", spoke)
    assert sagemaker.list_endpoints()["Endpoints"] == []
    assert sagemaker.list_endpoint_configs()["EndpointConfigs"] == []
    assert sagemaker.list_models()["Models"] == []
    assert scaling.describe_scalable_targets(ServiceNamespace="sagemaker")["ScalableTargets"] == []
    assert [name for name, _ in calls] == ["create_endpoint", "delete_endpoint"]
    assert calls[1][1] == {"endpoint_name": "churn-prod"}


def test_a_missing_model_package_rolls_the_stack_back(
    spoke: boto3.Session, packages: list[str]
) -> None:
    missing = packages[0].rsplit("/", 1)[0] + "/99"
    stack = _stack(spoke, "deploy-staging", _parameters("staging", missing))
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    events = aws.client("cloudformation", spoke).describe_stack_events(StackName="deploy-staging")
    failed = [e for e in events["StackEvents"] if e["ResourceStatus"] == "CREATE_FAILED"]
    assert [e["LogicalResourceId"] for e in failed] == ["Model"]
    assert missing in failed[0]["ResourceStatusReason"]
    sagemaker = aws.client("sagemaker", spoke)
    assert sagemaker.list_endpoints()["Endpoints"] == []
    assert sagemaker.list_models()["Models"] == []


def test_an_endpoint_that_fails_rolls_the_stack_back_with_its_reason(
    spoke: boto3.Session, packages: list[str]
) -> None:
    stack = _stack(spoke, "deploy-staging", _parameters("staging", packages[0]))
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    events = aws.client("cloudformation", spoke).describe_stack_events(StackName="deploy-staging")
    failed = [e for e in events["StackEvents"] if e["ResourceStatus"] == "CREATE_FAILED"]
    assert [e["LogicalResourceId"] for e in failed] == ["Endpoint"]
    assert "endpoint churn-staging is Failed: " in failed[0]["ResourceStatusReason"]
    assert "cannot be served by the sandbox" in failed[0]["ResourceStatusReason"]
    assert aws.client("sagemaker", spoke).list_endpoints()["Endpoints"] == []
