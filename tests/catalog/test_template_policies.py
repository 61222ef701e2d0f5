"""The IAM statements of the product templates and the hub bootstrap: tagging cannot be
used to reach another project's resources, and Application Auto Scaling is limited to
SageMaker variants. The sandbox does not evaluate IAM yet: these checks read the
policies as written (conditions from the Service Authorization Reference)."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import product_templates
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
# (name, text): the product templates as Studio receives them, and the hub bootstrap.
TEMPLATES = [
    *((name, product_templates.text(name)) for name in product_templates.names()),
    ("hub-bootstrap.yaml", (ROOT / "service_catalog" / "hub-bootstrap.yaml").read_text()),
]
PROJECT_ID = "${SageMakerProjectId}"
AUTOSCALING_WRITES = {
    "application-autoscaling:RegisterScalableTarget",
    "application-autoscaling:DeregisterScalableTarget",
    "application-autoscaling:PutScalingPolicy",
    "application-autoscaling:DeleteScalingPolicy",
    "application-autoscaling:TagResource",
    "application-autoscaling:UntagResource",
}


class _Loader(yaml.SafeLoader):
    """Reads !Sub/!Ref/... as {"Sub": value}, {"Ref": value}."""


def _tagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {suffix: value}


_Loader.add_multi_constructor("!", _tagged)


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _statements(path: str, text: str) -> Iterator[tuple[str, dict[str, Any]]]:
    resources = yaml.load(text, Loader=_Loader)["Resources"]
    for name, resource in resources.items():
        properties = resource.get("Properties", {})
        documents = [p["PolicyDocument"] for p in properties.get("Policies", [])]
        if "PolicyDocument" in properties:
            documents.append(properties["PolicyDocument"])
        for document in documents:
            for entry in document["Statement"]:
                # a statement under !If [condition, statement, !Ref AWS::NoValue]
                branches = entry["If"][1:] if "If" in entry else [entry]
                for statement in branches:
                    if isinstance(statement, dict) and "Effect" in statement:
                        sid = f"{path}:{name}:{statement.get('Sid', '?')}"
                        yield sid, statement


def _text(value: Any) -> str:
    return str(value)


ALL = [s for path, text in TEMPLATES for s in _statements(path, text)]


@pytest.mark.parametrize(("sid", "statement"), ALL, ids=[sid for sid, _ in ALL])
def test_tagging_is_conditioned_or_scoped_to_the_project(sid: str, statement: Any) -> None:
    actions = set(_listed(statement["Action"]))
    if statement["Effect"] != "Allow" or "sagemaker:AddTags" not in actions:
        return
    scoped = all(PROJECT_ID in _text(r) for r in _listed(statement["Resource"]))
    assert scoped or statement.get("Condition"), sid


@pytest.mark.parametrize(("sid", "statement"), ALL, ids=[sid for sid, _ in ALL])
def test_autoscaling_is_limited_to_sagemaker_variants(sid: str, statement: Any) -> None:
    actions = set(_listed(statement["Action"]))
    assert "application-autoscaling:*" not in actions, sid
    writes = actions & AUTOSCALING_WRITES
    if not writes:
        return
    resources = [_text(r) for r in _listed(statement["Resource"])]
    assert all("scalable-target/" in r for r in resources), sid
    condition = statement.get("Condition", {})
    if writes - {"application-autoscaling:TagResource", "application-autoscaling:UntagResource"}:
        assert condition["StringEquals"] == {
            "application-autoscaling:service-namespace": "sagemaker",
            "application-autoscaling:scalable-dimension": "sagemaker:variant:DesiredInstanceCount",
        }, sid
    tag_conditions = {k for block in condition.values() for k in block}
    assert "aws:ResourceTag/sagemaker:project-id" in tag_conditions, sid


def test_deletes_need_the_project_tag_and_creates_carry_it() -> None:
    by_sid = {sid.rsplit(":", 1)[1]: s for sid, s in ALL if "CloudFormationDeployRole" in sid}
    project = {"Ref": "SageMakerProjectId"}
    assert by_sid["ChangeOwnEndpoints"]["Condition"] == {
        "StringEquals": {"aws:ResourceTag/sagemaker:project-id": project}
    }
    assert by_sid["CreateEndpoints"]["Condition"] == {
        "StringEquals": {"aws:RequestTag/sagemaker:project-id": project}
    }
    on_create = by_sid["TagOnCreate"]["Condition"]["StringEquals"]
    assert on_create["aws:RequestTag/sagemaker:project-id"] == project
    assert on_create["sagemaker:TaggingAction"] == [
        "CreateModel",
        "CreateEndpointConfig",
        "CreateEndpoint",
        "CreatePipeline",
    ]
    own = by_sid["TagOwnEndpoints"]["Condition"]
    assert own["StringEquals"] == {"aws:ResourceTag/sagemaker:project-id": project}
