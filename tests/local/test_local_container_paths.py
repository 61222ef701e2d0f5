"""Container paths made real: each step sees its tree at /opt/ml (a private mount namespace),
for shell and Python alike, with `python` on PATH being the step's interpreter; where user
namespaces are missing, the runner rewrites the paths instead and says so in one line."""

import json
import os
from pathlib import Path

import pytest
from local_kit import CODE_DIR, Kit, real_paths

from mlops_seeds.local import container_paths, run_definition
from mlops_seeds.local.record import SUCCEEDED

pytestmark = real_paths

# A FrameworkProcessor-style launcher: cd to the code, run `python` from PATH.
RUNPROC = """#!/bin/sh
set -e
cd /opt/ml/processing/input/code
python report.py "$@"
"""
REPORT = """
import json, os, pathlib, shutil, sys
out = pathlib.Path("/opt/ml/processing/output")
seen = {
    "cwd": os.getcwd(),
    "python": shutil.which("python"),
    "executable": sys.executable,
    "image_package": __import__("xgboost").__name__,
    "input": sorted(p.name for p in pathlib.Path("/opt/ml/processing/input/data").iterdir()),
    "opt": sorted(os.listdir("/opt")),
    "args": sys.argv[1:],
}
(out / "seen.json").write_text(json.dumps(seen))
"""


def _shell_step(kit: Kit) -> dict[str, object]:
    kit.script("report.py", REPORT)
    runproc = kit.script("runproc.sh", RUNPROC)
    (runproc.parent / "report.py").write_text(REPORT)
    (kit.folder("input") / "rows.csv").write_text("1,2\n")
    step = kit.processing(
        "Report",
        runproc,
        inputs={"data": (str(kit.folder("input")), "/opt/ml/processing/input/data")},
        outputs={"output": (str(kit.folder("output")), "/opt/ml/processing/output")},
        arguments=["--flag", "/opt/ml/processing/input/data"],
    )
    step["Arguments"]["AppSpecification"]["ContainerEntrypoint"] = [  # type: ignore[index]
        "/bin/sh",
        f"{CODE_DIR}/runproc.sh",
    ]
    return step


def test_a_shell_launcher_sees_the_container_paths_and_the_steps_python(kit: Kit) -> None:
    record = run_definition(kit.definition([_shell_step(kit)]), echo=lambda _: None)
    assert record.status == SUCCEEDED, record.failure_reason
    seen = json.loads((kit.folder("output") / "seen.json").read_text())
    assert seen["cwd"] == "/opt/ml/processing/input/code"
    assert seen["input"] == ["rows.csv"]
    assert seen["args"] == ["--flag", "/opt/ml/processing/input/data"]  # not rewritten
    # `python` on PATH is the step's own environment, over the image interpreter's packages
    assert seen["executable"].endswith("/Report/python/bin/python")
    assert seen["python"] == seen["executable"] and seen["image_package"] == "xgboost"
    host_opt = sorted(n for n in os.listdir("/opt") if n != "ml") if Path("/opt").is_dir() else []
    assert seen["opt"] == sorted([*host_opt, "ml"])  # the host's /opt is still there
    assert not Path("/opt/ml/processing").exists() or not (
        Path("/opt/ml/processing/output/seen.json").exists()
    )


def test_the_users_scripts_are_not_rewritten(kit: Kit) -> None:
    script = kit.script("keep.py", 'PATH = "/opt/ml/processing/output"\n' + REPORT)
    original = script.read_text()
    step = kit.processing(
        "Keep",
        script,
        outputs={"output": (str(kit.folder("output")), "/opt/ml/processing/output")},
    )
    (kit.folder("input") / "x").write_text("")
    step["Arguments"]["ProcessingInputs"].append(  # type: ignore[index]
        {
            "InputName": "data",
            "S3Input": {
                "S3Uri": str(kit.folder("input")),
                "LocalPath": "/opt/ml/processing/input/data",
            },
        }
    )
    record = run_definition(kit.definition([step]), echo=lambda _: None, workdir=kit.root / "w")
    assert record.status == SUCCEEDED, record.failure_reason
    assert script.read_text() == original
    (copied,) = (kit.root / "w").rglob("input/code/keep.py")
    assert copied.read_text() == original  # the step's copy too


def test_without_user_namespaces_the_paths_are_rewritten_and_the_run_says_so(
    kit: Kit, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(container_paths, "unavailable", lambda: "user namespaces are off")
    lines: list[str] = []
    step = _shell_step(kit)
    step["Arguments"]["AppSpecification"]["ContainerEntrypoint"] = [  # type: ignore[index]
        "python3",
        f"{CODE_DIR}/report.py",
    ]
    record = run_definition(kit.definition([step]), echo=lines.append)
    assert record.status == SUCCEEDED, record.failure_reason
    assert lines[0] == (
        "container paths: user namespaces are off; /opt/ml is rewritten in the steps' Python "
        "sources and environment instead"
    )
    seen = json.loads((kit.folder("output") / "seen.json").read_text())
    assert seen["args"][1].endswith("/Report/opt/ml/processing/input/data")
