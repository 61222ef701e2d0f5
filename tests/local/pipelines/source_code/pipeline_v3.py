"""A script-mode pipeline in SDK v3: a FrameworkProcessor with a source folder and
requirements.txt (the SDK's runproc.sh unpacks and installs them), ModelTrainer with
SourceCode (a source folder, an entry script and requirements.txt; the SDK uploads them with
its `sm_drivers` and runs them with a ContainerEntrypoint), a registration whose model has
an entry point (the SDK adds its RepackModel step), and batch inference: a CreateModel, a
Transform with DataProcessing, and a Fail step (taken when the parameter Stop is "yes") whose
message joins the transform's output path.

    python pipeline_v3.py BUCKET ROLE_ARN GROUP -> the definition JSON on stdout

Run against the sandbox (AWS_ENDPOINT_URL): the SDK uploads the code to s3://BUCKET.
"""

import sys
from pathlib import Path

import boto3
from sagemaker.core import image_uris
from sagemaker.core.processing import FrameworkProcessor
from sagemaker.core.shapes import ProcessingOutput, ProcessingS3Output
from sagemaker.core.training.configs import Compute, InputData, OutputDataConfig, SourceCode
from sagemaker.core.transformer import Transformer
from sagemaker.core.workflow.conditions import ConditionEquals
from sagemaker.core.workflow.functions import Join
from sagemaker.core.workflow.parameters import ParameterString
from sagemaker.core.workflow.pipeline_context import PipelineSession
from sagemaker.mlops.workflow.condition_step import ConditionStep
from sagemaker.mlops.workflow.fail_step import FailStep
from sagemaker.mlops.workflow.model_step import ModelStep
from sagemaker.mlops.workflow.pipeline import Pipeline
from sagemaker.mlops.workflow.steps import ProcessingStep, TrainingStep, TransformStep
from sagemaker.serve.model_builder import ModelBuilder
from sagemaker.train import ModelTrainer

HERE = Path(__file__).parent
REGION = "us-east-1"


def main(bucket: str, role: str, group: str) -> str:
    session = PipelineSession(boto_session=boto3.Session(region_name=REGION), default_bucket=bucket)
    image = image_uris.retrieve("sklearn", REGION, version="1.2-1")
    trainer = ModelTrainer(
        training_image=image,
        source_code=SourceCode(
            source_dir=str(HERE / "code"), entry_script="train.py", requirements="requirements.txt"
        ),
        hyperparameters={"scale": 2},
        compute=Compute(instance_type="ml.m5.xlarge", instance_count=1),
        role=role,
        sagemaker_session=session,
        base_job_name="v3-script",
        output_data_config=OutputDataConfig(s3_output_path=f"s3://{bucket}/models"),
    )
    train = TrainingStep(
        name="TrainScript",
        step_args=trainer.train(
            input_data_config=[InputData(channel_name="train", data_source=f"s3://{bucket}/train/")]
        ),
    )
    builder = ModelBuilder(
        s3_model_data_url=train.properties.ModelArtifacts.S3ModelArtifacts,
        image_uri=image_uris.retrieve("sklearn", REGION, version="1.2-1", image_scope="inference"),
        role_arn=role,
        sagemaker_session=session,
        instance_type="ml.m5.large",
        source_code=SourceCode(source_dir=str(HERE / "serve"), entry_script="inference.py"),
        dependencies={},
    )
    register = ModelStep(
        name="RegisterScript",
        step_args=builder.register(
            model_package_group_name=group,
            content_types=["text/csv"],
            response_types=["application/json"],
            inference_instances=["ml.m5.large"],
            transform_instances=["ml.m5.large"],
        ),
    )
    processor = FrameworkProcessor(
        image_uri=image,
        command=["python3"],
        role=role,
        instance_type="ml.m5.xlarge",
        instance_count=1,
        base_job_name="v3-prepare",
        sagemaker_session=session,
        code_location=f"s3://{bucket}/prepare-code",
    )
    prepare = ProcessingStep(
        name="Prepare",
        step_args=processor.run(
            code="prepare.py",
            source_dir=str(HERE / "prep"),
            arguments=["--flag", "on"],
            outputs=[
                ProcessingOutput(
                    output_name="output",
                    s3_output=ProcessingS3Output(
                        s3_uri=f"s3://{bucket}/prepared",
                        local_path="/opt/ml/processing/output",
                        s3_upload_mode="EndOfJob",
                    ),
                )
            ],
        ),
    )
    create = ModelStep(name="CreateScriptModel", step_args=builder.build())
    transformer = Transformer(
        model_name=create.properties.ModelName,
        instance_count=1,
        instance_type="ml.m5.large",
        strategy="MultiRecord",
        assemble_with="Line",
        accept="text/csv",
        output_path=f"s3://{bucket}/predictions",
        sagemaker_session=session,
    )
    transform = TransformStep(
        name="ScoreScript",
        step_args=transformer.transform(
            data=f"s3://{bucket}/score",
            content_type="text/csv",
            split_type="Line",
            input_filter="$[1:]",
            join_source="Input",
            output_filter="$[0,-1]",
        ),
    )
    stop = ParameterString(name="Stop", default_value="no")
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
        depends_on=[transform],
    )
    pipeline = Pipeline(
        name="ScriptPipeline",
        parameters=[stop],
        steps=[prepare, train, register, create, transform, gate],
        sagemaker_session=session,
    )
    return str(pipeline.definition())


if __name__ == "__main__":
    print(main(*sys.argv[1:4]))
