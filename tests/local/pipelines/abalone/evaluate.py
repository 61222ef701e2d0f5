"""Abalone-style evaluation (a ScriptProcessor on the XGBoost image): the built-in
algorithm's `xgboost-model` scored on the test split; mse into evaluation.json."""

import json
import pathlib
import tarfile

import numpy as np
import xgboost

BASE = pathlib.Path("/opt/ml/processing")

if __name__ == "__main__":
    with tarfile.open(BASE / "model" / "model.tar.gz") as archive:
        archive.extractall(".", filter="data")
    model = xgboost.Booster()
    model.load_model(bytearray(pathlib.Path("xgboost-model").read_bytes()))
    test = np.loadtxt(BASE / "test" / "test.csv", delimiter=",", ndmin=2)
    predictions = model.predict(xgboost.DMatrix(test[:, 1:]))
    mse = float(np.mean((test[:, 0] - predictions) ** 2))
    report = {"regression_metrics": {"mse": {"value": mse, "standard_deviation": 0.0}}}
    out = BASE / "evaluation"
    out.mkdir(parents=True, exist_ok=True)
    (out / "evaluation.json").write_text(json.dumps(report))
    print(f"mse {mse:.3f}")
