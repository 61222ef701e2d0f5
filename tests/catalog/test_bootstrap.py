"""The bootstrap templates lint clean; the spoke's says where its projects deploy."""

from pathlib import Path

import pytest
from accounts import member_admin

from mlops_seeds import aws
from mlops_seeds.sandbox import Sandbox
from mlops_seeds.validate import validate_paths

TARGETS = {"StagingAccountId": "333333333333", "ProdAccountId": "444444444444"}


@pytest.mark.parametrize(
    "name", ["hub-bootstrap.yaml", "spoke-bootstrap.yaml", "target-bootstrap.yaml"]
)
def test_bootstrap_template_has_no_findings(root: Path, name: str) -> None:
    path = root / "service_catalog" / name
    assert validate_paths(root, (path,), lambda _: None) == []


@pytest.mark.parametrize(
    ("given", "expected"),
    [({}, ("111111111111", "111111111111")), (TARGETS, ("333333333333", "444444444444"))],
)
def test_the_spoke_bootstrap_writes_where_its_projects_deploy(
    sandbox: Sandbox, root: Path, given: dict[str, str], expected: tuple[str, str]
) -> None:
    # What templates/parts/deploy-accounts.yaml reads: the spoke itself unless told.
    admin = member_admin("111111111111")
    aws.client("cloudformation", admin).create_stack(
        StackName="mlops-seeds-spoke-bootstrap",
        TemplateBody=(root / "service_catalog" / "spoke-bootstrap.yaml").read_text(),
        Parameters=[
            {"ParameterKey": key, "ParameterValue": value}
            for key, value in {"HubAccountId": "123456789012", **given}.items()
        ],
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    ssm = aws.client("ssm", admin)
    names = ["/mlops-seeds/deploy-accounts/staging", "/mlops-seeds/deploy-accounts/prod"]
    found = {p["Name"]: p["Value"] for p in ssm.get_parameters(Names=names)["Parameters"]}
    assert (found[names[0]], found[names[1]]) == expected
