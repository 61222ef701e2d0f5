"""Upload the code (and the shipped dataset), upsert the SageMaker pipeline, start it.

    run-pipeline                 # settings from the environment contract (see README)
    run-pipeline --wait          # then follow the execution; exit 1 unless it succeeds
    run-pipeline --parameter RmseThreshold=40 --parameter TrainingInstanceType=ml.m5.large
    run-pipeline --local         # run the steps on this machine (needs mlops-seeds)

Every AWS call goes through boto3, so AWS_ENDPOINT_URL and the usual credential chain
apply. Without --input-data-uri the shipped dataset is uploaded to the InputDataUrl default.
With --local nothing is upserted: the same definition runs here with mlops-seeds' local
runner, its jobs as local processes reading and writing the same S3 locations.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from pipelines.cli import add_common_options, ensure_region, quiet_sdk, resolve_settings
from pipelines.code import default_code_uri_prefix, upload_bytes, upload_code
from pipelines.settings import DATASET, PLACEHOLDER_ROLE_ARN, Settings

TERMINAL = {"Succeeded", "Failed", "Stopped"}
FIRST_POLL_SECONDS = 1.0
# A pause is at most this share of the time waited so far: an execution is seen ended at
# most a tenth of its run late (or a second), however short it was; an hour's run costs
# about 150 polls.
POLL_SHARE = 0.1


class RunError(Exception):
    """A problem reported as one line and exit status 1."""


@dataclass(frozen=True)
class Target:
    """Where the pipeline's code, data and outputs live."""

    bucket: str
    base_prefix: str
    code_uri_prefix: str
    input_data_uri: str
    upload_dataset: bool


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        prog="run-pipeline",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_common_options(parser)
    parser.add_argument(
        "--parameter",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a pipeline parameter for this execution (repeatable)",
    )
    parser.add_argument("--wait", action="store_true", help="follow the execution to its end")
    parser.add_argument(
        "--local",
        action="store_true",
        help="run the steps on this machine with mlops-seeds (no SageMaker jobs); "
        "exit 1 unless the execution succeeds",
    )
    parser.add_argument(
        "--record", type=Path, help="with --local: write the execution record JSON here"
    )
    parser.add_argument(
        "--poll-seconds",
        type=float,
        default=30.0,
        help="with --wait: the longest pause between status checks (the first are 1 s apart, "
        "then a quarter of the time waited)",
    )
    return parser.parse_args(argv)


def parse_parameters(pairs: list[str]) -> dict[str, str]:
    """`NAME=VALUE` strings -> dict."""
    parameters = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise RunError(f"--parameter {pair!r}: expected NAME=VALUE")
        parameters[name] = value
    return parameters


def default_bucket(session: boto3.Session, settings: Settings) -> str:
    """The project's artifact bucket as the project template names it."""
    account = session.client("sts").get_caller_identity()["Account"]
    return f"sagemaker-{settings.project_id}-{account}-{settings.region}".lower()


def resolve_target(args: argparse.Namespace, settings: Settings, session: boto3.Session) -> Target:
    """Bucket, prefixes and input URI from the options and settings."""
    from pipelines.pipeline import default_input_data_uri

    bucket = settings.artifact_bucket or default_bucket(session, settings)
    base_prefix = args.base_job_prefix or settings.pipeline_name
    return Target(
        bucket=bucket,
        base_prefix=base_prefix,
        code_uri_prefix=args.code_uri_prefix or default_code_uri_prefix(bucket, base_prefix),
        input_data_uri=args.input_data_uri or default_input_data_uri(bucket, base_prefix),
        upload_dataset=args.input_data_uri is None,
    )


def upload(session: boto3.Session, target: Target) -> None:
    """Put the scripts under the code prefix and, if asked, the shipped dataset."""
    s3 = session.client("s3")
    uris = upload_code(s3, target.code_uri_prefix)
    print(f"code: {uris.preprocess}, {uris.evaluate}, {uris.data_quality}, {uris.train_sourcedir}")
    if target.upload_dataset:
        upload_bytes(s3, target.input_data_uri, DATASET.read_bytes())
        print(f"data: {target.input_data_uri}")


def description(settings: Settings) -> str:
    """The pipeline description."""
    owner = settings.project_arn or f"{settings.project_name} ({settings.project_id})"
    return f"Model build pipeline of SageMaker project {owner}"


def build_pipeline(settings: Settings, role_arn: str, target: Target) -> Any:
    """The project's pipeline for this target (no AWS call)."""
    from pipelines.pipeline import get_pipeline, pipeline_session

    sm_session = pipeline_session(settings.region, target.bucket)
    return get_pipeline(
        region=settings.region,
        role=role_arn,
        default_bucket=target.bucket,
        pipeline_name=settings.pipeline_name,
        model_package_group_name=settings.model_package_group_name,
        base_job_prefix=target.base_prefix,
        code_uri_prefix=target.code_uri_prefix,
        input_data_uri=target.input_data_uri,
        kms_key_id=settings.kms_key_id,
        sagemaker_session=sm_session,
    )


def upsert_and_start(
    settings: Settings, role_arn: str, target: Target, parameters: dict[str, str]
) -> str:
    """Create or update the pipeline with the project tags, start it, return the ARN."""
    from pipelines.pipeline import no_role_validation, no_telemetry

    pipeline = build_pipeline(settings, role_arn, target)
    with no_role_validation(), no_telemetry(pipeline.sagemaker_session):
        response = pipeline.upsert(
            role_arn=role_arn, description=description(settings), tags=settings.tags
        )
        print(f"pipeline: {response['PipelineArn']}")
        execution = pipeline.start(parameters=parameters or None)
    return execution.arn


def step_statuses(client: Any, execution_arn: str) -> dict[str, str]:
    """Step name -> status of an execution so far."""
    statuses = {}
    paginator = client.get_paginator("list_pipeline_execution_steps")
    for page in paginator.paginate(PipelineExecutionArn=execution_arn):
        for step in page["PipelineExecutionSteps"]:
            statuses[step["StepName"]] = step["StepStatus"]
    return statuses


def wait(
    client: Any,
    execution_arn: str,
    poll_seconds: float,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """Print each step's status as it changes; return the execution's final status.

    Polls every second, then, once the wait is longer, after a tenth of the time waited so
    far, up to `poll_seconds`: a short run or an early failure is seen at once, a long
    run costs few calls."""
    seen: dict[str, str] = {}
    waited = 0.0
    while True:
        status = client.describe_pipeline_execution(PipelineExecutionArn=execution_arn)[
            "PipelineExecutionStatus"
        ]
        for name, step_status in step_statuses(client, execution_arn).items():
            if seen.get(name) != step_status:
                print(f"  {name}: {step_status}")
                seen[name] = step_status
        if status in TERMINAL:
            return status
        delay = min(max(FIRST_POLL_SECONDS, waited * POLL_SHARE), poll_seconds)
        sleep(delay)
        waited += delay


def failure_reason(client: Any, execution_arn: str) -> str:
    """Why an execution failed, as the service reports it."""
    described = client.describe_pipeline_execution(PipelineExecutionArn=execution_arn)
    return described.get("FailureReason", "no reason given")


def run_local(args: argparse.Namespace, settings: Settings, parameters: dict[str, str]) -> int:
    """Upload as for a real run, then run the definition here with mlops-seeds' runner."""
    try:
        from mlops_seeds.errors import SeedsError
        from mlops_seeds.local import plan, run_definition
    except ImportError:
        print("error: --local needs mlops-seeds (pip install mlops-seeds)", file=sys.stderr)
        return 2
    ensure_region(settings.region)
    quiet_sdk()
    session = boto3.Session(region_name=settings.region)
    target = resolve_target(args, settings, session)
    pipeline = build_pipeline(settings, settings.role_arn or PLACEHOLDER_ROLE_ARN, target)
    definition = pipeline.definition()
    try:
        plan(definition, parameters)  # refuse bad parameters before anything is uploaded
        upload(session, target)
        record = run_definition(
            definition,
            parameters,
            pipeline_name=settings.pipeline_name,
            session=session,
            record_path=args.record,
        )
    except SeedsError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"execution {record.status}")
    if record.status != "Succeeded":
        print(f"error: {record.failure_reason}", file=sys.stderr)
        return 1
    return 0


def run(args: argparse.Namespace) -> int:
    """Upload, upsert, start and, with --wait, follow the execution."""
    settings = resolve_settings(args)
    if args.local:
        return run_local(args, settings, parse_parameters(args.parameter))
    role_arn = settings.role_arn
    if not role_arn:
        raise RunError("no pipeline role: set SAGEMAKER_PIPELINE_ROLE_ARN or pass --role-arn")
    parameters = parse_parameters(args.parameter)
    ensure_region(settings.region)
    quiet_sdk()
    session = boto3.Session(region_name=settings.region)
    target = resolve_target(args, settings, session)
    upload(session, target)
    execution_arn = upsert_and_start(settings, role_arn, target, parameters)
    print(f"execution: {execution_arn}")
    if not args.wait:
        return 0
    client = session.client("sagemaker")
    status = wait(client, execution_arn, args.poll_seconds)
    print(f"execution {status}")
    if status != "Succeeded":
        print(f"error: {failure_reason(client, execution_arn)}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of `run-pipeline`."""
    try:
        return run(parse_args(argv))
    except (RunError, ClientError, BotoCoreError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
