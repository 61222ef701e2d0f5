"""Batch inference as SDK v2 users build it: a FrameworkProcessor with a source folder and
requirements.txt preparing the data, an SKLearn estimator in script mode (with a library
passed as `dependencies`), a
RegisterModel whose model has an entry point (the SDK adds its RepackModel step, run by
`_repack_script_launcher.sh`), a CreateModel, a Transform of a CSV prefix, and a Fail step
whose message joins the transform's output path (taken when the parameter Stop is "yes").

    python pipeline_v2.py BUCKET ROLE_ARN GROUP  -> the definition JSON (last line of stdout)

Run against the sandbox (AWS_ENDPOINT_URL): the SDK uploads the code to s3://BUCKET.
"""

import sys
from pathlib import Path

import boto3
from sagemaker.inputs import TrainingInput
from sagemaker.processing import FrameworkProcessor, ProcessingInput, ProcessingOutput
from sagemaker.sklearn.estimator import SKLearn
from sagemaker.sklearn.model import SKLearnModel
from sagemaker.transformer import Transformer
from sagemaker.workflow.condition_step import ConditionStep
from sagemaker.workflow.conditions import ConditionEquals
from sagemaker.workflow.fail_step import FailStep
from sagemaker.workflow.functions import Join
from sagemaker.workflow.model_step import ModelStep
from sagemaker.workflow.parameters import ParameterString
from sagemaker.workflow.pipeline import Pipeline
from sagemaker.workflow.pipeline_context import PipelineSession
from sagemaker.workflow.step_collections import RegisterModel
from sagemaker.workflow.steps import ProcessingStep, TrainingStep, TransformStep

HERE = Path(__file__).parent
REGION = "us-east-1"


def main(bucket: str, role: str, group: str) -> str:
    session = PipelineSession(boto_session=boto3.Session(region_name=REGION), default_bucket=bucket)
    prefix = f"s3://{bucket}/batch"
    stop = ParameterString(name="Stop", default_value="no")
    processor = FrameworkProcessor(
        estimator_cls=SKLearn,
        framework_version="1.2-1",
        role=role,
        instance_type="ml.m5.large",
        instance_count=1,
        sagemaker_session=session,
        code_location=f"{prefix}/prep-code",
    )
    prepare = ProcessingStep(
        name="Prepare",
        step_args=processor.run(
            code="prepare.py",
            source_dir=str(HERE / "prep"),
            inputs=[ProcessingInput(source=f"{prefix}/raw", destination="/opt/ml/processing/raw")],
            outputs=[
                ProcessingOutput(
                    output_name="train",
                    source="/opt/ml/processing/train",
                    destination=f"{prefix}/train",
                ),
                ProcessingOutput(
                    output_name="seen",
                    source="/opt/ml/processing/seen",
                    destination=f"{prefix}/seen",
                ),
            ],
        ),
    )
    train_uri = prepare.properties.ProcessingOutputConfig.Outputs["train"].S3Output.S3Uri
    estimator = SKLearn(
        entry_point="train.py",
        source_dir=str(HERE / "code"),
        dependencies=[str(HERE / "shared")],
        framework_version="1.2-1",
        instance_type="ml.m5.large",
        role=role,
        sagemaker_session=session,
        output_path=f"{prefix}/model",
        code_location=f"{prefix}/code",
        hyperparameters={"fit-intercept": 1},
    )
    train = TrainingStep(
        name="Train",
        step_args=estimator.fit({"train": TrainingInput(train_uri, content_type="text/csv")}),
    )
    model_data = train.properties.ModelArtifacts.S3ModelArtifacts
    register = RegisterModel(
        name="Register",
        estimator=estimator,
        model_data=model_data,
        entry_point="inference.py",
        source_dir=str(HERE / "serve"),
        content_types=["text/csv"],
        response_types=["text/csv"],
        inference_instances=["ml.m5.large"],
        transform_instances=["ml.m5.large"],
        model_package_group_name=group,
    )
    model = SKLearnModel(
        model_data=model_data,
        entry_point="inference.py",
        source_dir=str(HERE / "serve"),
        framework_version="1.2-1",
        role=role,
        sagemaker_session=session,
        code_location=f"{prefix}/serve-code",
    )
    create = ModelStep(name="CreateBatchModel", step_args=model.create(instance_type="ml.m5.large"))
    transformer = Transformer(
        model_name=create.properties.ModelName,
        instance_type="ml.m5.large",
        instance_count=1,
        output_path=f"{prefix}/predictions",
        accept="text/csv",
        assemble_with="Line",
        strategy="MultiRecord",
        sagemaker_session=session,
    )
    transform = TransformStep(
        name="Score",
        step_args=transformer.transform(
            data=f"{prefix}/score",
            content_type="text/csv",
            split_type="Line",
            input_filter="$[1:]",
            join_source="Input",
            output_filter="$[0,-1]",
        ),
    )
    fail = FailStep(
        name="Stopped",
        error_message=Join(
            on=" ", values=["stopped after", transform.properties.TransformOutput.S3OutputPath]
        ),
    )
    gate = ConditionStep(
        name="StopHere",
        conditions=[ConditionEquals(left=stop, right="yes")],
        if_steps=[fail],
        else_steps=[],
    )
    gate.add_depends_on([transform])
    pipeline = Pipeline(
        name="BatchPipeline",
        parameters=[stop],
        steps=[prepare, train, register, create, transform, gate],
        sagemaker_session=session,
    )
    return str(pipeline.definition())


if __name__ == "__main__":
    print(main(*sys.argv[1:4]))
