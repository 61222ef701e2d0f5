"""The abalone pipeline as AWS's default Studio template writes it, in SDK v2: an
SKLearnProcessor, an Estimator on the XGBoost image (the built-in algorithm), a
ScriptProcessor evaluation, a condition, RegisterModel, else a Fail step.

    python pipeline_v2.py BUCKET ROLE_ARN GROUP  -> the definition JSON on stdout

Run in an environment with sagemaker 2.x; code and data are s3:// URIs under
s3://BUCKET/abalone/ (nothing is uploaded).
"""

import sys

import boto3
from sagemaker import image_uris
from sagemaker.estimator import Estimator
from sagemaker.inputs import TrainingInput
from sagemaker.processing import ProcessingInput, ProcessingOutput, ScriptProcessor
from sagemaker.sklearn.processing import SKLearnProcessor
from sagemaker.workflow.condition_step import ConditionStep
from sagemaker.workflow.conditions import ConditionLessThanOrEqualTo
from sagemaker.workflow.fail_step import FailStep
from sagemaker.workflow.functions import Join, JsonGet
from sagemaker.workflow.parameters import ParameterFloat
from sagemaker.workflow.pipeline import Pipeline
from sagemaker.workflow.pipeline_context import PipelineSession
from sagemaker.workflow.properties import PropertyFile
from sagemaker.workflow.step_collections import RegisterModel
from sagemaker.workflow.steps import ProcessingStep, TrainingStep

REGION = "us-east-1"
BASE = "/opt/ml/processing"


def main(bucket: str, role: str, group: str) -> str:
    session = PipelineSession(boto_session=boto3.Session(region_name=REGION), default_bucket=bucket)
    prefix = f"s3://{bucket}/abalone"
    threshold = ParameterFloat(name="MseThreshold", default_value=6.0)
    xgboost = image_uris.retrieve("xgboost", REGION, version="1.7-1")

    def output(name: str) -> ProcessingOutput:
        # A destination given: the SDK would otherwise make one with the default bucket
        # (an S3 call, even with default_bucket set).
        return ProcessingOutput(
            output_name=name, source=f"{BASE}/{name}", destination=f"{prefix}/out/{name}"
        )

    preprocessor = SKLearnProcessor(
        framework_version="1.2-1",
        role=role,
        instance_type="ml.m5.xlarge",
        instance_count=1,
        base_job_name="abalone-preprocess",
        sagemaker_session=session,
    )
    preprocess = ProcessingStep(
        name="PreprocessAbaloneData",
        step_args=preprocessor.run(
            code=f"{prefix}/code/preprocess.py",
            inputs=[
                ProcessingInput(source=f"{prefix}/data/abalone.csv", destination=f"{BASE}/input")
            ],
            outputs=[output(name) for name in ("train", "validation", "test")],
        ),
    )
    splits = preprocess.properties.ProcessingOutputConfig.Outputs

    estimator = Estimator(
        image_uri=xgboost,
        instance_type="ml.m5.xlarge",
        instance_count=1,
        output_path=f"{prefix}/model",
        role=role,
        sagemaker_session=session,
        base_job_name="abalone-train",
    )
    estimator.set_hyperparameters(
        objective="reg:squarederror",
        num_round=50,
        max_depth=5,
        eta=0.2,
        gamma=4,
        min_child_weight=6,
        subsample=0.7,
    )
    train = TrainingStep(
        name="TrainAbaloneModel",
        step_args=estimator.fit(
            {
                channel: TrainingInput(
                    s3_data=splits[channel].S3Output.S3Uri, content_type="text/csv"
                )
                for channel in ("train", "validation")
            }
        ),
    )
    model_uri = train.properties.ModelArtifacts.S3ModelArtifacts

    report = PropertyFile(name="EvaluationReport", output_name="evaluation", path="evaluation.json")
    evaluator = ScriptProcessor(
        image_uri=xgboost,
        command=["python3"],
        instance_type="ml.m5.xlarge",
        instance_count=1,
        base_job_name="abalone-eval",
        role=role,
        sagemaker_session=session,
    )
    evaluate = ProcessingStep(
        name="EvaluateAbaloneModel",
        step_args=evaluator.run(
            code=f"{prefix}/code/evaluate.py",
            inputs=[
                ProcessingInput(source=model_uri, destination=f"{BASE}/model"),
                ProcessingInput(source=splits["test"].S3Output.S3Uri, destination=f"{BASE}/test"),
            ],
            outputs=[output("evaluation")],
        ),
        property_files=[report],
    )
    register = RegisterModel(
        name="RegisterAbaloneModel",
        estimator=estimator,
        model_data=model_uri,
        content_types=["text/csv"],
        response_types=["text/csv"],
        inference_instances=["ml.m5.large"],
        transform_instances=["ml.m5.large"],
        model_package_group_name=group,
        approval_status="PendingManualApproval",
    )
    mse = JsonGet(
        step_name=evaluate.name, property_file=report, json_path="regression_metrics.mse.value"
    )
    fail = FailStep(
        name="AbaloneMseFail", error_message=Join(on=" ", values=["mse above", threshold])
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
