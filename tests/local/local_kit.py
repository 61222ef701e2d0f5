"""Helpers of the local runner's tests: constants, fake AWS settings and a definition
builder (imported by conftest.py and the tests). The model-build seed's own pipeline is run
by its rendered repos' tests (tests/test_bake.py)."""

import json
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest

from mlops_seeds import aws
from mlops_seeds.local import container_paths

REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/PipelineRole"
SKLEARN_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.9-0-cpu-py3"
XGBOOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:3.2-0"
CUSTOM_IMAGE = "111122223333.dkr.ecr.us-east-1.amazonaws.com/team/custom-image:1"
CODE_DIR = "/opt/ml/processing/input/code"
FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


# Tests that need the container's real paths (a private mount namespace).
real_paths = pytest.mark.skipif(
    container_paths.unavailable() is not None,
    reason=f"container paths cannot be made real here: {container_paths.unavailable()}",
)


def read(session: boto3.Session, uri: str) -> bytes:
    """The object at an s3:// URI."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bytes(session.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())


def sdk_definition(python: str, script: Path, args: list[str], env: dict[str, str]) -> Any:
    """The definition a pipeline script prints with `python` (an SDK's environment): the last
    line of its stdout (SDK v2 prints its config notices there first)."""
    done = subprocess.run(
        [python, str(script), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_through_api(
    session: boto3.Session,
    definition: dict[str, Any],
    name: str,
    role: str,
    parameters: dict[str, str] | None = None,
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Create pipeline `name` in the sandbox and run it to its end through the SageMaker
    API: (DescribePipelineExecution, {step name: ListPipelineExecutionSteps entry})."""
    sagemaker = aws.client("sagemaker", session)
    sagemaker.create_pipeline(
        PipelineName=name, PipelineDefinition=json.dumps(definition), RoleArn=role
    )
    arn = sagemaker.start_pipeline_execution(
        PipelineName=name,
        PipelineParameters=[{"Name": k, "Value": v} for k, v in (parameters or {}).items()],
    )["PipelineExecutionArn"]
    for _ in range(1200):
        described = sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)
        if described["PipelineExecutionStatus"] not in ("Executing", "Stopping"):
            break
        time.sleep(0.1)
    listed = sagemaker.list_pipeline_execution_steps(PipelineExecutionArn=arn)
    steps = {s["StepName"]: s for s in listed["PipelineExecutionSteps"]}
    return dict(described), steps


def set_fake_aws(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    """Fake credentials and region, no config files, no endpoint override."""
    for name, value in FAKE_AWS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "aws-credentials"))
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)


@dataclass
class Kit:
    """Builds small definitions whose processing steps run scripts from a local folder and
    exchange files through local paths (no AWS needed)."""

    root: Path
    steps: list[dict[str, Any]] = field(default_factory=list)

    def script(self, name: str, body: str) -> Path:
        """Write a step script; its folder is the step's code input."""
        folder = self.root / "code" / Path(name).stem
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        path.write_text(body)
        return path

    def folder(self, name: str) -> Path:
        """A local folder standing for an S3 prefix."""
        path = self.root / "data" / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def processing(
        self,
        name: str,
        script: Path,
        inputs: dict[str, tuple[Any, str]] | None = None,
        outputs: dict[str, tuple[Any, str]] | None = None,
        arguments: list[Any] | None = None,
        image: Any = SKLEARN_IMAGE,
        **extra: Any,
    ) -> dict[str, Any]:
        """A Processing step: `inputs`/`outputs` map a name to (source or target, local path)."""
        processing_inputs = [
            {
                "InputName": input_name,
                "S3Input": {
                    "S3Uri": source,
                    "LocalPath": local,
                    "S3DataType": "S3Prefix",
                    "S3InputMode": "File",
                },
            }
            for input_name, (source, local) in (inputs or {}).items()
        ]
        processing_inputs.append(
            {
                "InputName": "code",
                "S3Input": {"S3Uri": str(script.parent), "LocalPath": CODE_DIR},
            }
        )
        app: dict[str, Any] = {
            "ImageUri": image,
            "ContainerEntrypoint": ["python3", f"{CODE_DIR}/{script.name}"],
        }
        if arguments:
            app["ContainerArguments"] = arguments
        step = {
            "Name": name,
            "Type": "Processing",
            "Arguments": {
                "ProcessingResources": {
                    "ClusterConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1}
                },
                "AppSpecification": app,
                "RoleArn": ROLE,
                "ProcessingInputs": processing_inputs,
                "ProcessingOutputConfig": {
                    "Outputs": [
                        {
                            "OutputName": output_name,
                            "S3Output": {
                                "S3Uri": target,
                                "LocalPath": local,
                                "S3UploadMode": "EndOfJob",
                            },
                        }
                        for output_name, (target, local) in (outputs or {}).items()
                    ]
                },
            },
            **extra,
        }
        return step

    def definition(
        self, steps: list[dict[str, Any]], parameters: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        """A definition as the SDK writes it."""
        return {
            "Version": "2020-12-01",
            "Metadata": {},
            "Parameters": parameters or [],
            "Steps": steps,
        }
