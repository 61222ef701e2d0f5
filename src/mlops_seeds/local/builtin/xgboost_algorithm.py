"""The SageMaker XGBoost built-in algorithm's training (algorithm mode), as its container
trains: hyperparameters from /opt/ml/input/config/hyperparameters.json (checked against the
algorithm's list: a missing `num_round` or an unknown name fails the job), the `train` and
optional `validation` channels in the content type of the train channel (text/csv with the
label in the first column and no header, optionally instance weights in the second with
csv_weights=1; libsvm, the default; parquet with the label in the first column), a round
log line per boosting round ("[0]\ttrain-rmse:...\tvalidation-rmse:..."), early stopping on
the validation channel's last eval_metric, and the booster saved as `xgboost-model` in the
model directory.

A standalone script (stdlib, numpy, scipy, xgboost; pandas and pyarrow for parquet) run in
the step's interpreter; its last stderr line is the job's failure reason. Not supported:
cross-validation (`_kfold`), Dask GPU training, pipe mode, recordio-protobuf input,
checkpoints; hyperparameter value ranges are left to XGBoost.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from pathlib import Path
from typing import Any

MODEL_NAME = "xgboost-model"
HYPERPARAMETERS = Path(__file__).with_name("xgboost_hyperparameters.json")
CSV, LIBSVM, PARQUET, RECORDIO = "csv", "libsvm", "parquet", "recordio-protobuf"
CONTENT_TYPES = {
    "csv": CSV,
    "text/csv": CSV,
    "libsvm": LIBSVM,
    "text/libsvm": LIBSVM,
    "text/x-libsvm": LIBSVM,
    "parquet": PARQUET,
    "application/x-parquet": PARQUET,
    "recordio-protobuf": RECORDIO,
    "application/x-recordio-protobuf": RECORDIO,
}


class UserError(Exception):
    """A problem of the job's configuration or data (the container's ClientError)."""


def validate(raw: dict[str, str], spec: dict[str, Any]) -> dict[str, Any]:
    """Hyperparameter strings -> typed values; UserError on a missing, unknown or
    unparseable one."""
    aliases = spec["aliases"]
    given = {aliases.get(name, name): value for name, value in raw.items()}
    for name in spec["required"]:
        if name not in given:
            raise UserError(f"Missing required hyperparameter: {name}")
    known = set(spec["integer"]) | set(spec["float"]) | set(spec["list"]) | set(spec["text"])
    typed: dict[str, Any] = {}
    for name, value in given.items():
        if name not in known:
            raise UserError(f"Extraneous hyperparameter found: {name}")
        try:
            if name in spec["integer"]:
                typed[name] = int(value)
            elif name in spec["float"]:
                typed[name] = float(value)
            elif name in spec["list"]:
                typed[name] = [v.strip() for v in str(value).split(",") if v.strip()]
            else:
                typed[name] = str(value)
        except ValueError:
            raise UserError(f"Hyperparameter {name}: could not parse value") from None
    if typed["num_round"] < 1:
        value = typed["num_round"]
        raise UserError(f"Hyperparameter num_round: value {value} not in range [1, inf)")
    for name in ("_kfold", "_num_cv_round"):
        if name in typed:
            raise UserError(f"{name}: cross-validation is not supported by the local runner")
    if typed.get("use_dask_gpu_training") == "true":
        raise UserError("use_dask_gpu_training: Dask GPU training is not supported locally")
    return typed


def content_type(channel: dict[str, Any]) -> str:
    """The channel's data format; libsvm when the channel names none, as the container."""
    value = channel.get("ContentType")
    if value is None:
        return LIBSVM
    media, _, params = str(value).lower().partition(";")
    kind = CONTENT_TYPES.get(media.strip())
    if kind is None:
        raise UserError(f"Content type {value} is not supported (csv, libsvm, parquet)")
    if kind == CSV and "label_size" in params and "label_size=1" not in params.replace(" ", ""):
        raise UserError(
            f"{value} is not an accepted csv ContentType. "
            "Optional parameter label_size must be equal to 1"
        )
    if kind == RECORDIO:
        raise UserError(f"{value}: recordio-protobuf input is not supported by the local runner")
    return kind


def data_files(folder: Path) -> list[Path]:
    """The channel's data files: every file below it not starting with '.' or '_'."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith((".", "_")))


def load(folder: Path, kind: str, csv_weights: int) -> Any:
    """The channel's files as one DMatrix; None when it holds no data."""
    import numpy as np
    import xgboost as xgb

    files = [p for p in data_files(folder) if p.stat().st_size > 0]
    if not files:
        return None
    if kind == LIBSVM:
        return _libsvm(files)
    if kind == PARQUET:
        try:
            import pandas as pd
        except ImportError:
            raise UserError("parquet input needs pandas and pyarrow in the step's Python") from None
        try:
            frame = pd.concat([pd.read_parquet(p) for p in files])
        except (ImportError, ValueError, OSError) as err:
            raise UserError(f"Failed to load parquet data with exception:\n{err}") from None
        values = frame.to_numpy(dtype=float)
        return xgb.DMatrix(values[:, 1:], label=values[:, 0])
    first = files[0].read_text(errors="replace").splitlines()[0]
    try:
        delimiter = csv.Sniffer().sniff(first, delimiters=",\t;| ").delimiter
    except csv.Error as err:
        raise UserError(f"Could not determine delimiter on line {first[:50]}:\n{err}") from None
    try:
        rows = np.vstack([np.genfromtxt(p, delimiter=delimiter, ndmin=2) for p in files])
    except ValueError as err:
        raise UserError(f"Failed to load csv data with exception:\n{err}") from None
    start = 2 if csv_weights == 1 else 1
    weights = rows[:, 1] if csv_weights == 1 else None
    return xgb.DMatrix(rows[:, start:], label=rows[:, 0], weight=weights)


def _libsvm(files: list[Path]) -> Any:
    """`label[:weight] index:value ...` lines -> DMatrix (sparse)."""
    import xgboost as xgb
    from scipy.sparse import csr_matrix  # type: ignore[import-untyped]

    labels: list[float] = []
    weights: list[float] = []
    rows: list[int] = []
    cols: list[int] = []
    values: list[float] = []
    for path in files:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            tokens = line.split()
            if not tokens:
                continue
            try:
                label, _, weight = tokens[0].partition(":")
                labels.append(float(label))
                weights.append(float(weight) if weight else 1.0)
                for token in tokens[1:]:
                    index, _, value = token.partition(":")
                    rows.append(len(labels) - 1)
                    cols.append(int(index))
                    values.append(float(value))
            except ValueError:
                raise UserError(f"{path.name} line {number}: not LIBSVM ({line[:50]})") from None
    matrix = csr_matrix((values, (rows, cols)), shape=(len(labels), max(cols, default=-1) + 1))
    return xgb.DMatrix(matrix, label=labels, weight=weights)


def train(config_dir: Path, channels: dict[str, Path], model_dir: Path) -> Path:
    """Train as the algorithm does; returns the saved model's path."""
    import xgboost as xgb

    spec = json.loads(HYPERPARAMETERS.read_text())
    raw = json.loads((config_dir / "hyperparameters.json").read_text())
    hps = validate(raw, spec)
    data_config = json.loads((config_dir / "inputdataconfig.json").read_text())
    if "train" not in data_config or "train" not in channels:
        raise UserError("Missing required channel: train")
    for name, channel in data_config.items():
        if name not in ("train", "validation", "code"):
            raise UserError(f"Extraneous channel found: {name}")
        if "Pipe" in (channel.get("TrainingInputMode"), channel.get("InputMode")):
            raise UserError(f"Channel {name}: pipe mode is not supported; use File mode")
    kind = content_type(data_config["train"])
    csv_weights = int(hps.get("csv_weights", 0))
    dtrain = load(channels["train"], kind, csv_weights)
    if dtrain is None:
        raise UserError(f"No data in training channel path {channels['train']}")
    dval = None
    if "validation" in channels:
        dval = load(channels["validation"], content_type(data_config["validation"]), csv_weights)
        if dval is None:
            raise UserError(f"No data in validation channel path {channels['validation']}")
    params = {k: v for k, v in hps.items() if k not in spec["not_xgboost_parameters"]}
    evals = [(dtrain, "train")] + ([(dval, "validation")] if dval is not None else [])
    print(f"Train matrix has {dtrain.num_row()} rows and {dtrain.num_col()} columns", flush=True)
    try:
        booster = xgb.train(
            params,
            dtrain,
            num_boost_round=hps["num_round"],
            evals=evals,
            early_stopping_rounds=hps.get("early_stopping_rounds") if dval is not None else None,
            verbose_eval=True,
        )
    except xgb.core.XGBoostError as err:
        message = str(err).strip().splitlines()
        first = message[0] if message else "unknown error"
        raise UserError(f"XGB train call failed with exception: {first}") from None
    model_dir.mkdir(parents=True, exist_ok=True)
    path = model_dir / MODEL_NAME
    path.write_bytes(bytes(booster.save_raw("ubj")))  # UBJSON, as save_model picks it
    return path


def main() -> int:
    """The container's `train` entry point, reading the SM_* environment."""
    channels = {
        name.removeprefix("SM_CHANNEL_").lower(): Path(value)
        for name, value in os.environ.items()
        if name.startswith("SM_CHANNEL_")
    }
    try:
        train(Path(os.environ["SM_INPUT_CONFIG_DIR"]), channels, Path(os.environ["SM_MODEL_DIR"]))
    except UserError as err:
        reason = f"ClientError: {err}".replace("\n", " ")
        print(reason, file=sys.stderr)
        output = Path(os.environ.get("SM_OUTPUT_DIR", "/opt/ml/output"))
        output.mkdir(parents=True, exist_ok=True)
        (output / "failure").write_text(reason)  # the job's FailureReason
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
