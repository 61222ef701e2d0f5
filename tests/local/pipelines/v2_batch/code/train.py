"""A scikit-learn script-mode training script written for the framework container's
training toolkit under its former name (sagemaker_containers), as SDK v2 examples were,
with a library passed as `dependencies`: label first, then features."""

import argparse

import joblib
import numpy as np
import sagemaker_containers
from shared import label_and_features
from sklearn.linear_model import LinearRegression

env = sagemaker_containers.training_env()
parser = argparse.ArgumentParser()
parser.add_argument("--fit-intercept", type=int, default=1)
args = parser.parse_args()

rows = np.loadtxt(f"{env.channel_input_dirs['train']}/train.csv", delimiter=",", ndmin=2)
label, features = label_and_features(rows)
model = LinearRegression(fit_intercept=bool(args.fit_intercept)).fit(features, label)
joblib.dump(model, f"{env.model_dir}/model.joblib")
