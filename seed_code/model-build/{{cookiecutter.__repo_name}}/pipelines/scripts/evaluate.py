{%- set xgboost = cookiecutter.framework == "xgboost" -%}
"""Score the trained model on the test split and write evaluation.json.

Runs in the SageMaker {{ "XGBoost" if xgboost else "scikit-learn" }} container as the pipeline's EvaluateModel step, or
locally: `python evaluate.py --model-dir model/ --test-dir out/test --output-dir eval/`.

The report uses SageMaker's model-quality layout, so the model registry shows it as the
model's statistics: {"regression_metrics": {"rmse": {"value": ..., "standard_deviation":
...}, ...}} or {"binary_classification_metrics": {"accuracy": {...}, ...}}. Standard
deviations are bootstrap estimates over the test split.
"""

from __future__ import annotations

import argparse
import json
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path

{% if not xgboost -%}
import joblib
{% endif -%}
import numpy as np
import pandas as pd
{%- if xgboost %}
import xgboost as xgb
{%- endif %}
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    mean_absolute_error,
    mean_squared_error,
    precision_score,
    r2_score,
    recall_score,
    roc_auc_score,
)

PROBLEM_TYPE = "{{ cookiecutter.problem_type }}"
MODEL_FILE = "{{ 'xgboost-model' if xgboost else 'model.joblib' }}"
MODEL_ARCHIVE = "model.tar.gz"
REPORT_FILE = "evaluation.json"

Metric = Callable[[np.ndarray, np.ndarray], float]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options; paths default to the processing container's."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model-dir", type=Path, default=Path("/opt/ml/processing/model"))
    parser.add_argument("--test-dir", type=Path, default=Path("/opt/ml/processing/test"))
    parser.add_argument("--output-dir", type=Path, default=Path("/opt/ml/processing/evaluation"))
    parser.add_argument("--bootstrap-rounds", type=int, default=100)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--problem-type", choices=("regression", "classification"), default=PROBLEM_TYPE
    )
    return parser.parse_args(argv)


def read_split(folder: Path) -> tuple[pd.DataFrame, np.ndarray]:
    """Features and target from every CSV file in `folder` (target in column 0)."""
    files = sorted(folder.glob("*.csv"))
    if not files:
        raise SystemExit(f"no CSV file in {folder}")
    frame = pd.concat([pd.read_csv(f, header=None) for f in files], ignore_index=True)
    return frame.iloc[:, 1:], frame.iloc[:, 0].to_numpy()


def unpack_model(model_dir: Path, scratch: Path) -> Path:
    """The directory holding the model file: model.tar.gz is extracted into `scratch`."""
    archive = model_dir / MODEL_ARCHIVE
    if not archive.exists():
        return model_dir
    safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
    with tarfile.open(archive) as tar:
        tar.extractall(scratch, **safe)
    return scratch
{% if xgboost %}

def predict(model_dir: Path, features: pd.DataFrame) -> np.ndarray:
    """Predicted values, or probabilities of class 1 for classification."""
    booster = xgb.Booster()
    booster.load_model(bytearray((model_dir / MODEL_FILE).read_bytes()))
    return booster.predict(xgb.DMatrix(features.to_numpy()))
{%- else %}

def predict(model_dir: Path, features: pd.DataFrame) -> np.ndarray:
    """Predicted values, or probabilities of class 1 for classification."""
    model = joblib.load(model_dir / MODEL_FILE)
    if hasattr(model, "predict_proba"):
        return model.predict_proba(features.to_numpy())[:, 1]
    return model.predict(features.to_numpy())
{%- endif %}


def regression_metrics() -> dict[str, Metric]:
    """Metrics of predicted values."""
    return {
        "rmse": lambda y, pred: float(np.sqrt(mean_squared_error(y, pred))),
        "mae": lambda y, pred: float(mean_absolute_error(y, pred)),
        "r2": lambda y, pred: float(r2_score(y, pred)),
    }


def classification_metrics() -> dict[str, Metric]:
    """Metrics of class-1 probabilities (labels at a 0.5 cut-off, AUC on the scores)."""

    def labelled(metric: Callable[..., float]) -> Metric:
        return lambda y, score: float(metric(y, (score >= 0.5).astype(int), zero_division=0))

    return {
        "accuracy": lambda y, score: float(accuracy_score(y, (score >= 0.5).astype(int))),
        "precision": labelled(precision_score),
        "recall": labelled(recall_score),
        "f1": labelled(f1_score),
        "auc": lambda y, score: float(roc_auc_score(y, score)),
    }


def bootstrap_std(metric: Metric, y: np.ndarray, pred: np.ndarray, rounds: int, seed: int) -> float:
    """Standard deviation of the metric over resamples of the test set (a resample the
    metric is undefined on, e.g. AUC with one class, is skipped)."""
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(rounds):
        index = rng.integers(0, len(y), len(y))
        try:
            values.append(metric(y[index], pred[index]))
        except ValueError:
            continue
    return float(np.std(values)) if values else 0.0


def report(
    y: np.ndarray, pred: np.ndarray, problem_type: str, rounds: int, seed: int
) -> dict[str, dict[str, object]]:
    """The evaluation report in SageMaker's model-quality layout."""
    classification = problem_type == "classification"
    metrics = classification_metrics() if classification else regression_metrics()
    body: dict[str, object] = {
        name: {
            "value": float(metric(y, pred)),
            "standard_deviation": bootstrap_std(metric, y, pred, rounds, seed),
        }
        for name, metric in metrics.items()
    }
    if not classification:
        return {"regression_metrics": body}
    matrix = confusion_matrix(y, (pred >= 0.5).astype(int), labels=[0, 1])
    body["confusion_matrix"] = {
        str(actual): {str(guess): int(matrix[actual][guess]) for guess in (0, 1)}
        for actual in (0, 1)
    }
    return {"binary_classification_metrics": body}


def main(argv: list[str] | None = None) -> None:
    """Load, predict, score, write."""
    args = parse_args(argv)
    features, target = read_split(args.test_dir)
    with tempfile.TemporaryDirectory() as scratch:
        pred = predict(unpack_model(args.model_dir, Path(scratch)), features)
    result = report(target, np.asarray(pred), args.problem_type, args.bootstrap_rounds, args.seed)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    (args.output_dir / REPORT_FILE).write_text(json.dumps(result, indent=2))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
