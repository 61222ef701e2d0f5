"""The SageMaker XGBoost container's serving, in the model server.

Algorithm mode (no SAGEMAKER_PROGRAM): every file at the top of the model directory is an
XGBoost booster (`xgboost-model`); requests are text/csv rows without header (or
text/libsvm; no Content-Type means libsvm, as in the container); predictions are averaged
over the boosters and answered as text/csv (one value per line) or, when asked with
Accept application/json, as {"predictions": [{"score": ...}, ...]}. An empty body gets 204.
Script mode (SAGEMAKER_PROGRAM set) uses the user's functions with the container's defaults.

Deviations: application/x-recordio-protobuf, application/jsonlines, pickled boosters and
SAGEMAKER_INFERENCE_OUTPUT (selectable inference output) are not supported.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xgboost as xgb
from scipy.sparse import csr_matrix  # type: ignore[import-untyped]

from mlops_seeds.sandbox.hosting import codecs, handlers
from mlops_seeds.sandbox.hosting.codecs import ModelServerError

ALGORITHM_ACCEPTS = (codecs.CSV, codecs.JSON)
INPUT_TYPES = (codecs.CSV, codecs.LIBSVM, codecs.X_LIBSVM)


def load_boosters(model_dir: Path) -> list[xgb.Booster]:
    """Every top-level file of the model directory, loaded as a booster."""
    files = sorted(p for p in model_dir.iterdir() if p.is_file())
    if not files:
        raise handlers.StartError(f"no model file in the model data ({model_dir} is empty)")
    boosters = []
    for path in files:
        data = path.read_bytes()
        if not data:  # xgboost aborts the process on an empty buffer
            raise handlers.StartError(f"Model at {path.name} is an empty file")
        booster = xgb.Booster()
        try:
            booster.load_model(bytearray(data))
        except xgb.core.XGBoostError as err:
            first_line = str(err).strip().splitlines()[0] if str(err).strip() else "unreadable"
            raise handlers.StartError(
                f"Model at {path.name} cannot be loaded as an XGBoost model: {first_line}"
            ) from err
        booster.set_param("nthread", "1")
        boosters.append(booster)
    return boosters


def csv_to_dmatrix(body: codecs.Body) -> xgb.DMatrix:
    """CSV rows (stripped, empty fields missing) -> DMatrix."""
    lines = codecs.text(body).strip().split("\n")
    try:
        rows = [[v.strip() or "nan" for v in line.split(",")] for line in lines]
        return xgb.DMatrix(np.array(rows, dtype=float))
    except ValueError as err:
        raise ModelServerError(
            415, f"Loading csv data failed, please ensure data is in csv format: {err}"
        ) from err


def libsvm_to_dmatrix(body: codecs.Body) -> xgb.DMatrix:
    """LIBSVM lines (`label index:value ...`; tokens without a colon ignored) -> DMatrix."""
    rows, cols, values = [], [], []
    try:
        for row, line in enumerate(codecs.text(body).strip().split("\n")):
            for token in line.split():
                if ":" in token:
                    index, value = token.split(":", 1)
                    rows.append(row)
                    cols.append(int(index))
                    values.append(float(value))
    except ValueError as err:
        raise ModelServerError(
            415, f"Loading libsvm data failed, please ensure data is in libsvm format: {err}"
        ) from err
    return xgb.DMatrix(csr_matrix((values, (rows, cols))))


def to_dmatrix(body: codecs.Body, content_type: str) -> xgb.DMatrix:
    """The container's decoders: text/csv, text/libsvm, text/x-libsvm."""
    media = codecs.media_type(content_type)
    if media == codecs.CSV:
        return csv_to_dmatrix(body)
    if media in (codecs.LIBSVM, codecs.X_LIBSVM):
        return libsvm_to_dmatrix(body)
    raise codecs.unsupported_content_type(content_type)


@dataclass
class AlgorithmHandler:
    """The built-in algorithm's server: boosters averaged, CSV or JSON scores."""

    boosters: list[xgb.Booster]
    default_accept: str

    def invoke(self, body: bytes, content_type: str, accept: str) -> handlers.Reply:
        """Decode, predict, encode as the container's algorithm mode does."""
        if not body:
            raise ModelServerError(204, "")
        data = to_dmatrix(body, content_type or codecs.LIBSVM)
        media = codecs.media_type(accept)
        if not media or media == codecs.ANY:
            media = self.default_accept
        if media not in ALGORITHM_ACCEPTS:
            raise codecs.unsupported_accept(accept, ALGORITHM_ACCEPTS)
        try:
            scores = np.mean([b.predict(data, validate_features=False) for b in self.boosters], 0)
        except xgb.core.XGBoostError as err:
            message = str(err).strip().splitlines()[0] if str(err).strip() else "error"
            raise ModelServerError(400, f"Unable to evaluate payload provided: {message}") from err
        values = scores.astype(np.float32).tolist()
        if media == codecs.JSON:
            document = {"predictions": [{"score": v} for v in values]}
            return handlers.Reply(json.dumps(document).encode(), codecs.JSON)
        return handlers.Reply(codecs.array_to_csv(values), codecs.response_type(codecs.CSV))


def predict(data: Any, model: Any) -> Any:
    """Script mode's default predict_fn."""
    return model.predict(data, validate_features=False)


def output(prediction: Any, accept: str) -> tuple[bytes, str]:
    """Script mode's default output_fn."""
    return codecs.encode(prediction, accept)


SCRIPT_DEFAULTS = handlers.Defaults(
    model_fn=handlers.no_model_fn,
    input_fn=to_dmatrix,
    predict_fn=predict,
    output_fn=output,
    content_type=codecs.JSON,
    accept=codecs.JSON,
)


def load(model_dir: Path, env: Mapping[str, str]) -> handlers.Handler:
    """The handler the XGBoost container would serve `model_dir` with, given `env`."""
    if env.get(handlers.PROGRAM):
        return handlers.script_handler(model_dir, env, SCRIPT_DEFAULTS)
    default_accept = codecs.media_type(env.get(handlers.DEFAULT_ACCEPT)) or codecs.CSV
    return AlgorithmHandler(load_boosters(model_dir), default_accept)
