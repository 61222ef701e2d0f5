"""endpoint-config-template.yml: lint clean, fed completely by the stage configs, deployable."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import boto3
import pytest
from cfnlint.api import lint_file
from cfnlint.decode import decode

from model_deploy import build_config
from tests.support import (
    BUCKET,
    GROUP,
    PROJECT_ID,
    PROJECT_NAME,
    REGION,
    REPO,
    ROLE_ARN,
    create_package,
    read_json,
)

TEMPLATE = REPO / "endpoint-config-template.yml"
STAGES = ("staging", "prod")
ENDPOINT_NAME_LIMIT = 63
LONGEST_PROJECT_NAME = "a" * 32


def template() -> dict[str, Any]:
    """The template as a dict (CloudFormation tags understood)."""
    decoded, matches = decode(str(TEMPLATE))
    assert not matches, matches
    assert decoded is not None
    return dict(decoded)


@pytest.fixture
def exports(sagemaker: Any, group: str, tmp_path: Path) -> dict[str, dict[str, Any]]:
    """Run build.py against moto; return each stage's TemplateConfiguration."""
    create_package(sagemaker, group, "Approved")
    args = [
        *("--sagemaker-project-name", PROJECT_NAME, "--sagemaker-project-id", PROJECT_ID),
        *("--model-package-group-name", GROUP, "--model-execution-role", ROLE_ARN),
        *("--artifact-bucket", BUCKET),
        *("--import-staging-config", str(REPO / "staging-config.json")),
        *("--import-prod-config", str(REPO / "prod-config.json")),
        *("--export-staging-config", str(tmp_path / "staging.json")),
        *("--export-prod-config", str(tmp_path / "prod.json")),
    ]
    assert build_config.main(args) == 0
    return {stage: read_json(tmp_path / f"{stage}.json") for stage in STAGES}


def test_template_passes_cfn_lint() -> None:
    matches = lint_file(TEMPLATE)
    assert [str(match) for match in matches] == []


def violations(name: str, spec: dict[str, Any], value: str) -> list[str]:
    """Return how a parameter value breaks the parameter's constraints."""
    problems = []
    if "AllowedValues" in spec and value not in [str(v) for v in spec["AllowedValues"]]:
        problems.append(f"{name}={value!r} not in {spec['AllowedValues']}")
    if "AllowedPattern" in spec and not re.fullmatch(spec["AllowedPattern"], value):
        problems.append(f"{name}={value!r} does not match {spec['AllowedPattern']}")
    if not int(spec.get("MinLength", 0)) <= len(value) <= int(spec.get("MaxLength", 4096)):
        problems.append(f"{name}={value!r} has a bad length")
    if spec["Type"] == "Number":
        number = float(value)
        if number < float(spec.get("MinValue", number)) or number > float(
            spec.get("MaxValue", number)
        ):
            problems.append(f"{name}={value!r} out of range")
    return problems


@pytest.mark.parametrize("stage", STAGES)
def test_stage_exports_supply_every_required_parameter(
    stage: str, exports: dict[str, dict[str, Any]]
) -> None:
    parameters = template()["Parameters"]
    given = exports[stage]["Parameters"]
    required = {name for name, spec in parameters.items() if "Default" not in spec}
    assert required <= set(given), f"missing {sorted(required - set(given))}"
    assert set(given) <= set(parameters), f"unknown {sorted(set(given) - set(parameters))}"
    problems = [
        p for name, value in given.items() for p in violations(name, parameters[name], value)
    ]
    assert problems == []


@pytest.mark.parametrize("stage", STAGES)
def test_endpoint_name_fits_for_the_longest_project_name(stage: str) -> None:
    stage_name = read_json(REPO / f"{stage}-config.json")["Parameters"]["StageName"]
    name = f"{LONGEST_PROJECT_NAME}-{stage_name}"
    assert len(name) <= ENDPOINT_NAME_LIMIT
    assert re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", name)
    parameters = template()["Parameters"]
    longest = parameters["SageMakerProjectName"]["MaxLength"] + 1
    assert longest + parameters["StageName"]["MaxLength"] <= ENDPOINT_NAME_LIMIT


def deploy(stage_config: dict[str, Any], **overrides: str) -> dict[str, Any]:
    """Create the stack in moto; return the endpoint config it made."""
    cfn = boto3.client("cloudformation", region_name=REGION)
    parameters = {**stage_config["Parameters"], **overrides}
    cfn.create_stack(
        StackName=f"{PROJECT_NAME}-deploy-{parameters['StageName']}",
        TemplateBody=TEMPLATE.read_text(encoding="utf-8"),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        Tags=[{"Key": k, "Value": v} for k, v in stage_config["Tags"].items()],
    )
    stack = cfn.describe_stacks(StackName=f"{PROJECT_NAME}-deploy-{parameters['StageName']}")
    assert stack["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    (config,) = sagemaker.list_endpoint_configs()["EndpointConfigs"]
    return dict(sagemaker.describe_endpoint_config(EndpointConfigName=config["EndpointConfigName"]))


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("stage", STAGES)
def test_stage_deploys_with_data_capture(stage: str, exports: dict[str, dict[str, Any]]) -> None:
    parameters = exports[stage]["Parameters"]
    config = deploy(exports[stage])
    (variant,) = config["ProductionVariants"]
    assert variant["VariantName"] == "AllTraffic"
    assert variant["InstanceType"] == parameters["EndpointInstanceType"]
    assert int(variant["InitialInstanceCount"]) == int(parameters["EndpointInstanceCount"])
    capture = config["DataCaptureConfig"]
    assert str(capture["EnableCapture"]).lower() == "true"
    assert {option["CaptureMode"] for option in capture["CaptureOptions"]} == {"Input", "Output"}
    assert capture["DestinationS3Uri"] == f"s3://{BUCKET}/datacapture/{stage}/1"  # version 1
    assert "KmsKeyId" not in capture


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_challenger_variant_and_kms_key_are_optional(
    sagemaker: Any, group: str, exports: dict[str, dict[str, Any]]
) -> None:
    challenger = create_package(sagemaker, group, "Approved")
    key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    config = deploy(exports["staging"], ChallengerModelPackageName=challenger, KmsKeyId=key)
    variants = {v["VariantName"]: v for v in config["ProductionVariants"]}
    assert set(variants) == {"AllTraffic", "Challenger"}
    assert float(variants["Challenger"]["InitialVariantWeight"]) == pytest.approx(0.1)
    assert config["DataCaptureConfig"]["KmsKeyId"] == key
    models = {
        sagemaker.describe_model(ModelName=variant["ModelName"])["PrimaryContainer"].get(
            "ModelPackageName"
        )
        for variant in variants.values()
    }
    assert models == {exports["staging"]["Parameters"]["ModelPackageName"], challenger}
