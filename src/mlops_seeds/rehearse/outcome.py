"""Whether the project ended as its scenario says it must, read back from the accounts."""

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from mlops_seeds import aws
from mlops_seeds.provenance import content_version, read_record
from mlops_seeds.rehearse import upgrade
from mlops_seeds.rehearse.drift import Check
from mlops_seeds.rehearse.project import Project
from mlops_seeds.rehearse.runs import PipelineRuns
from mlops_seeds.rehearse.scenarios import SCIENTIST_LINE, Scenario
from mlops_seeds.seeds import load_seeds

PREDICTION_ROWS = 3


@dataclass
class Outcome:
    """The end state and whether it is the scenario's."""

    passed: bool
    summary: str
    predictions: list[str] = field(default_factory=list)
    facts: dict[str, str] = field(default_factory=dict)


def _stack_status(cloudformation: Any, name: str) -> str:
    try:
        stacks = cloudformation.describe_stacks(StackName=name)["Stacks"]
    except ClientError:
        return "absent"
    return str(stacks[0]["StackStatus"]) if stacks else "absent"


def _endpoint_status(sagemaker: Any, name: str) -> str:
    try:
        return str(sagemaker.describe_endpoint(EndpointName=name)["EndpointStatus"])
    except ClientError:
        return "absent"


def _captured(stage: Any, endpoint: str) -> str:
    """How many data-capture files the endpoint has written, and where ('off' when it does
    not capture); read with `stage`, a session of the endpoint's account."""
    try:
        described = aws.client("sagemaker", stage).describe_endpoint(EndpointName=endpoint)
    except ClientError:
        return "absent"
    config = described.get("DataCaptureConfig") or {}
    destination = str(config.get("DestinationS3Uri") or "")
    if not config.get("EnableCapture") or not destination.startswith("s3://"):
        return "off"
    bucket, _, prefix = destination[len("s3://") :].partition("/")
    prefix = "/".join(p for p in (prefix.strip("/"), endpoint) if p) + "/"
    try:
        pages = aws.client("s3", stage).get_paginator("list_objects_v2")
        count = sum(
            len(page.get("Contents") or []) for page in pages.paginate(Bucket=bucket, Prefix=prefix)
        )
    except ClientError as err:
        return f"unreadable ({err})"
    return f"{count} file{'' if count == 1 else 's'} under s3://{bucket}/{prefix}"


def _last_execution(sagemaker: Any, pipeline: str) -> tuple[str, str, bool]:
    """(status, failure, whether a Fail step stopped it) of the pipeline's newest execution."""
    try:
        executions = sagemaker.list_pipeline_executions(
            PipelineName=pipeline, SortBy="CreationTime", SortOrder="Descending"
        )["PipelineExecutionSummaries"]
    except ClientError:
        return "absent", "", False
    if not executions:
        return "absent", "", False
    arn = executions[0]["PipelineExecutionArn"]
    pages = sagemaker.get_paginator("list_pipeline_execution_steps").paginate(
        PipelineExecutionArn=arn
    )
    steps = [step for page in pages for step in page["PipelineExecutionSteps"]]
    failed = [s for s in steps if s.get("StepStatus") == "Failed"]
    if not failed:
        return str(executions[0]["PipelineExecutionStatus"]), "", False
    step = failed[0]
    reason = f"{step['StepName']}: {step.get('FailureReason', '')}"
    return str(executions[0]["PipelineExecutionStatus"]), reason, "Fail" in step.get("Metadata", {})


def predict(runtime: Any, endpoint: str, payload: Path) -> list[str]:
    """The endpoint's answer to the first rows of the deploy repo's sample payload."""
    rows = [line for line in payload.read_text().splitlines() if line][:PREDICTION_ROWS]
    answer = runtime.invoke_endpoint(
        EndpointName=endpoint, ContentType="text/csv", Accept="text/csv", Body="\n".join(rows)
    )
    text = answer["Body"].read().decode()
    return [p for p in text.replace(",", "\n").split() if p]


def deployed_package(sagemaker: Any, endpoint: str) -> str:
    """The model package the endpoint's (first variant's) model was made from."""
    described = sagemaker.describe_endpoint(EndpointName=endpoint)
    config = sagemaker.describe_endpoint_config(EndpointConfigName=described["EndpointConfigName"])
    model = sagemaker.describe_model(ModelName=config["ProductionVariants"][0]["ModelName"])
    return str(model["PrimaryContainer"].get("ModelPackageName", ""))


def _rolled_back(
    outcome: Outcome, runs: PipelineRuns, project: Project, problem_type: str, statuses: list[str]
) -> None:
    """Two approved packages; the second's prod deployment rolled back by an alarm; prod
    serving the first, and answering."""
    session = runs.stage_session("prod")
    sagemaker = aws.client("sagemaker", session)
    facts, endpoint = outcome.facts, f"{project.name}-prod"
    packages = [
        str(p["ModelPackageArn"]) for p in runs.packages(project.outputs["ModelPackageGroupName"])
    ]
    failed = runs.history[-1].record.failed_action if runs.history else None
    reason = failed.summary if failed is not None else ""
    serving = ""
    try:
        serving = deployed_package(sagemaker, endpoint)
        facts["prod serves"] = serving.rsplit("/", 2)[-2] + "/" + serving.rsplit("/", 1)[-1]
        described = sagemaker.describe_endpoint(EndpointName=endpoint)
        facts["prod endpoint"] += f"; last update: {described.get('FailureReason', 'succeeded')}"
    except ClientError as err:
        facts["prod serves"] = f"unknown ({err})"
    rolled_back = (
        statuses[:2] == ["Approved", "Approved"]
        and failed is not None
        and failed.name == "DeployProdEndpoint"
        and "went into ALARM" in reason
        and facts["prod stack"] == "UPDATE_ROLLBACK_COMPLETE"
        and len(packages) >= 2
        and serving == packages[1]  # the first package (newest first)
    )
    if rolled_back:
        payload = runs.repos["model-deploy"] / "test" / f"sample-payload-{problem_type}.csv"
        runtime = aws.client("sagemaker-runtime", session)
        try:
            outcome.predictions = predict(runtime, endpoint, payload)
        except ClientError as err:
            facts["prod endpoint"] += f" but did not answer: {err}"
    outcome.passed = rolled_back and bool(outcome.predictions)
    alarm = reason.split("CloudWatch alarm ", 1)[-1].split(" ", 1)[0] if reason else ""
    outcome.summary = (
        f"the second model's canary tripped alarm {alarm}; prod rolled back and answered "
        f"{len(outcome.predictions)} predictions with the first model"
        if outcome.passed
        else f"expected the second model's prod deployment rolled back by an alarm and prod "
        f"serving the first model; got {statuses}, {failed.name if failed else 'no failure'}: "
        f"{reason or 'no reason'}, serving {serving or 'nothing'}"
    )


def check_outcome(
    runs: PipelineRuns,
    project: Project,
    scenario: Scenario,
    problem_type: str,
    checks: dict[str, Check] | None = None,
    upgraded: tuple[Any, Path] | None = None,
) -> Outcome:
    """Read stacks, endpoints, packages and runs; compare with what `scenario` expects.
    The prod endpoint is asked with the deploy repo's sample payload for `problem_type`."""
    session = runs.session
    sagemaker = aws.client("sagemaker", session)
    staging, prod = runs.stage_session("staging"), runs.stage_session("prod")
    outputs = project.outputs
    group = outputs["ModelPackageGroupName"]
    packages = runs.packages(group)
    statuses = [str(p.get("ModelApprovalStatus")) for p in packages]
    execution, failure, gated = _last_execution(sagemaker, outputs["SageMakerPipelineName"])
    facts = {
        "sagemaker pipeline": execution + (f" ({failure})" if failure else ""),
        "model packages": ", ".join(statuses) or "none",
        "staging stack": _stack_status(
            aws.client("cloudformation", staging), outputs["StagingStackName"]
        ),
        "prod stack": _stack_status(aws.client("cloudformation", prod), outputs["ProdStackName"]),
        "staging endpoint": _endpoint_status(
            aws.client("sagemaker", staging), f"{project.name}-staging"
        ),
        "prod endpoint": _endpoint_status(aws.client("sagemaker", prod), f"{project.name}-prod"),
    }
    deployed = {
        k: facts[k] for k in ("staging stack", "prod stack", "staging endpoint", "prod endpoint")
    }
    outcome = Outcome(False, "", facts=facts)
    expect = scenario.expect
    if expect == "deployed":
        ok = facts["prod endpoint"] == "InService" and "Approved" in statuses
        if ok:
            payload = runs.repos["model-deploy"] / "test" / f"sample-payload-{problem_type}.csv"
            runtime = aws.client("sagemaker-runtime", prod)
            try:
                outcome.predictions = predict(runtime, f"{project.name}-prod", payload)
            except ClientError as err:
                facts["prod endpoint"] += f" but did not answer: {err}"
            ok = bool(outcome.predictions)
            for stage, session_of_stage in (("staging", staging), ("prod", prod)):
                facts[f"{stage} data capture"] = _captured(
                    session_of_stage, f"{project.name}-{stage}"
                )
        outcome.passed = ok
        outcome.summary = (
            f"prod endpoint {project.name}-prod answered {len(outcome.predictions)} predictions"
            if ok
            else f"production is not serving: {deployed}"
        )
    elif expect == "not-registered":
        outcome.passed = (
            execution == "Failed"
            and gated
            and not packages
            and set(deployed.values()) == {"absent"}
        )
        outcome.summary = (
            f"the SageMaker pipeline stopped before registration: {failure}"
            if outcome.passed
            else f"expected a Fail step to stop the pipeline, no package and nothing deployed; "
            f"got {execution} ({failure or 'no failed step'}), {statuses}, {deployed}"
        )
    elif expect == "prod-untouched":
        outcome.passed = (
            facts["staging endpoint"] == "InService"
            and facts["prod stack"] == "absent"
            and facts["prod endpoint"] == "absent"
            and runs.failed_action() == "TestStagingEndpoint"
        )
        outcome.summary = (
            "the staging test failed; production was left untouched"
            if outcome.passed
            else f"expected a failed staging test and no prod: {deployed}"
        )
    elif expect == "rolled-back":
        _rolled_back(outcome, runs, project, problem_type, statuses)
    elif expect == "retrained":
        _retrained(outcome, runs, checks or {}, statuses, facts["prod endpoint"])
    elif expect == "upgraded":
        _upgraded(outcome, runs, project, upgraded, statuses)
    else:  # nothing-deployed
        outcome.passed = statuses == ["Rejected"] and set(deployed.values()) == {"absent"}
        outcome.summary = (
            "the package was rejected; nothing was deployed"
            if outcome.passed
            else f"expected no deployment of a rejected package: {statuses}, {deployed}"
        )
    _notified(outcome, runs, outputs.get("NotificationTopicArn", ""), scenario.notifies)
    return outcome


def _upgraded(
    outcome: Outcome,
    runs: PipelineRuns,
    project: Project,
    upgraded: tuple[Any, Path] | None,
    statuses: list[str],
) -> None:
    """The project at the new artifact with the template's change in its stack; the
    model-build repository at the seed's version with both the seed's and the scientist's
    change; every build succeeded, the last registering a package."""
    if upgraded is None:
        outcome.summary = "the project was not upgraded"
        return
    planned, seeds = upgraded
    described = aws.client("sagemaker", runs.session).describe_project(ProjectName=project.name)
    artifact = described["ServiceCatalogProvisioningDetails"].get("ProvisioningArtifactId")
    rule = aws.client("events", runs.session).describe_rule(
        Name=f"sagemaker-{project.id}-notify-package-pending"
    )
    clone = runs.repos["model-build"]
    pipeline = (clone / "pipelines" / "pipeline.py").read_text()
    version = content_version(seeds, load_seeds(seeds)["model-build"])
    facts = outcome.facts
    facts["project"] = f"{described['ProjectStatus']} at {planned.target_name}"
    facts["model-build seed"] = read_record(clone).version + f" (the seed's: {version})"
    merged = SCIENTIST_LINE in pipeline and upgrade.PLATFORM_NOTE in pipeline
    facts["pipeline.py"] = "both changes" if merged else "not both changes"
    builds = [run.record for run in runs.history]
    problems = []
    if described["ProjectStatus"] != "UpdateCompleted" or artifact != planned.target_id:
        problems.append(f"project {facts['project']} ({artifact})")
    if upgrade.PENDING_RULE_V2 not in str(rule.get("Description", "")):
        problems.append("the stack does not have version 2's rule description")
    if read_record(clone).version != version or not merged:
        problems.append(f"model-build {facts['model-build seed']}, {facts['pipeline.py']}")
    if len(builds) < 2 or not all(record.succeeded for record in builds):
        problems.append(f"builds: {[r.status for r in builds]}")
    if statuses[:1] != ["PendingManualApproval"] or len(statuses) < 2:
        problems.append(f"packages {statuses} (expected the merge's build to register one)")
    outcome.passed = not problems
    outcome.summary = (
        f"the project was upgraded to {planned.target_name}; its repository merged the seed's "
        "update with the scientist's change and the build registered a package"
        if outcome.passed
        else "; ".join(problems)
    )


def _notified(outcome: Outcome, runs: PipelineRuns, topic: str, expected: tuple[str, ...]) -> None:
    """What the project's topic was told, as a fact; the outcome fails when the topic was
    not told of every `expected` event (a project without a topic: nothing to check)."""
    if not topic:
        return
    name = topic.rsplit(":", 1)[-1]
    told = Counter(n.detail_type for n in runs.notifications if n.topic == name)
    outcome.facts["notifications"] = (
        ", ".join(f"{kind} x{count}" for kind, count in told.items()) or "none"
    )
    missing = [kind for kind in expected if kind not in told]
    if missing and outcome.passed:
        outcome.passed = False
        outcome.summary = (
            f"topic {name} was not told of: {', '.join(missing)} "
            f"(told of: {outcome.facts['notifications']})"
        )


def _retrained(
    outcome: Outcome,
    runs: PipelineRuns,
    checks: dict[str, Check],
    statuses: list[str],
    prod_endpoint: str,
) -> None:
    """Prod InService; the calm check found nothing and started nothing;
    the drifted one found drift, fired the alarm, whose event started the model-build
    pipeline, which registered a new package waiting for review."""
    calm, drifted = checks.get("calm"), checks.get("drifted")
    retrains = [run for run in runs.history if run.trigger.startswith("alarm ")]
    for name, found in checks.items():
        outcome.facts[f"{name} check"] = found.line()
    outcome.facts["retraining runs"] = (
        "; ".join(run.line() for run in retrains) if retrains else "none"
    )
    problems = []
    if prod_endpoint != "InService":
        problems.append(f"prod endpoint {prod_endpoint}")
    if calm is None or calm.violations or calm.started or calm.alarm == "ALARM":
        problems.append("the calm check " + (calm.line() if calm else "did not run"))
    drifting = drifted is not None and any(
        v["constraint_check_type"] == "baseline_drift_check" for v in drifted.violations
    )
    if drifted is None or not drifting or drifted.alarm != "ALARM" or not drifted.started:
        problems.append("the drifted check " + (drifted.line() if drifted else "did not run"))
    if not retrains or not all(run.record.succeeded for run in retrains):
        problems.append("no successful retraining run")
    if statuses[:2] != ["PendingManualApproval", "Approved"]:
        problems.append(f"packages {statuses} (expected a new one pending review)")
    outcome.passed = not problems
    outcome.summary = (
        "drift was found, the alarm fired and retraining registered a package for review; "
        "traffic like the training data started nothing"
        if outcome.passed
        else "; ".join(problems)
    )
