"""The pipeline definition: built offline, and wired preprocess -> train -> evaluate ->
check -> register | fail."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from pipelines.code import scripts_digest
from pipelines.settings import DATASET, FRAMEWORK
from tests.support import import_pipeline, load_script, network_guard

REGION = "us-east-1"
ROLE = "arn:aws:iam::111122223333:role/service-role/PipelineRole"
BUCKET = "sagemaker-p-abc123-111122223333-us-east-1"
PIPELINE = "demo-p-abc123"
GROUP = "demo-p-abc123-models"
CODE = "s3://code-bucket/team/code/v1"


@dataclass(frozen=True)
class Built:
    """A definition, the network attempts made building it, and definition()'s time."""

    module: ModuleType
    definition: dict[str, Any]
    attempts: list[tuple[str, Any]]
    seconds: float

    def step(self, name: str) -> dict[str, Any]:
        """A step by name, also inside the condition's branches."""
        steps = list(self.definition["Steps"])
        for step in self.definition["Steps"]:
            if step["Type"] == "Condition":
                steps += step["Arguments"]["IfSteps"] + step["Arguments"]["ElseSteps"]
        return next(s for s in steps if s["Name"] == name)


@pytest.fixture(scope="module")
def built(module_aws_env: None) -> Built:
    """Import the SDK, compose the pipeline and render its definition, network refused."""
    with network_guard() as attempts:
        module = import_pipeline()
        pipeline = module.get_pipeline(
            region=REGION,
            role=ROLE,
            default_bucket=BUCKET,
            pipeline_name=PIPELINE,
            model_package_group_name=GROUP,
            code_uri_prefix=CODE,
        )
        start = time.perf_counter()
        text = pipeline.definition()
        seconds = time.perf_counter() - start
    return Built(module, json.loads(text), list(attempts), seconds)


def references(value: Any) -> set[str]:
    """Names of the steps an expression refers to (`Get: Steps.<name>...`)."""
    return set(re.findall(r'"Steps\.([A-Za-z0-9-]+)[.\[]', json.dumps(value)))


def strings(value: Any) -> list[str]:
    """Every string inside a JSON value."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


def local_paths(step: dict[str, Any]) -> dict[str, str]:
    """Input and output name -> container path of a processing step."""
    args = step["Arguments"]
    paths = {i["InputName"]: i["S3Input"]["LocalPath"] for i in args["ProcessingInputs"]}
    for output in args["ProcessingOutputConfig"]["Outputs"]:
        paths[output["OutputName"]] = output["S3Output"]["LocalPath"]
    return paths


def test_building_the_definition_makes_no_network_attempt(built: Built) -> None:
    assert built.attempts == []


def test_definition_renders_quickly(built: Built) -> None:
    # SDK telemetry opted out through the session config would make this about 2 s.
    assert built.seconds < 0.5


def test_steps_and_branches(built: Built) -> None:
    steps = built.definition["Steps"]
    assert [(s["Name"], s["Type"]) for s in steps] == [
        ("PreprocessData", "Processing"),
        ("BaselineDataQuality", "Processing"),
        ("TrainModel", "Training"),
        ("EvaluateModel", "Processing"),
        ("CheckMetricThreshold", "Condition"),
    ]
    check = steps[4]["Arguments"]
    assert [(s["Name"], s["Type"]) for s in check["IfSteps"]] == [
        ("RegisterModel", "RegisterModel")
    ]
    assert [(s["Name"], s["Type"]) for s in check["ElseSteps"]] == [("FailMetricThreshold", "Fail")]


def test_step_graph(built: Built) -> None:
    graph = {
        name: references(built.step(name)["Arguments"]) | set(built.step(name).get("DependsOn", []))
        for name in (
            "PreprocessData",
            "BaselineDataQuality",
            "TrainModel",
            "EvaluateModel",
            "RegisterModel",
        )
    }
    graph["CheckMetricThreshold"] = references(
        built.step("CheckMetricThreshold")["Arguments"]["Conditions"]
    )
    graph["FailMetricThreshold"] = references(built.step("FailMetricThreshold")["Arguments"])
    assert graph == {
        "PreprocessData": set(),
        "BaselineDataQuality": {"PreprocessData"},
        "TrainModel": {"PreprocessData"},
        "EvaluateModel": {"PreprocessData", "TrainModel"},
        "CheckMetricThreshold": {"EvaluateModel"},
        "RegisterModel": {"TrainModel", "EvaluateModel", "BaselineDataQuality"},
        "FailMetricThreshold": {"EvaluateModel"},
    }


def test_parameters_and_defaults(built: Built) -> None:
    gate = built.module.GATE
    parameters = {p["Name"]: (p["Type"], p["DefaultValue"]) for p in built.definition["Parameters"]}
    assert parameters == {
        "InputDataUrl": ("String", f"s3://{BUCKET}/{PIPELINE}/input/{DATASET.name}"),
        "ProcessingInstanceType": ("String", "ml.m5.xlarge"),
        "ProcessingInstanceCount": ("Integer", 1),
        "TrainingInstanceType": ("String", "ml.m5.xlarge"),
        "TrainingInstanceCount": ("Integer", 1),
        "ModelApprovalStatus": ("String", "PendingManualApproval"),
        gate.parameter: ("Float", gate.default_threshold),
    }


def test_condition_compares_the_report_metric_with_the_threshold(built: Built) -> None:
    gate = built.module.GATE
    (condition,) = built.step("CheckMetricThreshold")["Arguments"]["Conditions"]
    expected = "GreaterThanOrEqualTo" if gate.higher_is_better else "LessThanOrEqualTo"
    assert condition["Type"] == expected
    assert condition["LeftValue"] == {
        "Std:JsonGet": {
            "PropertyFile": {"Get": "Steps.EvaluateModel.PropertyFiles.EvaluationReport"},
            "Path": gate.json_path,
        }
    }
    assert condition["RightValue"] == {"Get": f"Parameters.{gate.parameter}"}
    assert built.step("EvaluateModel")["PropertyFiles"] == [
        {
            "PropertyFileName": "EvaluationReport",
            "OutputName": "evaluation",
            "FilePath": "evaluation.json",
        }
    ]


def test_fail_message_names_the_metric_and_threshold(built: Built) -> None:
    gate = built.module.GATE
    message = built.step("FailMetricThreshold")["Arguments"]["ErrorMessage"]["Std:Join"]["Values"]
    assert gate.name in message[0]
    assert message[1]["Std:JsonGet"]["Path"] == gate.json_path
    assert message[3] == {"Get": f"Parameters.{gate.parameter}"}


def test_code_is_read_from_the_code_prefix(built: Built) -> None:
    for step, script in (
        ("PreprocessData", "preprocess.py"),
        ("BaselineDataQuality", "data_quality.py"),
        ("EvaluateModel", "evaluate.py"),
    ):
        args = built.step(step)["Arguments"]
        (code,) = [i for i in args["ProcessingInputs"] if i["InputName"] == "code"]
        assert code["S3Input"]["S3Uri"] == f"{CODE}/{script}"
        assert args["AppSpecification"]["ContainerEntrypoint"] == [
            "python3",
            f"/opt/ml/processing/input/code/{script}",
        ]
    hyperparameters = built.step("TrainModel")["Arguments"]["HyperParameters"]
    assert json.loads(hyperparameters["sagemaker_program"]) == "train.py"
    assert json.loads(hyperparameters["sagemaker_submit_directory"]) == f"{CODE}/sourcedir.tar.gz"


def test_every_s3_location_is_under_the_bucket_or_code_prefix(built: Built) -> None:
    uris = [s for s in strings(built.definition) if s.startswith("s3://")]
    assert uris
    assert all(u.startswith((f"s3://{BUCKET}/{PIPELINE}/", f"{CODE}/")) for u in uris), uris


def test_images_are_the_framework_containers(built: Built) -> None:
    images = {
        built.step("PreprocessData")["Arguments"]["AppSpecification"]["ImageUri"],
        built.step("TrainModel")["Arguments"]["AlgorithmSpecification"]["TrainingImage"],
        built.step("EvaluateModel")["Arguments"]["AppSpecification"]["ImageUri"],
        built.step("BaselineDataQuality")["Arguments"]["AppSpecification"]["ImageUri"],
    }
    repository = "sagemaker-xgboost" if FRAMEWORK == "xgboost" else "sagemaker-scikit-learn"
    assert all(f".ecr.{REGION}.amazonaws.com/" in image for image in images)
    assert any(f"/{repository}:" in image for image in images)


def test_register_step_records_model_metrics_and_approval(built: Built) -> None:
    args = built.step("RegisterModel")["Arguments"]
    assert args["ModelPackageGroupName"] == GROUP
    assert args["ModelApprovalStatus"] == {"Get": "Parameters.ModelApprovalStatus"}
    statistics = args["ModelMetrics"]["ModelQuality"]["Statistics"]
    assert statistics["ContentType"] == "application/json"
    assert statistics["S3Uri"]["Std:Join"]["Values"] == [
        {"Get": "Steps.EvaluateModel.ProcessingOutputConfig.Outputs['evaluation'].S3Output.S3Uri"},
        "evaluation.json",
    ]
    baseline = "Steps.BaselineDataQuality.ProcessingOutputConfig.Outputs['baseline'].S3Output.S3Uri"
    for kind, name in (("Statistics", "statistics.json"), ("Constraints", "constraints.json")):
        for source in (
            args["ModelMetrics"]["ModelDataQuality"][kind],
            args["DriftCheckBaselines"]["ModelDataQuality"][kind],
        ):
            assert source["ContentType"] == "application/json"
            assert source["S3Uri"]["Std:Join"]["Values"] == [{"Get": baseline}, name]
    assert args["CustomerMetadataProperties"] == {
        "framework": FRAMEWORK,
        "problem_type": built.module.PROBLEM_TYPE,
        "data_quality_script": f"{CODE}/data_quality.py",
        "data_quality_image": built.step("BaselineDataQuality")["Arguments"]["AppSpecification"][
            "ImageUri"
        ],
    }
    (container,) = args["InferenceSpecification"]["Containers"]
    assert container["ModelDataUrl"] == {"Get": "Steps.TrainModel.ModelArtifacts.S3ModelArtifacts"}
    assert container["Environment"] == built.module.serving_environment()
    assert args["InferenceSpecification"]["SupportedContentTypes"] == ["text/csv"]


def test_script_defaults_match_the_container_paths_of_the_steps(built: Built) -> None:
    preprocess = load_script("preprocess.py").parse_args([])
    paths = local_paths(built.step("PreprocessData"))
    assert Path(paths["raw"]) == preprocess.input_dir
    for split in ("train", "validation", "test"):
        assert Path(paths[split]) == preprocess.output_dir / split
    evaluate = load_script("evaluate.py").parse_args([])
    paths = local_paths(built.step("EvaluateModel"))
    assert Path(paths["model"]) == evaluate.model_dir
    assert Path(paths["test"]) == evaluate.test_dir
    assert Path(paths["evaluation"]) == evaluate.output_dir
    baseline_step = built.step("BaselineDataQuality")
    arguments = baseline_step["Arguments"]["AppSpecification"]["ContainerArguments"]
    data_quality = load_script("data_quality.py").parse_args(arguments)
    paths = local_paths(baseline_step)
    assert (data_quality.mode, data_quality.skip_first_column) == ("baseline", True)
    assert Path(paths["train"]) == data_quality.input_dir
    assert Path(paths["baseline"]) == data_quality.output_dir
    channels = built.step("TrainModel")["Arguments"]["InputDataConfig"]
    assert [c["ChannelName"] for c in channels] == ["train", "validation"]


def test_default_code_prefix_is_content_addressed(module_aws_env: None) -> None:
    pipeline = import_pipeline().get_pipeline(
        region=REGION,
        role=ROLE,
        default_bucket=BUCKET,
        pipeline_name=PIPELINE,
        model_package_group_name=GROUP,
    )
    definition = json.loads(pipeline.definition())
    code_uris = [s for s in strings(definition) if "/code/" in s and "s3://" in s]
    prefix = f"s3://{BUCKET}/{PIPELINE}/code/{scripts_digest()}/"
    assert len(code_uris) == 5  # four steps, and the package metadata names data_quality.py
    assert all(u.strip('"').startswith(prefix) for u in code_uris), code_uris


def test_configs_are_validated_as_the_sdk_does_with_its_schema_checked_once(
    module_aws_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import jsonschema
    from sagemaker.core.config.config_manager import SageMakerConfig
    from sagemaker.core.config.config_schema import SAGEMAKER_PYTHON_SDK_CONFIG_SCHEMA

    module = import_pipeline()
    sdk_validate = SageMakerConfig.validate_sagemaker_config
    good = module.TELEMETRY_OPT_OUT
    bad = {"SchemaVersion": "1.0", "SageMaker": {"PythonSDK": {"Modules": {"Bogus": 1}}}}
    with pytest.raises(jsonschema.ValidationError) as sdk_refusal:
        sdk_validate(bad)
    checks: list[Any] = []
    validator_class = jsonschema.validators.validator_for(SAGEMAKER_PYTHON_SDK_CONFIG_SCHEMA)
    real_check = validator_class.check_schema

    def check_schema(cls: Any, schema: dict[str, Any]) -> None:
        checks.append(schema)
        real_check(schema)

    monkeypatch.setattr(validator_class, "check_schema", classmethod(check_schema))
    module._sdk_config_validator.cache_clear()
    with module.config_schema_checked_once():
        with module.config_schema_checked_once():  # nested blocks restore in turn
            for _ in range(3):
                SageMakerConfig.validate_sagemaker_config(good)
            with pytest.raises(jsonschema.ValidationError) as refusal:
                SageMakerConfig.validate_sagemaker_config(bad)
        assert SageMakerConfig.validate_sagemaker_config is not sdk_validate
    assert SageMakerConfig.validate_sagemaker_config is sdk_validate
    assert len(checks) == 1
    assert refusal.value.message == sdk_refusal.value.message
    assert list(refusal.value.path) == list(sdk_refusal.value.path)
