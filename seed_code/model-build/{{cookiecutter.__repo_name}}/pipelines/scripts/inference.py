"""Serving hooks for the SageMaker scikit-learn container.

train.py copies this file into model.tar.gz under `code/`; the registered model sets
SAGEMAKER_PROGRAM=inference.py and SAGEMAKER_SUBMIT_DIRECTORY=/opt/ml/model/code. The
container's default input and output handlers turn a headerless CSV of features into an
array and the predictions back into CSV.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import joblib
import numpy as np

MODEL_FILE = "model.joblib"


def model_fn(model_dir: str) -> Any:
    """Load the model saved by train.py."""
    return joblib.load(Path(model_dir) / MODEL_FILE)


def predict_fn(input_data: Any, model: Any) -> np.ndarray:
    """Regression: the predicted value. Classification: the probability of class 1,
    as the XGBoost container returns for binary:logistic."""
    features = np.asarray(input_data, dtype=float)
    if features.ndim == 1:
        features = features.reshape(1, -1)
    if hasattr(model, "predict_proba"):
        return model.predict_proba(features)[:, 1]
    return model.predict(features)
