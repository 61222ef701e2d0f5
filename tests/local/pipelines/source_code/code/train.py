"""A script-mode training script as SDK v3 users write it: the toolkit's SM_* environment,
hyperparameters as arguments, the model written to SM_MODEL_DIR."""

import argparse
import json
import os
from pathlib import Path

import numpy as np
from sagemaker_training import environment

parser = argparse.ArgumentParser()
parser.add_argument("--scale", type=float, default=1.0)
args, _ = parser.parse_known_args()

env = environment.Environment()
rows = np.loadtxt(Path(os.environ["SM_CHANNEL_TRAIN"]) / "rows.csv", delimiter=",", ndmin=2)
model = {"mean": float(rows[:, 0].mean() * args.scale), "hyperparameters": env.hyperparameters}
Path(os.environ["SM_MODEL_DIR"], "model.json").write_text(json.dumps(model))
print(f"trained mean={model['mean']}")
