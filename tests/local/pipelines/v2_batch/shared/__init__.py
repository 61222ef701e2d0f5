"""A library the training script depends on, passed to the estimator as `dependencies`
(SDK v2 packs it beside the script in sourcedir.tar.gz)."""

import numpy as np


def label_and_features(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The label (first column) and the features."""
    return rows[:, 0], rows[:, 1:]
