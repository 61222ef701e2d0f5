"""Wall time of the local runner on the model-build pipeline against the same four scripts
run directly, one after another, on the same data (one run each, in this process).

    python benchmarks/local_runner.py [--framework xgboost|sklearn] [--problem-type ...]

The runner's run goes through S3 and SageMaker in moto (in-process), as the tests do; the
direct run reads and writes local folders. An untimed warm-up imports the libraries once so
that neither run pays for a cold disk cache. Goal: ratio <= 1.1.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import boto3
from moto import mock_aws

from mlops_seeds.local import run_definition
from mlops_seeds.paths import repo_root
from mlops_seeds.seeds import bake, get_seed

BUCKET = "bench"
FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "SAGEMAKER_VALIDATE_ROLE": "false",
}
PROCESSING_SCRIPTS = ("preprocess.py", "evaluate.py", "data_quality.py")


def render(work: Path, framework: str, problem_type: str) -> Path:
    """A model-build repo for the options."""
    root = repo_root()
    (work / "cookiecutter.yaml").write_text(f"replay_dir: {work / 'replay'}\n")
    os.environ["COOKIECUTTER_CONFIG"] = str(work / "cookiecutter.yaml")
    settings = {"framework": framework, "problem_type": problem_type}
    return Path(bake(root, get_seed(root, "model-build"), work / "repo", settings, no_input=True))


def definition(repo: Path) -> dict[str, object]:
    """The repo's pipeline definition, code and data under s3://bench/."""
    command = [
        sys.executable,
        "-m",
        "pipelines.get_pipeline_definition",
        "--default-bucket",
        BUCKET,
        "--model-package-group-name",
        "bench-models",
        "--code-uri-prefix",
        f"s3://{BUCKET}/code",
        "--input-data-uri",
        f"s3://{BUCKET}/input/data.csv",
    ]
    env = {**os.environ, **FAKE_AWS}
    out = subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True, check=True)
    return dict(json.loads(out.stdout))


def upload(session: boto3.Session, repo: Path) -> None:
    """The bucket, the scripts, the training archive and the dataset."""
    s3 = session.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    scripts = repo / "pipelines" / "scripts"
    for name in PROCESSING_SCRIPTS:
        s3.put_object(Bucket=BUCKET, Key=f"code/{name}", Body=(scripts / name).read_bytes())
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        for path in sorted(scripts.glob("*.py")):
            if path.name not in PROCESSING_SCRIPTS:
                tar.add(path, arcname=path.name)
    s3.put_object(Bucket=BUCKET, Key="code/sourcedir.tar.gz", Body=archive.getvalue())
    (dataset,) = (repo / "pipelines" / "data").glob("*.csv")
    s3.put_object(Bucket=BUCKET, Key="input/data.csv", Body=dataset.read_bytes())


def run_runner(repo: Path, pipeline: dict[str, object]) -> float:
    """Seconds for the runner to run the whole pipeline (moto S3 and SageMaker)."""
    return timed_run(pipeline, lambda session: upload(session, repo))


def timed_run(pipeline: dict[str, object], setup: Callable[[boto3.Session], None]) -> float:
    """Seconds for the runner to run `pipeline` in moto (S3 and SageMaker) once `setup`
    has put its code and data there (untimed)."""
    with mock_aws():
        session = boto3.Session(region_name="us-east-1")
        setup(session)
        start = time.perf_counter()
        record = run_definition(pipeline, session=session, echo=lambda _: None)
        elapsed = time.perf_counter() - start
    if record.status != "Succeeded":
        raise SystemExit(f"the runner's execution failed: {record.failure_reason}")
    return elapsed


def run_direct(repo: Path, work: Path) -> float:
    """Seconds for preprocess, baseline, train and evaluate run directly on local folders."""
    scripts = repo / "pipelines" / "scripts"
    data = repo / "pipelines" / "data"
    splits, model, evaluation = work / "splits", work / "model", work / "evaluation"
    steps = [
        ["preprocess.py", "--input-dir", str(data), "--output-dir", str(splits)],
        [
            "data_quality.py",
            "baseline",
            "--input-dir",
            str(splits / "train"),
            "--output-dir",
            str(work / "baseline"),
            "--skip-first-column",
        ],
        [
            "train.py",
            "--train",
            str(splits / "train"),
            "--validation",
            str(splits / "validation"),
            "--model-dir",
            str(model),
        ],
        [
            "evaluate.py",
            "--model-dir",
            str(model),
            "--test-dir",
            str(splits / "test"),
            "--output-dir",
            str(evaluation),
        ],
    ]
    start = time.perf_counter()
    for script, *args in steps:
        subprocess.run(
            [sys.executable, str(scripts / script), *args],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    return time.perf_counter() - start


def toolkit_start() -> float:
    """Seconds the training toolkit's trainer takes to import, beyond a bare interpreter's
    start (median of three each)."""

    def median(code: str) -> float:
        times = []
        for _ in range(3):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True)
            times.append(time.perf_counter() - start)
        return sorted(times)[1]

    return max(0.0, median("import sagemaker_training.cli.train") - median("pass"))


def main() -> None:
    """Measure both, print the figures and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--framework", default="xgboost", choices=("xgboost", "sklearn"))
    parser.add_argument(
        "--problem-type", default="regression", choices=("regression", "classification")
    )
    options = parser.parse_args()
    os.environ.update(FAKE_AWS)
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        os.environ.pop(name, None)
    with tempfile.TemporaryDirectory(prefix="bench-local-") as scratch:
        work = Path(scratch)
        repo = render(work, options.framework, options.problem_type)
        pipeline = definition(repo)
        warm_up = "import numpy, pandas, sklearn, xgboost"
        subprocess.run([sys.executable, "-c", warm_up], check=True)
        direct = run_direct(repo, work / "direct")
        runner = run_runner(repo, pipeline)
        toolkit = toolkit_start()
    print(f"model-build pipeline ({options.framework}, {options.problem_type})")
    print(f"  runner (5 steps, moto S3/SageMaker): {runner:6.2f} s")
    print(f"  scripts directly, one after another: {direct:6.2f} s")
    print(f"  ratio runner/direct:                 {runner / direct:6.2f}  (goal <= 1.1)")
    print(f"  of which the training toolkit starts: {toolkit:6.2f} s  (imports, per training job)")
    print(f"  ratio without the toolkit's start:   {(runner - toolkit) / direct:6.2f}")


if __name__ == "__main__":
    main()
