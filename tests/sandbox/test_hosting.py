"""Sandbox hosting: SageMaker endpoints answered by model server processes.

Tiny models are trained here on generated data and packed as SageMaker packs them
(model.tar.gz); endpoints are made through the SageMaker API and invoked through
sagemaker-runtime, and the answers are compared with predicting in this process.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import joblib
import numpy as np
import pytest
import xgboost as xgb
from accounts import member_admin, model_role
from botocore.exceptions import ClientError
from sklearn.ensemble import GradientBoostingClassifier

from mlops_seeds import aws
from mlops_seeds.sandbox import Sandbox
from mlops_seeds.sandbox.hosting import endpoints, processes

ROOT = Path(__file__).resolve().parents[2]
SEED_INFERENCE = (
    ROOT / "seed_code/model-build/{{cookiecutter.__repo_name}}/pipelines/scripts/inference.py"
)
XGBOOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:3.2-0"
SKLEARN_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.9-0-cpu-py3"
ROLE = "arn:aws:iam::123456789012:role/model"
BUCKET = "hosting-test-models"
HUB = "123456789012"
REGION = "us-east-1"


def features(seed: int, rows: int = 40) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(rows, 4))


def tar_gz(files: dict[str, bytes]) -> bytes:
    """A model.tar.gz holding `files` (name -> content)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def train_xgboost(seed: int) -> xgb.Booster:
    """A small regression booster (coefficients differ by seed)."""
    x = features(seed)
    y = x @ np.array([1.0, 2.0, 3.0, 4.0]) * (seed + 1)
    return xgb.train({"objective": "reg:squarederror", "seed": 0}, xgb.DMatrix(x, label=y), 5)


def xgboost_archive(booster: xgb.Booster) -> bytes:
    """As the seed's train.py saves it: UBJSON under the container's file name."""
    return tar_gz({"xgboost-model": bytes(booster.save_raw(raw_format="ubj"))})


def train_sklearn() -> GradientBoostingClassifier:
    x = features(7)
    y = (x[:, 0] + x[:, 1] > 0).astype(int)
    return GradientBoostingClassifier(n_estimators=5, random_state=0).fit(x, y)


def sklearn_archive(model: GradientBoostingClassifier) -> bytes:
    """As the seed's train.py saves it: model.joblib and code/inference.py."""
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    return tar_gz(
        {"model.joblib": buffer.getvalue(), "code/inference.py": SEED_INFERENCE.read_bytes()}
    )


def csv_rows(x: np.ndarray) -> str:
    return "\n".join(",".join(repr(float(v)) for v in row) for row in x) + "\n"


def csv_values(body: bytes) -> list[float]:
    return [float(line) for line in body.decode().split()]


@pytest.fixture
def hub(sandbox: Sandbox) -> boto3.Session:
    """The hub, with its model execution role ROLE."""
    session = aws.make_session()
    assert model_role(session) == ROLE
    return session


@pytest.fixture
def sm(hub: boto3.Session) -> Any:
    return aws.client("sagemaker", hub)


@pytest.fixture
def smr(hub: boto3.Session) -> Any:
    return aws.client("sagemaker-runtime", hub)


@pytest.fixture
def upload(hub: boto3.Session) -> Callable[[str, bytes], str]:
    """upload(key, data) -> s3:// URL in the hub's model bucket."""
    s3 = aws.client("s3", hub)
    s3.create_bucket(Bucket=BUCKET)

    def put(key: str, data: bytes) -> str:
        s3.put_object(Bucket=BUCKET, Key=key, Body=data)
        return f"s3://{BUCKET}/{key}"

    return put


def make_endpoint(
    sm: Any, name: str, container: dict[str, Any], config: str | None = None, role: str = ROLE
) -> dict[str, Any]:
    """Model, endpoint config and endpoint `name`; the DescribeEndpoint answer."""
    config = config or f"{name}-config"
    sm.create_model(ModelName=f"{config}-model", ExecutionRoleArn=role, PrimaryContainer=container)
    sm.create_endpoint_config(
        EndpointConfigName=config,
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": f"{config}-model",
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": 1,
            }
        ],
    )
    sm.create_endpoint(EndpointName=name, EndpointConfigName=config)
    return dict(sm.describe_endpoint(EndpointName=name))


def server_of(name: str, account: str = HUB) -> processes.ModelServer:
    deployed = endpoints.deployment(account, REGION, name)
    assert deployed is not None
    return deployed.servers["AllTraffic"]


def test_xgboost_endpoint_answers_csv_with_the_models_predictions(
    sm: Any, smr: Any, upload: Callable[[str, bytes], str]
) -> None:
    booster = train_xgboost(0)
    url = upload("xgb/model.tar.gz", xgboost_archive(booster))
    described = make_endpoint(sm, "xgb", {"Image": XGBOOST_IMAGE, "ModelDataUrl": url})
    assert described["EndpointStatus"] == "InService"
    assert "FailureReason" not in described
    x = features(99, rows=5)

    response = smr.invoke_endpoint(
        EndpointName="xgb", Body=csv_rows(x), ContentType="text/csv", Accept="text/csv"
    )

    expected = booster.predict(xgb.DMatrix(x)).tolist()
    assert csv_values(response["Body"].read()) == expected
    assert response["ContentType"] == "text/csv; charset=utf-8"
    assert response["InvokedProductionVariant"] == "AllTraffic"


def test_xgboost_endpoint_answers_json_scores_when_asked(
    sm: Any, smr: Any, upload: Callable[[str, bytes], str]
) -> None:
    booster = train_xgboost(1)
    url = upload("xgb/model.tar.gz", xgboost_archive(booster))
    make_endpoint(sm, "xgb-json", {"Image": XGBOOST_IMAGE, "ModelDataUrl": url})
    x = features(5, rows=3)

    response = smr.invoke_endpoint(
        EndpointName="xgb-json", Body=csv_rows(x), ContentType="text/csv", Accept="application/json"
    )

    document = json.loads(response["Body"].read())
    expected = booster.predict(xgb.DMatrix(x)).tolist()
    assert document == {"predictions": [{"score": v} for v in expected]}
    assert response["ContentType"] == "application/json"


def test_sklearn_endpoint_runs_the_seeds_inference_script(
    sm: Any, smr: Any, upload: Callable[[str, bytes], str]
) -> None:
    model = train_sklearn()
    url = upload("sk/model.tar.gz", sklearn_archive(model))
    environment = {
        "SAGEMAKER_PROGRAM": "inference.py",
        "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code",
    }
    described = make_endpoint(
        sm, "sk", {"Image": SKLEARN_IMAGE, "ModelDataUrl": url, "Environment": environment}
    )
    assert described["EndpointStatus"] == "InService", described.get("FailureReason")
    x = features(11, rows=6)

    as_csv = smr.invoke_endpoint(
        EndpointName="sk", Body=csv_rows(x), ContentType="text/csv", Accept="text/csv"
    )
    as_json = smr.invoke_endpoint(
        EndpointName="sk", Body=json.dumps(x.tolist()), ContentType="application/json"
    )

    expected = model.predict_proba(x.astype(np.float32))[:, 1].tolist()
    assert csv_values(as_csv["Body"].read()) == expected
    assert json.loads(as_json["Body"].read()) == expected  # the container's default Accept
    assert as_json["ContentType"] == "application/json"


def test_endpoint_from_a_model_package_serves_the_packages_container(
    sm: Any, smr: Any, upload: Callable[[str, bytes], str]
) -> None:
    booster = train_xgboost(2)
    url = upload("pkg/model.tar.gz", xgboost_archive(booster))
    sm.create_model_package_group(ModelPackageGroupName="seeds")
    package_arn = sm.create_model_package(
        ModelPackageGroupName="seeds",
        InferenceSpecification={
            "Containers": [{"Image": XGBOOST_IMAGE, "ModelDataUrl": url, "Environment": {}}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
        ModelApprovalStatus="Approved",
    )["ModelPackageArn"]

    described = make_endpoint(sm, "pkg", {"ModelPackageName": package_arn})
    response = smr.invoke_endpoint(
        EndpointName="pkg", Body=csv_rows(features(3, rows=2)), ContentType="text/csv"
    )

    assert described["EndpointStatus"] == "InService"
    expected = booster.predict(xgb.DMatrix(features(3, rows=2))).tolist()
    assert csv_values(response["Body"].read()) == expected  # text/csv is the default Accept


def test_spoke_endpoint_reads_model_data_from_the_hubs_bucket(
    sandbox: Sandbox, hub: boto3.Session, upload: Callable[[str, bytes], str]
) -> None:
    spoke = member_admin("111111111111")
    booster = train_xgboost(3)
    url = upload("shared/model.tar.gz", xgboost_archive(booster))
    spoke_role = model_role(spoke)
    container = {"Image": XGBOOST_IMAGE, "ModelDataUrl": url}
    # Another account's object: the spoke's role may read it once the bucket says so too.
    refused = make_endpoint(aws.client("sagemaker", spoke), "refused", container, role=spoke_role)
    assert refused["EndpointStatus"] == "Failed"
    assert refused["FailureReason"].startswith(f"Could not access model data at {url}.")
    assert (
        f"User: arn:aws:sts::111111111111:assumed-role/model/SageMaker is not authorized to "
        f"perform: s3:GetObject on resource: arn:aws:s3:::{BUCKET}/shared/model.tar.gz "
        "because no resource-based policy allows the s3:GetObject action"
    ) in refused["FailureReason"]
    grant = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": spoke_role},
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{BUCKET}/shared/*",
            }
        ],
    }
    aws.client("s3", hub).put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(grant))

    described = make_endpoint(aws.client("sagemaker", spoke), "spoke", container, role=spoke_role)
    response = aws.client("sagemaker-runtime", spoke).invoke_endpoint(
        EndpointName="spoke", Body=csv_rows(features(4, rows=1)), ContentType="text/csv"
    )

    assert described["EndpointArn"].split(":")[4] == "111111111111"
    expected = booster.predict(xgb.DMatrix(features(4, rows=1))).tolist()
    assert csv_values(response["Body"].read()) == expected


def test_update_endpoint_swaps_the_model_and_stops_the_old_server(
    sm: Any, smr: Any, upload: Callable[[str, bytes], str]
) -> None:
    old, new = train_xgboost(0), train_xgboost(4)
    old_url = upload("v1/model.tar.gz", xgboost_archive(old))
    new_url = upload("v2/model.tar.gz", xgboost_archive(new))
    make_endpoint(sm, "swap", {"Image": XGBOOST_IMAGE, "ModelDataUrl": old_url}, config="v1")
    old_server = server_of("swap")
    sm.create_model(
        ModelName="v2-model",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": XGBOOST_IMAGE, "ModelDataUrl": new_url},
    )
    sm.create_endpoint_config(
        EndpointConfigName="v2",
        ProductionVariants=[
            {"VariantName": "AllTraffic", "ModelName": "v2-model", "InstanceType": "ml.m5.large"}
        ],
    )

    sm.update_endpoint(EndpointName="swap", EndpointConfigName="v2")

    x = features(8, rows=3)
    response = smr.invoke_endpoint(EndpointName="swap", Body=csv_rows(x), ContentType="text/csv")
    assert csv_values(response["Body"].read()) == new.predict(xgb.DMatrix(x)).tolist()
    described = sm.describe_endpoint(EndpointName="swap")
    assert (described["EndpointStatus"], described["EndpointConfigName"]) == ("InService", "v2")
    assert not old_server.running()
    assert not old_server.directory.exists()


def test_failed_update_keeps_serving_the_old_model(
    sm: Any, smr: Any, upload: Callable[[str, bytes], str]
) -> None:
    booster = train_xgboost(0)
    url = upload("keep/model.tar.gz", xgboost_archive(booster))
    make_endpoint(sm, "keep", {"Image": XGBOOST_IMAGE, "ModelDataUrl": url}, config="good")
    sm.create_model(
        ModelName="bad-model",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": XGBOOST_IMAGE, "ModelDataUrl": f"s3://{BUCKET}/missing.tar.gz"},
    )
    sm.create_endpoint_config(
        EndpointConfigName="bad",
        ProductionVariants=[
            {"VariantName": "AllTraffic", "ModelName": "bad-model", "InstanceType": "ml.m5.large"}
        ],
    )

    sm.update_endpoint(EndpointName="keep", EndpointConfigName="bad")

    described = sm.describe_endpoint(EndpointName="keep")
    assert (described["EndpointStatus"], described["EndpointConfigName"]) == ("InService", "good")
    assert "Could not find model data" in described["FailureReason"]
    x = features(9, rows=2)
    response = smr.invoke_endpoint(EndpointName="keep", Body=csv_rows(x), ContentType="text/csv")
    assert csv_values(response["Body"].read()) == booster.predict(xgb.DMatrix(x)).tolist()


def test_delete_endpoint_stops_its_server(
    sm: Any, smr: Any, upload: Callable[[str, bytes], str]
) -> None:
    url = upload("del/model.tar.gz", xgboost_archive(train_xgboost(0)))
    make_endpoint(sm, "gone", {"Image": XGBOOST_IMAGE, "ModelDataUrl": url})
    server = server_of("gone")

    sm.delete_endpoint(EndpointName="gone")

    assert not server.running()
    assert not processes.ping(server.port, server.token)
    assert endpoints.deployment(HUB, REGION, "gone") is None
    with pytest.raises(ClientError, match="Endpoint gone of account 123456789012 not found"):
        smr.invoke_endpoint(EndpointName="gone", Body=b"1,2,3,4", ContentType="text/csv")


def test_reset_stops_every_server(
    sandbox: Sandbox, sm: Any, upload: Callable[[str, bytes], str]
) -> None:
    url = upload("reset/model.tar.gz", xgboost_archive(train_xgboost(0)))
    make_endpoint(sm, "reset", {"Image": XGBOOST_IMAGE, "ModelDataUrl": url})
    server = server_of("reset")

    sandbox.reset()

    assert not server.running()
    assert processes.live() == []


def test_creating_an_existing_endpoint_is_refused(
    sm: Any, upload: Callable[[str, bytes], str]
) -> None:
    url = upload("dup/model.tar.gz", xgboost_archive(train_xgboost(0)))
    make_endpoint(sm, "dup", {"Image": XGBOOST_IMAGE, "ModelDataUrl": url})

    with pytest.raises(ClientError, match="Cannot create already existing endpoint"):
        sm.create_endpoint(EndpointName="dup", EndpointConfigName="dup-config")


@pytest.mark.parametrize(
    ("container", "reason"),
    [
        ({"Image": XGBOOST_IMAGE, "ModelDataUrl": f"s3://{BUCKET}/bad.tar.gz"}, "valid tar.gz"),
        ({"Image": XGBOOST_IMAGE, "ModelDataUrl": f"s3://{BUCKET}/none.tar.gz"}, "Could not find"),
        (
            {"Image": XGBOOST_IMAGE, "ModelDataUrl": "s3://no-such-bucket/m.tar.gz"},
            "no-such-bucket",
        ),
        ({"Image": XGBOOST_IMAGE, "ModelDataUrl": f"s3://{BUCKET}/junk.tar.gz"}, "ping health"),
        (
            {"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/mine:1", "ModelDataUrl": "x"},
            "cannot be served by the sandbox",
        ),
        (
            {"Image": SKLEARN_IMAGE, "ModelDataUrl": f"s3://{BUCKET}/junk.tar.gz"},
            "SAGEMAKER_PROGRAM",
        ),
        ({"ModelPackageName": "no-such-package"}, "Could not find model package"),
    ],
)
def test_bad_model_makes_the_endpoint_failed_with_a_reason(
    sm: Any,
    smr: Any,
    upload: Callable[[str, bytes], str],
    container: dict[str, Any],
    reason: str,
) -> None:
    upload("bad.tar.gz", b"not an archive")
    upload("junk.tar.gz", tar_gz({"xgboost-model": b"not a booster"}))

    described = make_endpoint(sm, "broken", container)

    assert described["EndpointStatus"] == "Failed"
    assert reason in described["FailureReason"]
    assert processes.live() == []
    with pytest.raises(ClientError, match="is Failed, not InService"):
        smr.invoke_endpoint(EndpointName="broken", Body=b"1,2,3,4", ContentType="text/csv")


def test_unknown_endpoint_is_a_validation_error(smr: Any) -> None:
    with pytest.raises(ClientError) as caught:
        smr.invoke_endpoint(EndpointName="nope", Body=b"1,2", ContentType="text/csv")

    error = caught.value.response
    assert error["Error"]["Code"] == "ValidationError"
    assert error["Error"]["Message"] == "Endpoint nope of account 123456789012 not found."
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_a_model_refusing_the_request_is_a_model_error(
    sm: Any, smr: Any, upload: Callable[[str, bytes], str]
) -> None:
    url = upload("err/model.tar.gz", xgboost_archive(train_xgboost(0)))
    make_endpoint(sm, "err", {"Image": XGBOOST_IMAGE, "ModelDataUrl": url})

    with pytest.raises(smr.exceptions.ModelError) as caught:
        smr.invoke_endpoint(
            EndpointName="err", Body=b"[[1, 2, 3, 4]]", ContentType="application/json"
        )

    error = caught.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 424
    assert error["OriginalStatusCode"] == 415
    assert "application/json" in error["OriginalMessage"]
    assert error["Error"]["Message"].startswith("Received client error (415) from primary")
    assert error["LogStreamArn"].endswith(":log-group:/aws/sagemaker/Endpoints/err")


def test_target_variant_picks_the_variant(
    sm: Any, smr: Any, upload: Callable[[str, bytes], str]
) -> None:
    first, second = train_xgboost(0), train_xgboost(5)
    for name, booster in (("a", first), ("b", second)):
        url = upload(f"{name}/model.tar.gz", xgboost_archive(booster))
        sm.create_model(
            ModelName=name,
            ExecutionRoleArn=ROLE,
            PrimaryContainer={"Image": XGBOOST_IMAGE, "ModelDataUrl": url},
        )
    sm.create_endpoint_config(
        EndpointConfigName="ab",
        ProductionVariants=[
            {"VariantName": v, "ModelName": v, "InstanceType": "ml.m5.large"} for v in ("a", "b")
        ],
    )
    sm.create_endpoint(EndpointName="ab", EndpointConfigName="ab")
    x = features(6, rows=2)

    response = smr.invoke_endpoint(
        EndpointName="ab", Body=csv_rows(x), ContentType="text/csv", TargetVariant="b"
    )

    assert response["InvokedProductionVariant"] == "b"
    assert csv_values(response["Body"].read()) == second.predict(xgb.DMatrix(x)).tolist()
    with pytest.raises(ClientError, match="Variant c not found"):
        smr.invoke_endpoint(EndpointName="ab", Body=csv_rows(x), TargetVariant="c")


def test_model_server_log_is_kept_when_the_model_fails(
    sm: Any, upload: Callable[[str, bytes], str]
) -> None:
    url = upload("junk.tar.gz", tar_gz({"xgboost-model": b"not a booster"}))

    described = make_endpoint(sm, "logged", {"Image": XGBOOST_IMAGE, "ModelDataUrl": url})

    log = Path(described["FailureReason"].rsplit("(log: ", 1)[1].rstrip(")"))
    assert "cannot be loaded as an XGBoost model" in log.read_text()
