"""Wall time of the local runner on AWS's abalone pipeline shape (SKLearn preprocessing,
the built-in XGBoost algorithm, an evaluation; SDK v3) against the same three programs run
directly, one after another, in one mount namespace with the same /opt/ml layout (one run
each, in this process).

    python benchmarks/builtin_xgboost.py

The runner's run goes through S3 and SageMaker in moto (in-process), with a Python
environment and a namespace per step; the direct run reads and writes the folders. An
untimed warm-up imports the libraries once. Goal: ratio <= 1.1.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3

from mlops_seeds.local import container_paths
from mlops_seeds.local.builtin import xgboost_algorithm

ROOT = Path(__file__).resolve().parents[1]
PIPELINE = ROOT / "tests" / "local" / "pipelines" / "abalone"
sys.path.insert(0, str(PIPELINE))
from dataset import abalone_csv  # noqa: E402
from local_runner import FAKE_AWS, timed_run  # noqa: E402  (this folder is on the path)

BUCKET, GROUP, ROLE = "abalone-bucket", "abalone-models", "arn:aws:iam::123456789012:role/R"

HYPERPARAMETERS = {
    "objective": "reg:squarederror",
    "num_round": "50",
    "max_depth": "5",
    "eta": "0.2",
    "gamma": "4",
    "min_child_weight": "6",
    "subsample": "0.7",
}
# The three programs in the container layout, one after another (the same mounts the runner
# makes, once): $1 the tree, $2 the built-in trainer, $3 this Python.
DIRECT = r"""
set -e
tree=$1
mount -t tmpfs -o mode=755 bench-opt /opt
mkdir /opt/ml
mount --rbind "$tree" /opt/ml
cd /opt/ml
"$3" /opt/ml/processing/input/code/preprocess.py
mkdir -p /opt/ml/input/data/train /opt/ml/input/data/validation /opt/ml/processing/model
cp /opt/ml/processing/train/* /opt/ml/input/data/train/
cp /opt/ml/processing/validation/* /opt/ml/input/data/validation/
SM_INPUT_CONFIG_DIR=/opt/ml/input/config SM_MODEL_DIR=/opt/ml/model \
SM_CHANNEL_TRAIN=/opt/ml/input/data/train SM_CHANNEL_VALIDATION=/opt/ml/input/data/validation \
  "$3" "$2"
tar -czf /opt/ml/processing/model/model.tar.gz -C /opt/ml/model .
"$3" /opt/ml/processing/input/code/evaluate.py
"""


def definition() -> dict[str, object]:
    """The abalone definition, printed by SDK v3 offline."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(FAKE_AWS)
    command = [sys.executable, str(PIPELINE / "pipeline_v3.py"), BUCKET, ROLE, GROUP]
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def upload(session: boto3.Session) -> None:
    """The bucket, the processing scripts and the dataset."""
    s3 = session.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    for name in ("preprocess.py", "evaluate.py"):
        body = (PIPELINE / name).read_bytes()
        s3.put_object(Bucket=BUCKET, Key=f"abalone/code/{name}", Body=body)
    s3.put_object(Bucket=BUCKET, Key="abalone/data/abalone.csv", Body=abalone_csv().encode())


def run_direct(work: Path) -> float:
    """Seconds for the three programs run directly in the container layout."""
    tree = work / "ml"
    code = tree / "processing" / "input" / "code"
    code.mkdir(parents=True)
    for name in ("preprocess.py", "evaluate.py"):
        shutil.copy(PIPELINE / name, code / name)
    (tree / "processing" / "input" / "abalone.csv").write_text(abalone_csv())
    config = tree / "input" / "config"
    config.mkdir(parents=True)
    (config / "hyperparameters.json").write_text(json.dumps(HYPERPARAMETERS))
    channels = {c: {"ContentType": "text/csv"} for c in ("train", "validation")}
    (config / "inputdataconfig.json").write_text(json.dumps(channels))
    trainer = str(Path(xgboost_algorithm.__file__).resolve())
    start = time.perf_counter()
    subprocess.run(
        [*container_paths.UNSHARE, "sh", "-c", DIRECT, "sh", str(tree), trainer, sys.executable],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def main() -> None:
    """Measure both, print the figures and the ratio."""
    reason = container_paths.unavailable()
    if reason:
        raise SystemExit(f"this benchmark needs the container paths: {reason}")
    pipeline = definition()
    os.environ.update(FAKE_AWS)
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        os.environ.pop(name, None)
    subprocess.run([sys.executable, "-c", "import numpy, pandas, sklearn, xgboost"], check=True)
    with tempfile.TemporaryDirectory(prefix="bench-builtin-") as scratch:
        direct = run_direct(Path(scratch))
    runner = timed_run(pipeline, upload)
    print("abalone pipeline (SKLearn preprocessing, built-in XGBoost, evaluation; SDK v3)")
    print(f"  runner (5 steps, moto S3/SageMaker): {runner:6.2f} s")
    print(f"  programs directly, one after another: {direct:6.2f} s")
    print(f"  ratio runner/direct:                  {runner / direct:6.2f}  (goal <= 1.1)")


if __name__ == "__main__":
    main()
