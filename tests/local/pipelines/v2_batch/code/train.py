"""A scikit-learn script-mode training script (SDK v2 style): label first, then features."""

import argparse
import os
from pathlib import Path

import joblib
import numpy as np
from sklearn.linear_model import LinearRegression

parser = argparse.ArgumentParser()
parser.add_argument("--fit-intercept", type=int, default=1)
parser.add_argument("--model-dir", default=os.environ.get("SM_MODEL_DIR"))
parser.add_argument("--train", default=os.environ.get("SM_CHANNEL_TRAIN"))
args = parser.parse_args()

rows = np.loadtxt(Path(args.train) / "train.csv", delimiter=",", ndmin=2)
model = LinearRegression(fit_intercept=bool(args.fit_intercept)).fit(rows[:, 1:], rows[:, 0])
joblib.dump(model, Path(args.model_dir) / "model.joblib")
