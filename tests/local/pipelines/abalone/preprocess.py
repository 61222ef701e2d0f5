"""Abalone-style preprocessing (a SKLearnProcessor script as AWS's default template writes
one): one-hot the sex column, scale the measurements, split 70/15/15 and write label-first
CSVs without header for the built-in XGBoost algorithm."""

import pathlib

import numpy as np
import pandas as pd
from sklearn.preprocessing import StandardScaler

BASE = pathlib.Path("/opt/ml/processing")

if __name__ == "__main__":
    frame = pd.read_csv(BASE / "input" / "abalone.csv")
    label = frame.pop("rings").to_numpy(dtype=float)
    sex = pd.get_dummies(frame.pop("sex"), dtype=float).to_numpy()
    measures = StandardScaler().fit_transform(frame.to_numpy(dtype=float))
    rows = np.column_stack([label, sex, measures])
    np.random.default_rng(7).shuffle(rows)
    first, second = int(0.7 * len(rows)), int(0.85 * len(rows))
    for name, part in (
        ("train", rows[:first]),
        ("validation", rows[first:second]),
        ("test", rows[second:]),
    ):
        folder = BASE / name
        folder.mkdir(parents=True, exist_ok=True)
        np.savetxt(folder / f"{name}.csv", part, delimiter=",", fmt="%.6f")
