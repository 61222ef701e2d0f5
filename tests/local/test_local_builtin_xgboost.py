"""The built-in XGBoost algorithm (algorithm mode: an XGBoost image, hyperparameters, no
script) trained by the local runner as its container trains, and served by the sandbox's
model server from the model.tar.gz it writes."""

import json
import re
import tarfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb
from local_kit import SKLEARN_IMAGE, XGBOOST_IMAGE, Kit

from mlops_seeds.errors import SeedsError
from mlops_seeds.local import run_definition
from mlops_seeds.local.builtin import xgboost_algorithm
from mlops_seeds.local.record import FAILED, SUCCEEDED
from mlops_seeds.sandbox.hosting import xgboost_container

FEATURES = 3


def _rows(count: int, seed: int) -> np.ndarray:
    """Label first, then FEATURES columns: y = 3*x0 - 2*x1 (+ x2 ignored)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, size=(count, FEATURES))
    y = 3 * x[:, 0] - 2 * x[:, 1]
    return np.column_stack([y, x])


def _write_csv(folder: Path, rows: np.ndarray) -> None:
    np.savetxt(folder / "part-0.csv", rows, delimiter=",", fmt="%.6f")


def _write_parquet(folder: Path, rows: np.ndarray) -> None:
    columns = ["label", *(f"x{i}" for i in range(FEATURES))]
    pd.DataFrame(rows, columns=columns).to_parquet(folder / "part-0.parquet")


def _write_libsvm(folder: Path, rows: np.ndarray) -> None:
    lines = [
        f"{row[0]:.6f} " + " ".join(f"{i}:{v:.6f}" for i, v in enumerate(row[1:])) for row in rows
    ]
    (folder / "part-0.libsvm").write_text("\n".join(lines) + "\n")


def algorithm_step(
    kit: Kit,
    hyperparameters: dict[str, str],
    content_type: str | None = "text/csv",
    image: str = XGBOOST_IMAGE,
    validation: bool = True,
) -> dict[str, Any]:
    """A Training step of the built-in algorithm over train (and validation) channels."""
    write = _write_libsvm if content_type is None or "libsvm" in content_type else _write_csv
    if content_type and "parquet" in content_type:
        write = _write_parquet
    write(kit.folder("train"), _rows(200, 1))
    channels = ["train"] + (["validation"] if validation else [])
    if validation:
        write(kit.folder("validation"), _rows(60, 2))
    return {
        "Name": "Train",
        "Type": "Training",
        "Arguments": {
            "AlgorithmSpecification": {"TrainingImage": image, "TrainingInputMode": "File"},
            "HyperParameters": hyperparameters,
            "InputDataConfig": [
                {
                    "ChannelName": name,
                    "DataSource": {"S3DataSource": {"S3Uri": str(kit.folder(name))}},
                    **({"ContentType": content_type} if content_type else {}),
                }
                for name in channels
            ],
            "OutputDataConfig": {"S3OutputPath": str(kit.folder("models"))},
            "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
        },
    }


HPS = {"objective": "reg:squarederror", "num_round": "40", "max_depth": "3", "eta": "0.3"}


def _model_dir(kit: Kit, job_name: str, tmp_path: Path) -> Path:
    archive = kit.root / "data" / "models" / job_name / "output" / "model.tar.gz"
    with tarfile.open(archive) as tar:
        assert tar.getnames() == ["xgboost-model"]
        tar.extractall(tmp_path / "model", filter="data")
    return tmp_path / "model"


def test_the_built_in_algorithm_trains_a_model_the_model_server_serves(
    kit: Kit, tmp_path: Path
) -> None:
    step = algorithm_step(kit, {**HPS, "eval_metric": "rmse,mae"}, "text/csv")
    record = run_definition(kit.definition([step]), echo=lambda _: None)
    assert record.status == SUCCEEDED, record.failure_reason
    train = record.step("Train")
    metrics = {m["MetricName"]: m["Value"] for m in train.properties["FinalMetricDataList"]}
    assert set(metrics) == {"train:rmse", "train:mae", "validation:rmse", "validation:mae"}
    assert 0 < metrics["validation:rmse"] < 0.5  # learnt: the label spans about 5

    model_dir = _model_dir(kit, train.job_name, tmp_path)
    handler = xgboost_container.load(model_dir, {})
    test = _rows(5, 3)
    body = "\n".join(",".join(f"{v:.6f}" for v in row[1:]) for row in test).encode()
    reply = handler.invoke(body, "text/csv", "text/csv")
    predictions = [float(line) for line in reply.body.decode().split()]
    assert np.allclose(predictions, test[:, 0], atol=0.6)


def test_a_bad_configuration_fails_the_job_with_its_client_error(kit: Kit) -> None:
    step = algorithm_step(kit, {"objective": "reg:squarederror"})
    record = run_definition(kit.definition([step]), echo=lambda _: None)
    assert record.status == FAILED
    assert record.step("Train").failure_reason == (
        "ClientError: Missing required hyperparameter: num_round"  # the job's failure file
    )


# The trainer itself, in this process (the job around it is the same as above).


def _train(
    tmp_path: Path,
    hyperparameters: dict[str, str],
    content_type: str | None = "text/csv",
    validation: bool = True,
    write: Any = None,
) -> xgb.Booster:
    """Train with the algorithm's trainer on channel folders under `tmp_path`."""
    kind = "libsvm" if content_type is None or "libsvm" in content_type else "csv"
    kind = "parquet" if content_type and "parquet" in content_type else kind
    writer = write or {"csv": _write_csv, "libsvm": _write_libsvm, "parquet": _write_parquet}[kind]
    config = tmp_path / "config"
    config.mkdir()
    (config / "hyperparameters.json").write_text(json.dumps(hyperparameters))
    names = ["train", "validation"] if validation else ["train"]
    channels = {}
    for seed, name in enumerate(names, 1):
        channels[name] = tmp_path / name
        channels[name].mkdir()
        writer(channels[name], _rows(200 if name == "train" else 60, seed))
    data_config = {n: ({"ContentType": content_type} if content_type else {}) for n in names}
    (config / "inputdataconfig.json").write_text(json.dumps(data_config))
    path = xgboost_algorithm.train(config, channels, tmp_path / "model")
    booster = xgb.Booster()
    booster.load_model(bytearray(path.read_bytes()))
    return booster


@pytest.mark.parametrize("content_type", ["text/libsvm", None, "application/x-parquet"])
def test_each_channel_format_trains_the_same_model(
    tmp_path: Path, content_type: str | None
) -> None:
    booster = _train(tmp_path, HPS, content_type)
    test = _rows(5, 3)
    predictions = booster.predict(xgb.DMatrix(test[:, 1:]))
    assert np.allclose(predictions, test[:, 0], atol=0.6)


def test_early_stopping_stops_on_the_validation_channel(tmp_path: Path) -> None:
    hps = {**HPS, "num_round": "500", "early_stopping_rounds": "3", "eta": "0.9"}
    assert _train(tmp_path, hps).num_boosted_rounds() < 500


def test_csv_weights_read_the_second_column_as_weights(tmp_path: Path) -> None:
    def weighted(folder: Path, rows: np.ndarray) -> None:
        _write_csv(folder, np.column_stack([rows[:, 0], np.ones(len(rows)), rows[:, 1:]]))

    booster = _train(tmp_path, {**HPS, "csv_weights": "1"}, validation=False, write=weighted)
    assert booster.num_features() == FEATURES  # the weight column is not a feature


@pytest.mark.parametrize(
    ("hyperparameters", "content_type", "reason"),
    [
        ({**HPS, "epochs": "3"}, "text/csv", "Extraneous hyperparameter found: epochs"),
        ({**HPS, "max_depth": "deep"}, "text/csv", "max_depth: could not parse value"),
        ({**HPS, "num_round": "0"}, "text/csv", "num_round: value 0 not in range"),
        ({**HPS, "_kfold": "5"}, "text/csv", "_kfold: cross-validation is not supported"),
        (HPS, "text/csv;label_size=2", "Optional parameter label_size must be equal to 1"),
        (HPS, "application/json", "Content type application/json is not supported"),
        ({**HPS, "objective": "reg:nonsense"}, "text/csv", "XGB train call failed with exception"),
    ],
)
def test_a_bad_configuration_is_the_algorithms_client_error(
    tmp_path: Path, hyperparameters: dict[str, str], content_type: str, reason: str
) -> None:
    with pytest.raises(xgboost_algorithm.UserError, match=re.escape(reason)):
        _train(tmp_path, hyperparameters, content_type)


def test_a_channel_without_content_type_is_read_as_libsvm(tmp_path: Path) -> None:
    with pytest.raises(xgboost_algorithm.UserError, match=r"part-0.csv line 1: not LIBSVM \("):
        _train(tmp_path, HPS, None, write=_write_csv)


def test_aliases_name_the_same_hyperparameters(tmp_path: Path) -> None:
    hps = {"objective": "reg:squarederror", "num_round": "5", "learning_rate": "0.5"}
    assert _train(tmp_path, hps).num_boosted_rounds() == 5


def test_an_empty_validation_channel_fails_the_job(tmp_path: Path) -> None:
    def empty_validation(folder: Path, rows: np.ndarray) -> None:
        if folder.name == "validation":
            (folder / "part-0.csv").write_text("")
        else:
            _write_csv(folder, rows)

    with pytest.raises(xgboost_algorithm.UserError, match="No data in validation channel path"):
        _train(tmp_path, HPS, write=empty_validation)


def test_an_image_without_algorithm_or_script_is_refused_before_anything_runs(kit: Kit) -> None:
    step = algorithm_step(kit, HPS, image=SKLEARN_IMAGE)
    with pytest.raises(SeedsError) as refused:
        run_definition(kit.definition([step]), echo=lambda _: None)
    assert str(refused.value) == (
        f"cannot run locally: step Train: image {SKLEARN_IMAGE} has no built-in algorithm the "
        "runner trains and no script (hyperparameter sagemaker_program): script mode and the "
        "built-in XGBoost algorithm run locally"
    )


def test_recordio_protobuf_input_is_refused_before_anything_runs(kit: Kit) -> None:
    step = algorithm_step(kit, HPS, "application/x-recordio-protobuf")
    with pytest.raises(SeedsError, match="channel train: application/x-recordio-protobuf"):
        run_definition(kit.definition([step]), echo=lambda _: None)
    assert not (kit.root / "data" / "models").exists() or not any(
        (kit.root / "data" / "models").iterdir()
    )


def test_the_hyperparameter_list_is_the_algorithms(kit: Kit) -> None:
    spec = json.loads(
        (
            Path(__file__).parents[2] / "src/mlops_seeds/local/builtin/xgboost_hyperparameters.json"
        ).read_text()
    )
    kinds = [set(spec[k]) for k in ("integer", "float", "list", "text")]
    assert sum(len(k) for k in kinds) == len(set().union(*kinds)) == 53  # each once
    assert set(spec["aliases"].values()) <= set().union(*kinds)
