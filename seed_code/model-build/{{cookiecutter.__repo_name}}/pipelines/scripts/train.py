{%- set xgboost = cookiecutter.framework == "xgboost" -%}
"""Train the model on the train split, using the validation split to pick the model size.

Runs in the SageMaker {{ "XGBoost" if xgboost else "scikit-learn" }} container (script mode) as the pipeline's TrainModel step, or
locally: `python train.py --train out/train --validation out/validation --model-dir model/`.

Input: headerless CSVs with the target in the first column. Output in the model directory
{%- if xgboost %}
`xgboost-model`, a booster in XGBoost's UBJSON format that the SageMaker XGBoost container
serves without any inference script.
{%- else %}
`model.joblib` and `code/inference.py`, which the SageMaker scikit-learn container loads
when the model is served (SAGEMAKER_SUBMIT_DIRECTORY=/opt/ml/model/code).
{%- endif %}
"""

from __future__ import annotations

import argparse
import os
{%- if not xgboost %}
import shutil
{%- endif %}
from pathlib import Path

{% if xgboost -%}
import pandas as pd
import xgboost as xgb
{%- else -%}
import joblib
import numpy as np
import pandas as pd
from sklearn.ensemble import GradientBoostingClassifier, GradientBoostingRegressor
from sklearn.metrics import log_loss, mean_squared_error
{%- endif %}

PROBLEM_TYPE = "{{ cookiecutter.problem_type }}"
{%- if xgboost %}
MODEL_FILE = "xgboost-model"
{%- else %}
MODEL_FILE = "model.joblib"
INFERENCE_SCRIPT = Path(__file__).resolve().with_name("inference.py")
Model = GradientBoostingClassifier | GradientBoostingRegressor
{%- endif %}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Hyperparameters and paths; paths default to the training container's.

    SageMaker passes hyperparameters as `--name value`, hence the underscore aliases.
    """
    env = os.environ
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--train", type=Path, default=Path(env.get("SM_CHANNEL_TRAIN", "/opt/ml/input/data/train"))
    )
    parser.add_argument(
        "--validation",
        type=Path,
        default=Path(env.get("SM_CHANNEL_VALIDATION", "/opt/ml/input/data/validation")),
    )
    parser.add_argument(
        "--model-dir", type=Path, default=Path(env.get("SM_MODEL_DIR", "/opt/ml/model"))
    )
    parser.add_argument(
        "--n-estimators", "--n_estimators", dest="n_estimators", type=int, default=300
    )
    parser.add_argument("--max-depth", "--max_depth", dest="max_depth", type=int, default=3)
    parser.add_argument(
        "--learning-rate", "--learning_rate", dest="learning_rate", type=float, default=0.05
    )
    parser.add_argument("--subsample", type=float, default=0.8)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--problem-type", choices=("regression", "classification"), default=PROBLEM_TYPE
    )
    return parser.parse_args(argv)


def read_split(folder: Path) -> tuple[pd.DataFrame, pd.Series]:
    """Features and target from every CSV file in `folder` (target in column 0)."""
    files = sorted(folder.glob("*.csv"))
    if not files:
        raise SystemExit(f"no CSV file in {folder}")
    frame = pd.concat([pd.read_csv(f, header=None) for f in files], ignore_index=True)
    return frame.iloc[:, 1:], frame.iloc[:, 0]
{% if xgboost %}

def fit(args: argparse.Namespace, train: Path, validation: Path) -> xgb.Booster:
    """Boost up to n_estimators rounds, stopping once the validation loss stops improving."""
    classification = args.problem_type == "classification"
    params = {
        "objective": "binary:logistic" if classification else "reg:squarederror",
        "eval_metric": "logloss" if classification else "rmse",
        "max_depth": args.max_depth,
        "eta": args.learning_rate,
        "subsample": args.subsample,
        "seed": args.seed,
    }
    x_train, y_train = read_split(train)
    x_val, y_val = read_split(validation)
    dtrain = xgb.DMatrix(x_train.to_numpy(), label=y_train.to_numpy())
    dval = xgb.DMatrix(x_val.to_numpy(), label=y_val.to_numpy())
    booster = xgb.train(
        params,
        dtrain,
        num_boost_round=args.n_estimators,
        evals=[(dtrain, "train"), (dval, "validation")],
        early_stopping_rounds=30,
        verbose_eval=False,
    )
    rounds = booster.best_iteration + 1
    print(f"rounds: {rounds}; validation-{params['eval_metric']}: {booster.best_score:.6f}")
    return booster[:rounds]


def save(model: xgb.Booster, model_dir: Path) -> None:
    """Write the booster as UBJSON under the name the XGBoost container serves."""
    model_dir.mkdir(parents=True, exist_ok=True)
    (model_dir / MODEL_FILE).write_bytes(bytes(model.save_raw(raw_format="ubj")))
{%- else %}

def estimator(args: argparse.Namespace, n_estimators: int) -> Model:
    """A gradient-boosting model for the problem type."""
    model = (
        GradientBoostingClassifier
        if args.problem_type == "classification"
        else GradientBoostingRegressor
    )
    return model(
        n_estimators=n_estimators,
        max_depth=args.max_depth,
        learning_rate=args.learning_rate,
        subsample=args.subsample,
        random_state=args.seed,
    )


def validation_losses(model: Model, x_val: pd.DataFrame, y_val: pd.Series) -> np.ndarray:
    """Validation loss after each boosting stage (log loss or mean squared error)."""
    if hasattr(model, "predict_proba"):
        stages = model.staged_predict_proba(x_val.to_numpy())
        return np.array([log_loss(y_val, p, labels=model.classes_) for p in stages])
    stages = model.staged_predict(x_val.to_numpy())
    return np.array([mean_squared_error(y_val, p) for p in stages])


def fit(args: argparse.Namespace, train: Path, validation: Path) -> Model:
    """Boost n_estimators stages, then refit with the stage count best on validation."""
    x_train, y_train = read_split(train)
    x_val, y_val = read_split(validation)
    probe = estimator(args, args.n_estimators).fit(x_train.to_numpy(), y_train)
    losses = validation_losses(probe, x_val, y_val)
    stages = int(np.argmin(losses)) + 1
    print(f"stages: {stages}; validation loss: {losses[stages - 1]:.6f}")
    return estimator(args, stages).fit(x_train.to_numpy(), y_train)


def save(model: Model, model_dir: Path) -> None:
    """Write the model and the inference script the scikit-learn container runs."""
    (model_dir / "code").mkdir(parents=True, exist_ok=True)
    joblib.dump(model, model_dir / MODEL_FILE)
    shutil.copyfile(INFERENCE_SCRIPT, model_dir / "code" / INFERENCE_SCRIPT.name)
{%- endif %}


def main(argv: list[str] | None = None) -> None:
    """Train and save."""
    args = parse_args(argv)
    model = fit(args, args.train, args.validation)
    save(model, args.model_dir)
    print(f"model saved to {args.model_dir / MODEL_FILE}")


if __name__ == "__main__":
    main()
