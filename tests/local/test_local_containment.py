"""Every path a definition names stays inside the step's folder: LocalPaths under
/opt/ml/processing/, property files inside their output, entry points inside the code
folder, S3 keys inside the input's folder. Literal and parameter values are refused before
any step runs; values known only while running fail their step. Nothing outside changes."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from local_kit import XGBOOST_IMAGE, Kit

from mlops_seeds.containment import PathEscape, contained
from mlops_seeds.errors import SeedsError
from mlops_seeds.local import run_definition
from mlops_seeds.local.record import FAILED, NOT_STARTED

SECRET = "the developer's secret\n"
WRITE = """
import pathlib, sys
out = pathlib.Path("/opt/ml/processing/out")
out.mkdir(parents=True, exist_ok=True)
(out / "report.json").write_text('{"score": 1}')
"""
LINK = """
import os, pathlib, sys
out = pathlib.Path("/opt/ml/processing/out")
out.mkdir(parents=True, exist_ok=True)
os.symlink(sys.argv[1], out / "report.json")
"""
LINK_FOLDER = """
import os, pathlib, shutil, sys
out = pathlib.Path("/opt/ml/processing/out")
shutil.rmtree(out, ignore_errors=True)
os.symlink(sys.argv[1], out)
"""
TOUCH = """
import pathlib, sys
pathlib.Path(sys.argv[1]).write_text("ran")
"""


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def outside(tmp_path: Path) -> Iterator[Path]:
    """A folder with a secret and a .git folder, beside the kit: checked unchanged after."""
    folder = tmp_path / "outside"
    (folder / ".git").mkdir(parents=True)
    (folder / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (folder / "secret.txt").write_text(SECRET)
    before = _snapshot(folder)
    yield folder
    assert _snapshot(folder) == before


def touch_step(kit: Kit, **changes: Any) -> dict[str, Any]:
    """A step that would leave a mark if it ran, with an input and an output."""
    step = kit.processing(
        "Touch",
        kit.script("touch.py", TOUCH),
        inputs={"data": (str(kit.folder("in")), "/opt/ml/processing/input/data")},
        outputs={"out": (str(kit.folder("out")), "/opt/ml/processing/out")},
        arguments=[str(kit.root / "touched")],
    )
    (kit.folder("in") / "rows.csv").write_text("1\n")
    step.update(changes)
    return step


def refused(kit: Kit, definition: dict[str, Any], parameters: Any = None) -> str:
    with pytest.raises(SeedsError) as error:
        run_definition(definition, parameters, echo=lambda _: None)
    assert not (kit.root / "touched").exists()
    message = str(error.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(
    ("where", "local"),
    [
        ("ProcessingInputs[0].S3Input", "/opt/ml/processing/../../../../../../outside"),
        ("ProcessingInputs[0].S3Input", "/opt/ml/model"),
        ("ProcessingInputs[0].S3Input", "opt/ml/processing/input"),
        ("ProcessingOutputConfig.Outputs[0].S3Output", "/opt/ml/processing/out/../../.."),
        ("ProcessingOutputConfig.Outputs[0].S3Output", "/etc"),
    ],
)
def test_a_local_path_outside_opt_ml_processing_is_refused_before_anything_runs(
    kit: Kit, outside: Path, where: str, local: str
) -> None:
    step = touch_step(kit)
    target: Any = step["Arguments"]
    for part in where.replace("[0]", ".0").split("."):
        target = target[int(part)] if part.isdigit() else target[part]
    target["LocalPath"] = local
    message = refused(kit, kit.definition([step]))
    assert message == (
        f"cannot run locally: Steps[0].Arguments.{where}.LocalPath {local!r}: "
        "must stay under /opt/ml/processing/"
    )


def test_a_local_path_from_a_parameter_is_checked_with_its_value(kit: Kit, outside: Path) -> None:
    step = touch_step(kit)
    step["Arguments"]["ProcessingInputs"][0]["S3Input"]["LocalPath"] = {
        "Std:Join": {"On": "/", "Values": ["/opt/ml/processing", {"Get": "Parameters.Sub"}]}
    }
    parameters = [{"Name": "Sub", "Type": "String", "DefaultValue": "input"}]
    message = refused(kit, kit.definition([step], parameters), {"Sub": "../../../outside"})
    assert "Steps[0].Arguments.ProcessingInputs[0].S3Input.LocalPath " in message
    assert "'/opt/ml/processing/../../../outside': must stay under /opt/ml/processing/" in message


@pytest.mark.parametrize("path", ["../../../../../outside/secret.txt", "/etc/passwd", "."])
def test_a_property_file_outside_its_output_is_refused_before_anything_runs(
    kit: Kit, outside: Path, path: str
) -> None:
    files = [{"PropertyFileName": "Report", "OutputName": "out", "FilePath": path}]
    message = refused(kit, kit.definition([touch_step(kit, PropertyFiles=files)]))
    assert message.endswith(
        f"Steps[0].PropertyFiles[0].FilePath {path!r}: must stay inside output out "
        "(a relative path without '..')"
    )


def test_a_property_file_of_an_unknown_output_is_refused(kit: Kit) -> None:
    files = [{"PropertyFileName": "Report", "OutputName": "nope", "FilePath": "r.json"}]
    message = refused(kit, kit.definition([touch_step(kit, PropertyFiles=files)]))
    assert message.endswith(
        "Steps[0].PropertyFiles[0].OutputName 'nope': names no S3Output of the step"
    )


def test_a_property_file_the_step_links_outside_fails_the_step_without_reading_it(
    kit: Kit, outside: Path
) -> None:
    step = kit.processing(
        "Link",
        kit.script("link.py", LINK),
        outputs={"out": (str(kit.folder("out")), "/opt/ml/processing/out")},
        arguments=[str(outside / "secret.txt")],
        PropertyFiles=[{"PropertyFileName": "R", "OutputName": "out", "FilePath": "report.json"}],
    )
    record = run_definition(kit.definition([step]), echo=lambda _: None)
    assert record.status == FAILED
    reason = record.step("Link").failure_reason or ""
    assert "must stay inside" in reason or "leave" in reason
    assert "secret" not in json.dumps(record.step("Link").properties)
    assert "developer's" not in reason


def test_an_output_folder_the_step_links_outside_is_not_uploaded(kit: Kit, outside: Path) -> None:
    step = kit.processing(
        "Link",
        kit.script("link_folder.py", LINK_FOLDER),
        outputs={"out": (str(kit.folder("out")), "/opt/ml/processing/out")},
        arguments=[str(outside)],
    )
    record = run_definition(kit.definition([step]), echo=lambda _: None)
    assert record.status == FAILED
    assert "must stay inside" in (record.step("Link").failure_reason or "")
    assert not any(kit.folder("out").iterdir())


def test_a_container_path_climbing_out_of_opt_ml_is_refused(kit: Kit, outside: Path) -> None:
    step = touch_step(kit)
    step["Arguments"]["AppSpecification"]["ContainerArguments"] = [
        "--out",
        "/opt/ml/processing/../../../../outside/secret.txt",
    ]
    message = refused(kit, kit.definition([step]))
    assert message.endswith(
        "Steps[0].Arguments.AppSpecification.ContainerArguments[1] "
        "'/opt/ml/processing/../../../../outside/secret.txt': must stay under /opt/ml/"
    )


def _training(kit: Kit, program: str, channel: str = "train") -> dict[str, Any]:
    return {
        "Name": "Train",
        "Type": "Training",
        "Arguments": {
            "AlgorithmSpecification": {"TrainingImage": XGBOOST_IMAGE, "TrainingInputMode": "File"},
            "HyperParameters": {
                "sagemaker_program": json.dumps(program),
                "sagemaker_submit_directory": json.dumps(str(kit.folder("src"))),
            },
            "InputDataConfig": [
                {
                    "ChannelName": channel,
                    "DataSource": {"S3DataSource": {"S3Uri": str(kit.folder("train"))}},
                }
            ],
            "OutputDataConfig": {"S3OutputPath": str(kit.folder("models"))},
        },
    }


def test_an_entry_point_outside_the_code_folder_is_refused(kit: Kit, outside: Path) -> None:
    message = refused(kit, kit.definition([_training(kit, "../../../../outside/secret.txt")]))
    assert message.endswith(
        "Steps[0].Arguments.HyperParameters.sagemaker_program "
        "'\"../../../../outside/secret.txt\"': must stay inside /opt/ml/code/"
    )


@pytest.mark.parametrize("channel", ["..", "../../x", "a" * 65, ""])
def test_a_channel_name_that_is_no_folder_name_is_refused(
    kit: Kit, outside: Path, channel: str
) -> None:
    message = refused(kit, kit.definition([_training(kit, "train.py", channel)]))
    assert f"Steps[0].Arguments.InputDataConfig[0].ChannelName {channel!r}: " in message


def test_steps_in_condition_branches_are_named_by_their_place(kit: Kit) -> None:
    step = touch_step(kit)
    step["Arguments"]["ProcessingInputs"][0]["S3Input"]["LocalPath"] = "/opt/ml/processing/.."
    check = {
        "Name": "Check",
        "Type": "Condition",
        "Arguments": {"Conditions": [], "IfSteps": [], "ElseSteps": [step]},
    }
    message = refused(kit, kit.definition([check]))
    assert "Steps[0].Arguments.ElseSteps[0].Arguments.ProcessingInputs[0]" in message


def test_a_local_path_known_only_while_running_fails_its_step(kit: Kit, outside: Path) -> None:
    produce = kit.processing(
        "Produce",
        kit.script(
            "write.py",
            WRITE.replace("'{\"score\": 1}'", "'{\"path\": \"/opt/' + 'ml/processing/..\"}'"),
        ),
        outputs={"out": (str(kit.folder("out")), "/opt/ml/processing/out")},
        PropertyFiles=[{"PropertyFileName": "R", "OutputName": "out", "FilePath": "report.json"}],
    )
    consume = touch_step(kit)
    consume["Arguments"]["ProcessingInputs"][0]["S3Input"]["LocalPath"] = {
        "Std:JsonGet": {"PropertyFile": {"Get": "Steps.Produce.PropertyFiles.R"}, "Path": "path"}
    }
    record = run_definition(kit.definition([produce, consume]), echo=lambda _: None)
    assert record.status == FAILED
    assert record.step("Touch").failure_reason == (
        "Steps[1].Arguments.ProcessingInputs[0].S3Input.LocalPath '/opt/ml/processing/..': "
        "must stay under /opt/ml/processing/"
    )
    assert not (kit.root / "touched").exists()


def test_an_s3_key_climbing_out_of_the_input_folder_fails_the_step(
    kit: Kit, outside: Path, sandbox_session: boto3.Session
) -> None:
    s3 = sandbox_session.client("s3")
    s3.create_bucket(Bucket="bucket")
    s3.put_object(Bucket="bucket", Key="in/rows.csv", Body=b"1\n")
    climb = "in/" + "../" * 30 + str(outside / "secret.txt").lstrip("/")
    s3.put_object(Bucket="bucket", Key=climb, Body=b"overwritten\n")
    assert climb in [o["Key"] for o in s3.list_objects_v2(Bucket="bucket")["Contents"]]
    step = touch_step(kit)
    step["Arguments"]["ProcessingInputs"][0]["S3Input"]["S3Uri"] = "s3://bucket/in"
    record = run_definition(kit.definition([step]), session=sandbox_session, echo=lambda _: None)
    assert record.status == FAILED
    reason = record.step("Touch").failure_reason or ""
    assert reason.startswith(f"S3 key {climb!r} under s3://bucket/in: must stay inside ")
    assert not (kit.root / "touched").exists()
    assert record.step("Touch").status == FAILED
    assert [s.status for s in record.steps if s.name != "Touch"] in ([], [NOT_STARTED])


def test_contained_follows_symlinks_and_refuses_what_leaves_the_base(tmp_path: Path) -> None:
    base = tmp_path / "base"
    (base / "inner").mkdir(parents=True)
    (base / "link").symlink_to(tmp_path)
    assert contained(base, "inner", "x") == (base / "inner" / "x").resolve()
    assert contained(base) == base.resolve()
    for parts in (("..",), ("inner", "..", ".."), ("/etc",), ("link", "x"), ("a\x00b",)):
        with pytest.raises(PathEscape):
            contained(base, *parts)
