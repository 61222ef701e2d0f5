"""Script-mode training as the framework containers' training toolkit runs it: entry points
by kind (a Python program, a shell launcher such as the SDK's RepackModel one, a package),
`requirements.txt` installed into the step's own environment, the toolkit importable from
the script (under its current and its former name), and the job's failure file as its
failure reason."""

import base64
import hashlib
import io
import json
import tarfile
import venv
import zipfile
from pathlib import Path
from typing import Any

import pytest
from local_kit import CUSTOM_IMAGE, SKLEARN_IMAGE, Kit, real_paths

from mlops_seeds.errors import SeedsError
from mlops_seeds.local import container_paths, run_definition
from mlops_seeds.local.record import FAILED, SUCCEEDED


@pytest.fixture(autouse=True)
def _offline_pip(monkeypatch: pytest.MonkeyPatch) -> None:
    """pip may use no index here (nothing downloads at run time), nor build isolation
    (which would download the build backend): the image's setuptools builds."""
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_NO_BUILD_ISOLATION", "false")


def _sources(kit: Kit, files: dict[str, str | bytes]) -> Path:
    """sourcedir.tar.gz holding `files`."""
    archive = kit.root / "sourcedir.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for name, body in files.items():
            data = body.encode() if isinstance(body, str) else body
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return archive


def _step(kit: Kit, program: str, files: dict[str, str | bytes], **hps: str) -> dict[str, Any]:
    (kit.folder("train") / "rows.csv").write_text("1,2\n")
    return {
        "Name": "Train",
        "Type": "Training",
        "Arguments": {
            "AlgorithmSpecification": {"TrainingImage": SKLEARN_IMAGE, "TrainingInputMode": "File"},
            "HyperParameters": {
                "sagemaker_program": json.dumps(program),
                "sagemaker_submit_directory": json.dumps(str(_sources(kit, files))),
                **{k: json.dumps(v) for k, v in hps.items()},
            },
            "InputDataConfig": [
                {
                    "ChannelName": "training",
                    "DataSource": {"S3DataSource": {"S3Uri": str(kit.folder("train"))}},
                }
            ],
            "OutputDataConfig": {"S3OutputPath": str(kit.folder("models"))},
            "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
        },
    }


def _model(kit: Kit, record: Any) -> dict[str, Any]:
    job = record.step("Train").job_name
    with tarfile.open(kit.root / "data" / "models" / job / "output" / "model.tar.gz") as tar:
        member = tar.extractfile("seen.json")
        assert member is not None
        seen: dict[str, Any] = json.loads(member.read())
    return seen


def _wheel(name: str, version: str, module: str) -> tuple[str, bytes]:
    """A minimal pure-Python wheel holding `module` (name, bytes)."""
    dist = f"{name}-{version}"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    wheel = "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    files = {
        f"{name}.py": module.encode(),
        f"{dist}.dist-info/METADATA": metadata.encode(),
        f"{dist}.dist-info/WHEEL": wheel.encode(),
    }
    record_lines = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record_lines.append(f"{path},sha256={digest},{len(data)}")
    record_lines.append(f"{dist}.dist-info/RECORD,,")
    files[f"{dist}.dist-info/RECORD"] = ("\n".join(record_lines) + "\n").encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return f"{dist}-py3-none-any.whl", buffer.getvalue()


WRITE_SEEN = """
import json, os, sys
seen = {"argv": sys.argv[1:], "executable": sys.executable, **EXTRA}
with open(os.path.join(os.environ["SM_MODEL_DIR"], "seen.json"), "w") as out:
    json.dump(seen, out)
"""


@real_paths
def test_requirements_go_into_the_steps_environment_not_the_tools(kit: Kit) -> None:
    wheel, data = _wheel("tinydep", "1.0", "ANSWER = 42\n")
    train = WRITE_SEEN.replace("**EXTRA", '"answer": __import__("tinydep").ANSWER')
    files = {"train.py": train, "requirements.txt": f"./{wheel}\nnumpy\n", wheel: data}
    record = run_definition(kit.definition([_step(kit, "train.py", files)]), echo=lambda _: None)
    assert record.status == SUCCEEDED, record.failure_reason
    seen = _model(kit, record)
    assert seen["answer"] == 42
    assert seen["executable"].endswith("/Train/python/bin/python")
    with pytest.raises(ImportError):
        __import__("tinydep")  # the tool's own environment is untouched


def test_a_requirement_that_cannot_install_fails_the_job_before_the_script(kit: Kit) -> None:
    files = {"train.py": "raise SystemExit('must not run')", "requirements.txt": "./missing.whl\n"}
    record = run_definition(kit.definition([_step(kit, "train.py", files)]), echo=lambda _: None)
    assert record.status == FAILED
    reason = record.step("Train").failure_reason
    assert reason.startswith("AlgorithmError: InstallRequirementsError:\nExitCode 1\n")  # toolkit's
    assert "-m pip install -r requirements.txt" in reason
    assert "must not run" not in record.failure_reason


@real_paths
def test_a_shell_launcher_runs_as_a_command_with_the_steps_python(kit: Kit) -> None:
    # The shape of the SDK's RepackModel step: `_repack_script_launcher.sh` reads SM_HP_*
    # and runs `python <script>` from the code directory.
    launcher = '#!/bin/bash\npython repack.py --model "${SM_HP_MODEL_ARCHIVE}" "$@"\n'
    repack = WRITE_SEEN.replace("**EXTRA", '"cwd": os.getcwd()')
    files = {"launcher.sh": launcher, "repack.py": repack}
    step = _step(kit, "launcher.sh", files, model_archive="s3://bucket/model.tar.gz")
    record = run_definition(kit.definition([step]), echo=lambda _: None)
    assert record.status == SUCCEEDED, record.failure_reason
    seen = _model(kit, record)
    assert seen["argv"][:2] == ["--model", "s3://bucket/model.tar.gz"]
    assert seen["argv"][2:] == ["--model_archive", "s3://bucket/model.tar.gz"]
    assert seen["cwd"] == "/opt/ml/code"
    assert seen["executable"].endswith("/Train/python/bin/python")


@real_paths
def test_a_package_entry_point_is_installed_and_run_as_a_module(kit: Kit) -> None:
    # setup.py makes it a package to the toolkit; the build backend is one the image has
    # (hatchling), as pip may not download setuptools here.
    pyproject = (
        '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'
        '[project]\nname = "trainer"\nversion = "1.0"\n'
        '[tool.hatch.build.targets.wheel]\ninclude = ["trainer.py"]\n'
    )
    trainer = WRITE_SEEN.replace("**EXTRA", '"module": __name__')
    files = {"setup.py": "", "pyproject.toml": pyproject, "trainer.py": trainer}
    record = run_definition(kit.definition([_step(kit, "trainer", files)]), echo=lambda _: None)
    assert record.status == SUCCEEDED, record.failure_reason
    assert _model(kit, record)["module"] == "__main__"


@real_paths
def test_scripts_read_their_job_through_the_training_toolkit(kit: Kit) -> None:
    train = WRITE_SEEN.replace(
        "**EXTRA",
        "**(lambda e: {'hps': e.hyperparameters, 'channels': e.channel_input_dirs, "
        "'model_dir': e.model_dir})(__import__('sagemaker_training.environment', "
        "fromlist=['Environment']).Environment())",
    )
    files = {"train.py": train}
    record = run_definition(
        kit.definition([_step(kit, "train.py", files, epochs="3")]), echo=lambda _: None
    )
    assert record.status == SUCCEEDED, record.failure_reason
    seen = _model(kit, record)
    assert seen["hps"] == {"epochs": "3"}
    assert seen["channels"] == {"training": "/opt/ml/input/data/training"}
    assert seen["model_dir"] == "/opt/ml/model"


@real_paths
def test_scripts_written_for_the_toolkits_former_name_run(kit: Kit) -> None:
    train = (
        "import json, os\n"
        "import sagemaker_containers\n"
        "from sagemaker_containers.beta.framework import (\n"
        "    content_types, encoders, env, modules, transformer, worker)\n"
        "job = sagemaker_containers.training_env()\n"
        "try:\n"
        "    worker.Response\n"
        "    serving = 'usable'\n"
        "except AttributeError as err:\n"
        "    serving = str(err)\n"
        "seen = {'hps': job.hyperparameters, 'channels': job.channel_input_dirs,\n"
        "        'framework_env': type(env.TrainingEnv()).__name__, 'csv': content_types.CSV,\n"
        "        'decoded': encoders.decode('1,2\\n', content_types.CSV).tolist(),\n"
        "        'serving': serving}\n"
        "with open(os.path.join(job.model_dir, 'seen.json'), 'w') as out:\n"
        "    json.dump(seen, out)\n"
    )
    record = run_definition(
        kit.definition([_step(kit, "train.py", {"train.py": train}, depth="4")]),
        echo=lambda _: None,
    )
    assert record.status == SUCCEEDED, record.failure_reason
    seen = _model(kit, record)
    assert seen["hps"] == {"depth": "4"}
    assert seen["channels"] == {"training": "/opt/ml/input/data/training"}
    assert seen["framework_env"] == "Environment"  # TrainingEnv, renamed
    assert (seen["csv"], seen["decoded"]) == ("text/csv", [1.0, 2.0])  # the toolkit decodes
    assert "moved to sagemaker-inference" in seen["serving"]


def test_without_user_namespaces_the_toolkit_trains_under_the_rewritten_paths(
    kit: Kit, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(container_paths, "unavailable", lambda: "user namespaces are off")
    train = WRITE_SEEN.replace(
        "**EXTRA",
        '"rows": open("/opt/ml/input/data/training/rows.csv").read(), '
        '"module_dir": os.environ["SM_MODULE_DIR"], "model_dir": os.environ["SM_MODEL_DIR"]',
    )
    record = run_definition(
        kit.definition([_step(kit, "train.py", {"train.py": train}, depth="4")]),
        echo=lambda _: None,
    )
    assert record.status == SUCCEEDED, record.failure_reason
    seen = _model(kit, record)
    assert seen["rows"] == "1,2\n"  # the literal /opt/ml path, rewritten
    assert seen["argv"] == ["--depth", "4"]
    assert seen["model_dir"].endswith("/Train/opt/ml/model")
    assert seen["module_dir"] == seen["model_dir"].replace("/model", "/code")  # in place


def test_an_interpreter_without_the_toolkit_is_refused_before_anything_runs(
    kit: Kit, tmp_path: Path
) -> None:
    bare = tmp_path / "bare"
    venv.create(bare, symlinks=True)  # no pip, no site packages: no toolkit
    step = _step(kit, "train.py", {"train.py": "raise SystemExit('must not run')"})
    step["Arguments"]["AlgorithmSpecification"]["TrainingImage"] = CUSTOM_IMAGE
    with pytest.raises(SeedsError) as caught:
        run_definition(
            kit.definition([step]),
            image_map={CUSTOM_IMAGE: str(bare / "bin" / "python")},
            echo=lambda _: None,
        )
    assert str(caught.value).startswith(
        "cannot run locally: step Train: script mode runs with the SageMaker training toolkit"
    )
    assert "install sagemaker-training there" in str(caught.value)


def test_the_failure_file_is_the_jobs_failure_reason(kit: Kit) -> None:
    train = (
        "import os, sys\n"
        "path = os.path.join(os.environ['SM_OUTPUT_DIR'], 'failure')\n"
        "open(path, 'w').write('label column missing')\n"
        "sys.exit(2)\n"
    )
    record = run_definition(
        kit.definition([_step(kit, "train.py", {"train.py": train})]), echo=lambda _: None
    )
    assert record.status == FAILED
    assert record.step("Train").failure_reason == "AlgorithmError: label column missing"
