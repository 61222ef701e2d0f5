"""Pipeline executions that run: StartPipelineExecution runs the stored definition with the
local runner (see `runs`); Describe/List/ListSteps/Stop report it as SageMaker does.

Differences from AWS: a definition the runner cannot run (an image it has no interpreter
for, a step type it lacks, a bad parameter) is accepted and the execution is Failed with
the runner's message; the jobs the steps stand for are local processes, so their ARNs in
the step metadata name no moto resource.
"""

from datetime import datetime
from typing import Any

from moto.sagemaker.models import FakePipelineExecution
from moto.utilities.utils import get_partition

from mlops_seeds.local.record import EXECUTING, FAILED, SUCCEEDED, StepRecord
from mlops_seeds.local.runner import DEFAULT_WORKERS
from mlops_seeds.sandbox.catalog.context import Caller
from mlops_seeds.sandbox.sagemaker import runs
from mlops_seeds.sandbox.sagemaker.errors import Conflict, ResourceNotFound, Validation
from mlops_seeds.sandbox.sagemaker.model import LOCK, backend, now
from mlops_seeds.sandbox.sagemaker.paging import page, sort_by, sort_order, with_token, within

EXECUTION_SORT_KEYS = ("CreationTime", "PipelineExecutionArn")
JOB_RESOURCES = {
    "Processing": ("ProcessingJob", "processing-job"),
    "Training": ("TrainingJob", "training-job"),
    "Transform": ("TransformJob", "transform-job"),
}
REPORTED = (EXECUTING, SUCCEEDED, FAILED)
# FailureReason lengths (API reference: PipelineExecutionStep, PipelineExecutionSummary).
STEP_REASON_MAX = 1024
EXECUTION_REASON_MAX = 3072
ELISION = "\n...\n"


def within_length(reason: str, limit: int) -> str:
    """A failure reason cut to `limit` characters keeping its first line and its end (the
    error's last line), with the middle elided."""
    if len(reason) <= limit:
        return reason
    head = reason.split("\n", 1)[0][: limit // 2]
    tail = reason[-(limit - len(head) - len(ELISION)) :]
    return head + ELISION + tail


def _pipeline(caller: Caller, name_or_arn: str) -> Any:
    name = name_or_arn.split(":pipeline/")[-1] if ":pipeline/" in name_or_arn else name_or_arn
    pipeline = backend(caller.account, caller.region).pipelines.get(name)
    if pipeline is None:
        raise ResourceNotFound(f"Pipeline '{name_or_arn}' does not exist.")
    return pipeline


def _run(caller: Caller, arn: str) -> runs.Run:
    """The run of an execution of one of the caller's pipelines."""
    if not arn or "/execution/" not in arn:
        raise Validation(f"PipelineExecutionArn {arn!r} is not a pipeline execution ARN")
    pipeline_part = arn.split("/execution/")[0]
    pipeline = _pipeline(caller, pipeline_part)
    run = runs.find(arn)
    if run is None or arn not in pipeline.pipeline_executions:
        raise ResourceNotFound(f"Pipeline execution '{arn}' does not exist.")
    return run


def _parameters(params: dict[str, Any]) -> dict[str, str]:
    values = {}
    for parameter in params.get("PipelineParameters") or []:
        if not parameter.get("Name"):
            raise Validation("PipelineParameters: every parameter needs a Name")
        values[str(parameter["Name"])] = str(parameter.get("Value", ""))
    return values


def start_pipeline_execution(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """StartPipelineExecution: run the pipeline's current definition in the background."""
    pipeline = _pipeline(caller, str(params.get("PipelineName") or ""))
    token = str(params.get("ClientRequestToken") or "")
    earlier = runs.by_token(pipeline.arn, token)
    if earlier is not None:
        return {"PipelineExecutionArn": earlier.arn}
    role_arn = str(params.get("RoleArn") or pipeline.role_arn or "")
    parallelism = params.get("ParallelismConfiguration") or pipeline.parallelism_configuration
    run = runs.Run(
        arn="",
        account=runs.role_account(role_arn, caller.account),
        execution=None,
        definition=pipeline.pipeline_definition,
        token=token,
        max_workers=int((parallelism or {}).get("MaxParallelExecutionSteps") or 0)
        or DEFAULT_WORKERS,
    )
    failure = runs.prepare(
        run.definition, _parameters(params), pipeline.pipeline_name, role_arn, run
    )
    run.arn = f"{pipeline.arn}/execution/{runs.execution_id(run)}"
    started = now()
    execution = FakePipelineExecution(
        pipeline_execution_arn=run.arn,
        pipeline_execution_display_name=str(
            params.get("PipelineExecutionDisplayName")
            or f"execution-{int(started.timestamp() * 1000)}"
        ),
        pipeline_parameters=params.get("PipelineParameters") or [],
        pipeline_execution_description=str(params.get("PipelineExecutionDescription") or ""),
        parallelism_configuration=parallelism,
        pipeline_definition=run.definition,
        client_request_token=token,
    )
    execution.creation_time = execution.start_time = execution.last_modified_time = started
    run.execution = execution
    with LOCK:  # the token is checked again where the run is registered: one run per token
        earlier = runs.by_token(pipeline.arn, token)
        if earlier is not None:
            return {"PipelineExecutionArn": earlier.arn}
        run.settle(FAILED if failure else EXECUTING, failure)
        pipeline.pipeline_executions[run.arn] = execution
        pipeline.last_execution_time = execution.start_time
        runs.start(run)
    return {"PipelineExecutionArn": run.arn}


def describe_pipeline_execution(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """DescribePipelineExecution: the runner's status and failure reason."""
    run = _run(caller, str(params.get("PipelineExecutionArn") or ""))
    execution = run.execution
    described: dict[str, Any] = {
        "PipelineArn": run.arn.split("/execution/")[0],
        "PipelineExecutionArn": run.arn,
        "PipelineExecutionDisplayName": execution.pipeline_execution_display_name,
        "PipelineExecutionStatus": run.status,
        "PipelineExecutionDescription": execution.pipeline_execution_description,
        "PipelineExperimentConfig": {},
        "CreationTime": execution.creation_time,
        "LastModifiedTime": execution.last_modified_time,
        "CreatedBy": execution.created_by,
        "LastModifiedBy": execution.last_modified_by,
    }
    if execution.pipeline_execution_failure_reason:
        described["FailureReason"] = within_length(
            execution.pipeline_execution_failure_reason, EXECUTION_REASON_MAX
        )
    if execution.parallelism_configuration:
        described["ParallelismConfiguration"] = execution.parallelism_configuration
    return described


def list_pipeline_executions(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """ListPipelineExecutions: newest first by default, CreatedAfter/Before, paginated."""
    pipeline = _pipeline(caller, str(params.get("PipelineName") or ""))
    key = sort_by(params, EXECUTION_SORT_KEYS)
    descending = sort_order(params)
    executions = [
        e
        for e in pipeline.pipeline_executions.values()
        if within(e.start_time, params, "CreatedAfter", "CreatedBefore")
    ]
    field = "start_time" if key == "CreationTime" else "arn"
    executions.sort(key=lambda e: getattr(e, field), reverse=descending)
    found, token = page(executions, params)
    summaries = []
    for execution in found:
        summary = {
            "PipelineExecutionArn": execution.arn,
            "StartTime": execution.start_time,
            "PipelineExecutionStatus": execution.pipeline_execution_status,
            "PipelineExecutionDescription": execution.pipeline_execution_description,
            "PipelineExecutionDisplayName": execution.pipeline_execution_display_name,
        }
        if execution.pipeline_execution_failure_reason:
            summary["PipelineExecutionFailureReason"] = within_length(
                execution.pipeline_execution_failure_reason, EXECUTION_REASON_MAX
            )
        summaries.append(summary)
    return with_token({"PipelineExecutionSummaries": summaries}, token)


def _metadata(run: runs.Run, step: StepRecord, region: str) -> dict[str, Any]:
    """PipelineExecutionStepMetadata from what the runner recorded of the step."""
    properties = step.properties or {}
    if step.type in JOB_RESOURCES and step.job_name:
        member, resource = JOB_RESOURCES[step.type]
        arn = f"arn:{get_partition(region)}:sagemaker:{region}:{run.account}:{resource}/"
        return {member: {"Arn": arn + step.job_name.lower()}}
    if step.type == "RegisterModel" and properties.get("ModelPackageArn"):
        return {"RegisterModel": {"Arn": properties["ModelPackageArn"]}}
    if step.type == "Model" and properties.get("ModelArn"):
        return {"Model": {"Arn": properties["ModelArn"]}}
    if step.type == "Condition" and "Outcome" in properties:
        return {"Condition": {"Outcome": str(properties["Outcome"])}}
    if step.type == "Fail" and step.status == FAILED:
        return {"Fail": {"ErrorMessage": step.failure_reason or ""}}
    return {}


def _step_status(run: runs.Run, step: StepRecord) -> str:
    if step.status != EXECUTING:
        return step.status
    if run.status == runs.STOPPED:
        return runs.STOPPED
    return runs.STOPPING if run.stop.is_set() else EXECUTING


def _step(run: runs.Run, step: StepRecord, texts: dict[str, tuple[str, str]], region: str) -> Any:
    display, description = texts.get(step.name, ("", ""))
    shape: dict[str, Any] = {
        "StepName": step.name,
        "StepStatus": _step_status(run, step),
        "AttemptCount": 1,
        "Metadata": _metadata(run, step, region),
    }
    if display:
        shape["StepDisplayName"] = display
    if description:
        shape["StepDescription"] = description
    if step.started:
        shape["StartTime"] = datetime.fromisoformat(step.started)
    if step.ended:
        shape["EndTime"] = datetime.fromisoformat(step.ended)
    if step.status == FAILED and step.failure_reason:
        shape["FailureReason"] = within_length(step.failure_reason, STEP_REASON_MAX)
    return shape


def list_pipeline_execution_steps(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """ListPipelineExecutionSteps: the steps that started, newest first by default."""
    run = _run(caller, str(params.get("PipelineExecutionArn") or ""))
    descending = sort_order(params)
    texts = runs.definition_texts(run.definition)
    with LOCK:
        started = [s for s in run.steps() if s.started and s.status in REPORTED]
        steps = [_step(run, s, texts, caller.region) for s in started]
    steps.sort(key=lambda s: s["StartTime"], reverse=descending)
    found, token = page(steps, params)
    return with_token({"PipelineExecutionSteps": found}, token)


def stop_pipeline_execution(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """StopPipelineExecution: no further step starts; Stopped once the running ones end."""
    run = _run(caller, str(params.get("PipelineExecutionArn") or ""))
    with LOCK:
        if run.status not in (EXECUTING, runs.STOPPING):
            raise Conflict(f"Pipeline execution {run.arn} is {run.status}; it cannot be stopped.")
        runs.request_stop(run)
    return {"PipelineExecutionArn": run.arn}


OPERATIONS = {
    "StartPipelineExecution": start_pipeline_execution,
    "DescribePipelineExecution": describe_pipeline_execution,
    "ListPipelineExecutions": list_pipeline_executions,
    "ListPipelineExecutionSteps": list_pipeline_execution_steps,
    "StopPipelineExecution": stop_pipeline_execution,
}
