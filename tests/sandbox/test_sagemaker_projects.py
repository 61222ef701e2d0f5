"""SageMaker projects in a spoke, launched as Studio launches them: CreateProject provisions
the hub's shared Service Catalog product with the project's name and id; the project's
status follows the provisioned product; DeleteProject terminates it. UpdateProject updates
the provisioned product (Service Catalog UpdateProvisionedProduct, a record of type
UPDATE_PROVISIONED_PRODUCT) to a newer artifact, whose stack update runs as the launch
role; a failed update rolls the stack back and the product reads TAINTED at its previous
artifact, the project UpdateFailed with CloudFormation's reason."""

import json
import re
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from click.testing import CliRunner

from mlops_seeds import aws
from mlops_seeds.cli import cli
from mlops_seeds.sandbox import organization

TEMPLATE_BUCKET = "sandbox-test-templates"  # the template_url fixture's, in the hub

SPOKE = "111111111111"
LAUNCH_ROLE = "LaunchRole"
STUDIO_ROLE = "StudioExecutionRole"
PROJECT_TEMPLATE = """\
Parameters:
  SageMakerProjectName:
    Type: String
  SageMakerProjectId:
    Type: String
  Stage:
    Type: String
    Default: dev
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub sagemaker-${SageMakerProjectName}-${SageMakerProjectId}-${Stage}
"""
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "servicecatalog.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


@pytest.fixture
def shared(
    sc: Any,
    template_url: Callable[..., str],
    make_portfolio: Callable[..., str],
    spoke: Callable[..., boto3.Session],
) -> Callable[..., tuple[str, str]]:
    """shared(name, template): (product id, artifact id) of a hub product in a portfolio
    shared to SPOKE and accepted there, launchable by Studio roles through a launch role."""
    portfolio_id = make_portfolio()
    sc.associate_principal_with_portfolio(
        PortfolioId=portfolio_id,
        PrincipalARN="arn:aws:iam:::role/Studio*",
        PrincipalType="IAM_PATTERN",
    )
    sc.create_portfolio_share(PortfolioId=portfolio_id, AccountId=SPOKE)
    admin = spoke(SPOKE)
    spoke_sc = aws.client("servicecatalog", admin)
    spoke_sc.accept_portfolio_share(PortfolioId=portfolio_id)
    # A share to an account carries no principals: the spoke associates its own.
    spoke_sc.associate_principal_with_portfolio(
        PortfolioId=portfolio_id,
        PrincipalARN="arn:aws:iam:::role/Studio*",
        PrincipalType="IAM_PATTERN",
    )
    iam = aws.client("iam", admin)
    iam.create_role(RoleName=LAUNCH_ROLE, AssumeRolePolicyDocument=TRUST)
    launch = {  # what provisioning the template takes: its stack and its bucket
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["cloudformation:CreateStack", "cloudformation:DeleteStack"],
                "Resource": f"arn:aws:cloudformation:us-east-1:{SPOKE}:stack/SC-*",
            },
            {
                "Effect": "Allow",
                "Action": ["s3:CreateBucket", "s3:DeleteBucket"],
                "Resource": "arn:aws:s3:::sagemaker-*",
            },
        ],
    }
    iam.put_role_policy(
        RoleName=LAUNCH_ROLE, PolicyName="launch", PolicyDocument=json.dumps(launch)
    )

    def share(name: str = "build-deploy", template: str = PROJECT_TEMPLATE) -> tuple[str, str]:
        response = sc.create_product(
            Name=name,
            Owner="platform",
            ProductType="CLOUD_FORMATION_TEMPLATE",
            ProvisioningArtifactParameters={
                "Name": "v1",
                "Info": {"LoadTemplateFromURL": template_url(f"templates/{name}.yaml", template)},
            },
        )
        product_id = response["ProductViewDetail"]["ProductViewSummary"]["ProductId"]
        sc.associate_product_with_portfolio(ProductId=product_id, PortfolioId=portfolio_id)
        sc.create_constraint(
            PortfolioId=portfolio_id,
            ProductId=product_id,
            Type="LAUNCH",
            Parameters=json.dumps({"LocalRoleName": LAUNCH_ROLE}),
        )
        return product_id, response["ProvisioningArtifactDetail"]["Id"]

    return share


@pytest.fixture
def studio(spoke: Callable[..., boto3.Session]) -> boto3.Session:
    """The Studio execution role's session in SPOKE."""
    return spoke(SPOKE, STUDIO_ROLE)


@pytest.fixture
def sm(studio: boto3.Session) -> Any:
    return aws.client("sagemaker", studio)


def create(
    sm: Any, name: str, product_id: str, artifact_id: str | None = None, **extra: Any
) -> Any:
    details: dict[str, Any] = {"ProductId": product_id}
    if artifact_id:
        details["ProvisioningArtifactId"] = artifact_id
    details.update(extra.pop("details", {}))
    return sm.create_project(ProjectName=name, ServiceCatalogProvisioningDetails=details, **extra)


def error_code(raised: pytest.ExceptionInfo[ClientError]) -> str:
    return str(raised.value.response["Error"]["Code"])


def test_create_project_provisions_the_product_with_the_projects_name_and_id(
    shared: Callable[..., tuple[str, str]],
    sm: Any,
    studio: boto3.Session,
    spoke: Callable[..., boto3.Session],
) -> None:
    product_id, artifact_id = shared()
    stage = {"Key": "Stage", "Value": "prod"}

    created = create(
        sm,
        "churn",
        product_id,
        artifact_id,
        details={"ProvisioningParameters": [stage]},
        ProjectDescription="churn model",
        Tags=[{"Key": "team", "Value": "ml"}],
    )

    project_id = created["ProjectId"]
    assert re.fullmatch(r"p-[a-z0-9]{12}", project_id)
    assert created["ProjectArn"] == f"arn:aws:sagemaker:us-east-1:{SPOKE}:project/churn"
    described = sm.describe_project(ProjectName="churn")
    assert described["ProjectStatus"] == "CreateCompleted"
    assert described["ProjectId"] == project_id
    assert described["ProjectDescription"] == "churn model"
    assert described["ServiceCatalogProvisioningDetails"] == {
        "ProductId": product_id,
        "ProvisioningArtifactId": artifact_id,
        "ProvisioningParameters": [stage],
    }
    assert described["CreatedBy"]["IamIdentity"]["Arn"].endswith(f":role/{STUDIO_ROLE}")
    pp_id = described["ServiceCatalogProvisionedProductDetails"]["ProvisionedProductId"]

    (provisioned,) = aws.client("servicecatalog", studio).search_provisioned_products()[
        "ProvisionedProducts"
    ]
    assert provisioned["Id"] == pp_id
    project_tags = [
        {"Key": "sagemaker:project-name", "Value": "churn"},
        {"Key": "sagemaker:project-id", "Value": project_id},
    ]
    assert provisioned["Tags"] == [{"Key": "team", "Value": "ml"}, *project_tags]
    stack = aws.client("cloudformation", spoke(SPOKE)).describe_stacks(
        StackName=provisioned["PhysicalId"]
    )["Stacks"][0]
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    assert parameters == {
        "SageMakerProjectName": "churn",
        "SageMakerProjectId": project_id,
        "Stage": "prod",
    }
    assert all(tag in stack["Tags"] for tag in project_tags)
    aws.client("s3", studio).head_bucket(Bucket=f"sagemaker-churn-{project_id}-prod")


def test_without_an_artifact_id_the_newest_artifact_is_provisioned(
    shared: Callable[..., tuple[str, str]], sc: Any, sm: Any, template_url: Callable[..., str]
) -> None:
    product_id, _ = shared()
    newer = sc.create_provisioning_artifact(
        ProductId=product_id,
        Parameters={
            "Name": "v2",
            "Info": {"LoadTemplateFromURL": template_url("templates/v2.yaml", PROJECT_TEMPLATE)},
        },
    )["ProvisioningArtifactDetail"]["Id"]

    create(sm, "churn", product_id)

    described = sm.describe_project(ProjectName="churn")
    assert described["ProjectStatus"] == "CreateCompleted"
    assert described["ServiceCatalogProvisioningDetails"]["ProvisioningArtifactId"] == newer


def test_a_template_without_the_sagemaker_parameters_leaves_the_project_create_failed(
    shared: Callable[..., tuple[str, str]],
    sm: Any,
    studio: boto3.Session,
    spoke: Callable[..., boto3.Session],
) -> None:
    product_id, artifact_id = shared(
        "plain-bucket", "Resources:\n  B:\n    Type: AWS::S3::Bucket\n"
    )

    create(sm, "plain", product_id, artifact_id)

    described = sm.describe_project(ProjectName="plain")
    assert described["ProjectStatus"] == "CreateFailed"
    message = described["ServiceCatalogProvisionedProductDetails"][
        "ProvisionedProductStatusMessage"
    ]
    assert message == (
        "InvalidParametersException: ProvisioningParameters: SageMakerProjectId is not a "
        "template parameter"
    )
    assert aws.client("cloudformation", spoke(SPOKE)).describe_stacks()["Stacks"] == []


def test_a_product_the_caller_cannot_launch_leaves_the_project_create_failed(
    sc: Any, sm: Any, template_url: Callable[..., str]
) -> None:
    product_id = sc.create_product(
        Name="unshared",
        Owner="platform",
        ProductType="CLOUD_FORMATION_TEMPLATE",
        ProvisioningArtifactParameters={"Info": {"LoadTemplateFromURL": template_url()}},
    )["ProductViewDetail"]["ProductViewSummary"]["ProductId"]

    create(sm, "orphan", product_id)

    described = sm.describe_project(ProjectName="orphan")
    assert described["ProjectStatus"] == "CreateFailed"
    assert described["ServiceCatalogProvisionedProductDetails"] == {
        "ProvisionedProductStatusMessage": f"ResourceNotFoundException: Product {product_id} "
        "not found."
    }


@pytest.mark.parametrize("name", ["-churn", "churn_model", "a" * 33, "churn-"])
def test_a_name_outside_the_pattern_is_a_validation_error(
    shared: Callable[..., tuple[str, str]], sm: Any, name: str
) -> None:
    product_id, artifact_id = shared()

    with pytest.raises(ClientError) as raised:
        create(sm, name, product_id, artifact_id)

    assert error_code(raised) == "ValidationException"
    assert "projectName" in raised.value.response["Error"]["Message"]
    assert sm.list_projects()["ProjectSummaryList"] == []


def test_a_duplicate_name_and_an_unknown_project_are_validation_errors(
    shared: Callable[..., tuple[str, str]], sm: Any
) -> None:
    product_id, artifact_id = shared()
    create(sm, "churn", product_id, artifact_id)

    with pytest.raises(ClientError) as duplicate:
        create(sm, "churn", product_id, artifact_id)
    with pytest.raises(ClientError) as unknown:
        sm.describe_project(ProjectName="nope")

    assert error_code(duplicate) == "ValidationException"
    assert duplicate.value.response["Error"]["Message"] == "Project churn already exists."
    assert error_code(unknown) == "ValidationException"
    assert len(sm.list_projects()["ProjectSummaryList"]) == 1


def test_list_projects_filters_sorts_and_pages(
    shared: Callable[..., tuple[str, str]], sm: Any, hub: boto3.Session
) -> None:
    product_id, artifact_id = shared()
    for name in ("churn-a", "fraud", "churn-b"):
        create(sm, name, product_id, artifact_id)

    newest_first = [p["ProjectName"] for p in sm.list_projects()["ProjectSummaryList"]]
    by_name = sm.list_projects(SortBy="Name", SortOrder="Ascending", MaxResults=2)
    rest = sm.list_projects(
        SortBy="Name", SortOrder="Ascending", MaxResults=2, NextToken=by_name["NextToken"]
    )
    churn = sm.list_projects(NameContains="CHURN", SortOrder="Ascending")["ProjectSummaryList"]
    created = {p["ProjectName"]: p["CreationTime"] for p in churn}
    after = sm.list_projects(CreationTimeAfter=created["churn-a"])["ProjectSummaryList"]

    assert newest_first == ["churn-b", "fraud", "churn-a"]
    assert [p["ProjectName"] for p in by_name["ProjectSummaryList"]] == ["churn-a", "churn-b"]
    assert [p["ProjectName"] for p in rest["ProjectSummaryList"]] == ["fraud"]
    assert "NextToken" not in rest
    assert [p["ProjectName"] for p in churn] == ["churn-a", "churn-b"]
    assert all(p["ProjectStatus"] == "CreateCompleted" for p in churn)
    assert {p["ProjectName"] for p in after} == {"fraud", "churn-b"}
    assert aws.client("sagemaker", hub).list_projects()["ProjectSummaryList"] == []


def test_delete_project_terminates_the_provisioned_product_and_frees_the_name(
    shared: Callable[..., tuple[str, str]],
    sm: Any,
    studio: boto3.Session,
    spoke: Callable[..., boto3.Session],
) -> None:
    product_id, artifact_id = shared()
    create(sm, "churn", product_id, artifact_id)
    cloudformation = aws.client("cloudformation", spoke(SPOKE))
    assert len(cloudformation.describe_stacks()["Stacks"]) == 1

    sm.delete_project(ProjectName="churn")

    assert cloudformation.describe_stacks()["Stacks"] == []
    sc = aws.client("servicecatalog", studio)
    assert sc.search_provisioned_products()["ProvisionedProducts"] == []
    with pytest.raises(ClientError) as gone:
        sm.describe_project(ProjectName="churn")
    assert error_code(gone) == "ValidationException"
    assert sm.list_projects()["ProjectSummaryList"] == []
    again = create(sm, "churn", product_id, artifact_id)
    assert sm.describe_project(ProjectName="churn")["ProjectId"] == again["ProjectId"]


# Version 2 adds a bucket and a parameter with a default.
TEMPLATE_V2 = (
    PROJECT_TEMPLATE.replace(
        "Resources:",
        "  Retention:\n    Type: String\n    Default: short\nResources:",
    )
    + """\
  Logs:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub sagemaker-${SageMakerProjectId}-logs-${Retention}
"""
)
# Version 3 adds a topic, which the launch role may not create.
TEMPLATE_V3 = (
    PROJECT_TEMPLATE
    + """\
  News:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: !Sub sagemaker-${SageMakerProjectId}-news
"""
)


def _may_update_stacks(spoke: Callable[..., boto3.Session]) -> None:
    statement = {
        "Effect": "Allow",
        "Action": ["cloudformation:UpdateStack"],
        "Resource": f"arn:aws:cloudformation:us-east-1:{SPOKE}:stack/SC-*",
    }
    aws.client("iam", spoke(SPOKE)).put_role_policy(
        RoleName=LAUNCH_ROLE,
        PolicyName="update",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [statement]}),
    )


def _new_artifact(
    sc: Any, template_url: Callable[..., str], product: str, name: str, body: str
) -> str:
    created = sc.create_provisioning_artifact(
        ProductId=product,
        Parameters={
            "Name": name,
            "Info": {"LoadTemplateFromURL": template_url(f"templates/{name}.yaml", body)},
            "Type": "CLOUD_FORMATION_TEMPLATE",
        },
    )
    return str(created["ProvisioningArtifactDetail"]["Id"])


def _provisioned(studio: boto3.Session, sm: Any, name: str) -> dict[str, Any]:
    described = sm.describe_project(ProjectName=name)
    pp_id = described["ServiceCatalogProvisionedProductDetails"]["ProvisionedProductId"]
    return dict(
        aws.client("servicecatalog", studio).describe_provisioned_product(Id=pp_id)[
            "ProvisionedProductDetail"
        ]
    )


def test_update_project_moves_the_stack_to_the_new_artifact(
    shared: Callable[..., tuple[str, str]],
    sc: Any,
    sm: Any,
    studio: boto3.Session,
    spoke: Callable[..., boto3.Session],
    template_url: Callable[..., str],
) -> None:
    product_id, v1 = shared()
    _may_update_stacks(spoke)
    stage = {"Key": "Stage", "Value": "prod"}
    project_id = create(sm, "churn", product_id, v1, details={"ProvisioningParameters": [stage]})[
        "ProjectId"
    ]
    first_record = _provisioned(studio, sm, "churn")["LastRecordId"]
    v2 = _new_artifact(sc, template_url, product_id, "v2", TEMPLATE_V2)

    sm.update_project(
        ProjectName="churn",
        ServiceCatalogProvisioningUpdateDetails={
            "ProvisioningArtifactId": v2,
            "ProvisioningParameters": [stage],
        },
    )

    described = sm.describe_project(ProjectName="churn")
    assert described["ProjectStatus"] == "UpdateCompleted"
    assert described["ServiceCatalogProvisioningDetails"]["ProvisioningArtifactId"] == v2
    provisioned = _provisioned(studio, sm, "churn")
    assert (provisioned["Status"], provisioned["ProvisioningArtifactId"]) == ("AVAILABLE", v2)
    catalog = aws.client("servicecatalog", studio)
    record = catalog.describe_record(Id=provisioned["LastRecordId"])["RecordDetail"]
    assert (record["RecordType"], record["Status"]) == ("UPDATE_PROVISIONED_PRODUCT", "SUCCEEDED")
    first = catalog.describe_record(Id=first_record)["RecordDetail"]
    assert (first["RecordType"], first["Status"]) == ("PROVISION_PRODUCT", "SUCCEEDED")
    s3 = aws.client("s3", studio)
    s3.head_bucket(Bucket=f"sagemaker-churn-{project_id}-prod")  # kept, its Stage given again
    s3.head_bucket(Bucket=f"sagemaker-{project_id}-logs-short")  # the new template's


def test_a_failed_update_rolls_back_and_the_product_is_tainted(
    shared: Callable[..., tuple[str, str]],
    sc: Any,
    sm: Any,
    studio: boto3.Session,
    spoke: Callable[..., boto3.Session],
    template_url: Callable[..., str],
) -> None:
    product_id, v1 = shared()
    _may_update_stacks(spoke)
    project_id = create(sm, "churn", product_id, v1)["ProjectId"]
    v3 = _new_artifact(sc, template_url, product_id, "v3", TEMPLATE_V3)

    sm.update_project(
        ProjectName="churn", ServiceCatalogProvisioningUpdateDetails={"ProvisioningArtifactId": v3}
    )

    described = sm.describe_project(ProjectName="churn")
    assert described["ProjectStatus"] == "UpdateFailed"
    message = described["ServiceCatalogProvisionedProductDetails"][
        "ProvisionedProductStatusMessage"
    ]
    assert f"assumed-role/{LAUNCH_ROLE}/" in message and "sns:CreateTopic" in message, message
    assert described["ServiceCatalogProvisioningDetails"]["ProvisioningArtifactId"] == v1
    provisioned = _provisioned(studio, sm, "churn")
    assert (provisioned["Status"], provisioned["ProvisioningArtifactId"]) == ("TAINTED", v1)
    stack = aws.client("cloudformation", spoke(SPOKE)).describe_stacks(
        StackName=f"SC-{SPOKE}-{provisioned['Id']}"
    )["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    aws.client("s3", studio).head_bucket(Bucket=f"sagemaker-churn-{project_id}-dev")


def test_a_launch_role_that_may_not_update_its_stack_fails_the_update(
    shared: Callable[..., tuple[str, str]],
    sc: Any,
    sm: Any,
    template_url: Callable[..., str],
) -> None:
    product_id, v1 = shared()  # the launch role may create and delete stacks only
    create(sm, "churn", product_id, v1)
    v2 = _new_artifact(sc, template_url, product_id, "v2", TEMPLATE_V2)
    sm.update_project(
        ProjectName="churn", ServiceCatalogProvisioningUpdateDetails={"ProvisioningArtifactId": v2}
    )
    described = sm.describe_project(ProjectName="churn")
    assert described["ProjectStatus"] == "UpdateFailed"
    message = described["ServiceCatalogProvisionedProductDetails"][
        "ProvisionedProductStatusMessage"
    ]
    assert "is not authorized to perform: cloudformation:UpdateStack" in message


def test_update_project_refusals(
    shared: Callable[..., tuple[str, str]], sm: Any, studio: boto3.Session
) -> None:
    product_id, v1 = shared()
    create(sm, "churn", product_id, v1)
    with pytest.raises(ClientError) as raised:
        sm.update_project(ProjectName="nope", ProjectDescription="x")
    assert error_code(raised) == "ValidationException"
    assert "Project nope does not exist." in str(raised.value)
    with pytest.raises(ClientError) as raised:
        sm.update_project(ProjectName="churn", Tags=[{"Key": "team", "Value": "ml"}])
    assert "tag update constraint" in str(raised.value)
    with pytest.raises(ClientError) as raised:
        sm.update_project(
            ProjectName="churn",
            ServiceCatalogProvisioningUpdateDetails={"ProvisioningArtifactId": "pa-nothere0000"},
        )
    assert error_code(raised) == "ValidationException"
    assert "Provisioning artifact pa-nothere0000 not found." in str(raised.value)
    sm.update_project(ProjectName="churn", ProjectDescription="the churn model")
    described = sm.describe_project(ProjectName="churn")
    assert (described["ProjectStatus"], described["ProjectDescription"]) == (
        "CreateCompleted",
        "the churn model",
    )
    catalog = aws.client("servicecatalog", studio)
    with pytest.raises(ClientError) as raised:
        catalog.update_provisioned_product(
            ProvisionedProductName="nope", UpdateToken="t1", ProvisioningArtifactId=v1
        )
    assert error_code(raised) == "ResourceNotFoundException"


ADMIN = f"arn:aws:iam::{SPOKE}:role/{organization.ACCESS_ROLE}"  # the spoke's admin


def _admit_admin(spoke: Callable[..., boto3.Session]) -> None:
    """The spoke's admin role among the imported portfolio's principals (DescribeProduct,
    which `projects` reads artifacts with, is an end user's call), and the hub's template
    bucket readable by the spoke (CloudFormation reads a change set's TemplateURL as its
    caller), as mlops-seeds publish makes its seed bucket."""
    catalog = aws.client("servicecatalog", spoke(SPOKE))
    for portfolio in catalog.list_accepted_portfolio_shares()["PortfolioDetails"]:
        catalog.associate_principal_with_portfolio(
            PortfolioId=portfolio["Id"], PrincipalARN=ADMIN, PrincipalType="IAM"
        )
    read = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{SPOKE}:root"},
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{TEMPLATE_BUCKET}/*",
    }
    aws.client("s3", aws.make_session()).put_bucket_policy(
        Bucket=TEMPLATE_BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": [read]})
    )


def _projects(*args: str) -> Any:
    return CliRunner().invoke(cli, ["projects", *args, "--role", ADMIN])


def test_projects_lists_and_upgrade_plans_then_updates(
    shared: Callable[..., tuple[str, str]],
    sc: Any,
    sm: Any,
    studio: boto3.Session,
    spoke: Callable[..., boto3.Session],
    template_url: Callable[..., str],
) -> None:
    product_id, v1 = shared()
    _may_update_stacks(spoke)
    _admit_admin(spoke)
    stage = {"Key": "Stage", "Value": "prod"}
    project_id = create(sm, "churn", product_id, v1, details={"ProvisioningParameters": [stage]})[
        "ProjectId"
    ]
    _new_artifact(sc, template_url, product_id, "v2", TEMPLATE_V2)

    listed = _projects()
    assert listed.exit_code == 0, listed.output
    (line,) = [line for line in listed.output.splitlines() if line.startswith("churn ")]
    assert line.split() == ["churn", "CreateCompleted", "build-deploy", "v1", "v2", "(behind)"]

    planned = _projects("upgrade", "churn", "--plan-only")
    assert planned.exit_code == 0, planned.output
    assert planned.output.startswith("project churn: build-deploy v1 -> v2 (stack arn:aws:")
    assert "  Add      Logs AWS::S3::Bucket" in planned.output
    assert sm.describe_project(ProjectName="churn")["ProjectStatus"] == "CreateCompleted"

    done = _projects("upgrade", "churn", "--yes", "--offer-seed-updates")
    assert done.exit_code == 0, done.output
    # (this product's stack has no repositories to offer seed updates to)
    assert done.output.splitlines()[-1] == "project churn: UpdateCompleted at v2"
    aws.client("s3", studio).head_bucket(Bucket=f"sagemaker-{project_id}-logs-short")
    aws.client("s3", studio).head_bucket(Bucket=f"sagemaker-churn-{project_id}-prod")
    assert "(behind)" not in _projects().output


def test_a_failed_upgrade_says_why_and_exits_1(
    shared: Callable[..., tuple[str, str]],
    sc: Any,
    sm: Any,
    spoke: Callable[..., boto3.Session],
    template_url: Callable[..., str],
) -> None:
    product_id, v1 = shared()
    _may_update_stacks(spoke)
    _admit_admin(spoke)
    create(sm, "churn", product_id, v1)
    _new_artifact(sc, template_url, product_id, "v3", TEMPLATE_V3)
    done = _projects("upgrade", "churn", "--yes")
    assert done.exit_code == 1, done.output
    assert "  Add      News AWS::SNS::Topic" in done.output
    assert "project churn: UpdateFailed, its stack rolled back: " in done.output
    assert "sns:CreateTopic" in done.output
    missing = _projects("upgrade", "nope", "--yes")
    assert missing.exit_code != 0
    assert "project nope: Project nope does not exist." in missing.output
