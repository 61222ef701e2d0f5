"""Acting as a service role, as AWS's services do: the role's trust policy must allow the
service; the refusal is AWS's sentence. Executions are recorded in the service only in the
sandbox."""

import re
from pathlib import Path

import product_templates
import pytest
from accounts import member_admin, service_role
from cfnlint.decode import decode

from mlops_seeds import aws
from mlops_seeds.errors import SeedsError
from mlops_seeds.rehearse import codepipeline, roles
from mlops_seeds.rehearse import world as worlds
from mlops_seeds.sandbox import Sandbox
from mlops_seeds.sandbox.iam.principals import CODEBUILD, CODEPIPELINE

ACCOUNT = "123456789012"


def test_a_service_acts_as_the_role_that_trusts_it(sandbox: Sandbox) -> None:
    arn = service_role(aws.make_session(), "builds", CODEBUILD)
    session = roles.act_as(CODEBUILD, arn, "codebuild")
    identity = aws.client("sts", session).get_caller_identity()
    assert identity["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/builds/codebuild"


def test_a_role_trusting_another_service_is_refused_in_awss_words(sandbox: Sandbox) -> None:
    arn = service_role(aws.make_session(), "pipelines", CODEPIPELINE)
    with pytest.raises(SeedsError) as refused:
        roles.act_as(CODEBUILD, arn, "codebuild")
    assert str(refused.value).startswith(
        f"codebuild.amazonaws.com is not authorized to perform: sts:AssumeRole on resource: {arn}"
    )


def test_executions_are_recorded_in_the_service_only_in_the_sandbox(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    monkeypatch.setattr(aws, "targets_loopback", lambda session=None: False)
    monkeypatch.setattr(aws, "client", lambda *a, **k: calls.append(a[0]))  # must not be called
    execution_id = codepipeline._start(aws.make_session(), "pipeline", {})
    assert len(execution_id) == 36 and calls == []


def test_enabling_projects_makes_sagemakers_roles_as_documented(sandbox: Sandbox) -> None:
    spoke = "111111111111"
    world = worlds.World(aws.make_session(), ACCOUNT, "us-east-1", {spoke: member_admin(spoke)})
    worlds.enable_projects(world, spoke)
    iam = aws.client("iam", world.spokes[spoke])
    made = worlds.sagemaker_project_roles()
    assert len(made["roles"]) == 10
    for name, expected in made["roles"].items():
        role = iam.get_role(RoleName=name)["Role"]
        assert role["Path"] == "/service-role/"
        [statement] = role["AssumeRolePolicyDocument"]["Statement"]
        assert statement["Principal"] == {"Service": expected["service"]}
        attached = iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
        assert [p["PolicyArn"] for p in attached] == [expected["policy"]]
        # AWS's own document, not an empty stand-in
        policy = iam.get_policy(PolicyArn=expected["policy"])["Policy"]
        version = iam.get_policy_version(
            PolicyArn=expected["policy"], VersionId=policy["DefaultVersionId"]
        )
        assert version["PolicyVersion"]["Document"]["Statement"]


def test_the_templates_use_only_roles_sagemaker_creates() -> None:
    made = set(worlds.sagemaker_project_roles()["roles"])
    for template in product_templates.names():
        text = product_templates.text(template)
        used = set(re.findall(r"role/service-role/(AmazonSageMaker\w+)", text))
        assert used and used <= made, (template, used - made)


def test_only_the_aws_managed_roles_path_leaves_the_artifact_bucket_unversioned(
    tmp_path: Path,
) -> None:
    for template in product_templates.written(tmp_path):
        body, problems = decode(str(template))
        assert body is not None and not problems
        bucket = body["Resources"]["ArtifactBucket"]["Properties"]
        assert bucket["VersioningConfiguration"] == {
            "Fn::If": ["UseManagedRoles", {"Ref": "AWS::NoValue"}, {"Status": "Enabled"}]
        }, template
