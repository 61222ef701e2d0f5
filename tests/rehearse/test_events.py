"""Routing events through the sandbox's EventBridge rules made from the patterns and
targets of templates/build-deploy.yaml: what starts the pipelines, and what the project's
notification topic is told of."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import product_templates
import pytest
from cfnlint.decode import decode_str

from mlops_seeds import aws
from mlops_seeds.rehearse.events import (
    codecommit_push_event,
    codepipeline_execution_event,
    matches,
    model_package_event,
    pipeline_execution_event,
    pipelines_to_start,
    route,
    topic_targets,
)
from mlops_seeds.validate.intrinsics import resolve

SPOKE = "222222222222"
NAME, PROJECT_ID = "demo", "p-abc123"
PREFIX = f"sagemaker-{NAME}-{PROJECT_ID}"
TOPIC = f"arn:aws:sns:us-east-1:{SPOKE}:{PREFIX}-notifications"
VALUES = {
    "NotificationTopic": [TOPIC],
    "SageMakerProjectName": [NAME],
    "SageMakerProjectId": [PROJECT_ID],
    "RepositoryBranch": ["main"],
    "AWS::Partition": ["aws"],
    "AWS::Region": ["us-east-1"],
    "AWS::AccountId": [SPOKE],
}
RULES = (
    "ModelBuildCommitRule",
    "ModelDeployCommitRule",
    "ModelPackageStateRule",
    "PipelineFailedRule",
    "PackagePendingRule",
    "DeployFailedRule",
)


def _evaluate(node: Any) -> Any:
    """A template value with its Ref/Fn::Sub/Fn::If evaluated for the demo project."""
    if isinstance(node, dict) and len(node) == 1 and next(iter(node)) in ("Ref", "Fn::Sub"):
        values = resolve(node, VALUES)
        assert values, f"cannot evaluate {node}"
        return values[0]
    if isinstance(node, dict):
        return {str(k): _evaluate(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_evaluate(v) for v in node]
    return str(node)


@pytest.fixture
def rules(spoke: boto3.Session, root: Path) -> Iterator[dict[str, str]]:
    """The template's three rules in the spoke, and a disabled copy of the build rule;
    each rule's name by logical id."""
    template, _ = decode_str(product_templates.text("build-deploy.yaml", root))
    events = aws.client("events", spoke)
    names: dict[str, str] = {}
    for logical_id in RULES:
        properties = template["Resources"][logical_id]["Properties"]
        name = _evaluate(properties["Name"])
        pattern = json.dumps(_evaluate(properties["EventPattern"]))
        events.put_rule(Name=name, EventPattern=pattern, State="ENABLED")
        target = properties["Targets"][0]
        events.put_targets(
            Rule=name, Targets=[{"Id": target["Id"], "Arn": _evaluate(target["Arn"])}]
        )
        names[logical_id] = name
    pattern = events.describe_rule(Name=names["ModelBuildCommitRule"])["EventPattern"]
    events.put_rule(Name="disabled-copy", EventPattern=pattern, State="DISABLED")
    events.put_targets(
        Rule="disabled-copy", Targets=[{"Id": "x", "Arn": "arn:aws:sqs:us-east-1:1:q"}]
    )
    yield names


def _repository(kind: str) -> str:
    return f"arn:aws:codecommit:us-east-1:{SPOKE}:{PREFIX}-{kind}"


def test_push_to_the_build_branch_starts_the_build_pipeline(
    spoke: boto3.Session, rules: dict[str, str]
) -> None:
    event = codecommit_push_event(_repository("modelbuild"), "main", "c1", old_commit_id="c0")
    targets = route(spoke, event)
    assert [t.rule for t in targets] == [rules["ModelBuildCommitRule"]]
    assert pipelines_to_start(targets) == [f"{PREFIX}-modelbuild"]


def test_first_push_to_the_deploy_repository_starts_the_deploy_pipeline(
    spoke: boto3.Session, rules: dict[str, str]
) -> None:
    event = codecommit_push_event(_repository("modeldeploy"), "main", "c1")
    assert event["detail"]["event"] == "referenceCreated"
    assert pipelines_to_start(route(spoke, event)) == [f"{PREFIX}-modeldeploy"]


def test_push_to_another_branch_starts_nothing(spoke: boto3.Session, rules: dict[str, str]) -> None:
    event = codecommit_push_event(_repository("modelbuild"), "feature", "c1", old_commit_id="c0")
    assert route(spoke, event) == []


@pytest.mark.parametrize(
    ("group", "status", "started"),
    [
        (f"{NAME}-{PROJECT_ID}", "Approved", True),
        (f"{NAME}-{PROJECT_ID}", "Rejected", True),
        (f"{NAME}-{PROJECT_ID}", "PendingManualApproval", False),
        ("another-group", "Approved", False),
    ],
)
def test_model_package_decisions_start_the_deploy_pipeline(
    spoke: boto3.Session, rules: dict[str, str], group: str, status: str, started: bool
) -> None:
    package = {
        "ModelPackageGroupName": group,
        "ModelPackageVersion": 1,
        "ModelPackageArn": f"arn:aws:sagemaker:us-east-1:{SPOKE}:model-package/{group}/1",
        "ModelApprovalStatus": status,
        "ModelPackageStatus": "Completed",
    }
    event = model_package_event(package)
    assert event["source"] == "aws.sagemaker"
    assert event["resources"] == [package["ModelPackageArn"]]
    expected = [f"{PREFIX}-modeldeploy"] if started else []
    assert pipelines_to_start(route(spoke, event)) == expected


def test_matches_uses_the_services_pattern_test(spoke: boto3.Session) -> None:
    event = codecommit_push_event(_repository("modelbuild"), "main", "c1")
    assert matches(spoke, json.dumps({"source": ["aws.codecommit"]}), event)
    assert not matches(spoke, json.dumps({"source": ["aws.sagemaker"]}), event)


def _package(status: str, group: str = f"{NAME}-{PROJECT_ID}") -> dict[str, Any]:
    return {
        "ModelPackageGroupName": group,
        "ModelPackageArn": f"arn:aws:sagemaker:us-east-1:{SPOKE}:model-package/{group}/1",
        "ModelApprovalStatus": status,
    }


def _execution(status: str, pipeline: str = PREFIX) -> dict[str, Any]:
    # SageMaker writes the pipeline's name in lower case in its ARNs.
    arn = f"arn:aws:sagemaker:us-east-1:{SPOKE}:pipeline/{pipeline.lower()}"
    return {
        "PipelineArn": arn,
        "PipelineExecutionArn": f"{arn}/execution/abc",
        "PipelineExecutionStatus": status,
    }


def _codepipeline(kind: str, state: str) -> dict[str, Any]:
    arn = f"arn:aws:codepipeline:us-east-1:{SPOKE}:{PREFIX}-{kind}"
    return codepipeline_execution_event(arn, "e-1", state)


@pytest.mark.parametrize(
    ("event", "told_by"),
    [
        (pipeline_execution_event(_execution("Failed")), "PipelineFailedRule"),
        (pipeline_execution_event(_execution("Succeeded")), None),
        (pipeline_execution_event(_execution("Failed", "sagemaker-other-p-1")), None),
        (model_package_event(_package("PendingManualApproval")), "PackagePendingRule"),
        (model_package_event(_package("Approved")), None),
        (model_package_event(_package("PendingManualApproval", "other")), None),
        (_codepipeline("modeldeploy", "Failed"), "DeployFailedRule"),
        (_codepipeline("modeldeploy", "Succeeded"), None),
        (_codepipeline("modelbuild", "Failed"), None),
    ],
    ids=[
        "pipeline-failed",
        "pipeline-succeeded",
        "other-pipeline-failed",
        "package-pending",
        "package-approved",
        "other-group-pending",
        "deploy-failed",
        "deploy-succeeded",
        "build-failed",
    ],
)
def test_the_project_topic_is_told_of_failures_and_packages_to_review(
    spoke: boto3.Session, rules: dict[str, str], event: dict[str, Any], told_by: str | None
) -> None:
    targets = topic_targets(route(spoke, event))
    assert [(t.rule, t.arn) for t in targets] == ([(rules[told_by], TOPIC)] if told_by else [])
    assert all(t.rule_arn.endswith(f":rule/{t.rule}") for t in targets)
    assert pipelines_to_start(route(spoke, event)) == (
        [f"{PREFIX}-modeldeploy"]
        if event["detail"].get("ModelApprovalStatus") == "Approved"
        else []
    )
