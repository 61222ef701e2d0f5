"""The model-build SageMaker Pipeline: preprocess, baseline, train, evaluate, check, register.

    PreprocessData -> TrainModel -> EvaluateModel -> CheckMetricThreshold
                   -> BaselineDataQuality ------------> RegisterModel   (metric meets threshold)
                                                  -> FailMetricThreshold (otherwise)

BaselineDataQuality computes the training features' statistics and constraints in SageMaker
Model Monitor's formats (`scripts/data_quality.py`, an ordinary processing job: Model Monitor
is closed to new customers); the registered package carries them as its data-quality metrics
and drift-check baselines, which the deployed endpoint's monitoring checks against.

Building the pipeline (and its JSON definition) talks to no AWS service: the role is used
as given, the bucket is never probed, code is referenced by s3:// URIs under a code prefix
(see `pipelines.code`) and SDK telemetry is switched off while the steps are composed.
"""

from __future__ import annotations

import copy
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import boto3
from sagemaker.core import image_uris
from sagemaker.core.drift_check_baselines import DriftCheckBaselines
from sagemaker.core.model_metrics import MetricsSource, ModelMetrics
from sagemaker.core.processing import ScriptProcessor
from sagemaker.core.shapes import (
    ProcessingInput,
    ProcessingOutput,
    ProcessingS3Input,
    ProcessingS3Output,
)
from sagemaker.core.training.configs import Compute, InputData, OutputDataConfig
from sagemaker.core.workflow.conditions import (
    ConditionGreaterThanOrEqualTo,
    ConditionLessThanOrEqualTo,
)
from sagemaker.core.workflow.execution_variables import ExecutionVariables
from sagemaker.core.workflow.functions import Join, JsonGet
from sagemaker.core.workflow.parameters import ParameterFloat, ParameterInteger, ParameterString
from sagemaker.core.workflow.pipeline_context import PipelineSession
from sagemaker.core.workflow.properties import PropertyFile
from sagemaker.mlops.workflow.condition_step import ConditionStep
from sagemaker.mlops.workflow.fail_step import FailStep
from sagemaker.mlops.workflow.model_step import ModelStep
from sagemaker.mlops.workflow.pipeline import Pipeline
from sagemaker.mlops.workflow.steps import ProcessingStep, TrainingStep
from sagemaker.serve.model_builder import ModelBuilder
from sagemaker.train import ModelTrainer

from pipelines.code import TRAIN_SCRIPT, CodeUris, code_uris, default_code_uri_prefix
from pipelines.settings import DATASET, FRAMEWORK, PROBLEM_TYPE

# SageMaker framework containers; the versions match the pins in pyproject.toml.
SKLEARN_VERSION = "1.9-0"
XGBOOST_VERSION = "3.2-0"
DEFAULT_INSTANCE_TYPE = "ml.m5.xlarge"
INFERENCE_INSTANCE_TYPES = ["ml.t2.medium", "ml.m5.large", "ml.m5.xlarge"]
TRANSFORM_INSTANCE_TYPES = ["ml.m5.large", "ml.m5.xlarge"]
HYPERPARAMETERS: dict[str, int | float] = {
    "n_estimators": 300,
    "max_depth": 3,
    "learning_rate": 0.05,
    "subsample": 0.8,
}

PROCESSING_DIR = "/opt/ml/processing"
STEP_PREPROCESS = "PreprocessData"
STEP_BASELINE = "BaselineDataQuality"
STEP_TRAIN = "TrainModel"
STEP_EVALUATE = "EvaluateModel"
STEP_CHECK = "CheckMetricThreshold"
STEP_REGISTER = "RegisterModel"
STEP_FAIL = "FailMetricThreshold"
EVALUATION_FILE = "evaluation.json"
STATISTICS_FILE = "statistics.json"
CONSTRAINTS_FILE = "constraints.json"
SPLITS = ("train", "validation", "test")


@dataclass(frozen=True)
class MetricGate:
    """The evaluation metric that decides whether a model is registered."""

    name: str
    json_path: str
    parameter: str
    default_threshold: float
    higher_is_better: bool

    @property
    def rule(self) -> str:
        """The comparison, in words."""
        return ">=" if self.higher_is_better else "<="


GATES = {
    "regression": MetricGate("RMSE", "regression_metrics.rmse.value", "RmseThreshold", 65.0, False),
    "classification": MetricGate(
        "accuracy", "binary_classification_metrics.accuracy.value", "AccuracyThreshold", 0.9, True
    ),
}
GATE = GATES[PROBLEM_TYPE]

TELEMETRY_OPT_OUT = {
    "SchemaVersion": "1.0",
    "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}},
}


def default_input_data_uri(bucket: str, base_prefix: str) -> str:
    """Where `run-pipeline` puts the shipped dataset when no InputDataUrl is given."""
    return f"s3://{bucket}/{base_prefix}/input/{DATASET.name}"


def pipeline_session(region: str, default_bucket: str) -> PipelineSession:
    """A PipelineSession for `region` whose default bucket is given (never looked up)."""
    return PipelineSession(
        boto_session=boto3.Session(region_name=region), default_bucket=default_bucket
    )


@contextmanager
def no_role_validation() -> Iterator[None]:
    """Skip the SDK's IAM SimulatePrincipalPolicy check of roles, unless the caller set
    SAGEMAKER_VALIDATE_ROLE; the role is used as given."""
    saved = os.environ.get("SAGEMAKER_VALIDATE_ROLE")
    os.environ.setdefault("SAGEMAKER_VALIDATE_ROLE", "false")
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("SAGEMAKER_VALIDATE_ROLE", None)


@contextmanager
def no_telemetry(session: PipelineSession) -> Iterator[None]:
    """Opt out of SDK telemetry for the SDK calls made inside the block.

    Telemetry is opted out through the session's config. It is set only around the
    calls that report (run, train, register, create, start) because the SDK validates
    the whole config on every lookup: kept on the session it makes building the steps
    slower and `Pipeline.definition()` about a hundred times slower. Inside the block
    those validations are also made cheap (see `config_schema_checked_once`).
    """
    saved = session.sagemaker_config
    session.sagemaker_config = _merge(copy.deepcopy(saved or {}), TELEMETRY_OPT_OUT)
    try:
        with config_schema_checked_once():
            yield
    finally:
        session.sagemaker_config = saved


@contextmanager
def config_schema_checked_once() -> Iterator[None]:
    """Validate SDK configs inside the block with a validator of the SDK's schema made once.

    SageMaker SDK 3.27 validates the config on every lookup with `jsonschema.validate`,
    which first checks the SDK's own (constant) schema against JSON Schema's metaschema:
    about 0.1 s a lookup, dozens of lookups per pipeline upsert. Inside the block the
    schema is checked once and each config is validated as `jsonschema.validate` does it
    (the same validator class, the same best-matching error), so a config the SDK refuses
    is still refused. With an SDK whose layout differs, the block changes nothing.
    """
    try:
        from sagemaker.core.config import config_manager

        manager = config_manager.SageMakerConfig
        best_match = config_manager.jsonschema.exceptions.best_match
        original = manager.__dict__["validate_sagemaker_config"]
        validator = _sdk_config_validator()
    except (ImportError, AttributeError, KeyError):
        yield
        return

    def validate_sagemaker_config(sagemaker_config: dict[str, Any] | None = None) -> None:
        error = best_match(validator.iter_errors(sagemaker_config))
        if error is not None:
            raise error

    manager.validate_sagemaker_config = staticmethod(validate_sagemaker_config)
    try:
        yield
    finally:
        manager.validate_sagemaker_config = original


@lru_cache(maxsize=1)
def _sdk_config_validator() -> Any:
    """A validator of the SDK's config schema, the schema checked against its metaschema."""
    from sagemaker.core.config import config_manager
    from sagemaker.core.config.config_schema import SAGEMAKER_PYTHON_SDK_CONFIG_SCHEMA as schema

    cls = config_manager.jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge `extra` into `base` (in place) and return it."""
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


@dataclass(frozen=True)
class Parameters:
    """The pipeline parameters a run can override."""

    input_data: ParameterString
    processing_instance_type: ParameterString
    processing_instance_count: ParameterInteger
    training_instance_type: ParameterString
    training_instance_count: ParameterInteger
    model_approval_status: ParameterString
    metric_threshold: ParameterFloat

    def as_list(self) -> list[Any]:
        """In the order they appear in the definition."""
        return list(vars(self).values())


def make_parameters(input_data_uri: str) -> Parameters:
    """The pipeline parameters with their defaults."""
    return Parameters(
        input_data=ParameterString("InputDataUrl", default_value=input_data_uri),
        processing_instance_type=ParameterString(
            "ProcessingInstanceType", default_value=DEFAULT_INSTANCE_TYPE
        ),
        processing_instance_count=ParameterInteger("ProcessingInstanceCount", default_value=1),
        training_instance_type=ParameterString(
            "TrainingInstanceType", default_value=DEFAULT_INSTANCE_TYPE
        ),
        training_instance_count=ParameterInteger("TrainingInstanceCount", default_value=1),
        model_approval_status=ParameterString(
            "ModelApprovalStatus", default_value="PendingManualApproval"
        ),
        metric_threshold=ParameterFloat(GATE.parameter, default_value=GATE.default_threshold),
    )


@dataclass(frozen=True)
class Context:
    """What every step builder needs."""

    session: PipelineSession
    region: str
    role: str
    output_root: str
    base_job_prefix: str
    code: CodeUris
    params: Parameters
    kms_key_id: str | None = None

    def output_uri(self, *parts: str) -> Join:
        """`<output_root>/<execution id>/<parts...>`: a fresh S3 prefix per execution."""
        return Join(
            on="/", values=[self.output_root, ExecutionVariables.PIPELINE_EXECUTION_ID, *parts]
        )


def framework_image(region: str, scope: str = "training") -> str:
    """The SageMaker container of the project's framework."""
    if FRAMEWORK == "xgboost":
        return image_uris.retrieve("xgboost", region, version=XGBOOST_VERSION, image_scope=scope)
    return sklearn_image(region, scope)


def sklearn_image(region: str, scope: str = "training") -> str:
    """The SageMaker scikit-learn container (pandas and scikit-learn for processing)."""
    return image_uris.retrieve(
        "sklearn",
        region,
        version=SKLEARN_VERSION,
        py_version="py3",
        instance_type=DEFAULT_INSTANCE_TYPE,
        image_scope=scope,
    )


def processing_input(name: str, source: Any, destination: str) -> ProcessingInput:
    """An S3 prefix copied into the processing container."""
    return ProcessingInput(
        input_name=name,
        s3_input=ProcessingS3Input(
            s3_uri=source, local_path=destination, s3_data_type="S3Prefix", s3_input_mode="File"
        ),
    )


def processing_output(ctx: Context, step: str, name: str) -> ProcessingOutput:
    """`/opt/ml/processing/<name>` uploaded to this execution's prefix at the end."""
    return ProcessingOutput(
        output_name=name,
        s3_output=ProcessingS3Output(
            s3_uri=ctx.output_uri(step, name),
            local_path=f"{PROCESSING_DIR}/{name}",
            s3_upload_mode="EndOfJob",
        ),
    )


def preprocess_step(ctx: Context) -> ProcessingStep:
    """Split the raw CSV into train/validation/test."""
    processor = ScriptProcessor(
        role=ctx.role,
        image_uri=sklearn_image(ctx.region),
        command=["python3"],
        instance_type=ctx.params.processing_instance_type,
        instance_count=ctx.params.processing_instance_count,
        base_job_name=f"{ctx.base_job_prefix}-preprocess",
        output_kms_key=ctx.kms_key_id,
        sagemaker_session=ctx.session,
    )
    with no_telemetry(ctx.session):
        step_args = processor.run(
            code=ctx.code.preprocess,
            inputs=[processing_input("raw", ctx.params.input_data, f"{PROCESSING_DIR}/input/data")],
            outputs=[processing_output(ctx, "preprocess", n) for n in SPLITS],
        )
    return ProcessingStep(name=STEP_PREPROCESS, step_args=step_args)


def baseline_step(ctx: Context, preprocess: ProcessingStep) -> ProcessingStep:
    """Statistics and constraints of the training features (the target column dropped)."""
    processor = ScriptProcessor(
        role=ctx.role,
        image_uri=sklearn_image(ctx.region),
        command=["python3"],
        instance_type=ctx.params.processing_instance_type,
        instance_count=1,
        base_job_name=f"{ctx.base_job_prefix}-baseline",
        output_kms_key=ctx.kms_key_id,
        sagemaker_session=ctx.session,
    )
    train_uri = preprocess.properties.ProcessingOutputConfig.Outputs["train"].S3Output.S3Uri
    input_dir = f"{PROCESSING_DIR}/input/train"
    with no_telemetry(ctx.session):
        step_args = processor.run(
            code=ctx.code.data_quality,
            inputs=[processing_input("train", train_uri, input_dir)],
            outputs=[processing_output(ctx, "baseline", "baseline")],
            arguments=[
                "baseline",
                "--input-dir",
                input_dir,
                "--output-dir",
                f"{PROCESSING_DIR}/baseline",
                "--skip-first-column",
            ],
        )
    return ProcessingStep(name=STEP_BASELINE, step_args=step_args)


def training_hyperparameters(ctx: Context) -> dict[str, Any]:
    """Model hyperparameters plus the framework container's script-mode settings.

    The container downloads `sourcedir.tar.gz` and runs `train.py`; the other entries
    reach the script as `--name value` arguments. String values are JSON-encoded, as the
    containers decode every hyperparameter as JSON.
    """
    return {
        **HYPERPARAMETERS,
        "sagemaker_program": json.dumps(TRAIN_SCRIPT),
        "sagemaker_submit_directory": json.dumps(ctx.code.train_sourcedir),
        "sagemaker_region": json.dumps(ctx.region),
    }


def train_step(ctx: Context, preprocess: ProcessingStep) -> TrainingStep:
    """Fit the model on the train split, watching the validation split."""
    trainer = ModelTrainer(
        training_image=framework_image(ctx.region),
        role=ctx.role,
        sagemaker_session=ctx.session,
        base_job_name=f"{ctx.base_job_prefix}-train",
        compute=Compute(
            instance_type=ctx.params.training_instance_type,
            instance_count=ctx.params.training_instance_count,
            volume_size_in_gb=30,
        ),
        hyperparameters=training_hyperparameters(ctx),
        output_data_config=OutputDataConfig(
            s3_output_path=ctx.output_uri("train"),
            compression_type="GZIP",
            kms_key_id=ctx.kms_key_id,
        ),
    )
    outputs = preprocess.properties.ProcessingOutputConfig.Outputs
    channels = [
        InputData(
            channel_name=channel,
            data_source=outputs[channel].S3Output.S3Uri,
            content_type="text/csv",
        )
        for channel in ("train", "validation")
    ]
    with no_telemetry(ctx.session):
        step_args = trainer.train(input_data_config=channels)
    return TrainingStep(name=STEP_TRAIN, step_args=step_args)


def evaluate_step(
    ctx: Context, preprocess: ProcessingStep, train: TrainingStep, report: PropertyFile
) -> ProcessingStep:
    """Score the model on the test split and write evaluation.json."""
    processor = ScriptProcessor(
        role=ctx.role,
        image_uri=framework_image(ctx.region),
        command=["python3"],
        instance_type=ctx.params.processing_instance_type,
        instance_count=1,
        base_job_name=f"{ctx.base_job_prefix}-evaluate",
        output_kms_key=ctx.kms_key_id,
        sagemaker_session=ctx.session,
    )
    test_uri = preprocess.properties.ProcessingOutputConfig.Outputs["test"].S3Output.S3Uri
    model_uri = train.properties.ModelArtifacts.S3ModelArtifacts
    with no_telemetry(ctx.session):
        step_args = processor.run(
            code=ctx.code.evaluate,
            inputs=[
                processing_input("model", model_uri, f"{PROCESSING_DIR}/model"),
                processing_input("test", test_uri, f"{PROCESSING_DIR}/test"),
            ],
            outputs=[processing_output(ctx, "evaluate", "evaluation")],
        )
    return ProcessingStep(name=STEP_EVALUATE, step_args=step_args, property_files=[report])


def serving_environment() -> dict[str, str]:
    """Container environment of the registered model.

    The XGBoost container serves `xgboost-model` by itself; the scikit-learn container
    runs `inference.py`, which train.py packs into model.tar.gz under `code/`.
    """
    if FRAMEWORK == "xgboost":
        return {}
    return {"SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code"}


def package_metadata(ctx: Context) -> dict[str, str]:
    """What the package records besides its model: the framework and problem type, and the
    data-quality script and image that made its baseline (the deployed endpoint's monitoring
    checks with the same ones)."""
    return {
        "framework": FRAMEWORK,
        "problem_type": PROBLEM_TYPE,
        "data_quality_script": ctx.code.data_quality,
        "data_quality_image": sklearn_image(ctx.region),
    }


def output_file(step: ProcessingStep, output: str, name: str) -> MetricsSource:
    """A JSON file of a processing step's output, as a metrics source."""
    uri = step.properties.ProcessingOutputConfig.Outputs[output].S3Output.S3Uri
    return MetricsSource(s3_uri=Join(on="/", values=[uri, name]), content_type="application/json")


def register_step(
    ctx: Context,
    model_package_group_name: str,
    train: TrainingStep,
    evaluate: ProcessingStep,
    baseline: ProcessingStep,
) -> ModelStep:
    """Register the model with its evaluation report as model statistics and the training
    data's baseline as its data-quality metrics and drift-check baselines."""
    statistics = output_file(baseline, "baseline", STATISTICS_FILE)
    constraints = output_file(baseline, "baseline", CONSTRAINTS_FILE)
    metrics = ModelMetrics(
        model_statistics=output_file(evaluate, "evaluation", EVALUATION_FILE),
        model_data_statistics=statistics,
        model_data_constraints=constraints,
    )
    drift_baselines = DriftCheckBaselines(
        model_data_statistics=statistics, model_data_constraints=constraints
    )
    builder = ModelBuilder(
        s3_model_data_url=train.properties.ModelArtifacts.S3ModelArtifacts,
        image_uri=framework_image(ctx.region, scope="inference"),
        env_vars=serving_environment(),
        role_arn=ctx.role,
        sagemaker_session=ctx.session,
        instance_type=INFERENCE_INSTANCE_TYPES[1],
        log_level=logging.WARNING,
        # Nothing to package: the SDK's default ({"auto": True}) makes register() probe
        # the default bucket and upload code even when there is none.
        dependencies={},
    )
    with no_telemetry(ctx.session):
        step_args = builder.register(
            model_package_group_name=model_package_group_name,
            content_types=["text/csv"],
            response_types=["text/csv"],
            inference_instances=INFERENCE_INSTANCE_TYPES,
            transform_instances=TRANSFORM_INSTANCE_TYPES,
            model_metrics=metrics,
            drift_check_baselines=drift_baselines,
            approval_status=ctx.params.model_approval_status,
            customer_metadata_properties=package_metadata(ctx),
        )
    return ModelStep(name=STEP_REGISTER, step_args=step_args)


def check_step(
    ctx: Context, evaluate: ProcessingStep, report: PropertyFile, if_step: Any, else_step: Any
) -> ConditionStep:
    """Register only when the metric meets the threshold parameter."""
    metric = JsonGet(step_name=evaluate.name, property_file=report, json_path=GATE.json_path)
    comparison = (
        ConditionGreaterThanOrEqualTo if GATE.higher_is_better else ConditionLessThanOrEqualTo
    )
    return ConditionStep(
        name=STEP_CHECK,
        conditions=[comparison(left=metric, right=ctx.params.metric_threshold)],
        if_steps=[if_step],
        else_steps=[else_step],
    )


def fail_step(
    evaluate: ProcessingStep, report: PropertyFile, threshold: ParameterFloat
) -> FailStep:
    """Stop the execution with the metric and the threshold it missed."""
    metric = JsonGet(step_name=evaluate.name, property_file=report, json_path=GATE.json_path)
    message = Join(
        on=" ",
        values=[
            f"Test {GATE.name}",
            metric,
            f"does not meet the threshold ({GATE.rule})",
            threshold,
        ],
    )
    return FailStep(name=STEP_FAIL, error_message=message)


def get_pipeline(
    region: str,
    role: str,
    default_bucket: str,
    pipeline_name: str,
    model_package_group_name: str,
    base_job_prefix: str | None = None,
    code_uri_prefix: str | None = None,
    input_data_uri: str | None = None,
    kms_key_id: str | None = None,
    sagemaker_session: PipelineSession | None = None,
) -> Pipeline:
    """Build the pipeline; makes no AWS call.

    Args:
        region: AWS region of the pipeline and its container images.
        role: ARN of the role the pipeline's jobs run as.
        default_bucket: bucket for outputs, code and the default input data.
        pipeline_name: name of the SageMaker pipeline.
        model_package_group_name: group the model is registered into.
        base_job_prefix: prefix of job names and S3 keys (default: the pipeline name).
        code_uri_prefix: s3:// prefix holding the scripts (default: content-addressed
            prefix under the bucket, see `pipelines.code`).
        input_data_uri: default of the InputDataUrl parameter.
        kms_key_id: KMS key the jobs write their outputs under (default: the bucket's
            default encryption, and for the model data SageMaker's aws/s3 key, which no
            other account can read: a deploy account needs the project's key).
        sagemaker_session: a PipelineSession (default: one for `region` and the bucket).
    """
    prefix = base_job_prefix or pipeline_name
    session = sagemaker_session or pipeline_session(region, default_bucket)
    params = make_parameters(input_data_uri or default_input_data_uri(default_bucket, prefix))
    ctx = Context(
        session=session,
        region=region,
        role=role,
        output_root=f"s3://{default_bucket}/{prefix}/executions",
        base_job_prefix=prefix,
        code=code_uris(code_uri_prefix or default_code_uri_prefix(default_bucket, prefix)),
        params=params,
        kms_key_id=kms_key_id,
    )
    report = PropertyFile(name="EvaluationReport", output_name="evaluation", path=EVALUATION_FILE)
    with no_role_validation():
        preprocess = preprocess_step(ctx)
        baseline = baseline_step(ctx, preprocess)
        train = train_step(ctx, preprocess)
        evaluate = evaluate_step(ctx, preprocess, train, report)
        register = register_step(ctx, model_package_group_name, train, evaluate, baseline)
        fail = fail_step(evaluate, report, params.metric_threshold)
        check = check_step(ctx, evaluate, report, register, fail)
    return Pipeline(
        name=pipeline_name,
        parameters=params.as_list(),
        steps=[preprocess, baseline, train, evaluate, check],
        sagemaker_session=session,
    )
