"""`mlops-seeds pipeline run --local`: bad and hostile definitions and options, each one
line naming the field and the rule, exit 2, nothing run and nothing written outside.

Each case's definition is written to `{place}/definition.json` (a JSON value, or text or
bytes as they are); the base definition is one processing step that would write
`{place}/touched` if it ran.
"""

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from harness import Case, Places, check_one_line, invoke

SKLEARN = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
XGBOOST = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
CODE = "/opt/ml/processing/input/code"
TOUCH = "import pathlib, sys\npathlib.Path(sys.argv[1]).write_text('ran')\n"
DEFINITION = "{place}/definition.json"
RUN = ["pipeline", "run", "--local", DEFINITION]


def base() -> dict[str, Any]:
    """A definition that runs: one processing step touching {place}/touched."""
    return {
        "Version": "2020-12-01",
        "Parameters": [
            {"Name": "Word", "Type": "String", "DefaultValue": "hello"},
            {"Name": "Count", "Type": "Integer", "DefaultValue": 1},
        ],
        "Steps": [
            {
                "Name": "Touch",
                "Type": "Processing",
                "Arguments": {
                    "AppSpecification": {
                        "ImageUri": SKLEARN,
                        "ContainerEntrypoint": ["python3", f"{CODE}/touch.py"],
                        "ContainerArguments": ["{place}/touched"],
                    },
                    "ProcessingInputs": [
                        {
                            "InputName": "code",
                            "S3Input": {"S3Uri": "{place}/code", "LocalPath": CODE},
                        }
                    ],
                    "ProcessingOutputConfig": {
                        "Outputs": [
                            {
                                "OutputName": "out",
                                "S3Output": {
                                    "S3Uri": "{place}/out",
                                    "LocalPath": "/opt/ml/processing/out",
                                },
                            }
                        ]
                    },
                },
            }
        ],
    }


def changed(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    definition = copy.deepcopy(base())
    change(definition)
    return definition


def step_args(definition: dict[str, Any]) -> dict[str, Any]:
    args: dict[str, Any] = definition["Steps"][0]["Arguments"]
    return args


def set_input(path: Any) -> Callable[[dict[str, Any]], None]:
    return lambda d: step_args(d)["ProcessingInputs"][0]["S3Input"].update(LocalPath=path)


def set_output(path: Any) -> Callable[[dict[str, Any]], None]:
    return lambda d: step_args(d)["ProcessingOutputConfig"]["Outputs"][0]["S3Output"].update(
        LocalPath=path
    )


def property_file(path: str, output: str = "out") -> Callable[[dict[str, Any]], None]:
    def change(d: dict[str, Any]) -> None:
        d["Steps"][0]["PropertyFiles"] = [
            {"PropertyFileName": "Report", "OutputName": output, "FilePath": path}
        ]

    return change


def training(program: str = "train.py", channel: str = "train") -> Callable[[dict[str, Any]], None]:
    def change(d: dict[str, Any]) -> None:
        d["Steps"] = [
            {
                "Name": "Train",
                "Type": "Training",
                "Arguments": {
                    "AlgorithmSpecification": {
                        "TrainingImage": XGBOOST,
                        "TrainingInputMode": "File",
                    },
                    "HyperParameters": {
                        "sagemaker_program": json.dumps(program),
                        "sagemaker_submit_directory": json.dumps("{place}/code"),
                    },
                    "InputDataConfig": [
                        {
                            "ChannelName": channel,
                            "DataSource": {"S3DataSource": {"S3Uri": "{place}/code"}},
                        }
                    ],
                    "OutputDataConfig": {"S3OutputPath": "{place}/models"},
                },
            }
        ]

    return change


def entrypoint(path: str) -> Callable[[dict[str, Any]], None]:
    return lambda d: step_args(d)["AppSpecification"].update(ContainerEntrypoint=["python3", path])


def steps(value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda d: d.update(Steps=value)


CLIMB = "/opt/ml/processing/../../../../../../../{outside}"
PROCESSING = "must stay under /opt/ml/processing/"
INPUT = "Steps[0].Arguments.ProcessingInputs[0].S3Input.LocalPath"
OUTPUT = "Steps[0].Arguments.ProcessingOutputConfig.Outputs[0].S3Output.LocalPath"

# (case, the definition file's content: a JSON value, text, bytes, or None for none)
TABLE: list[tuple[Case, Any]] = [
    (Case("bad-json", RUN, "line 1: JSON syntax"), "{broken"),
    (Case("not-utf8", RUN, "not UTF-8 text (byte 0xff"), b"\xff\xfe{}"),
    (Case("empty-file", RUN, "JSON syntax: Expecting value"), ""),
    (Case("top-level-list", RUN, "definition: expected a JSON object"), []),
    (Case("deep-nesting", RUN, "nested deeper than 100 levels"), "[" * 5000 + "]" * 5000),
    (Case("duplicate-key", RUN, "duplicate key 'Steps'"), '{"Steps": [], "Steps": []}'),
    (Case("steps-object", RUN, "Steps must be a non-empty list"), changed(steps({}))),
    (
        Case("step-without-name", RUN, "Steps[0]: every step needs a Name"),
        changed(steps([{"Type": "Fail"}])),
    ),
    (
        Case("unknown-step-type", RUN, "step type Lambda cannot run locally"),
        changed(steps([{"Name": "L", "Type": "Lambda"}])),
    ),
    (
        Case("arguments-list", RUN, "step Touch: Arguments must be an object"),
        changed(lambda d: d["Steps"][0].update(Arguments="x")),
    ),
    (
        Case("inputs-not-list", RUN, "Steps[0].Arguments.ProcessingInputs 'x': must be a list"),
        changed(lambda d: step_args(d).update(ProcessingInputs="x")),
    ),
    (
        Case("input-not-object", RUN, "ProcessingInputs[0] 7: must be an object"),
        changed(lambda d: step_args(d).update(ProcessingInputs=[7])),
    ),
    (
        Case("input-localpath-climb", RUN, f"{INPUT} '{CLIMB}': {PROCESSING}"),
        changed(set_input(CLIMB)),
    ),
    (
        Case("input-localpath-relative", RUN, f"{INPUT} 'opt/ml/processing/x': {PROCESSING}"),
        changed(set_input("opt/ml/processing/x")),
    ),
    (
        Case("input-localpath-not-string", RUN, f"{INPUT} 3: must be a path under"),
        changed(set_input(3)),
    ),
    (
        Case("input-localpath-257", RUN, f"{INPUT} '/opt/ml/processing/xxx"),
        changed(set_input("/opt/ml/processing/" + "x" * 238)),
    ),
    (
        Case("output-localpath-climb", RUN, f"{OUTPUT} '/opt/ml/processing/..': {PROCESSING}"),
        changed(set_output("/opt/ml/processing/..")),
    ),
    (
        Case("output-localpath-model", RUN, f"{OUTPUT} '/opt/ml/model': {PROCESSING}"),
        changed(set_output("/opt/ml/model")),
    ),
    (
        Case(
            "property-file-climb",
            RUN,
            "Steps[0].PropertyFiles[0].FilePath '../../../../{outside}/"
            "secret.txt': must stay inside output out",
        ),
        changed(property_file("../../../../{outside}/secret.txt")),
    ),
    (
        Case("property-file-absolute", RUN, "FilePath '{outside}/secret.txt': must stay inside"),
        changed(property_file("{outside}/secret.txt")),
    ),
    (
        Case("property-file-unknown-output", RUN, "OutputName 'nope': names no S3Output"),
        changed(property_file("r.json", "nope")),
    ),
    (
        Case(
            "entrypoint-climb",
            RUN,
            "ContainerEntrypoint[1] '/opt/ml/processing/../../../{outside}"
            "/x.py': must stay under /opt/ml/",
        ),
        changed(entrypoint("/opt/ml/processing/../../../{outside}/x.py")),
    ),
    (
        Case(
            "training-program-climb",
            RUN,
            "sagemaker_program '\"../../{outside}/secret.txt\"': must stay inside /opt/ml/code/",
        ),
        changed(training(program="../../{outside}/secret.txt")),
    ),
    (
        Case(
            "training-channel-dotdot",
            RUN,
            "InputDataConfig[0].ChannelName '..': must name a folder",
        ),
        changed(training(channel="..")),
    ),
    (
        Case("training-channel-slash", RUN, "ChannelName 'a/b': Member must satisfy regular"),
        changed(training(channel="a/b")),
    ),
    (
        Case(
            "param-unknown", [*RUN, "--param", "Nope=1"], "--param Nope: no such pipeline parameter"
        ),
        base(),
    ),
    (
        Case("param-no-equals", [*RUN, "--param", "Word"], "--param 'Word': expected NAME=VALUE"),
        base(),
    ),
    (
        Case(
            "param-twice",
            [*RUN, "--param", "Word=a", "--param", "Word=b"],
            "--param Word: given twice",
        ),
        base(),
    ),
    (
        Case(
            "param-wrong-type", [*RUN, "--param", "Count=many"], "parameter Count (Integer): 'many'"
        ),
        base(),
    ),
    (
        Case(
            "param-localpath-climb",
            [*RUN, "--param", "Word=../../{outside}"],
            f"{INPUT} '/opt/ml/processing/../../{{outside}}': {PROCESSING}",
        ),
        changed(
            set_input(
                {
                    "Std:Join": {
                        "On": "/",
                        "Values": ["/opt/ml/processing", {"Get": "Parameters.Word"}],
                    }
                }
            )
        ),
    ),
    (
        Case(
            "record-under-a-file",
            [*RUN, "--record", "{outside}/secret.txt/record.json"],
            "--record {outside}/secret.txt/record.json: {outside}/secret.txt is not a folder",
        ),
        base(),
    ),
    (
        Case(
            "record-is-a-folder",
            [*RUN, "--record", "{outside}"],
            "Invalid value for '--record': File '{outside}' is a directory",
        ),
        base(),
    ),
    (
        Case(
            "record-under-dev-null",
            [*RUN, "--record", "/dev/null/r.json"],
            "/dev/null is not a folder",
        ),
        base(),
    ),
    (
        Case(
            "missing-definition",
            ["pipeline", "run", "--local", "{place}/nope.json"],
            "definition {place}/nope.json: cannot read",
        ),
        None,
    ),
    (
        Case(
            "pipeline-name-climb",
            [*RUN, "--pipeline-name", "../x"],
            "--pipeline-name '../x': Member must satisfy regular expression pattern",
        ),
        base(),
    ),
    (
        Case(
            "pipeline-name-257",
            [*RUN, "--pipeline-name", "p" * 257],
            "Member must have length less than or equal to 256",
        ),
        base(),
    ),
    (Case("without-local", ["pipeline", "run", DEFINITION], "only local runs exist yet"), base()),
    (
        Case(
            "image-map-not-python",
            [*RUN, "--image-map", "x={outside}/secret.txt"],
            "is not an executable file",
        ),
        base(),
    ),
    (
        Case("workdir-with-space", [*RUN, "--workdir", "{place}/a b"], "must not contain quotes"),
        base(),
    ),
    (
        Case("custom-image", RUN, "image 111122223333.dkr.ecr.us-east-1.amazonaws.com/x:1 is not"),
        changed(
            lambda d: step_args(d)["AppSpecification"].update(
                ImageUri="111122223333.dkr.ecr.us-east-1.amazonaws.com/x:1"
            )
        ),
    ),
]
XFAIL: dict[str, str] = {}  # case id -> why it fails for code this suite does not own
TABLE.append(
    (
        Case(
            "definition-is-a-folder",
            ["pipeline", "run", "--local", "{place}"],
            "Invalid value for 'DEFINITION'",
        ),
        None,
    )
)


def _write(place: Path, content: Any, places: Places) -> None:
    (place / "code").mkdir()
    (place / "code" / "touch.py").write_text(TOUCH)
    if content is None:
        return
    target = place / "definition.json"
    if isinstance(content, bytes):
        target.write_bytes(content)
    elif isinstance(content, str):
        target.write_text(content)
    else:
        target.write_text(places.fill([json.dumps(content)])[0])


@pytest.mark.parametrize(
    ("case", "content"),
    [
        pytest.param(
            case,
            content,
            id=case.id,
            marks=[pytest.mark.xfail(strict=True, reason=XFAIL[case.id])]
            if case.id in XFAIL
            else [],
        )
        for case, content in TABLE
    ],
)
def test_pipeline_run_local_bad_input(
    case: Case, content: Any, places: Places, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(places.place, content, places)
    result = invoke(places, case, monkeypatch)
    check_one_line(result, case, places)
    assert not (places.place / "touched").exists(), "a step ran"
    assert not (places.place / "out").exists(), "a step wrote its output"


def test_the_table_has_at_least_twenty_cases() -> None:
    assert len(TABLE) >= 20
