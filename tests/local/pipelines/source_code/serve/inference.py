"""Inference functions for the scikit-learn container (script mode)."""

import json
import os


def model_fn(model_dir):
    with open(os.path.join(model_dir, "model.json")) as handle:
        return json.load(handle)


def predict_fn(data, model):
    return [model["mean"] for _ in range(len(data))]
