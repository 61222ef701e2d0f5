"""Remove what the chosen options do not use: the other dataset, and the scikit-learn
serving script from an XGBoost repo (the XGBoost container serves the model itself).

Answers arrive as JSON string literals (Jinja's tojson): data, never code."""

from pathlib import Path

FRAMEWORK = {{ cookiecutter.framework | tojson }}
PROBLEM_TYPE = {{ cookiecutter.problem_type | tojson }}

DATASETS = {"regression": "diabetes.csv", "classification": "breast_cancer.csv"}


def unused_files() -> list[Path]:
    """Paths, relative to the rendered repo, that the options leave unused."""
    data = Path("pipelines", "data")
    paths = [data / name for kind, name in DATASETS.items() if kind != PROBLEM_TYPE]
    if FRAMEWORK == "xgboost":
        paths.append(Path("pipelines", "scripts", "inference.py"))
    return paths


for path in unused_files():
    path.unlink()
