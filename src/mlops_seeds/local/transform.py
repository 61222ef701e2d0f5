"""Transform steps (batch transform jobs), as SageMaker runs them: the model's container
served by a local model server (the sandbox's, for the SageMaker XGBoost and scikit-learn
images), every object under the input prefix split into records (`SplitType`), sent in
mini-batches or one by one (`BatchStrategy`, `MaxPayloadInMB`) with the job's ContentType and
Accept, the answers assembled (`AssembleWith`) after DataProcessing (InputFilter, JoinSource,
OutputFilter) and written as `<output path>/<input file>.out`.

Not run: RecordIO and TFRecord splitting, compressed input, manifest files, more than one
container (refused before anything runs).
"""

from __future__ import annotations

import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mlops_seeds.containment import PathEscape, contained
from mlops_seeds.local import data_processing
from mlops_seeds.local.context import StepContext, StepFailed, StepResult
from mlops_seeds.local.images import SERVING_FRAMEWORKS, repository
from mlops_seeds.local.storage import TransferError, join_uri, sse_kms

DEFAULT_MAX_PAYLOAD_MB = 6
SUBMIT_DIRECTORY = "SAGEMAKER_SUBMIT_DIRECTORY"
MODEL_DIR = "/opt/ml/model"


def check(arguments: dict[str, Any], image: str | None = None) -> list[str]:
    """What in a transform step's arguments the runner cannot do (empty when all is fine)."""
    problems = []
    source = (arguments.get("TransformInput") or {}).get("DataSource") or {}
    s3 = source.get("S3DataSource")
    if not s3:
        problems.append("TransformInput.DataSource: only S3DataSource is supported locally")
    elif s3.get("S3DataType", "S3Prefix") not in ("S3Prefix", None):
        problems.append(f"S3DataType {s3['S3DataType']}: only S3Prefix is supported locally")
    transform_input = arguments.get("TransformInput") or {}
    split = transform_input.get("SplitType", "None")
    if split not in ("None", "Line"):
        problems.append(f"SplitType {split}: only None and Line are supported locally")
    if transform_input.get("CompressionType", "None") != "None":
        problems.append("CompressionType: compressed input is not supported locally")
    processing = arguments.get("DataProcessing") or {}
    if split == "None" and any(
        processing.get(k, d) != d
        for k, d in (("InputFilter", "$"), ("OutputFilter", "$"), ("JoinSource", "None"))
    ):
        problems.append("DataProcessing works on records: it needs SplitType Line locally")
    for name in ("InputFilter", "OutputFilter"):
        expression = processing.get(name)
        if isinstance(expression, str):
            try:
                data_processing.parse_filter(expression)
            except data_processing.FilterError as err:
                problems.append(f"DataProcessing.{name} {err}")
    return problems


def execute(ctx: StepContext) -> StepResult:
    """Run one batch transform job locally."""
    # Imported here: the model servers come with the sandbox's hosting.
    from mlops_seeds.sandbox.hosting import processes

    args = ctx.checked_arguments()
    problems = check(args)
    if problems:
        raise StepFailed("; ".join(problems))
    container = _container(ctx, str(args["ModelName"]))
    framework = SERVING_FRAMEWORKS.get(repository(str(container.get("Image", ""))) or "")
    if framework is None:
        known = ", ".join(sorted(SERVING_FRAMEWORKS))
        raise StepFailed(
            f"model {args['ModelName']}: image {container.get('Image')} cannot be served "
            f"locally (SageMaker images of the ECR repositories {known})"
        )
    model_dir = ctx.tree.root / "model"
    _fetch_model(ctx, container, model_dir)
    environment = {
        **_environment(ctx, container, model_dir),
        **{str(k): str(v) for k, v in (args.get("Environment") or {}).items()},
    }
    inputs = ctx.tree.root / "input"
    source = args["TransformInput"]["DataSource"]["S3DataSource"]["S3Uri"]
    try:
        ctx.storage.download(str(source), inputs)
    except TransferError as err:
        raise StepFailed(f"ClientError: {err}") from None
    server_dir = ctx.tree.root / "server"
    server_dir.mkdir(parents=True, exist_ok=True)
    try:
        server = processes.start(framework, model_dir, server_dir, environment)
    except processes.StartFailed as err:
        raise StepFailed(f"ClientError: the model server did not start: {err}") from None
    output_path = str(args["TransformOutput"]["S3OutputPath"])
    encryption = sse_kms(args["TransformOutput"].get("KmsKeyId"))
    written = []
    try:
        job = _Job(args, server)
        for path in sorted(p for p in inputs.rglob("*") if p.is_file()):
            relative = path.relative_to(inputs).as_posix()
            result = ctx.tree.root / "output" / f"{relative}.out"
            result.parent.mkdir(parents=True, exist_ok=True)
            result.write_bytes(job.transform(path.read_bytes(), relative))
            written.append(
                ctx.storage.upload_file(
                    result, join_uri(output_path, f"{relative}.out"), encryption
                )
            )
    finally:
        server.stop(remove=False)
    properties = {
        **args,
        "TransformJobName": ctx.job_name,
        "TransformJobStatus": "Completed",
    }
    return StepResult(properties=properties, outputs={"output": output_path})


def _container(ctx: StepContext, model_name: str) -> dict[str, Any]:
    """The model's single container (its model package's, when it names one)."""
    sagemaker = ctx.clients.get("sagemaker")
    try:
        model = sagemaker.describe_model(ModelName=model_name)
    except Exception as err:  # botocore's ClientError and friends
        raise StepFailed(f"ClientError: cannot describe model {model_name}: {err}") from None
    containers = [model["PrimaryContainer"]] if model.get("PrimaryContainer") else []
    containers = containers or list(model.get("Containers") or [])
    if len(containers) != 1:
        raise StepFailed(f"model {model_name}: {len(containers)} containers; one runs locally")
    container = dict(containers[0])
    if container.get("ModelPackageName"):
        package = sagemaker.describe_model_package(ModelPackageName=container["ModelPackageName"])
        packaged = dict((package.get("InferenceSpecification") or {}).get("Containers", [{}])[0])
        environment = {
            **(packaged.get("Environment") or {}),
            **(container.get("Environment") or {}),
        }
        container = {**packaged, **container, "Environment": environment}
    return container


def _fetch_model(ctx: StepContext, container: dict[str, Any], model_dir: Path) -> None:
    """The model data, extracted into `model_dir`."""
    model_dir.mkdir(parents=True, exist_ok=True)
    url = container.get("ModelDataUrl")
    if not url:
        return
    staging = ctx.tree.root / "model-data"
    try:
        ctx.storage.download(str(url), staging)
    except TransferError as err:
        raise StepFailed(f"ClientError: model data: {err}") from None
    for archive in staging.rglob("*"):
        if archive.is_file():
            try:
                with tarfile.open(archive) as tar:
                    tar.extractall(model_dir, filter="data")
            except tarfile.TarError as err:
                raise StepFailed(f"ClientError: model data {url} is not a tar.gz: {err}") from None


def _environment(ctx: StepContext, container: dict[str, Any], model_dir: Path) -> dict[str, str]:
    """The container's Environment, SAGEMAKER_SUBMIT_DIRECTORY made a local folder."""
    env = {str(k): str(v) for k, v in (container.get("Environment") or {}).items()}
    submit = env.get(SUBMIT_DIRECTORY)
    if not submit:
        return env
    if submit == MODEL_DIR or submit.startswith(MODEL_DIR + "/"):
        try:
            env[SUBMIT_DIRECTORY] = str(
                contained(model_dir, submit[len(MODEL_DIR) :].lstrip("/"), what=SUBMIT_DIRECTORY)
            )
        except PathEscape as err:
            raise StepFailed(f"ClientError: {err}") from None
        return env
    code = ctx.tree.root / "model-code"
    staging = ctx.tree.root / "model-code-archive"
    try:
        ctx.storage.download(submit, staging)
    except TransferError as err:
        raise StepFailed(f"ClientError: {SUBMIT_DIRECTORY}: {err}") from None
    for archive in staging.rglob("*"):
        if archive.is_file():
            with tarfile.open(archive) as tar:
                tar.extractall(code, filter="data")
    env[SUBMIT_DIRECTORY] = str(code)
    return env


class _Job:
    """One transform job's settings, applied file by file."""

    def __init__(self, args: dict[str, Any], server: Any) -> None:
        transform_input = args["TransformInput"]
        output = args["TransformOutput"]
        processing = args.get("DataProcessing") or {}
        self.server = server
        self.content_type = transform_input.get("ContentType")
        self.accept = output.get("Accept")
        self.split = transform_input.get("SplitType", "None")
        self.strategy = args.get("BatchStrategy", "MultiRecord")
        self.max_payload = int(args.get("MaxPayloadInMB", DEFAULT_MAX_PAYLOAD_MB)) * 1024 * 1024
        self.assemble = output.get("AssembleWith", "None")
        self.input_filter = processing.get("InputFilter", "$")
        self.output_filter = processing.get("OutputFilter", "$")
        self.join = processing.get("JoinSource", "None") == "Input"
        self.input_media = _media(self.content_type)
        self.output_media = _media(self.accept)

    def transform(self, data: bytes, name: str) -> bytes:
        """The .out file of one input file."""
        if self.split == "None":
            return self._invoke(data, name)
        records = [line for line in data.decode().splitlines() if line.strip()]
        sent = [self._filtered(record) for record in records]
        answers: list[str] = []
        for batch in self._batches(sent):
            body = "\n".join(batch).encode()
            lines = [line for line in self._invoke(body, name).decode().splitlines() if line]
            if len(lines) != len(batch):
                raise StepFailed(
                    f"ClientError: {name}: the model answered {len(lines)} lines for "
                    f"{len(batch)} records (one prediction per line is needed to assemble)"
                )
            answers.extend(lines)
        results = [
            self._output(record, answer) for record, answer in zip(records, answers, strict=True)
        ]
        separator = "\n" if self.assemble == "Line" else ""
        return (separator.join(results) + separator).encode()

    def _filtered(self, record: str) -> str:
        if self.input_filter.strip() == "$":
            return record
        value = data_processing.apply_filter(
            self.input_filter, data_processing.parse_record(record, self.input_media)
        )
        return data_processing.render_record(value, self.input_media)

    def _batches(self, records: list[str]) -> Iterator[list[str]]:
        if self.strategy == "SingleRecord":
            yield from ([r] for r in records)
            return
        batch: list[str] = []
        size = 0
        for record in records:
            length = len(record.encode()) + 1
            if batch and size + length > self.max_payload:
                yield batch
                batch, size = [], 0
            batch.append(record)
            size += length
        if batch:
            yield batch

    def _output(self, record: str, answer: str) -> str:
        try:
            if self.join:
                value = data_processing.join(record, answer, self.input_media, self.output_media)
                media = data_processing.JSON if isinstance(value, dict) else self.output_media
            else:
                value = data_processing.parse_record(answer, self.output_media)
                media = self.output_media
            if self.output_filter.strip() == "$":
                return data_processing.render_record(value, media)
            return data_processing.render_record(
                data_processing.apply_filter(self.output_filter, value), media
            )
        except data_processing.FilterError as err:
            raise StepFailed(f"ClientError: DataProcessing: {err}") from None

    def _invoke(self, body: bytes, name: str) -> bytes:
        try:
            answer = self.server.invoke(body, self.content_type, self.accept, None)
        except OSError as err:
            raise StepFailed(
                f"ClientError: {name}: the model server is unreachable: {err}"
            ) from None
        if not 200 <= answer.status < 300:
            message = answer.body.decode(errors="replace").strip().splitlines()
            detail = message[0] if message else f"status {answer.status}"
            raise StepFailed(f"ClientError: {name}: the model answered {answer.status}: {detail}")
        body_out: bytes = answer.body
        return body_out


def _media(header: str | None) -> str:
    """CSV unless the header names JSON (the formats DataProcessing works on)."""
    media = (header or "").split(";")[0].strip().lower()
    return (
        data_processing.JSON
        if media in ("application/json", "application/jsonlines")
        else data_processing.CSV
    )
