"""Split the raw dataset into train, validation and test CSVs.

Runs in the SageMaker scikit-learn container as the pipeline's PreprocessData step, or
locally: `python preprocess.py --input-dir data/ --output-dir out/`.

Input: one or more CSV files with a header and a `target` column. Output: headerless
CSVs with the target in the first column and the features in their original order, the
layout the training and evaluation scripts read and the endpoint expects (minus the target).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split

PROBLEM_TYPE = "{{ cookiecutter.problem_type }}"
SPLITS = ("train", "validation", "test")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options; paths default to the processing container's."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--input-dir", type=Path, default=Path("/opt/ml/processing/input/data"))
    parser.add_argument("--output-dir", type=Path, default=Path("/opt/ml/processing"))
    parser.add_argument("--target", default="target")
    parser.add_argument("--validation-fraction", type=float, default=0.15)
    parser.add_argument("--test-fraction", type=float, default=0.15)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--problem-type", choices=("regression", "classification"), default=PROBLEM_TYPE
    )
    return parser.parse_args(argv)


def read_input(input_dir: Path) -> pd.DataFrame:
    """All CSV files under `input_dir`, concatenated."""
    files = sorted(input_dir.rglob("*.csv"))
    if not files:
        raise SystemExit(f"no CSV file under {input_dir}")
    return pd.concat([pd.read_csv(f) for f in files], ignore_index=True)


def clean(frame: pd.DataFrame, target: str, problem_type: str) -> pd.DataFrame:
    """Drop incomplete and duplicate rows; put the target first."""
    if target not in frame.columns:
        raise SystemExit(f"target column {target!r} not in {list(frame.columns)}")
    frame = frame.dropna().drop_duplicates()
    features = [c for c in frame.columns if c != target]
    frame = frame[[target, *features]]
    if problem_type == "classification":
        frame = frame.astype({target: "int64"})
    return frame.reset_index(drop=True)


def split(
    frame: pd.DataFrame, validation: float, test: float, seed: int, stratify: bool
) -> dict[str, pd.DataFrame]:
    """Random train/validation/test split, stratified on the target for classification."""
    labels = frame.iloc[:, 0] if stratify else None
    rest, test_part = train_test_split(frame, test_size=test, random_state=seed, stratify=labels)
    rest_labels = rest.iloc[:, 0] if stratify else None
    train_part, validation_part = train_test_split(
        rest, test_size=validation / (1 - test), random_state=seed, stratify=rest_labels
    )
    return {"train": train_part, "validation": validation_part, "test": test_part}


def write_splits(parts: dict[str, pd.DataFrame], output_dir: Path) -> None:
    """`<output_dir>/<split>/<split>.csv`, without header or index."""
    for name, part in parts.items():
        folder = output_dir / name
        folder.mkdir(parents=True, exist_ok=True)
        part.to_csv(folder / f"{name}.csv", header=False, index=False)
        print(f"{name}: {len(part)} rows")


def main(argv: list[str] | None = None) -> None:
    """Read, clean, split, write."""
    args = parse_args(argv)
    frame = clean(read_input(args.input_dir), args.target, args.problem_type)
    parts = split(
        frame,
        args.validation_fraction,
        args.test_fraction,
        args.seed,
        stratify=args.problem_type == "classification",
    )
    write_splits(parts, args.output_dir)


if __name__ == "__main__":
    main()
