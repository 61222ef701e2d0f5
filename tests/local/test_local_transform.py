"""Transform steps (batch transform) run by the local runner on the sandbox: a CreateModel
step, a Transform step with DataProcessing, and a Fail step whose message joins the
transform's output path; the output rows are the model's predictions."""

import io
import tarfile
from typing import Any

import boto3
import numpy as np
import pytest
import xgboost as xgb

from mlops_seeds import aws
from mlops_seeds.errors import SeedsError
from mlops_seeds.local import data_processing, run_definition
from mlops_seeds.local.record import FAILED, SUCCEEDED

BUCKET = "transform-bucket"
XGBOOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
ROLE = "arn:aws:iam::123456789012:role/ModelRole"


def _booster() -> tuple[xgb.Booster, bytes]:
    rng = np.random.default_rng(5)
    x = rng.uniform(0, 1, (100, 3))
    booster = xgb.train({"max_depth": 2}, xgb.DMatrix(x, label=x[:, 0] * 10), num_boost_round=5)
    raw = booster.save_raw("ubj")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        info = tarfile.TarInfo("xgboost-model")
        info.size = len(raw)
        archive.addfile(info, io.BytesIO(bytes(raw)))
    return booster, buffer.getvalue()


def _rows(seed: int, count: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 1, (count, 3))


def _csv(ids: list[int], rows: np.ndarray) -> str:
    return "".join(
        f"{i}," + ",".join(f"{v:.4f}" for v in row) + "\n" for i, row in zip(ids, rows, strict=True)
    )


def _definition(**transform: Any) -> dict[str, Any]:
    transform_args = {
        "ModelName": {"Get": "Steps.CreateModel.ModelName"},
        "TransformInput": {
            "DataSource": {
                "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/batch/"}
            },
            "ContentType": "text/csv",
            "SplitType": "Line",
        },
        "TransformOutput": {
            "S3OutputPath": f"s3://{BUCKET}/predictions",
            "AssembleWith": "Line",
            "Accept": "text/csv",
        },
        "TransformResources": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
        "DataProcessing": {
            "InputFilter": "$[1:]",
            "JoinSource": "Input",
            "OutputFilter": "$[0,-1]",
        },
        **transform,
    }
    return {
        "Version": "2020-12-01",
        "Parameters": [{"Name": "Stop", "Type": "String", "DefaultValue": "no"}],
        "Steps": [
            {
                "Name": "CreateModel",
                "Type": "Model",
                "Arguments": {
                    "ExecutionRoleArn": ROLE,
                    "PrimaryContainer": {
                        "Image": XGBOOST_IMAGE,
                        "ModelDataUrl": f"s3://{BUCKET}/model/model.tar.gz",
                    },
                },
            },
            {"Name": "Score", "Type": "Transform", "Arguments": transform_args},
            {
                "Name": "StopHere",
                "Type": "Condition",
                "Arguments": {
                    "Conditions": [
                        {
                            "Type": "Equals",
                            "LeftValue": {"Get": "Parameters.Stop"},
                            "RightValue": "yes",
                        }
                    ],
                    "IfSteps": [
                        {
                            "Name": "Stopped",
                            "Type": "Fail",
                            "Arguments": {
                                "ErrorMessage": {
                                    "Std:Join": {
                                        "On": " ",
                                        "Values": [
                                            "stopped after writing",
                                            {"Get": "Steps.Score.TransformOutput.S3OutputPath"},
                                        ],
                                    }
                                }
                            },
                        }
                    ],
                    "ElseSteps": [],
                },
            },
        ],
    }


@pytest.fixture
def uploaded(sandbox_session: boto3.Session) -> dict[str, Any]:
    booster, archive = _booster()
    s3 = aws.client("s3", sandbox_session)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="model/model.tar.gz", Body=archive)
    first, second = _rows(1, 7), _rows(2, 4)
    s3.put_object(Bucket=BUCKET, Key="batch/part-1.csv", Body=_csv(list(range(7)), first).encode())
    s3.put_object(
        Bucket=BUCKET, Key="batch/day/part-2.csv", Body=_csv([70, 71, 72, 73], second).encode()
    )
    return {
        "booster": booster,
        "files": {"part-1.csv": (range(7), first), "day/part-2.csv": (range(70, 74), second)},
    }


def _read(session: boto3.Session, key: str) -> str:
    body: bytes = aws.client("s3", session).get_object(Bucket=BUCKET, Key=key)["Body"].read()
    return body.decode()


@pytest.mark.parametrize("strategy", ["MultiRecord", "SingleRecord"])
def test_a_transform_writes_each_files_predictions_joined_and_filtered(
    sandbox_session: boto3.Session, uploaded: dict[str, Any], strategy: str
) -> None:
    record = run_definition(
        _definition(BatchStrategy=strategy), session=sandbox_session, echo=lambda _: None
    )
    assert record.status == SUCCEEDED, record.failure_reason
    assert record.step("Score").properties["TransformJobStatus"] == "Completed"
    booster = uploaded["booster"]
    for name, (ids, rows) in uploaded["files"].items():
        lines = _read(sandbox_session, f"predictions/{name}.out").splitlines()
        expected = booster.predict(xgb.DMatrix(np.round(rows, 4)))
        assert [int(line.split(",")[0]) for line in lines] == list(ids)  # joined input id
        assert np.allclose([float(line.split(",")[1]) for line in lines], expected, atol=1e-4)


def test_the_fail_step_joins_the_transforms_output_path(
    sandbox_session: boto3.Session, uploaded: dict[str, Any]
) -> None:
    record = run_definition(
        _definition(), {"Stop": "yes"}, session=sandbox_session, echo=lambda _: None
    )
    assert record.status == FAILED
    assert (
        record.step("Stopped").failure_reason == f"stopped after writing s3://{BUCKET}/predictions"
    )


def test_a_whole_file_is_one_request_without_split(
    sandbox_session: boto3.Session, uploaded: dict[str, Any]
) -> None:
    definition = _definition(DataProcessing={})
    definition["Steps"][1]["Arguments"]["TransformInput"]["SplitType"] = "None"
    s3 = aws.client("s3", sandbox_session)
    rows = _rows(9, 3)
    s3.put_object(
        Bucket=BUCKET,
        Key="batch/part-1.csv",
        Body=("\n".join(",".join(f"{v:.4f}" for v in r) for r in rows) + "\n").encode(),
    )
    s3.delete_object(Bucket=BUCKET, Key="batch/day/part-2.csv")
    record = run_definition(definition, session=sandbox_session, echo=lambda _: None)
    assert record.status == SUCCEEDED, record.failure_reason
    values = [float(v) for v in _read(sandbox_session, "predictions/part-1.csv.out").split()]
    assert np.allclose(
        values, uploaded["booster"].predict(xgb.DMatrix(np.round(rows, 4))), atol=1e-4
    )


def test_records_the_model_cannot_read_fail_the_job_with_its_answer(
    sandbox_session: boto3.Session, uploaded: dict[str, Any]
) -> None:
    aws.client("s3", sandbox_session).put_object(
        Bucket=BUCKET, Key="batch/part-1.csv", Body=b"id,one,two,three\n1,0.1,0.2,0.3\n"
    )
    definition = _definition(DataProcessing={"InputFilter": "$[1:]"})
    record = run_definition(definition, session=sandbox_session, echo=lambda _: None)
    assert record.status == FAILED
    assert record.step("Score").failure_reason.startswith(
        "ClientError: part-1.csv: the model answered 415: Loading csv data failed"
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"SplitType": "RecordIO"}, "SplitType RecordIO: only None and Line are supported locally"),
        ({"CompressionType": "Gzip"}, "CompressionType: compressed input is not supported"),
    ],
)
def test_what_the_runner_cannot_transform_is_refused_before_anything_runs(
    sandbox_session: boto3.Session, change: dict[str, str], message: str
) -> None:
    definition = _definition()
    definition["Steps"][1]["Arguments"]["TransformInput"].update(change)
    with pytest.raises(SeedsError, match=f"step Score: {message}"):
        run_definition(definition, session=sandbox_session, echo=lambda _: None)


def test_a_filter_outside_the_subset_is_refused_before_anything_runs(
    sandbox_session: boto3.Session,
) -> None:
    definition = _definition(DataProcessing={"InputFilter": "$..features"})
    with pytest.raises(SeedsError, match=r"DataProcessing.InputFilter '\$\.\.features': not in"):
        run_definition(definition, session=sandbox_session, echo=lambda _: None)


@pytest.mark.parametrize(
    ("expression", "value", "expected"),
    [
        ("$", [1, 2], [1, 2]),
        ("$[1:]", ["id", "a", "b"], ["a", "b"]),
        ("$[0,-1]", ["id", "a", "p"], ["id", "p"]),
        ("$[:2]", ["a", "b", "c"], ["a", "b"]),
        ("$.features", {"features": [1, 2], "id": 3}, [1, 2]),
        ("$['id']", {"id": 3}, 3),
        ("$.features[0:1]", {"features": [1, 2]}, [1]),
    ],
)
def test_filters_pick_as_the_guides_examples(expression: str, value: Any, expected: Any) -> None:
    assert data_processing.apply_filter(expression, value) == expected


def test_joins_follow_the_record_formats() -> None:
    csv, json_ = data_processing.CSV, data_processing.JSON
    assert data_processing.join("1,a", "0.5", csv, csv) == ["1", "a", "0.5"]
    assert data_processing.join('{"id": 1}', '{"score": 0.5}', json_, json_) == {
        "id": 1,
        "SageMakerOutput": {"score": 0.5},
    }
    assert data_processing.join("1,a", '{"score": 0.5}', csv, json_) == {
        "SageMakerInput": ["1", "a"],
        "SageMakerOutput": {"score": 0.5},
    }
