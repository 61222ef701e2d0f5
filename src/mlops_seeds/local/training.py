"""Training steps, as SageMaker runs them: channels downloaded and the platform's config
files written, then one of three modes. Script mode runs the framework images' own entry
point, the SageMaker training toolkit's trainer (`sagemaker-training`: on the source archive
the runner fetched and unpacked, it installs requirements or the package, sets the SM_*
environment and runs the entry point by its kind); the built-in XGBoost algorithm
(`builtin.xgboost_algorithm`); or the job's ContainerEntrypoint (SDK v3's ModelTrainer
drivers). The model directory is packed into model.tar.gz and uploaded;
/opt/ml/output/failure is the job's failure reason."""

from __future__ import annotations

import json
import os
import re
import tarfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mlops_seeds.containment import PathEscape, contained
from mlops_seeds.local import container_paths, step_python
from mlops_seeds.local.builtin import xgboost_algorithm
from mlops_seeds.local.context import ContainerTree, StepContext, StepFailed, StepResult
from mlops_seeds.local.images import repository
from mlops_seeds.local.process import read_logs, run_command
from mlops_seeds.local.storage import join_uri, sse_kms

PROGRAM = "sagemaker_program"
SUBMIT_DIRECTORY = "sagemaker_submit_directory"
HOST = "algo-1"
INSTANCE_GROUP = "homogeneousCluster"
NETWORK_INTERFACE = "eth0"
MODEL_DIR = "/opt/ml/model"
OUTPUT_DIR = "/opt/ml/output"
OUTPUT_DATA_DIR = "/opt/ml/output/data"
INPUT_DIR = "/opt/ml/input"
CONFIG_DIR = "/opt/ml/input/config"
CODE_DIR = "/opt/ml/code"
BASE_DIR = "/opt/ml"
INTERMEDIATE_DIR = "/opt/ml/output/intermediate"
# The training toolkit's `train` (the framework images' entry point) and its base folder
# setting (sagemaker_training.environment).
TOOLKIT_TRAIN = "sagemaker_training.cli.train"
BASE_DIR_VARIABLE = "SAGEMAKER_BASE_DIR"
XGBOOST_REPOSITORY = "sagemaker-xgboost"
PIP_QUIET = {"PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"}
# A built-in algorithm's round line: "[12]\ttrain-rmse:1.5\tvalidation-rmse:1.7".
ROUND_LINE = re.compile(r"^\[(\d+)\]((?:\t[\w]+-[^:\s]+:[-+.\deE]+)+)\s*$", re.MULTILINE)


def algorithm_mode(image: str | None) -> bool:
    """Whether `image` trains without a user program: SageMaker's built-in XGBoost."""
    return image is not None and repository(image) == XGBOOST_REPOSITORY


def check(arguments: dict[str, Any], image: str | None = None) -> list[str]:
    """What in a training step's arguments the runner cannot do (empty when all is fine);
    `image` is the training image when known before the run."""
    problems = []
    entrypoint = (arguments.get("AlgorithmSpecification") or {}).get("ContainerEntrypoint")
    if entrypoint:
        reason = container_paths.unavailable()
        if reason:
            problems.append(
                "a ContainerEntrypoint (SDK v3's ModelTrainer drivers) runs only with the "
                f"container's real paths: {reason}"
            )
    elif PROGRAM not in (arguments.get("HyperParameters") or {}):
        if image is not None and not algorithm_mode(image):
            problems.append(
                f"image {image} has no built-in algorithm the runner trains and no script "
                f"(hyperparameter {PROGRAM}): script mode and the built-in XGBoost algorithm "
                "run locally"
            )
        for channel in arguments.get("InputDataConfig") or []:
            kind = str(channel.get("ContentType", ""))
            if "recordio" in kind:
                name = channel.get("ChannelName", "?")
                problems.append(f"channel {name}: {kind} input is not supported locally")
    if not (arguments.get("AlgorithmSpecification") or {}).get("TrainingImage"):
        problems.append("AlgorithmSpecification.TrainingImage is required (not AlgorithmName)")
    for channel in arguments.get("InputDataConfig") or []:
        if "S3DataSource" not in (channel.get("DataSource") or {}):
            name = channel.get("ChannelName", "?")
            problems.append(f"channel {name}: only S3DataSource is supported")
    return problems


def _is_algorithm(args: dict[str, Any]) -> bool:
    """Whether the job ran the built-in algorithm (no program, no entrypoint)."""
    spec = args.get("AlgorithmSpecification") or {}
    return PROGRAM not in (args.get("HyperParameters") or {}) and not spec.get(
        "ContainerEntrypoint"
    )


def no_toolkit(image: str, interpreter: str) -> str:
    """Why a script-mode job cannot run: the image's interpreter lacks the toolkit."""
    return (
        f"script mode runs with the SageMaker training toolkit, as image {image} does; "
        f"{interpreter} does not have it: install sagemaker-training there "
        "(mlops-seeds' `seeds` dependency group has it)"
    )


def script_mode(arguments: dict[str, Any]) -> bool:
    """Whether a training job runs a user program through the toolkit (script mode)."""
    spec = arguments.get("AlgorithmSpecification") or {}
    return PROGRAM in (arguments.get("HyperParameters") or {}) and not spec.get(
        "ContainerEntrypoint"
    )


def failure_file(tree: ContainerTree) -> str | None:
    """The reason the job wrote to /opt/ml/output/failure (SageMaker's FailureReason),
    prefixed AlgorithmError: unless it names its own kind."""
    path = tree.host(f"{OUTPUT_DIR}/failure")
    if not path.is_file():
        return None
    text = path.read_text(errors="replace").strip()
    if not text:
        return None
    return text if text.startswith(("ClientError", "AlgorithmError")) else f"AlgorithmError: {text}"


def decode_hyperparameters(raw: dict[str, Any]) -> dict[str, Any]:
    """Hyperparameter strings JSON-decoded, as the framework containers read them."""
    decoded = {}
    for name, value in raw.items():
        try:
            decoded[name] = json.loads(value) if isinstance(value, str) else value
        except ValueError:
            decoded[name] = value
    return decoded


def user_arguments(hyperparameters: dict[str, Any]) -> list[str]:
    """`--name value` for every hyperparameter but the sagemaker_* ones, sorted by name."""
    args: list[str] = []
    for name in sorted(hyperparameters):
        if name.startswith("sagemaker_"):
            continue
        value = hyperparameters[name]
        if isinstance(value, dict):
            value = ",".join(f"{k}={v}" for k, v in sorted(value.items()))
        args += [f"--{name}", str(value)]
    return args


def training_environment(
    tree: ContainerTree,
    hyperparameters: dict[str, Any],
    channels: list[str],
    instance_type: str,
    program: str,
) -> dict[str, str]:
    """The SM_* variables of the SageMaker training toolkit, paths inside the tree."""
    user = {k: v for k, v in hyperparameters.items() if not k.startswith("sagemaker_")}
    host = tree.rewrite
    env = {
        "SM_MODEL_DIR": host(MODEL_DIR),
        "SM_OUTPUT_DIR": host(OUTPUT_DIR),
        "SM_OUTPUT_DATA_DIR": host(OUTPUT_DATA_DIR),
        "SM_INPUT_DIR": host(INPUT_DIR),
        "SM_INPUT_CONFIG_DIR": host(CONFIG_DIR),
        "SM_MODULE_DIR": str(hyperparameters.get(SUBMIT_DIRECTORY, "")),
        "SM_MODULE_NAME": Path(program).stem,
        "SM_USER_ENTRY_POINT": program,
        "SM_CHANNELS": json.dumps(sorted(channels)),
        "SM_HPS": json.dumps(user),
        "SM_USER_ARGS": json.dumps(user_arguments(hyperparameters)),
        "SM_HOSTS": json.dumps([HOST]),
        "SM_CURRENT_HOST": HOST,
        "SM_CURRENT_INSTANCE_TYPE": instance_type,
        "SM_NUM_GPUS": "0",
        "SM_NUM_CPUS": str(os.cpu_count() or 1),
        "SM_NETWORK_INTERFACE_NAME": NETWORK_INTERFACE,
        "SM_LOG_LEVEL": "20",
    }
    for channel in channels:
        env[f"SM_CHANNEL_{channel.upper()}"] = host(f"{INPUT_DIR}/data/{channel}")
    for name, value in user.items():
        env[f"SM_HP_{name.upper()}"] = value if isinstance(value, str) else json.dumps(value)
    return env


def execute(ctx: StepContext) -> StepResult:
    """Run one training job locally."""
    args = ctx.checked_arguments()
    tree = ctx.tree
    image = str(args["AlgorithmSpecification"]["TrainingImage"])
    interpreter = ctx.interpreter(image)
    raw_hps = args.get("HyperParameters") or {}
    hps = decode_hyperparameters(raw_hps)
    problems = check(args, image)
    if problems:
        raise StepFailed("; ".join(problems))
    code = tree.host(CODE_DIR)
    spec = args["AlgorithmSpecification"]
    if spec.get("ContainerEntrypoint"):  # the image runs what the job says (v3 drivers)
        program = ""
        code.mkdir(parents=True, exist_ok=True)
        command = [
            str(a) for a in [*spec["ContainerEntrypoint"], *(spec.get("ContainerArguments") or [])]
        ]
    elif PROGRAM in hps:  # the framework container's `train`: the toolkit's trainer
        program = str(hps[PROGRAM])
        if not step_python.has_toolkit(interpreter):
            raise StepFailed(no_toolkit(image, interpreter))
        try:
            contained(code, program, what=f"{PROGRAM} {program!r}")
        except PathEscape as err:
            raise StepFailed(f"{err} (the source directory)") from None
        # The runner fetches the sources through its own clients (so an in-process moto
        # serves them too) and the toolkit takes them in place: its submit directory is the
        # code folder, which it does not fetch again.
        _unpack_sources(ctx, str(hps.get(SUBMIT_DIRECTORY, "")), code)
        tree.rewrite_sources(code)
        raw_hps = {**raw_hps, SUBMIT_DIRECTORY: json.dumps(tree.visible(code))}
        command = ["python3", "-m", TOOLKIT_TRAIN]
    else:  # the built-in algorithm's own trainer, as its container's `train`
        program = ""
        code.mkdir(parents=True, exist_ok=True)
        command = ["python3", str(Path(xgboost_algorithm.__file__).resolve())]
    channels = []
    for channel in args.get("InputDataConfig") or []:
        name = channel["ChannelName"]
        source = channel["DataSource"]["S3DataSource"]["S3Uri"]
        ctx.storage.download(str(source), tree.host(f"{INPUT_DIR}/data/{name}"))
        channels.append(name)
    for folder in (MODEL_DIR, OUTPUT_DATA_DIR):
        tree.host(folder).mkdir(parents=True, exist_ok=True)
    instance_type = str((args.get("ResourceConfig") or {}).get("InstanceType", ""))
    _write_config(tree, raw_hps, args, instance_type)
    if script_mode(args):  # the toolkit sets the SM_* variables itself
        env = {"SM_STUDIO_LOCAL_MODE": "true"}  # no wait for algo-1 to resolve in DNS
        if not tree.real:
            env[BASE_DIR_VARIABLE] = str(tree.host(BASE_DIR))
        tree.host(INTERMEDIATE_DIR).mkdir(parents=True, exist_ok=True)  # no toolkit sync
    else:
        env = training_environment(tree, hps, channels, instance_type, program)
    env.update({k: tree.rewrite(str(v)) for k, v in (args.get("Environment") or {}).items()})
    python_path = (tree.visible(code), os.environ.get("PYTHONPATH"))
    env["PYTHONPATH"] = os.pathsep.join(p for p in python_path if p)
    job_env: dict[str, str | None] = {
        **ctx.clients.environment(),
        **env,
        **PIP_QUIET,
        "TRAINING_JOB_NAME": ctx.job_name,
    }
    try:
        run_command(command, job_env, code, ctx.logs, tree, interpreter)
    except StepFailed as err:
        raise StepFailed(failure_file(tree) or str(err)) from None
    output = args["OutputDataConfig"]
    job_output = join_uri(str(output["S3OutputPath"]), f"{ctx.job_name}/output")
    encryption = sse_kms(output.get("KmsKeyId"))
    compression = str(output.get("CompressionType", "GZIP"))
    model_uri = _upload_model(ctx, job_output, compression, encryption)
    written = {"model": model_uri}
    if any(tree.host(OUTPUT_DATA_DIR).iterdir()):
        archive = _pack(tree.host(OUTPUT_DATA_DIR), tree.root / "output.tar.gz")
        target = join_uri(job_output, archive.name)
        written["output"] = ctx.storage.upload_file(archive, target, encryption)
    properties = {
        **args,
        "TrainingJobName": ctx.job_name,
        "TrainingJobStatus": "Completed",
        "SecondaryStatus": "Completed",
        "ModelArtifacts": {"S3ModelArtifacts": model_uri},
        "FinalMetricDataList": (
            _algorithm_metrics(ctx) if _is_algorithm(args) else _metrics(ctx, args)
        ),
    }
    return StepResult(properties=properties, outputs=written)


def _unpack_sources(ctx: StepContext, submit_directory: str, code: Path) -> None:
    """The submit directory (a tar.gz or a folder, in S3 or local) into /opt/ml/code."""
    code.mkdir(parents=True, exist_ok=True)
    if not submit_directory:
        raise StepFailed(f"hyperparameter {SUBMIT_DIRECTORY} is missing")
    if not submit_directory.endswith((".tar.gz", ".tgz")):
        ctx.storage.download(submit_directory, code)
        return
    staging = ctx.tree.root / "sourcedir"
    ctx.storage.download(submit_directory, staging)
    for archive in staging.iterdir():
        try:
            with tarfile.open(archive) as tar:
                tar.extractall(code, filter="data")  # no member lands outside `code`
        except tarfile.TarError as err:
            raise StepFailed(f"{submit_directory}: not a tar.gz archive ({err})") from None


def _pack(folder: Path, archive: Path) -> Path:
    """A tar.gz of the folder's contents (paths relative to the folder)."""
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted(folder.iterdir()):
            tar.add(path, arcname=path.name)
    return archive


def _upload_model(
    ctx: StepContext, job_output: str, compression: str, encryption: dict[str, str]
) -> str:
    """model.tar.gz (or the bare folder with CompressionType NONE); returns its URI."""
    model_dir = ctx.tree.host(MODEL_DIR)
    if compression.upper() == "NONE":
        uri = join_uri(job_output, "model/")
        ctx.storage.upload_folder(model_dir, uri, encryption)
        return uri
    archive = _pack(model_dir, ctx.tree.root / "model.tar.gz")
    return ctx.storage.upload_file(archive, join_uri(job_output, archive.name), encryption)


def _write_config(
    tree: ContainerTree, raw_hps: dict[str, Any], args: dict[str, Any], instance_type: str
) -> None:
    """/opt/ml/input/config/*.json, as the training platform writes them."""
    config = tree.host(CONFIG_DIR)
    config.mkdir(parents=True, exist_ok=True)
    channels = {
        c["ChannelName"]: {k: v for k, v in c.items() if k != "DataSource"}
        for c in args.get("InputDataConfig") or []
    }
    resources = {  # as the platform writes it (SageMaker Developer Guide, distributed training)
        "current_host": HOST,
        "current_instance_type": instance_type,
        "current_group_name": INSTANCE_GROUP,
        "hosts": [HOST],
        "instance_groups": [
            {"instance_group_name": INSTANCE_GROUP, "instance_type": instance_type, "hosts": [HOST]}
        ],
        "network_interface_name": NETWORK_INTERFACE,
    }
    for name, body in (
        ("hyperparameters.json", {k: str(v) for k, v in raw_hps.items()}),
        ("inputdataconfig.json", channels),
        ("resourceconfig.json", resources),
    ):
        (config / name).write_text(json.dumps(body, indent=2))


def _metrics(ctx: StepContext, args: dict[str, Any]) -> list[dict[str, Any]]:
    """The last value of each MetricDefinitions regex in the job's output."""
    definitions = (args.get("AlgorithmSpecification") or {}).get("MetricDefinitions") or []
    if not definitions:
        return []
    text = read_logs(ctx.logs)
    now = datetime.now(UTC).isoformat()
    metrics = []
    for definition in definitions:
        matches = re.findall(definition["Regex"], text)
        if matches:
            last = matches[-1]
            value = last[0] if isinstance(last, tuple) else last
            try:
                metrics.append(
                    {"MetricName": definition["Name"], "Value": float(value), "Timestamp": now}
                )
            except ValueError:
                continue
    return metrics


def _algorithm_metrics(ctx: StepContext) -> list[dict[str, Any]]:
    """A built-in algorithm's metrics as SageMaker reports them (`validation:rmse`): each
    channel's metric at the last round logged."""
    rounds = ROUND_LINE.findall(read_logs(ctx.logs))
    if not rounds:
        return []
    now = datetime.now(UTC).isoformat()
    metrics = []
    for item in rounds[-1][1].split("\t"):
        if not item:
            continue
        name, _, value = item.rpartition(":")
        channel, _, metric = name.partition("-")
        metrics.append(
            {"MetricName": f"{channel}:{metric}", "Value": float(value), "Timestamp": now}
        )
    return metrics
