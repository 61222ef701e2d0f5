"""The multi-account rehearsal: the project in the tooling spoke (111111111111), its staging
endpoint in 333333333333 and its production endpoint in 444444444444, each bootstrapped with
service_catalog/target-bootstrap.yaml, with IAM enforced; the drift scenario, whose alarm in
the production account retrains in the tooling account. Then each cross-account grant is
taken away in turn from the live accounts (the deploy role's trust, the project key's
policy, the model package group's policy, the model data's key) and the deploy pipeline
run again: it fails where AWS would, with AWS's refusal naming the account and the action,
and passes again once the grant is back; so does the staging test without its test role's
InvokeEndpoint, and the drift alarm's event without the tooling bus's policy. One build
serves every case."""

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from accounts import member_admin

from mlops_seeds import aws
from mlops_seeds.rehearse import flow
from mlops_seeds.rehearse.runs import PipelineRuns
from mlops_seeds.rehearse.scenarios import SCENARIOS
from mlops_seeds.rehearse.summary import summary_lines
from mlops_seeds.sandbox import Sandbox

TOOLING, STAGING, PROD = "111111111111", "333333333333", "444444444444"
DEPLOY_ROLE = "MlopsSeedsTargetDeployRole"


@contextmanager
def _changed(
    read: Callable[[], str], write: Callable[[str], Any], edit: Callable[[Any], Any]
) -> Iterator[None]:
    """A policy document changed by `edit` (given the parsed document) while inside."""
    original = read()
    write(json.dumps(edit(json.loads(original))))
    try:
        yield
    finally:
        write(original)


def _redeploy(runs: PipelineRuns, group: str, package: str) -> str:
    """The deploy pipeline run again for the approved package: its failed action's name and
    summary ("" when it succeeded)."""
    runs.model_package_changed(group, package, "Approved")
    done = runs.run_pending()
    assert len(done) == 1, [run.line() for run in done]
    failed = done[0].record.failed_action
    return f"{failed.name}: {failed.summary}" if failed is not None else ""


def test_staging_and_prod_in_their_own_accounts_and_each_grant_is_needed(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    options = flow.Options(  # the project is redeployed after the rehearsal: not deleted
        scenario=SCENARIOS["drift"], product_key="build-deploy-multi-account", delete_project=False
    )
    report = flow.run(options, flow.prepare(options), print, sandbox, tmp_path)
    lines = summary_lines(report)
    print("\n".join(lines))
    assert report.passed, lines
    # The prod account's alarm reached the tooling account's retraining rule.
    drifted = report.checks["drifted"]
    assert report.project is not None
    retrain = f"sagemaker-{report.project.id}-retrain-on-drift"
    assert drifted.matched == ["rehearsal-prod-data-drift", retrain], drifted.line()
    assert drifted.started == [f"sagemaker-rehearsal-{report.project.id}-modelbuild"]
    assert report.checks["calm"].started == []
    assert report.resources["endpoints"] == 0 and report.resources["stacks"] == 2
    assert report.stage_resources == {
        f"staging {STAGING}": {"stacks": 2, "endpoints": 1},  # the bootstrap's and the stage's
        f"prod {PROD}": {"stacks": 2, "endpoints": 1},
    }
    assert f"Resources in prod {PROD}: stacks 2, endpoints 1" in lines
    runs, project = report.runs, report.project
    assert runs is not None and project is not None
    group = project.outputs["ModelPackageGroupName"]
    approved = [p for p in runs.packages(group) if p["ModelApprovalStatus"] == "Approved"]
    package = str(approved[0]["ModelPackageArn"])  # (the retrained one waits for review)
    tooling = runs.session
    staging = member_admin(STAGING)

    # The deploy role trusts only the tooling account's roles under /mlops-seeds/.
    iam = aws.client("iam", staging)

    def trust_elsewhere(document: Any) -> Any:
        condition = document["Statement"][0]["Condition"]["ArnLike"]
        condition["aws:PrincipalArn"] = f"arn:aws:iam::{TOOLING}:role/elsewhere/*"
        return document

    with _changed(
        lambda: json.dumps(iam.get_role(RoleName=DEPLOY_ROLE)["Role"]["AssumeRolePolicyDocument"]),
        lambda text: iam.update_assume_role_policy(RoleName=DEPLOY_ROLE, PolicyDocument=text),
        trust_elsewhere,
    ):
        failed = _redeploy(runs, group, package)
    assert re.search(
        rf"DeployStagingEndpoint: .*User: arn:aws:sts::{TOOLING}:assumed-role/"
        rf"\S+-CodePipelineRole-\S+ is not authorized to perform: sts:AssumeRole on resource: "
        rf"arn:aws:iam::{STAGING}:role/{DEPLOY_ROLE}",
        failed,
    ), failed

    # The project's key admits the deploy accounts' deploy and model roles.
    kms = aws.client("kms", tooling)
    resources = aws.client("cloudformation", tooling).describe_stack_resources(
        StackName=project.stack_name
    )["StackResources"]
    key = next(
        r["PhysicalResourceId"] for r in resources if r["LogicalResourceId"] == "ArtifactKey"
    )

    def without_deploy_accounts(document: Any) -> Any:
        document["Statement"] = [
            s for s in document["Statement"] if s.get("Sid") != "DeployAccountsDecrypt"
        ]
        return document

    with _changed(
        lambda: kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"],
        lambda text: kms.put_key_policy(KeyId=key, PolicyName="default", Policy=text),
        without_deploy_accounts,
    ):
        failed = _redeploy(runs, group, package)
    assert re.search(
        rf"DeployStagingEndpoint: .*User: arn:aws:sts::{STAGING}:assumed-role/{DEPLOY_ROLE}/\S+ "
        rf"is not authorized to perform: kms:Decrypt on resource: "
        rf"arn:aws:kms:us-east-1:{TOOLING}:key/{key}",
        failed,
    ), failed

    # The group's policy lets the deploy accounts' stacks make models from its packages (a
    # new staging stack, so that CloudFormation makes the model again).
    cloudformation = aws.client("cloudformation", staging)
    cloudformation.delete_stack(StackName=project.outputs["StagingStackName"])
    sagemaker = aws.client("sagemaker", tooling)
    policy = sagemaker.get_model_package_group_policy(ModelPackageGroupName=group)
    sagemaker.delete_model_package_group_policy(ModelPackageGroupName=group)
    try:
        failed = _redeploy(runs, group, package)
    finally:
        sagemaker.put_model_package_group_policy(
            ModelPackageGroupName=group, ResourcePolicy=policy["ResourcePolicy"]
        )
    assert re.search(
        rf"DeployStagingEndpoint: .*User: arn:aws:sts::{STAGING}:assumed-role/"
        rf"MlopsSeedsTargetStacksRole/\S+ is not authorized to perform: "
        rf"sagemaker:DescribeModelPackage on resource: "
        rf"arn:aws:sagemaker:us-east-1:{TOOLING}:model-package/{group}/1",
        failed,
    ), failed

    # The model data must be under the project's key: under SageMaker's default, the account's
    # aws/s3 key (a build whose jobs name no key), no other account can read it.
    cloudformation.delete_stack(StackName=project.outputs["StagingStackName"])
    container = sagemaker.describe_model_package(ModelPackageName=package)[
        "InferenceSpecification"
    ]["Containers"][0]
    bucket, _, name = container["ModelDataUrl"].removeprefix("s3://").partition("/")
    s3 = aws.client("s3", tooling)

    def rewrite(**encryption: str) -> None:
        source = {"Bucket": bucket, "Key": name}
        s3.copy_object(Bucket=bucket, Key=name, CopySource=source, **encryption)

    assert s3.head_object(Bucket=bucket, Key=name)["SSEKMSKeyId"].endswith(key)
    rewrite(ServerSideEncryption="aws:kms")  # no key named: aws/s3
    managed = kms.describe_key(KeyId="alias/aws/s3")["KeyMetadata"]["Arn"]
    try:
        failed = _redeploy(runs, group, package)
    finally:
        rewrite(ServerSideEncryption="aws:kms", SSEKMSKeyId=key)
    assert re.search(
        rf"DeployStagingEndpoint: .*User: arn:aws:sts::{STAGING}:assumed-role/"
        rf"MlopsSeedsModelExecutionRole/\S+ is not authorized to perform: kms:Decrypt on "
        rf"resource: {managed}",
        failed,
    ), failed

    # The staging test reaches the endpoint as the staging account's test role (first the
    # failed stack deleted: CREATE_UPDATE does not replace a stack in ROLLBACK_COMPLETE, as
    # CodePipeline's action reference says; with the group's policy back, deployed again).
    test_role = "MlopsSeedsTargetTestRole"
    cloudformation.delete_stack(StackName=project.outputs["StagingStackName"])
    assert _redeploy(runs, group, package) == ""

    def without_invoke(document: Any) -> Any:
        for statement in document["Statement"]:
            actions = statement["Action"]
            if isinstance(actions, list) and "sagemaker:InvokeEndpoint" in actions:
                statement["Action"] = [a for a in actions if a != "sagemaker:InvokeEndpoint"]
        return document

    with _changed(
        lambda: json.dumps(
            iam.get_role_policy(RoleName=test_role, PolicyName="test-endpoints")["PolicyDocument"]
        ),
        lambda text: iam.put_role_policy(
            RoleName=test_role, PolicyName="test-endpoints", PolicyDocument=text
        ),
        without_invoke,
    ):
        failed = _redeploy(runs, group, package)
    assert failed.startswith("TestStagingEndpoint: "), failed
    denial = runs.history[-1].record.failed_action
    assert re.search(
        rf"User: arn:aws:sts::{STAGING}:assumed-role/{test_role}/\S+ is not authorized to "
        rf"perform: sagemaker:InvokeEndpoint on resource: "
        rf"arn:aws:sagemaker:us-east-1:{STAGING}:endpoint/rehearsal-staging",
        failed,
    ), (failed, denial)

    # Every grant back: deployed and tested again.
    assert _redeploy(runs, group, package) == ""

    # The tooling bus admits the prod account's alarm events (the spoke bootstrap's policy):
    # without it, the drift alarm's change is lost on its way, with AWS's refusal, and
    # nothing retrains.
    prod = member_admin(PROD)
    (alarm,) = aws.client("cloudwatch", prod).describe_alarms(
        AlarmNames=["rehearsal-prod-data-drift"]
    )["MetricAlarms"]
    bus = f"arn:aws:events:us-east-1:{TOOLING}:event-bus/default"
    events = aws.client("events", tooling)
    events.remove_permission(StatementId="mlops-seeds-prod-alarm-events")
    assert runs.alarm_changed(alarm, {**alarm, "StateValue": "OK"}) == [alarm["AlarmName"]]
    assert runs.pending == []
    assert runs.refusals[-1] == (
        f"rule {alarm['AlarmName']} could not send to {bus}: User: arn:aws:sts::{PROD}:"
        "assumed-role/MlopsSeedsTargetDriftEventsRole/events is not authorized to perform: "
        f"events:PutEvents on resource: {bus} because no resource-based policy allows the "
        "events:PutEvents action"
    )
