"""Processing steps: inputs into the tree, the container entrypoint on a local interpreter,
outputs back to their URIs, property files read."""

from __future__ import annotations

import json
from typing import Any

from mlops_seeds.containment import PathEscape, contained
from mlops_seeds.local.context import StepContext, StepFailed, StepResult
from mlops_seeds.local.process import run_command
from mlops_seeds.local.storage import sse_kms


def check(arguments: dict[str, Any], image: str | None = None) -> list[str]:
    """What in a processing step's arguments the runner cannot do (empty when all is fine)."""
    problems = []
    app = arguments.get("AppSpecification") or {}
    if not app.get("ContainerEntrypoint"):
        problems.append("AppSpecification.ContainerEntrypoint is required to run locally")
    for item in arguments.get("ProcessingInputs") or []:
        name = item.get("InputName", "?")
        s3_input = item.get("S3Input")
        if not s3_input:
            problems.append(f"input {name}: only S3Input is supported (not DatasetDefinition)")
        elif s3_input.get("S3DataType", "S3Prefix") != "S3Prefix":
            problems.append(f"input {name}: S3DataType {s3_input['S3DataType']} is not supported")
        elif s3_input.get("S3CompressionType", "None") != "None":
            problems.append(f"input {name}: S3CompressionType must be None")
    return problems


def execute(ctx: StepContext) -> StepResult:
    """Run one processing job locally."""
    args = ctx.checked_arguments()
    tree = ctx.tree
    app = args["AppSpecification"]
    interpreter = ctx.interpreter(app["ImageUri"])
    for item in args.get("ProcessingInputs") or []:
        s3_input = item["S3Input"]
        ctx.storage.download(str(s3_input["S3Uri"]), tree.host(s3_input["LocalPath"]))
        tree.rewrite_sources(tree.host(s3_input["LocalPath"]))
    outputs = (args.get("ProcessingOutputConfig") or {}).get("Outputs") or []
    for item in outputs:
        if "S3Output" in item:
            tree.host(item["S3Output"]["LocalPath"]).mkdir(parents=True, exist_ok=True)
    _write_config(ctx, args)
    command = [
        tree.rewrite(str(part))
        for part in [*app["ContainerEntrypoint"], *(app.get("ContainerArguments") or [])]
    ]
    env: dict[str, str | None] = {**ctx.clients.environment()}  # the job role's credentials
    env.update({k: tree.rewrite(str(v)) for k, v in (args.get("Environment") or {}).items()})
    run_command(command, env, tree.root, ctx.logs, tree, interpreter)
    written: dict[str, str] = {}
    key_id = (args.get("ProcessingOutputConfig") or {}).get("KmsKeyId")
    # The API reference names no default for ProcessingOutputConfig.KmsKeyId (unlike training
    # and transform outputs): the bucket's default is taken.
    encryption = sse_kms(key_id) if key_id else None
    for item in outputs:
        if "S3Output" in item:
            s3_output = item["S3Output"]
            uri = str(s3_output["S3Uri"])
            ctx.storage.upload_folder(tree.host(s3_output["LocalPath"]), uri, encryption)
            written[item["OutputName"]] = uri
    properties: dict[str, Any] = {
        **args,
        "ProcessingJobName": ctx.job_name,
        "ProcessingJobStatus": "Completed",
        "ExitMessage": "",
        "PropertyFiles": _property_files(ctx, outputs),
    }
    return StepResult(properties=properties, outputs=written)


def _write_config(ctx: StepContext, args: dict[str, Any]) -> None:
    """/opt/ml/config/{processingjobconfig,resourceconfig}.json, as SageMaker writes them."""
    config = ctx.tree.host("/opt/ml/config")
    config.mkdir(parents=True, exist_ok=True)
    job = {**args, "ProcessingJobName": ctx.job_name}
    (config / "processingjobconfig.json").write_text(json.dumps(job, indent=2, default=str))
    hosts = {"current_host": "algo-1", "hosts": ["algo-1"]}
    (config / "resourceconfig.json").write_text(json.dumps(hosts))


def _property_files(ctx: StepContext, outputs: list[dict[str, Any]]) -> dict[str, Any]:
    """Each property file of the step, parsed, by name."""
    local = {o["OutputName"]: o["S3Output"]["LocalPath"] for o in outputs if "S3Output" in o}
    files: dict[str, Any] = {}
    for spec in ctx.step.property_files:
        if spec.output_name not in local:
            raise StepFailed(f"property file {spec.name}: no output named {spec.output_name}")
        try:
            path = contained(
                ctx.tree.host(local[spec.output_name]),
                spec.path,
                what=f"property file {spec.name} FilePath {spec.path!r}",
            )
            files[spec.name] = json.loads(path.read_text())
        except FileNotFoundError:
            raise StepFailed(
                f"property file {spec.name}: the step wrote no {spec.path} in output "
                f"{spec.output_name}"
            ) from None
        except PathEscape as err:
            raise StepFailed(str(err)) from None
        except (ValueError, IsADirectoryError) as err:
            raise StepFailed(f"property file {spec.name}: {spec.path} is not JSON: {err}") from None
    return files
