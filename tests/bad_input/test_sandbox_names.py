"""Names the sandbox turns into folders, refused as the AWS APIs refuse them, before any
folder exists: CodeCommit repositories (InvalidRepositoryNameException), SageMaker
pipelines, endpoints, production variants and models (ValidationException). `{outside}`
in a name is the folder beside the case's place that must stay untouched."""

import json
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from harness import Places

from mlops_seeds import aws
from mlops_seeds.sandbox import Sandbox

ROLE = "arn:aws:iam::123456789012:role/pipeline-role"
DEFINITION = json.dumps(
    {"Version": "2020-12-01", "Steps": [{"Name": "Stop", "Type": "Fail", "Arguments": {}}]}
)
CLIMB = "../" * 40 + "{outside}/.git"


@dataclass(frozen=True)
class NameCase:
    """One API call with a bad name and the AWS error it must get."""

    id: str
    service: str
    operation: str
    request: dict[str, Any]
    error: str
    member: str = ""
    listing: tuple[str, str] = ("", "")


def _pipeline(name: str) -> dict[str, Any]:
    return {
        "PipelineName": name,
        "PipelineDefinition": DEFINITION,
        "RoleArn": ROLE,
        "ClientRequestToken": "t" * 32,
    }


def _config(variant: str) -> dict[str, Any]:
    return {
        "EndpointConfigName": "config",
        "ProductionVariants": [
            {
                "VariantName": variant,
                "ModelName": "model",
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": 1,
            }
        ],
    }


def _model(name: str) -> dict[str, Any]:
    return {
        "ModelName": name,
        "ExecutionRoleArn": ROLE,
        "PrimaryContainer": {"Image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/x:1"},
    }


REPO = ("list_repositories", "repositories")
PIPELINES = ("list_pipelines", "PipelineSummaries")
ENDPOINTS = ("list_endpoints", "Endpoints")
CONFIGS = ("list_endpoint_configs", "EndpointConfigs")
MODELS = ("list_models", "Models")
INVALID_REPO = "InvalidRepositoryNameException"
VALIDATION = "ValidationException"

CASES = [
    NameCase(
        "repo-climb",
        "codecommit",
        "create_repository",
        {"repositoryName": CLIMB},
        INVALID_REPO,
        listing=REPO,
    ),
    NameCase(
        "repo-dotdot",
        "codecommit",
        "create_repository",
        {"repositoryName": ".."},
        INVALID_REPO,
        listing=REPO,
    ),
    NameCase(
        "repo-dot",
        "codecommit",
        "create_repository",
        {"repositoryName": "."},
        INVALID_REPO,
        listing=REPO,
    ),
    NameCase(
        "repo-git-suffix",
        "codecommit",
        "create_repository",
        {"repositoryName": "seed.git"},
        INVALID_REPO,
        listing=REPO,
    ),
    NameCase(
        "repo-101-chars",
        "codecommit",
        "create_repository",
        {"repositoryName": "r" * 101},
        INVALID_REPO,
        listing=REPO,
    ),
    NameCase(
        "repo-not-ascii",
        "codecommit",
        "create_repository",
        {"repositoryName": "dépôt"},
        INVALID_REPO,
        listing=REPO,
    ),
    NameCase(
        "repo-delete-dotdot",
        "codecommit",
        "delete_repository",
        {"repositoryName": ".."},
        INVALID_REPO,
    ),
    NameCase(
        "pipeline-climb",
        "sagemaker",
        "create_pipeline",
        _pipeline(CLIMB),
        VALIDATION,
        "pipelineName",
        PIPELINES,
    ),
    NameCase(
        "pipeline-dotdot",
        "sagemaker",
        "create_pipeline",
        _pipeline(".."),
        VALIDATION,
        "pipelineName",
        PIPELINES,
    ),
    NameCase(
        "pipeline-underscore",
        "sagemaker",
        "create_pipeline",
        _pipeline("a_b"),
        VALIDATION,
        "pipelineName",
        PIPELINES,
    ),
    NameCase(
        "pipeline-leading-hyphen",
        "sagemaker",
        "create_pipeline",
        _pipeline("-a"),
        VALIDATION,
        "pipelineName",
        PIPELINES,
    ),
    NameCase(
        "pipeline-257-chars",
        "sagemaker",
        "create_pipeline",
        _pipeline("p" * 257),
        VALIDATION,
        "pipelineName",
        PIPELINES,
    ),
    NameCase(
        "endpoint-climb",
        "sagemaker",
        "create_endpoint",
        {"EndpointName": CLIMB, "EndpointConfigName": "config"},
        VALIDATION,
        "endpointName",
        ENDPOINTS,
    ),
    NameCase(
        "endpoint-dotted",
        "sagemaker",
        "create_endpoint",
        {"EndpointName": "a.b", "EndpointConfigName": "config"},
        VALIDATION,
        "endpointName",
        ENDPOINTS,
    ),
    NameCase(
        "endpoint-64-chars",
        "sagemaker",
        "create_endpoint",
        {"EndpointName": "e" * 64, "EndpointConfigName": "config"},
        VALIDATION,
        "endpointName",
        ENDPOINTS,
    ),
    NameCase(
        "variant-climb",
        "sagemaker",
        "create_endpoint_config",
        _config("../../v"),
        VALIDATION,
        "variantName",
        CONFIGS,
    ),
    NameCase(
        "variant-trailing-hyphen",
        "sagemaker",
        "create_endpoint_config",
        _config("v-"),
        VALIDATION,
        "variantName",
        CONFIGS,
    ),
    NameCase(
        "model-climb", "sagemaker", "create_model", _model("../m"), VALIDATION, "modelName", MODELS
    ),
    NameCase(
        "model-64-chars",
        "sagemaker",
        "create_model",
        _model("m" * 64),
        VALIDATION,
        "modelName",
        MODELS,
    ),
]


def _fill(value: Any, places: Places) -> Any:
    if isinstance(value, str):
        return places.fill([value])[0]
    if isinstance(value, dict):
        return {k: _fill(v, places) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, places) for v in value]
    return value


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_name_the_api_refuses_is_refused_and_nothing_is_made(
    case: NameCase, places: Places, sandbox: Sandbox
) -> None:
    session: boto3.Session = aws.make_session()
    client = aws.client(case.service, session)
    with pytest.raises(ClientError) as refused:
        getattr(client, case.operation)(**_fill(case.request, places))
    error = refused.value.response["Error"]
    assert error["Code"] == case.error
    assert "\n" not in error["Message"]
    if case.member:
        assert f"{case.member}' failed to satisfy constraint" in error["Message"]
    listing, key = case.listing
    if listing:
        assert getattr(client, listing)()[key] == []
    for kind in ("git", "pipelines", "endpoints"):
        assert not any((sandbox.workdir / kind).rglob(".git*")), kind
