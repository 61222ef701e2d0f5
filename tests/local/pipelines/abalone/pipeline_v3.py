"""An abalone-style pipeline as AWS's default Studio template builds it, in SDK v3: a
scikit-learn preprocessing script, the built-in XGBoost algorithm (an image and
hyperparameters, no script), an evaluation script on the XGBoost image, a condition on the
mse and a registration of the built-in algorithm's model, else a Fail step.

    python pipeline_v3.py BUCKET ROLE_ARN GROUP  -> the definition JSON on stdout

Run with SAGEMAKER_VALIDATE_ROLE=false and a region; code and data are s3:// URIs under
s3://BUCKET/abalone/ (nothing is uploaded, nothing is called).
"""

import sys

import boto3
from sagemaker.core import image_uris
from sagemaker.core.processing import ScriptProcessor
from sagemaker.core.shapes import (
    ProcessingInput,
    ProcessingOutput,
    ProcessingS3Input,
    ProcessingS3Output,
)
from sagemaker.core.training.configs import Compute, InputData, OutputDataConfig
from sagemaker.core.workflow.conditions import ConditionLessThanOrEqualTo
from sagemaker.core.workflow.functions import Join, JsonGet
from sagemaker.core.workflow.parameters import ParameterFloat
from sagemaker.core.workflow.pipeline_context import PipelineSession
from sagemaker.core.workflow.properties import PropertyFile
from sagemaker.mlops.workflow.condition_step import ConditionStep
from sagemaker.mlops.workflow.fail_step import FailStep
from sagemaker.mlops.workflow.model_step import ModelStep
from sagemaker.mlops.workflow.pipeline import Pipeline
from sagemaker.mlops.workflow.steps import ProcessingStep, TrainingStep
from sagemaker.serve.model_builder import ModelBuilder
from sagemaker.train import ModelTrainer

REGION = "us-east-1"
BASE = "/opt/ml/processing"


def main(bucket: str, role: str, group: str) -> str:
    session = PipelineSession(boto_session=boto3.Session(region_name=REGION), default_bucket=bucket)
    prefix = f"s3://{bucket}/abalone"
    threshold = ParameterFloat(name="MseThreshold", default_value=6.0)
    sklearn = image_uris.retrieve("sklearn", REGION, version="1.2-1")
    xgboost = image_uris.retrieve("xgboost", REGION, version="1.7-1")

    def s3_input(name: str, source: object, destination: str) -> ProcessingInput:
        return ProcessingInput(
            input_name=name,
            s3_input=ProcessingS3Input(
                s3_uri=source,
                local_path=destination,
                s3_data_type="S3Prefix",
                s3_input_mode="File",
            ),
        )

    def s3_output(name: str) -> ProcessingOutput:
        return ProcessingOutput(
            output_name=name,
            s3_output=ProcessingS3Output(
                s3_uri=f"{prefix}/out/{name}",
                local_path=f"{BASE}/{name}",
                s3_upload_mode="EndOfJob",
            ),
        )

    preprocessor = ScriptProcessor(
        role=role,
        image_uri=sklearn,
        command=["python3"],
        instance_type="ml.m5.xlarge",
        instance_count=1,
        base_job_name="abalone-preprocess",
        sagemaker_session=session,
    )
    preprocess = ProcessingStep(
        name="PreprocessAbaloneData",
        step_args=preprocessor.run(
            code=f"{prefix}/code/preprocess.py",
            inputs=[s3_input("input", f"{prefix}/data/abalone.csv", f"{BASE}/input")],
            outputs=[s3_output(n) for n in ("train", "validation", "test")],
        ),
    )
    splits = preprocess.properties.ProcessingOutputConfig.Outputs

    trainer = ModelTrainer(
        training_image=xgboost,
        role=role,
        sagemaker_session=session,
        base_job_name="abalone-train",
        compute=Compute(instance_type="ml.m5.xlarge", instance_count=1),
        hyperparameters={
            "objective": "reg:squarederror",
            "num_round": 50,
            "max_depth": 5,
            "eta": 0.2,
            "gamma": 4,
            "min_child_weight": 6,
            "subsample": 0.7,
        },
        output_data_config=OutputDataConfig(s3_output_path=f"{prefix}/model"),
    )
    train = TrainingStep(
        name="TrainAbaloneModel",
        step_args=trainer.train(
            input_data_config=[
                InputData(
                    channel_name=channel,
                    data_source=splits[channel].S3Output.S3Uri,
                    content_type="text/csv",
                )
                for channel in ("train", "validation")
            ]
        ),
    )
    model_uri = train.properties.ModelArtifacts.S3ModelArtifacts

    report = PropertyFile(name="EvaluationReport", output_name="evaluation", path="evaluation.json")
    evaluator = ScriptProcessor(
        role=role,
        image_uri=xgboost,
        command=["python3"],
        instance_type="ml.m5.xlarge",
        instance_count=1,
        base_job_name="abalone-eval",
        sagemaker_session=session,
    )
    evaluate = ProcessingStep(
        name="EvaluateAbaloneModel",
        step_args=evaluator.run(
            code=f"{prefix}/code/evaluate.py",
            inputs=[
                s3_input("model", model_uri, f"{BASE}/model"),
                s3_input("test", splits["test"].S3Output.S3Uri, f"{BASE}/test"),
            ],
            outputs=[s3_output("evaluation")],
        ),
        property_files=[report],
    )

    builder = ModelBuilder(
        s3_model_data_url=model_uri,
        image_uri=xgboost,
        role_arn=role,
        sagemaker_session=session,
        instance_type="ml.m5.large",
        dependencies={},
    )
    register = ModelStep(
        name="RegisterAbaloneModel",
        step_args=builder.register(
            model_package_group_name=group,
            content_types=["text/csv"],
            response_types=["text/csv"],
            inference_instances=["ml.m5.large"],
            transform_instances=["ml.m5.large"],
            approval_status="PendingManualApproval",
        ),
    )
    mse = JsonGet(
        step_name=evaluate.name, property_file=report, json_path="regression_metrics.mse.value"
    )
    fail = FailStep(
        name="AbaloneMseFail",
        error_message=Join(on=" ", values=["mse above", threshold]),
    )
    check = ConditionStep(
        name="CheckMseAbaloneEvaluation",
        conditions=[ConditionLessThanOrEqualTo(left=mse, right=threshold)],
        if_steps=[register],
        else_steps=[fail],
    )
    pipeline = Pipeline(
        name="AbalonePipeline",
        parameters=[threshold],
        steps=[preprocess, train, evaluate, check],
        sagemaker_session=session,
    )
    return str(pipeline.definition())


if __name__ == "__main__":
    print(main(*sys.argv[1:4]))
