"""Resource types the sandbox cannot create are refused, never skipped: a type
CloudFormation does not know is a ValidationError at CreateStack/UpdateStack, as AWS
answers; a real type nothing in the sandbox emulates fails its resource and the stack
rolls back. Every type the project's templates use is created."""

from pathlib import Path
from typing import Any

import boto3
import product_templates
import pytest
from botocore.exceptions import ClientError
from moto.cloudformation.models import Stack

from mlops_seeds import aws
from mlops_seeds.sandbox.cloudformation.install import creatable

ROOT = Path(__file__).resolve().parents[2]
ENDPOINT_CONFIG = "seed_code/model-deploy/{{cookiecutter.__repo_name}}/endpoint-config-template.yml"
# (name, text): the product templates as Studio receives them, the bootstraps, the seeds'.
TEMPLATES = [
    *((name, product_templates.text(name)) for name in product_templates.names()),
    *(
        (p.name, p.read_text())
        for p in [
            *sorted((ROOT / "service_catalog").glob("*-bootstrap.yaml")),
            ROOT / ENDPOINT_CONFIG,
        ]
    ),
]


def _template(extra_type: str, condition: str | None = None) -> str:
    conditions = "Conditions:\n  Never: !Equals [a, b]\n" if condition else ""
    when = f"    Condition: {condition}\n" if condition else ""
    return (
        conditions
        + "Resources:\n"
        + "  Bucket:\n    Type: AWS::S3::Bucket\n"
        + f"  Extra:\n    Type: {extra_type}\n{when}"
        + "    Properties:\n      Name: x\n"
    )


@pytest.fixture
def cfn(hub: boto3.Session) -> Any:
    return aws.client("cloudformation", hub)


def _failed(cfn: Any, name: str) -> list[dict[str, Any]]:
    events = cfn.describe_stack_events(StackName=name)["StackEvents"]
    return [e for e in events if e["ResourceStatus"].endswith("_FAILED")]


def test_an_unrecognised_type_is_refused_at_create_stack(cfn: Any) -> None:
    with pytest.raises(ClientError) as caught:
        cfn.create_stack(StackName="typo", TemplateBody=_template("AWS::SageMaker::Endpont"))
    error = caught.value.response["Error"]
    assert error["Code"] == "ValidationError"
    assert error["Message"] == (
        "Template format error: Unrecognized resource types: [AWS::SageMaker::Endpont]"
    )
    assert cfn.describe_stacks()["Stacks"] == []


def test_a_real_type_the_sandbox_does_not_emulate_fails_and_rolls_back(
    cfn: Any, hub: boto3.Session
) -> None:
    kind = "AWS::SageMaker::MonitoringSchedule"
    cfn.create_stack(StackName="monitor", TemplateBody=_template(kind))
    stack = cfn.describe_stacks(StackName="monitor")["Stacks"][0]
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    [failed] = _failed(cfn, "monitor")
    assert (failed["LogicalResourceId"], failed["ResourceStatus"]) == ("Extra", "CREATE_FAILED")
    assert failed["ResourceType"] == kind
    assert failed["ResourceStatusReason"].startswith(
        f"Resource type {kind} is not emulated by the sandbox"
    )
    assert aws.client("s3", hub).list_buckets()["Buckets"] == []


def test_an_unemulated_type_under_a_false_condition_is_not_created(cfn: Any) -> None:
    template = _template("AWS::SageMaker::MonitoringSchedule", condition="Never")
    cfn.create_stack(StackName="conditional", TemplateBody=template)
    stack = cfn.describe_stacks(StackName="conditional")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"


def test_an_update_adding_an_unknown_type_is_refused_and_one_adding_an_unemulated_type_rolls_back(
    cfn: Any, hub: boto3.Session
) -> None:
    base = "Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n"
    cfn.create_stack(StackName="grow", TemplateBody=base)
    with pytest.raises(ClientError, match=r"Unrecognized resource types: \[AWS::S3::Buckit\]"):
        cfn.update_stack(StackName="grow", TemplateBody=_template("AWS::S3::Buckit"))
    assert cfn.describe_stacks(StackName="grow")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"

    cfn.update_stack(StackName="grow", TemplateBody=_template("AWS::SageMaker::MonitoringSchedule"))
    stack = cfn.describe_stacks(StackName="grow")["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    [failed] = _failed(cfn, "grow")
    assert (failed["LogicalResourceId"], failed["ResourceStatus"]) == ("Extra", "CREATE_FAILED")
    assert cfn.get_template(StackName="grow")["TemplateBody"] == base
    resources = cfn.describe_stack_resources(StackName="grow")["StackResources"]
    assert [r["LogicalResourceId"] for r in resources] == ["Bucket"]
    assert len(aws.client("s3", hub).list_buckets()["Buckets"]) == 1


@pytest.mark.parametrize(("name", "text"), TEMPLATES, ids=[name for name, _ in TEMPLATES])
def test_every_type_the_templates_use_is_created_by_the_sandbox(name: str, text: str) -> None:
    template = Stack.parse_template(text)
    types = {r["Type"] for r in template["Resources"].values()}
    assert types
    assert [t for t in sorted(types) if not creatable(t)] == []
