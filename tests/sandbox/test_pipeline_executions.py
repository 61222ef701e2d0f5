"""SageMaker pipeline executions in the sandbox, run by the local runner: small definitions
for the listing, failure, stop and reset paths. (The model-build seed's own pipeline runs
in the sandbox in the rehearsal's tests, which check what SageMaker reports of it: each
step's metadata, the Fail step's message, the registered package.)"""

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from mlops_seeds import aws
from mlops_seeds.sandbox import Sandbox
from mlops_seeds.sandbox.sagemaker import runs

ACCOUNT = "123456789012"
ROLE_NAME = "pipeline-role"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/{ROLE_NAME}"
SKLEARN_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
TERMINAL = ("Succeeded", "Failed", "Stopped")
TOKEN = "request-token-of-thirty-two-chars"
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "sagemaker.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


@pytest.fixture
def pipeline_role(hub: boto3.Session) -> str:
    """The pipelines' execution role (SageMaker runs the steps as it): S3 and SageMaker, and
    passing itself to the jobs its steps start."""
    iam = aws.client("iam", hub)
    iam.create_role(RoleName=ROLE_NAME, AssumeRolePolicyDocument=TRUST)
    steps = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["s3:*", "sagemaker:*"], "Resource": "*"},
            {"Effect": "Allow", "Action": "iam:PassRole", "Resource": ROLE_ARN},
        ],
    }
    iam.put_role_policy(RoleName=ROLE_NAME, PolicyName="steps", PolicyDocument=json.dumps(steps))
    return ROLE_ARN


@pytest.fixture
def sm(hub: boto3.Session) -> Any:
    return aws.client("sagemaker", hub)


def steps_of(sm: Any, arn: str, **extra: Any) -> list[dict[str, Any]]:
    pages = sm.get_paginator("list_pipeline_execution_steps").paginate(
        PipelineExecutionArn=arn, **extra
    )
    return [step for page in pages for step in page["PipelineExecutionSteps"]]


# Small definitions: a condition on a parameter, and processing steps run from local code.


def condition_definition(steps: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Gate on parameter Score >= 1: else a Fail step with a message naming the score."""
    return {
        "Version": "2020-12-01",
        "Parameters": [{"Name": "Score", "Type": "Float", "DefaultValue": 2.0}],
        "Steps": steps
        or [
            {
                "Name": "Gate",
                "Type": "Condition",
                "DisplayName": "Score gate",
                "Description": "the score must reach 1",
                "Arguments": {
                    "Conditions": [
                        {
                            "Type": "GreaterThanOrEqualTo",
                            "LeftValue": {"Get": "Parameters.Score"},
                            "RightValue": 1.0,
                        }
                    ],
                    "IfSteps": [],
                    "ElseSteps": [
                        {
                            "Name": "TooLow",
                            "Type": "Fail",
                            "Arguments": {
                                "ErrorMessage": {
                                    "Std:Join": {
                                        "On": " ",
                                        "Values": ["score", {"Get": "Parameters.Score"}],
                                    }
                                }
                            },
                        }
                    ],
                },
            }
        ],
    }


def processing(name: str, code: Path, image: str = SKLEARN_IMAGE, **extra: Any) -> dict[str, Any]:
    """A Processing step running code/<name>.py from a local folder."""
    return {
        "Name": name,
        "Type": "Processing",
        "Arguments": {
            "ProcessingResources": {
                "ClusterConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1}
            },
            "AppSpecification": {
                "ImageUri": image,
                "ContainerEntrypoint": ["python3", f"/opt/ml/processing/input/code/{name}.py"],
            },
            "RoleArn": ROLE_ARN,
            "ProcessingInputs": [
                {
                    "InputName": "code",
                    "S3Input": {"S3Uri": str(code), "LocalPath": "/opt/ml/processing/input/code"},
                }
            ],
        },
        **extra,
    }


@pytest.fixture
def make_pipeline(sm: Any) -> Callable[..., str]:
    def make(definition: dict[str, Any], name: str = "gate", role: str = ROLE_ARN) -> str:
        sm.create_pipeline(
            PipelineName=name, PipelineDefinition=json.dumps(definition), RoleArn=role
        )
        return name

    return make


def wait_for(sm: Any, arn: str) -> dict[str, Any]:
    """Poll until the execution ends (the runner's steps here take well under a minute)."""
    for _ in range(600):
        described: dict[str, Any] = sm.describe_pipeline_execution(PipelineExecutionArn=arn)
        if described["PipelineExecutionStatus"] in TERMINAL:
            return described
        time.sleep(0.1)
    raise AssertionError(f"{arn} did not end")


def start(sm: Any, pipeline: str, **extra: Any) -> str:
    return str(sm.start_pipeline_execution(PipelineName=pipeline, **extra)["PipelineExecutionArn"])


def test_steps_carry_display_names_and_condition_metadata_and_page_newest_first(
    sm: Any, pipeline_role: str, make_pipeline: Callable[..., str]
) -> None:
    pipeline = make_pipeline(condition_definition())
    arn = start(sm, pipeline, PipelineParameters=[{"Name": "Score", "Value": "0.5"}])

    described = wait_for(sm, arn)

    assert described["PipelineExecutionStatus"] == "Failed"
    assert described["FailureReason"] == "step TooLow: score 0.5"
    first = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn, MaxResults=1)
    (too_low,) = first["PipelineExecutionSteps"]
    assert too_low["StepName"] == "TooLow"
    assert too_low["Metadata"] == {"Fail": {"ErrorMessage": "score 0.5"}}
    second = sm.list_pipeline_execution_steps(
        PipelineExecutionArn=arn, MaxResults=1, NextToken=first["NextToken"]
    )
    (gate,) = second["PipelineExecutionSteps"]
    assert "NextToken" not in second
    assert gate["StepName"] == "Gate"
    assert gate["StepDisplayName"] == "Score gate"
    assert gate["StepDescription"] == "the score must reach 1"
    assert gate["StepStatus"] == "Succeeded"
    assert gate["Metadata"] == {"Condition": {"Outcome": "False"}}
    assert gate["StartTime"] <= gate["EndTime"] <= too_low["StartTime"]


def test_executions_list_newest_first_and_a_repeated_request_token_starts_nothing(
    sm: Any, pipeline_role: str, make_pipeline: Callable[..., str]
) -> None:
    pipeline = make_pipeline(condition_definition())
    first = start(sm, pipeline, ClientRequestToken=TOKEN, PipelineExecutionDisplayName="one")
    wait_for(sm, first)
    again = start(sm, pipeline, ClientRequestToken=TOKEN)
    second = start(sm, pipeline, PipelineParameters=[{"Name": "Score", "Value": "0"}])
    wait_for(sm, second)

    assert again == first
    listed = sm.list_pipeline_executions(PipelineName=pipeline)["PipelineExecutionSummaries"]
    assert [e["PipelineExecutionArn"] for e in listed] == [second, first]
    assert [e["PipelineExecutionStatus"] for e in listed] == ["Failed", "Succeeded"]
    assert listed[0]["PipelineExecutionFailureReason"] == "step TooLow: score 0.0"
    assert listed[1]["PipelineExecutionDisplayName"] == "one"
    oldest = sm.list_pipeline_executions(PipelineName=pipeline, SortOrder="Ascending", MaxResults=1)
    assert [e["PipelineExecutionArn"] for e in oldest["PipelineExecutionSummaries"]] == [first]
    assert "NextToken" in oldest
    later = sm.list_pipeline_executions(PipelineName=pipeline, CreatedAfter=listed[1]["StartTime"])
    assert [e["PipelineExecutionArn"] for e in later["PipelineExecutionSummaries"]] == [second]
    earlier = sm.list_pipeline_executions(
        PipelineName=pipeline, CreatedBefore=listed[0]["StartTime"]
    )
    assert [e["PipelineExecutionArn"] for e in earlier["PipelineExecutionSummaries"]] == [first]
    parameters = sm.list_pipeline_parameters_for_execution(PipelineExecutionArn=second)
    assert parameters["PipelineParameters"] == [{"Name": "Score", "Value": "0"}]


def test_a_definition_stored_in_s3_runs(sm: Any, hub: boto3.Session, pipeline_role: str) -> None:
    s3 = aws.client("s3", hub)
    s3.create_bucket(Bucket="definitions")
    s3.put_object(Bucket="definitions", Key="gate.json", Body=json.dumps(condition_definition()))
    sm.create_pipeline(
        PipelineName="from-s3",
        PipelineDefinitionS3Location={"Bucket": "definitions", "ObjectKey": "gate.json"},
        RoleArn=ROLE_ARN,
    )

    described = wait_for(sm, start(sm, "from-s3"))

    assert described["PipelineExecutionStatus"] == "Succeeded"


def test_an_image_the_runner_cannot_run_fails_the_execution_with_the_runners_message(
    sm: Any, pipeline_role: str, make_pipeline: Callable[..., str], tmp_path: Path
) -> None:
    image = "111122223333.dkr.ecr.us-east-1.amazonaws.com/team/custom:1"
    pipeline = make_pipeline(condition_definition([processing("Prepare", tmp_path, image)]))

    described = wait_for(sm, start(sm, pipeline))

    assert described["PipelineExecutionStatus"] == "Failed"
    assert described["FailureReason"].startswith("cannot run locally: step Prepare: image ")
    assert image in described["FailureReason"]
    assert steps_of(sm, described["PipelineExecutionArn"]) == []


def test_unknown_pipelines_and_executions_are_resource_not_found(sm: Any) -> None:
    with pytest.raises(ClientError) as missing_pipeline:
        sm.start_pipeline_execution(PipelineName="nope")
    arn = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/nope/execution/abcdefabcdef"
    with pytest.raises(ClientError) as missing_execution:
        sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)

    assert missing_pipeline.value.response["Error"]["Code"] == "ResourceNotFound"
    assert missing_execution.value.response["Error"]["Code"] == "ResourceNotFound"


@pytest.fixture
def blocking(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """(code folder, release file): step Hold waits until the release file exists."""
    code = tmp_path / "code"
    code.mkdir()
    release = tmp_path / "release"
    started = tmp_path / "started"
    (code / "Hold.py").write_text(
        "import pathlib, time\n"
        f"pathlib.Path({str(started)!r}).touch()\n"
        f"while not pathlib.Path({str(release)!r}).exists():\n"
        "    time.sleep(0.02)\n"
    )
    (code / "After.py").write_text("print('after')\n")
    yield code, release
    release.touch()  # never leave a step waiting


def wait_until_exists(path: Path) -> None:
    for _ in range(600):
        if path.exists():
            return
        time.sleep(0.05)
    raise AssertionError(f"{path} never appeared")


def test_stopping_lets_the_running_step_end_and_starts_no_other(
    sm: Any,
    pipeline_role: str,
    make_pipeline: Callable[..., str],
    blocking: tuple[Path, Path],
) -> None:
    code, release = blocking
    steps = [processing("Hold", code), processing("After", code, DependsOn=["Hold"])]
    arn = start(sm, make_pipeline(condition_definition(steps)))
    wait_until_exists(release.parent / "started")

    sm.stop_pipeline_execution(PipelineExecutionArn=arn)
    stopping = sm.describe_pipeline_execution(PipelineExecutionArn=arn)
    (hold,) = steps_of(sm, arn)
    release.touch()
    described = wait_for(sm, arn)

    assert stopping["PipelineExecutionStatus"] == "Stopping"
    assert hold["StepName"] == "Hold" and hold["StepStatus"] == "Stopping"
    assert described["PipelineExecutionStatus"] == "Stopped"
    assert [s["StepName"] for s in steps_of(sm, arn)] == ["Hold"]
    with pytest.raises(ClientError) as again:
        sm.stop_pipeline_execution(PipelineExecutionArn=arn)
    assert again.value.response["Error"]["Code"] == "ConflictException"


def test_reset_abandons_a_running_execution(
    sandbox: Sandbox,
    sm: Any,
    pipeline_role: str,
    make_pipeline: Callable[..., str],
    blocking: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, release = blocking
    steps = [processing("Hold", code), processing("After", code, DependsOn=["Hold"])]
    arn = start(sm, make_pipeline(condition_definition(steps)))
    wait_until_exists(release.parent / "started")
    run = runs.find(arn)
    assert run is not None and run.thread is not None
    monkeypatch.setattr(runs, "RESET_WAIT_SECONDS", 0.0)

    sandbox.reset()
    release.touch()
    run.thread.join(60)

    assert not run.thread.is_alive()
    assert runs.find(arn) is None
    assert run.execution.pipeline_execution_status == "Executing"  # abandoned, not settled
    assert [s.name for s in run.steps() if s.started] == ["Hold"]
    with pytest.raises(ClientError):
        sm.describe_pipeline_execution(PipelineExecutionArn=arn)


WHO_AM_I = """\
import boto3

arn = boto3.client("sts").get_caller_identity()["Arn"]
print(arn)
assert arn.startswith("arn:aws:sts::123456789012:assumed-role/pipeline-role/"), arn
"""


def test_step_scripts_act_with_the_execution_roles_credentials(
    sm: Any, pipeline_role: str, make_pipeline: Callable[..., str], tmp_path: Path
) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "WhoAmI.py").write_text(WHO_AM_I)
    pipeline = make_pipeline(condition_definition([processing("WhoAmI", code)]), name="who")

    described = wait_for(sm, start(sm, pipeline))

    assert described["PipelineExecutionStatus"] == "Succeeded", described.get("FailureReason")


def test_a_long_failure_reason_keeps_the_errors_last_line(
    sm: Any, pipeline_role: str, make_pipeline: Callable[..., str], tmp_path: Path
) -> None:
    (tmp_path / "Noisy.py").write_text(
        "import sys\n"
        "for i in range(60):\n"
        "    print(f'warning {i}: ' + 'x' * 70, file=sys.stderr)\n"
        "sys.exit('ValueError: the last line says what broke')\n"
    )
    pipeline = make_pipeline(condition_definition([processing("Noisy", tmp_path)]))

    described = wait_for(sm, start(sm, pipeline))

    assert described["PipelineExecutionStatus"] == "Failed"
    (step,) = steps_of(sm, described["PipelineExecutionArn"])
    reason = step["FailureReason"]
    assert len(reason) <= 1024
    assert reason.startswith("python3 exited with code 1:\n")
    assert reason.endswith("ValueError: the last line says what broke")
    assert described["FailureReason"].endswith("ValueError: the last line says what broke")


WHO_AM_I_AS_THE_JOB = WHO_AM_I.replace("assumed-role/pipeline-role/", "assumed-role/job-role/")


def test_a_job_runs_as_its_own_role_which_sagemaker_must_be_allowed_to_assume(
    sm: Any,
    hub: boto3.Session,
    pipeline_role: str,
    make_pipeline: Callable[..., str],
    tmp_path: Path,
) -> None:
    iam = aws.client("iam", hub)
    iam.create_role(RoleName="job-role", AssumeRolePolicyDocument=TRUST)
    elsewhere = TRUST.replace("sagemaker.amazonaws.com", "codebuild.amazonaws.com")
    iam.create_role(RoleName="codebuild-role", AssumeRolePolicyDocument=elsewhere)
    passing = {  # the pipeline's role may pass both to SageMaker's jobs
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}],
    }
    iam.put_role_policy(RoleName=ROLE_NAME, PolicyName="pass", PolicyDocument=json.dumps(passing))
    code = tmp_path / "code"
    code.mkdir()
    (code / "WhoAmI.py").write_text(WHO_AM_I_AS_THE_JOB)
    step = processing("WhoAmI", code)
    step["Arguments"]["RoleArn"] = f"arn:aws:iam::{ACCOUNT}:role/job-role"
    as_job = make_pipeline(condition_definition([step]), name="as-job")

    described = wait_for(sm, start(sm, as_job))

    assert described["PipelineExecutionStatus"] == "Succeeded", described.get("FailureReason")
    step["Arguments"]["RoleArn"] = f"arn:aws:iam::{ACCOUNT}:role/codebuild-role"
    untrusting = make_pipeline(condition_definition([step]), name="untrusting")
    described = wait_for(sm, start(sm, untrusting))
    assert described["PipelineExecutionStatus"] == "Failed"
    (failed,) = steps_of(sm, described["PipelineExecutionArn"])
    assert failed["FailureReason"] == (
        "ClientError: An error occurred (ValidationException): Could not assume role "
        f"arn:aws:iam::{ACCOUNT}:role/codebuild-role. Please ensure that the role exists and "
        "allows principal 'sagemaker.amazonaws.com' to assume the role."
    )
