"""The pieces under the CodeBuild runner: the buildspec reader, the build shell, the build
virtual environment and artifact zips. No sandbox needed."""

import os
import re
import subprocess
import time
import zipfile
from io import BytesIO
from pathlib import Path

import pytest

from mlops_seeds.archives import unzip_directory, zip_directory
from mlops_seeds.rehearse import stacks
from mlops_seeds.rehearse.buildspec import BuildspecError, parse_buildspec
from mlops_seeds.rehearse.codebuild import collect_artifacts
from mlops_seeds.rehearse.pyenv import closure, create_build_venv, shared_sites_root
from mlops_seeds.rehearse.shell import BuildShell, CommandTimeout


def _shell(tmp_path: Path) -> tuple[BuildShell, Path]:
    log = tmp_path / "log"
    stream = log.open("ab")
    return BuildShell(tmp_path, dict(os.environ), stream, tmp_path / "scratch"), log


def test_shell_state_carries_from_command_to_command(tmp_path: Path) -> None:
    shell, log = _shell(tmp_path)
    with shell:
        assert shell.run("A=1; export B=2; mkdir -p sub && cd sub") == 0
        assert shell.run("greet() { echo hi $1; }; set -o pipefail; arr=(x y z)") == 0
        assert shell.run('greet you; echo "$A $B ${arr[2]} $PWD"; set -o | grep pipefail') == 0
        assert shell.run("unset A") == 0
        assert shell.values(["A", "B", "arr"]) == {"B": "2", "arr": "x"}
    text = log.read_text()
    assert f"hi you\n1 2 z {tmp_path}/sub\n" in text
    assert re.search(r"^pipefail\s+on$", text, re.MULTILINE)


def test_exit_ends_only_the_command(tmp_path: Path) -> None:
    shell, log = _shell(tmp_path)
    with shell:
        assert shell.run("X=kept; if true; then exit 7; fi; echo unreachable") == 7
        assert shell.run("echo after $X") == 0
    text = log.read_text()
    assert "unreachable" not in text
    assert "after kept" in text


def test_a_command_past_its_time_is_killed(tmp_path: Path) -> None:
    shell, _ = _shell(tmp_path)
    with shell, pytest.raises(CommandTimeout):
        shell.run("sleep 30", timeout=0.2)


def test_buildspec_fields_are_checked_by_name() -> None:
    cases = {
        "version: 0.1\nphases: {build: {commands: [a]}}": "version: must be 0.2",
        "version: 0.2\nphases: {compile: {commands: [a]}}": "phases: unknown phase 'compile'",
        "version: 0.2\nphases: {build: {commands: [true]}}": "phases.build.commands",
        "version: 0.2\nphases: {build: {on-failure: RETRY}}": "phases.build.on-failure",
        "version: 0.2\nenv: {secrets-manager: {A: b}}": "env.secrets-manager",
        "version: 0.2\nartifacts: {files: []}": "artifacts.files",
    }
    for text, message in cases.items():
        with pytest.raises(BuildspecError, match=message):
            parse_buildspec(text)


def test_buildspec_keeps_what_runs_and_notes_what_is_ignored() -> None:
    spec = parse_buildspec(
        "version: 0.2\n"
        "env: {variables: {N: 3, F: false}, exported-variables: [OUT], shell: sh}\n"
        "phases:\n"
        "  install: {runtime-versions: {python: 3.11}, commands: [a]}\n"
        "  build: {commands: [b, c], finally: [d], on-failure: CONTINUE}\n"
        "artifacts: {files: [x], discard-paths: yes, base-directory: out}\n"
    )
    assert spec.variables == {"N": "3", "F": "false"}
    assert spec.exported_variables == ("OUT",)
    build = spec.phase("build")
    assert build is not None
    assert (build.commands, build.finally_commands, build.on_failure) == (
        ("b", "c"),
        ("d",),
        "CONTINUE",
    )
    assert spec.artifacts is not None and spec.artifacts.discard_paths
    assert any("runtime-versions (python 3.11)" in note for note in spec.notes)
    assert any("env.shell sh" in note for note in spec.notes)


def test_artifact_files_expand_variables_and_respect_base_directory(tmp_path: Path) -> None:
    spec = parse_buildspec(
        "version: 0.2\nphases: {build: {commands: [a]}}\n"
        "artifacts: {base-directory: $OUT, files: ['**/*.json', '${NAME}'], exclude-paths: [skip*]}"
    ).artifacts
    assert spec is not None
    out = tmp_path / "src" / "dist"
    (out / "nested").mkdir(parents=True)
    for name in ("a.json", "nested/b.json", "skip.json", "t.yml", "other.txt"):
        (out / name).write_text(name)
    copied = collect_artifacts(
        spec, tmp_path / "src", {"OUT": "dist", "NAME": "t.yml"}, tmp_path / "o"
    )
    assert copied == ["a.json", "nested/b.json", "t.yml"]
    assert (tmp_path / "o" / "nested" / "b.json").read_text() == "nested/b.json"


def test_build_venv_holds_only_what_the_repository_declares(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    source = tmp_path / "src"
    source.mkdir()
    (source / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["hatchling"]\n[project]\nname = "x"\n'
        'dependencies = ["PyYAML>=6", "not-a-package-here"]\n'
    )
    bin_dir = create_build_venv(tmp_path / "venv", source)
    probe = "import sys, yaml, hatchling; print(sys.prefix)"
    done = subprocess.run(
        [str(bin_dir / "python"), "-c", probe], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == str(tmp_path / "venv")
    for undeclared in ("mlops_seeds", "boto3", "xgboost"):
        missing = subprocess.run(
            [str(bin_dir / "python"), "-c", f"import {undeclared}"], capture_output=True, text=True
        )
        assert f"No module named '{undeclared}'" in missing.stderr
    pip = subprocess.run(
        [str(bin_dir / "pip"), "--version"], capture_output=True, text=True, check=True
    )
    assert pip.stdout.startswith("pip ")


def _where(bin_dir: Path, probe: str) -> str:
    done = subprocess.run(
        [str(bin_dir / "python"), "-c", probe], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def _declaring_pyyaml(tmp_path: Path) -> Path:
    """A repository whose pyproject.toml declares PyYAML alone."""
    source = tmp_path / "src"
    source.mkdir()
    (source / "pyproject.toml").write_text('[project]\nname = "x"\ndependencies = ["PyYAML"]\n')
    return source


def _shared_directory() -> Path:
    """The one shared link directory made so far."""
    (shared,) = [p for p in shared_sites_root().iterdir() if not p.name.startswith(".")]
    return shared


YAML_FILE = "import yaml; print(yaml.__file__)"


def test_builds_of_the_same_declaration_see_the_same_module_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Bytecode kept by source path (PYTHONPYCACHEPREFIX) is found again by the next build.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    source = _declaring_pyyaml(tmp_path)
    probe = "import importlib.metadata as m, yaml; print(yaml.__file__, m.version('PyYAML'))"
    first = _where(create_build_venv(tmp_path / "one", source), probe)
    second = _where(create_build_venv(tmp_path / "two", source), probe)
    assert first == second
    assert first.startswith(str(shared_sites_root()))
    assert (_shared_directory() / "yaml").exists()


def test_without_a_cache_directory_the_links_are_the_builds_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    bin_dir = create_build_venv(tmp_path / "venv", _declaring_pyyaml(tmp_path))
    assert _where(bin_dir, YAML_FILE).startswith(str(tmp_path / "venv"))


def test_a_shared_directory_others_may_write_to_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    source = _declaring_pyyaml(tmp_path)
    first = _where(create_build_venv(tmp_path / "one", source), YAML_FILE)
    assert first.startswith(str(shared_sites_root()))
    _shared_directory().chmod(0o777)
    second = _where(create_build_venv(tmp_path / "two", source), YAML_FILE)
    assert second.startswith(str(tmp_path / "two"))


def test_a_relative_cache_home_is_ignored_as_the_xdg_spec_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert shared_sites_root() == tmp_path / "home" / ".cache" / "mlops-seeds" / "build-sites"


def test_closure_follows_requirements_markers_and_extras() -> None:
    assert {"boto3", "botocore", "s3transfer", "jmespath", "urllib3"} <= closure(["boto3>=1"])
    assert "boto3" not in closure(["botocore"])
    assert closure(["not-a-package-here", "also not a requirement!"]) == set()
    assert closure(['boto3; python_version < "3"']) == set()
    assert closure(["moto[s3]"]) - closure(["moto"]) == {"py-partiql-parser"}


def test_zip_round_trip_keeps_paths_and_executable_bits(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "bin").mkdir(parents=True)
    (tree / "bin" / "run.sh").write_text("#!/bin/sh\n")
    (tree / "bin" / "run.sh").chmod(0o755)
    (tree / "README").write_text("r")
    data = zip_directory(tree)
    assert data == zip_directory(tree)
    out = unzip_directory(data, tmp_path / "out")
    assert (out / "README").read_text() == "r"
    assert os.access(out / "bin" / "run.sh", os.X_OK)


def test_unzip_refuses_members_leaving_the_directory(tmp_path: Path) -> None:
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        bundle.writestr("../escape.txt", "x")
    with pytest.raises(ValueError, match="leaves its directory"):
        unzip_directory(buffer.getvalue(), tmp_path / "out")


class _Events:
    """describe_stack_events pages, newest first, as CloudFormation gives them."""

    def __init__(self, *pages: list[dict[str, str]]) -> None:
        self.pages = pages

    def get_paginator(self, name: str) -> "_Events":
        assert name == "describe_stack_events"
        return self

    def paginate(self, StackName: str) -> list[dict[str, list[dict[str, str]]]]:
        return [{"StackEvents": page} for page in self.pages]


def _event(
    logical: str, status: str, reason: str = "", kind: str = "AWS::S3::Bucket"
) -> dict[str, str]:
    return {
        "LogicalResourceId": logical,
        "ResourceStatus": status,
        "ResourceStatusReason": reason,
        "ResourceType": kind,
    }


def test_the_failure_reason_is_the_first_of_the_latest_operation() -> None:
    stack = "AWS::CloudFormation::Stack"
    events = _Events(
        [
            _event("s", "UPDATE_ROLLBACK_COMPLETE", kind=stack),
            _event("Endpoint", "UPDATE_FAILED", "Resource update cancelled"),
            _event("Model", "UPDATE_FAILED", "model package not found"),
            _event("s", "UPDATE_IN_PROGRESS", "User Initiated", kind=stack),
        ],
        [  # an older operation, on the next page
            _event("Bucket", "CREATE_FAILED", "an old failure"),
            _event("s", "CREATE_IN_PROGRESS", "User Initiated", kind=stack),
        ],
    )
    assert stacks.failure_reason(events, "s") == "Model: model package not found"
    assert stacks.failure_reason(_Events([]), "s") == stacks.NO_REASON


def test_what_a_build_leaves_running_ends_with_it(tmp_path: Path) -> None:
    shell, _ = _shell(tmp_path)
    pid_file = tmp_path / "pid"
    with shell:
        assert shell.run(f"sleep 300 & echo $! > {pid_file}") == 0
    pid = int(pid_file.read_text())
    for _ in range(50):  # the kill is sent at close; the process may take a moment to go
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        if Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z":
            break  # killed, waiting for its parent to reap it
        time.sleep(0.1)
    else:
        raise AssertionError(f"background process {pid} outlived the build")
