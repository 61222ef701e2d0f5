"""`pipeline run --local`: exit codes, one-line errors, the record file."""

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from local_kit import CUSTOM_IMAGE, Kit

from mlops_seeds.local.cli import COMMANDS, ONLY_LOCAL, pipeline

TOUCH = """
import pathlib, sys
pathlib.Path(sys.argv[1]).write_text(sys.argv[2])
"""
FAIL = """
import sys
sys.exit("the script gave up")
"""


def invoke(*args: str) -> Result:
    return CliRunner().invoke(pipeline, list(args), catch_exceptions=False)


def write(tmp_path: Path, definition: Any) -> str:
    path = tmp_path / "definition.json"
    path.write_text(definition if isinstance(definition, str) else json.dumps(definition))
    return str(path)


def touch_definition(kit: Kit, image: Any = None) -> dict[str, Any]:
    extra = {"image": image} if image else {}
    step = kit.processing(
        "Touch",
        kit.script("touch.py", TOUCH),
        arguments=[str(kit.root / "touched"), {"Get": "Parameters.Word"}],
        **extra,
    )
    parameters = [{"Name": "Word", "Type": "String", "DefaultValue": "hello"}]
    return kit.definition([step], parameters)


def test_commands_are_the_pipeline_group() -> None:
    assert [pipeline] == COMMANDS
    assert "run" in pipeline.commands


def test_run_local_runs_the_definition_with_params_and_writes_the_record(
    kit: Kit, tmp_path: Path
) -> None:
    definition = write(tmp_path, touch_definition(kit))
    record = tmp_path / "out" / "record.json"
    result = invoke("run", "--local", definition, "--param", "Word=bye", "--record", str(record))
    assert result.exit_code == 0, result.output
    assert (kit.root / "touched").read_text() == "bye"
    written = json.loads(record.read_text())
    assert written["status"] == "Succeeded"
    assert written["parameters"] == {"Word": "bye"}
    assert written["steps"][0]["name"] == "Touch"
    assert "Touch (Processing): Succeeded in" in result.stderr


def test_a_failed_execution_exits_1_with_the_reason(kit: Kit, tmp_path: Path) -> None:
    step = kit.processing("Give-up", kit.script("fail.py", FAIL))
    result = invoke("run", "--local", write(tmp_path, kit.definition([step])))
    assert result.exit_code == 1
    assert "execution failed: step Give-up: " in result.stderr
    assert "the script gave up" in result.stderr


def test_without_local_one_line_says_only_local_runs_exist(kit: Kit, tmp_path: Path) -> None:
    result = invoke("run", write(tmp_path, touch_definition(kit)))
    assert result.exit_code == 2
    assert result.stderr == f"mlops-seeds: error: {ONLY_LOCAL}\n"
    assert not (kit.root / "touched").exists()


@pytest.mark.parametrize(
    ("args", "definition", "message"),
    [
        ((), "{broken", "line 1: JSON syntax"),
        (("--param", "Nope=1"), None, "--param Nope: no such pipeline parameter"),
        (("--param", "Word"), None, "--param 'Word': expected NAME=VALUE"),
        (("--image-map", "x=/no/such/python"), None, "/no/such/python is not an executable"),
        ((), "custom-image", f"step Touch: image {CUSTOM_IMAGE} is not a SageMaker"),
    ],
)
def test_bad_input_gets_one_line_and_exit_2_and_nothing_runs(
    kit: Kit, tmp_path: Path, args: tuple[str, ...], definition: Any, message: str
) -> None:
    if definition is None:
        definition = touch_definition(kit)
    elif definition == "custom-image":
        definition = touch_definition(kit, image=CUSTOM_IMAGE)
    result = invoke("run", "--local", write(tmp_path, definition), *args)
    assert result.exit_code == 2
    assert result.stderr.startswith("mlops-seeds: error: ")
    assert message in result.stderr
    assert result.stderr.count("\n") == 1
    assert not (kit.root / "touched").exists()


def test_a_missing_definition_file_is_one_line(tmp_path: Path) -> None:
    result = invoke("run", "--local", str(tmp_path / "nope.json"))
    assert result.exit_code == 2
    assert result.stderr.startswith(
        f"mlops-seeds: error: definition {tmp_path / 'nope.json'}: cannot read"
    )
    assert result.stderr.count("\n") == 1
