"""The runner on small definitions whose steps exchange files through local paths: files in
and out of the container tree, property files and conditions, parameters, the failure path,
concurrency, training in script mode, and refusals before anything runs."""

import io
import json
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest
from local_kit import CUSTOM_IMAGE, SKLEARN_IMAGE, XGBOOST_IMAGE, Kit

from mlops_seeds.errors import SeedsError
from mlops_seeds.local import run_definition
from mlops_seeds.local.record import FAILED, NOT_STARTED, SKIPPED, SUCCEEDED

# Container paths as defaults, as the seed's scripts have them: the runner must move them.
PRODUCE = """
import argparse, json, pathlib
parser = argparse.ArgumentParser()
parser.add_argument("--score", type=float)
parser.add_argument("--report-dir", default="/opt/ml/processing/report")
args = parser.parse_args()
out = pathlib.Path("/opt/ml/processing/out")
(out / "nested").mkdir(parents=True, exist_ok=True)
(out / "nested" / "words.txt").write_text("hello local runner")
report = pathlib.Path(args.report_dir)
report.mkdir(parents=True, exist_ok=True)
(report / "report.json").write_text(json.dumps({"metrics": {"score": {"value": args.score}}}))
print("produced")
"""
CONSUME = """
import pathlib
text = pathlib.Path("/opt/ml/processing/input/words/nested/words.txt").read_text()
out = pathlib.Path("/opt/ml/processing/shout")
(out / "shout.txt").write_text(text.upper())
"""
CRASH = """
import sys
print("loading the data", file=sys.stderr)
print("ValueError: column 'target' is missing", file=sys.stderr)
sys.exit(1)
"""
TOUCH = """
import pathlib, sys
pathlib.Path(sys.argv[1]).write_text("ran")
"""
RENDEZVOUS = """
import pathlib, sys, time
folder, me, other = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3]
(folder / me).write_text("here")
deadline = time.monotonic() + 30
while not (folder / other).exists():
    if time.monotonic() > deadline:
        sys.exit(f"{me}: {other} never started")
    time.sleep(0.05)
"""


def score_definition(kit: Kit) -> dict[str, Any]:
    """Produce -> Consume, and Check (score >= MinScore) -> Celebrate | Stop."""
    produce = kit.processing(
        "Produce",
        kit.script("produce.py", PRODUCE),
        outputs={
            "out": (str(kit.folder("out")), "/opt/ml/processing/out"),
            "report": (str(kit.folder("report")), "/opt/ml/processing/report"),
        },
        arguments=["--score", {"Get": "Parameters.Score"}],
        PropertyFiles=[
            {"PropertyFileName": "Report", "OutputName": "report", "FilePath": "report.json"}
        ],
    )
    words_uri = {"Get": "Steps.Produce.ProcessingOutputConfig.Outputs['out'].S3Output.S3Uri"}
    consume = kit.processing(
        "Consume",
        kit.script("consume.py", CONSUME),
        inputs={"words": (words_uri, "/opt/ml/processing/input/words")},
        outputs={"shout": (str(kit.folder("shout")), "/opt/ml/processing/shout")},
    )
    score = {
        "Std:JsonGet": {
            "PropertyFile": {"Get": "Steps.Produce.PropertyFiles.Report"},
            "Path": "metrics.score.value",
        }
    }
    celebrate = kit.processing(
        "Celebrate",
        kit.script("celebrate.py", TOUCH),
        arguments=[str(kit.root / "celebrated.txt")],
    )
    stop = {
        "Name": "Stop",
        "Type": "Fail",
        "Arguments": {
            "ErrorMessage": {
                "Std:Join": {
                    "On": " ",
                    "Values": ["score", score, "<", {"Get": "Parameters.MinScore"}],
                }
            }
        },
    }
    check = {
        "Name": "Check",
        "Type": "Condition",
        "Arguments": {
            "Conditions": [
                {
                    "Type": "GreaterThanOrEqualTo",
                    "LeftValue": score,
                    "RightValue": {"Get": "Parameters.MinScore"},
                }
            ],
            "IfSteps": [celebrate],
            "ElseSteps": [stop],
        },
    }
    parameters = [
        {"Name": "Score", "Type": "Float", "DefaultValue": 0.8},
        {"Name": "MinScore", "Type": "Float", "DefaultValue": 0.5},
    ]
    return kit.definition([produce, consume, check], parameters)


def test_steps_run_in_the_container_tree_and_move_files_through_their_paths(
    kit: Kit, lines: list[str], tmp_path: Path
) -> None:
    record = run_definition(
        score_definition(kit), echo=lines.append, record_path=tmp_path / "r.json"
    )

    assert record.status == SUCCEEDED
    assert (kit.root / "data" / "out" / "nested" / "words.txt").read_text() == "hello local runner"
    assert (kit.root / "data" / "shout" / "shout.txt").read_text() == "HELLO LOCAL RUNNER"
    assert (kit.root / "celebrated.txt").read_text() == "ran"
    statuses = {s.name: s.status for s in record.steps}
    assert statuses == {
        "Produce": SUCCEEDED,
        "Consume": SUCCEEDED,
        "Check": SUCCEEDED,
        "Celebrate": SUCCEEDED,
        "Stop": SKIPPED,
    }
    produce = record.step("Produce")
    assert produce.properties["PropertyFiles"]["Report"] == {"metrics": {"score": {"value": 0.8}}}
    assert produce.outputs == {
        "out": str(kit.root / "data" / "out"),
        "report": str(kit.root / "data" / "report"),
    }
    assert produce.job_name == f"pipelines-{record.execution_id}-Produce"
    assert record.step("Check").properties == {"Outcome": "True"}
    assert record.step("Stop").skip_reason == "condition Check was True"
    assert "Produce (Processing): Executing" in lines
    assert any(line.startswith("Produce (Processing): Succeeded in ") for line in lines)
    assert lines[-1].startswith(f"execution {record.execution_id}: Succeeded in ")
    written = json.loads((tmp_path / "r.json").read_text())
    assert written["status"] == SUCCEEDED
    assert [s["name"] for s in written["steps"]] == [
        "Produce",
        "Consume",
        "Check",
        "Celebrate",
        "Stop",
    ]
    assert written["parameters"] == {"Score": 0.8, "MinScore": 0.5}


def test_a_parameter_override_takes_the_other_branch_and_the_fail_step_stops_the_run(
    kit: Kit, lines: list[str]
) -> None:
    record = run_definition(score_definition(kit), {"MinScore": "0.95"}, echo=lines.append)

    assert record.status == FAILED
    assert record.step("Stop").status == FAILED
    assert record.step("Stop").failure_reason == "score 0.8 < 0.95"
    assert record.failure_reason == "step Stop: score 0.8 < 0.95"
    assert record.step("Celebrate").status == SKIPPED
    assert not (kit.root / "celebrated.txt").exists()
    assert record.step("Check").properties == {"Outcome": "False"}


def test_a_failing_script_fails_its_step_with_its_stderr_and_nothing_after_it_runs(
    kit: Kit, lines: list[str]
) -> None:
    crash = kit.processing(
        "Crash",
        kit.script("crash.py", CRASH),
        outputs={"out": (str(kit.folder("crash-out")), "/opt/ml/processing/out")},
    )
    after = kit.processing(
        "After",
        kit.script("after.py", TOUCH),
        arguments=[str(kit.root / "after.txt")],
        DependsOn=["Crash"],
    )
    record = run_definition(kit.definition([crash, after]), echo=lines.append)

    assert record.status == FAILED
    failed = record.step("Crash")
    assert failed.status == FAILED
    assert failed.failure_reason is not None
    assert failed.failure_reason.startswith("python3 exited with code 1:")  # the entrypoint
    assert failed.failure_reason.endswith(
        "loading the data\nValueError: column 'target' is missing"
    )
    assert record.step("After").status == NOT_STARTED
    assert not (kit.root / "after.txt").exists()
    assert "ValueError: column 'target' is missing" in (record.failure_reason or "")
    assert any("Crash (Processing): Failed in" in line for line in lines)


def test_independent_steps_run_at_the_same_time(kit: Kit) -> None:
    # Each script waits for the other's flag file: run one after the other, the first
    # would give up and fail.
    meeting = kit.folder("meeting")
    script = kit.script("meet.py", RENDEZVOUS)
    steps = [
        kit.processing(name, script, arguments=[str(meeting), name, other])
        for name, other in (("Left", "Right"), ("Right", "Left"))
    ]
    record = run_definition(kit.definition(steps), echo=lambda _: None)
    assert record.status == SUCCEEDED, record.failure_reason
    assert sorted(p.name for p in meeting.iterdir()) == ["Left", "Right"]


TRAIN = """
import argparse, json, os, pathlib
parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int)
parser.add_argument("--lr", type=float)
parser.add_argument("--name")
parser.add_argument("--flag")
args = parser.parse_args()
train = pathlib.Path(os.environ["SM_CHANNEL_TRAIN"])
rows = (train / "part" / "rows.csv").read_text().splitlines()
model = pathlib.Path(os.environ["SM_MODEL_DIR"])
env = {k: os.environ[k] for k in os.environ if k.startswith("SM_")}
(model / "model.json").write_text(json.dumps({"args": vars(args), "rows": len(rows), "env": env}))
pathlib.Path(os.environ["SM_OUTPUT_DATA_DIR"], "extra.txt").write_text("extra")
print("epoch 1 loss=0.50")
print("epoch 2 loss=0.25")
"""


def training_step(kit: Kit, image: str = XGBOOST_IMAGE) -> dict[str, Any]:
    sources = kit.root / "sourcedir.tar.gz"
    data = kit.script("train.py", TRAIN).read_bytes()
    with tarfile.open(sources, "w:gz") as archive:
        info = tarfile.TarInfo("train.py")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    (kit.folder("train") / "part").mkdir()
    (kit.folder("train") / "part" / "rows.csv").write_text("1,2\n3,4\n5,6\n")
    return {
        "Name": "Train",
        "Type": "Training",
        "Arguments": {
            "AlgorithmSpecification": {
                "TrainingImage": image,
                "TrainingInputMode": "File",
                "MetricDefinitions": [{"Name": "loss", "Regex": r"loss=([0-9.]+)"}],
            },
            "HyperParameters": {
                "epochs": "3",
                "lr": "0.1",
                "name": '"abc"',
                "flag": "true",
                "sagemaker_program": '"train.py"',
                "sagemaker_submit_directory": json.dumps(str(sources)),
            },
            "InputDataConfig": [
                {
                    "ChannelName": "train",
                    "DataSource": {"S3DataSource": {"S3Uri": str(kit.folder("train"))}},
                }
            ],
            "OutputDataConfig": {"S3OutputPath": str(kit.folder("models"))},
            "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
        },
    }


def test_a_training_step_runs_in_script_mode_and_uploads_model_tar_gz(kit: Kit) -> None:
    record = run_definition(kit.definition([training_step(kit)]), echo=lambda _: None)
    assert record.status == SUCCEEDED, record.failure_reason

    train = record.step("Train")
    job_output = kit.root / "data" / "models" / f"{train.job_name}" / "output"
    assert train.properties["ModelArtifacts"] == {
        "S3ModelArtifacts": str(job_output / "model.tar.gz")
    }
    assert train.properties["TrainingJobName"] == train.job_name
    assert [(m["MetricName"], m["Value"]) for m in train.properties["FinalMetricDataList"]] == [
        ("loss", 0.25)
    ]
    with tarfile.open(job_output / "model.tar.gz") as archive:
        assert archive.getnames() == ["model.json"]
        model = json.loads(archive.extractfile("model.json").read())  # type: ignore[union-attr]
    with tarfile.open(job_output / "output.tar.gz") as archive:
        assert archive.getnames() == ["extra.txt"]
    assert model["args"] == {"epochs": 3, "lr": 0.1, "name": "abc", "flag": "True"}
    assert model["rows"] == 3
    env = model["env"]
    assert json.loads(env["SM_HPS"]) == {"epochs": 3, "lr": 0.1, "name": "abc", "flag": True}
    assert env["SM_HP_EPOCHS"] == "3"
    assert env["SM_HP_NAME"] == "abc"
    assert json.loads(env["SM_CHANNELS"]) == ["train"]
    assert env["SM_NUM_GPUS"] == "0"
    assert json.loads(env["SM_HOSTS"]) == ["algo-1"]
    assert env["SM_CURRENT_HOST"] == "algo-1"
    assert env["SM_CURRENT_INSTANCE_TYPE"] == "ml.m5.large"
    assert env["SM_MODEL_DIR"] == "/opt/ml/model"  # the container's paths, made real
    assert env["SM_CHANNEL_TRAIN"] == "/opt/ml/input/data/train"


def test_unsupported_step_types_are_named_before_anything_runs(kit: Kit) -> None:
    first = kit.processing("First", kit.script("first.py", TOUCH), arguments=[str(kit.root / "x")])
    steps = [
        first,
        {"Name": "Notify", "Type": "Lambda", "Arguments": {}},
        {"Name": "Spark", "Type": "EMR", "Arguments": {}, "DependsOn": ["First"]},
    ]
    with pytest.raises(SeedsError) as caught:
        run_definition(kit.definition(steps), echo=lambda _: None)
    message = str(caught.value)
    assert "step Notify: step type Lambda cannot run locally" in message
    assert "step Spark: step type EMR cannot run locally" in message
    assert "\n" not in message
    assert not (kit.root / "x").exists()


def test_an_unknown_image_is_refused_before_anything_runs_unless_mapped(kit: Kit) -> None:
    first = kit.processing("First", kit.script("first.py", TOUCH), arguments=[str(kit.root / "1")])
    custom = kit.processing(
        "Custom",
        kit.script("custom.py", TOUCH),
        arguments=[str(kit.root / "2")],
        image=CUSTOM_IMAGE,
    )
    definition = kit.definition([first, custom])
    with pytest.raises(SeedsError, match=f"step Custom: image {CUSTOM_IMAGE} is not a SageMaker"):
        run_definition(definition, echo=lambda _: None)
    assert not (kit.root / "1").exists()

    record = run_definition(definition, image_map={CUSTOM_IMAGE: sys.executable}, echo=print)
    assert record.status == SUCCEEDED
    assert (kit.root / "2").read_text() == "ran"


def test_an_image_given_by_a_parameter_is_checked_with_the_parameter_value(kit: Kit) -> None:
    step = kit.processing(
        "Custom",
        kit.script("custom.py", TOUCH),
        arguments=[str(kit.root / "2")],
        image={"Get": "Parameters.Image"},
    )
    parameters = [{"Name": "Image", "Type": "String", "DefaultValue": XGBOOST_IMAGE}]
    definition = kit.definition([step], parameters)
    with pytest.raises(SeedsError, match=f"image {CUSTOM_IMAGE} is not a SageMaker"):
        run_definition(definition, {"Image": CUSTOM_IMAGE}, echo=lambda _: None)
    assert run_definition(definition, echo=lambda _: None).status == SUCCEEDED


def test_a_script_mode_training_step_without_a_program_is_refused(kit: Kit) -> None:
    step = training_step(kit, image=SKLEARN_IMAGE)  # no built-in algorithm either
    del step["Arguments"]["HyperParameters"]["sagemaker_program"]
    with pytest.raises(SeedsError, match=r"step Train: image .* has no built-in algorithm"):
        run_definition(kit.definition([step]), echo=lambda _: None)


def test_a_missing_input_fails_the_step(kit: Kit) -> None:
    step = kit.processing(
        "Read",
        kit.script("read.py", TOUCH),
        inputs={"data": (str(kit.root / "nowhere"), "/opt/ml/processing/input/data")},
        arguments=[str(kit.root / "x")],
    )
    record = run_definition(kit.definition([step]), echo=lambda _: None)
    assert record.step("Read").status == FAILED
    assert record.step("Read").failure_reason == f"no object under {kit.root / 'nowhere'}"


def test_a_kept_workdir_holds_each_steps_tree_and_logs(kit: Kit, tmp_path: Path) -> None:
    definition = score_definition(kit)
    record = run_definition(definition, workdir=tmp_path / "work", echo=lambda _: None)
    root = tmp_path / "work" / record.execution_id
    assert record.workdir == str(root)
    assert (root / "Produce" / "logs" / "stdout.log").read_text() == "produced\n"
    config = json.loads((root / "Produce" / "opt/ml/config/processingjobconfig.json").read_text())
    assert config["ProcessingJobName"] == record.step("Produce").job_name
    assert record.step("Produce").logs == str(root / "Produce" / "logs")


def test_progress_lines_of_concurrent_steps_stay_whole(capfd: pytest.CaptureFixture[str]) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from mlops_seeds.local.runner import echo_stderr

    def talk(step: int) -> None:
        for n in range(300):
            echo_stderr(f"step {step} line {n} " + "." * 60)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(talk, range(8)))
    lines = capfd.readouterr().err.splitlines()
    expected = {f"step {s} line {n} " + "." * 60 for s in range(8) for n in range(300)}
    assert len(lines) == len(expected) and set(lines) == expected
