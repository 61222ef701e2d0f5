"""`mlops-seeds new`: rendering, buildspecs copied in, and every bad input refused cleanly."""

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from mlops_seeds import seeds
from mlops_seeds.errors import SeedsError

Run = Callable[..., Result]


@pytest.fixture
def toy(toy_repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MLOPS_SEEDS_ROOT", str(toy_repo))
    return toy_repo


def _entries(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*")) if path.exists() else []


def test_new_renders_seed_and_copies_its_buildspecs(toy: Path, tmp_path: Path, run: Run) -> None:
    out = tmp_path / "out"
    result = run(
        "new",
        "toy",
        "--no-input",
        "-o",
        str(out),
        "--set",
        "project_name=demo",
        "--set",
        "flavour=spicy",
    )
    assert result.exit_code == 0, result.stderr
    repo = out / "demo-repo"
    assert result.stdout.strip() == str(repo)
    assert _entries(out) == [
        "demo-repo",
        "demo-repo/.mlops-seeds.json",
        "demo-repo/README.md",
        "demo-repo/ci",
        "demo-repo/ci/buildspec.yml",
    ]
    assert (repo / "README.md").read_text() == "demo uses spicy\n"
    assert (repo / "ci/buildspec.yml").read_text() == (toy / "buildspecs/toy.yml").read_text()
    record = json.loads((repo / ".mlops-seeds.json").read_text())
    assert (record["seed"], record["options"]) == (
        "toy",
        {
            "flavour": "spicy",
            "project_id": "p-000000000000",
            "project_name": "demo",
            "size": "small",
        },
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope"], "unknown seed 'nope': choose one of toy"),
        (["toy", "--set", "flavour"], "--set 'flavour': expected KEY=VALUE"),
        (["toy", "--set", "=x"], "--set '=x': expected KEY=VALUE"),
        (["toy", "--set", "colour=red"], "--set colour: not an option of seed 'toy'"),
        (["toy", "--set", "_buildspecs=x"], "--set _buildspecs: not an option of seed 'toy'"),
        (["toy", "--set", "flavour=sour"], "--set flavour='sour': must be one of plain, spicy"),
        (["toy", "--set", "project_name=9lives"], "project_name '9lives': must be 1-32"),
        (["toy", "--set", "project_name=" + "a" * 33], "must be 1-32 characters"),
        (["toy", "--set", "project_id=p_1"], "project_id 'p_1': must be"),
        (
            ["toy", "--set", "flavour=spicy", "--set", "size=large"],
            "seed 'toy' does not support flavour=spicy, size=large: too hot to handle",
        ),
        (["toy", "--set", "flavour=refused-by-hook"], "rejected by its pre-generation hook"),
    ],
    ids=[
        "unknown-seed",
        "set-without-equals",
        "set-without-key",
        "unknown-option",
        "private-option",
        "bad-choice",
        "bad-project-name",
        "long-project-name",
        "bad-project-id",
        "unsupported-combination",
        "hook-refuses",
    ],
)
def test_bad_input_gets_one_line_exit_2_and_leaves_nothing(
    toy: Path, tmp_path: Path, run: Run, args: list[str], message: str
) -> None:
    out = tmp_path / "out"
    result = run("new", *args, "--no-input", "-o", str(out))
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.startswith("mlops-seeds:")]
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert not out.exists()


def test_existing_target_is_refused_and_left_alone(toy: Path, tmp_path: Path, run: Run) -> None:
    out = tmp_path / "out"
    (out / "toy-repo").mkdir(parents=True)
    (out / "toy-repo" / "mine.txt").write_text("keep me")
    result = run("new", "toy", "--no-input", "-o", str(out))
    assert result.exit_code == 2
    assert "already exists" in result.stderr
    assert _entries(out) == ["toy-repo", "toy-repo/mine.txt"]


def test_missing_buildspec_named_by_seed_is_refused(toy: Path, tmp_path: Path, run: Run) -> None:
    (toy / "buildspecs" / "toy.yml").unlink()
    out = tmp_path / "out"
    result = run("new", "toy", "--no-input", "-o", str(out))
    assert result.exit_code == 2
    assert "_buildspecs names missing file" in result.stderr
    assert not out.exists()


def test_seeds_lists_the_index(run: Run) -> None:
    result = run("seeds")
    assert result.exit_code == 0
    assert [line.split()[0] for line in result.stdout.splitlines()] == [
        "model-build",
        "model-deploy",
    ]


def test_console_script_reports_errors_without_traceback(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mlops_seeds", "new", "no-such-seed", "-o", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().startswith("mlops-seeds: error: unknown seed 'no-such-seed'")
    assert "Traceback" not in result.stderr


def test_rendering_leaves_no_temporary_files(
    tmp_path: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setenv("TMPDIR", str(temporary))
    monkeypatch.setattr("tempfile.tempdir", None)  # re-read TMPDIR
    result = run("new", "model-build", "--no-input", "-o", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert list(temporary.iterdir()) == []  # cookiecutter's hook files went with the scratch dir


# Option values are data: refused by the seed's declared rules before anything renders, and
# harmless even past them (sandboxed Jinja, answers read through tojson in the hooks).


def _payloads(marker: Path) -> dict[str, str]:
    return {
        "jinja": '{{ cycler.__init__.__globals__.os.popen("touch MARKER").read() }}'.replace(
            "MARKER", str(marker)
        ),
        "quote-newline": f'x"\nimport pathlib; pathlib.Path("{marker}").touch()\ny="',
    }


@pytest.mark.parametrize("kind", ["jinja", "quote-newline"])
def test_injected_option_is_refused_before_rendering(tmp_path: Path, run: Run, kind: str) -> None:
    marker = tmp_path / "ran"
    out = tmp_path / "out"
    payload = _payloads(marker)[kind]
    result = run(
        "new", "model-build", "--no-input", "-o", str(out), "--set", f"aws_region={payload}"
    )
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("mlops-seeds: error: --set aws_region=")
    assert "must match ^[a-z]{2}(-[a-z]+)+-[0-9]$ (an AWS region like us-east-1)" in result.stderr
    assert not marker.exists()
    assert not out.exists()


@pytest.mark.parametrize("kind", ["jinja", "quote-newline"])
def test_injected_option_runs_nothing_even_past_validation(
    tmp_path: Path, root: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """With the tool's checks switched off, the sandbox refuses Python internals and the
    hook reads the value as data (and refuses it by the seed's pattern)."""
    monkeypatch.setattr(seeds, "check_settings", lambda *_, **__: None)
    marker = tmp_path / "ran"
    out = tmp_path / "out"
    seed = seeds.get_seed(root, "model-build")
    expected = (
        "refused by the sandbox" if kind == "jinja" else "rejected by its pre-generation hook"
    )
    with pytest.raises(SeedsError, match=expected):
        seeds.bake(root, seed, out, {"aws_region": _payloads(marker)[kind]})
    assert not marker.exists()
    assert not out.exists()


def test_sandboxed_environment_refuses_python_internals() -> None:
    env = seeds.sandboxed_env_with_context({"cookiecutter": {}})
    template = env.from_string("{{ cycler.__init__.__globals__.os }}")
    with pytest.raises(SecurityError):
        template.render()
    assert env.from_string("{{ x | tojson }}").render(x='a"\nb') == '"a\\"\\nb"'


def test_sandbox_is_scoped_to_the_bake() -> None:
    import cookiecutter.generate
    import cookiecutter.utils

    original = cookiecutter.utils.create_env_with_context
    with seeds.sandboxed_cookiecutter(lambda _: None):
        env = cookiecutter.generate.create_env_with_context({"cookiecutter": {}})
        assert isinstance(env, SandboxedEnvironment)
    assert cookiecutter.utils.create_env_with_context is original
    assert cookiecutter.generate.create_env_with_context is original


def test_relative_output_dir_works_from_any_directory(
    tmp_path: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("new", "model-build", "--no-input", "-o", "work")
    assert result.exit_code == 0, result.output
    assert Path(result.stdout.strip()) == tmp_path / "work" / "my-project-modelbuild"
    assert (tmp_path / "work" / "my-project-modelbuild" / "codebuild-buildspec.yml").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["work"]


def test_repeated_set_is_refused(toy: Path, tmp_path: Path, run: Run) -> None:
    out = tmp_path / "out"
    result = run(
        "new",
        "toy",
        "--no-input",
        "-o",
        str(out),
        "--set",
        "flavour=plain",
        "--set",
        "flavour=spicy",
    )
    assert result.exit_code == 2
    assert (
        result.stderr
        == "mlops-seeds: error: --set flavour: given more than once (set each option once)\n"
    )
    assert not out.exists()


def test_free_text_option_without_a_pattern_is_refused(toy: Path, tmp_path: Path, run: Run) -> None:
    spec_path = toy / "seed_code" / "toy" / "cookiecutter.json"
    spec = json.loads(spec_path.read_text())
    spec["greeting"] = "hello"
    spec_path.write_text(json.dumps(spec))
    out = tmp_path / "out"
    result = run("new", "toy", "--no-input", "-o", str(out))
    assert result.exit_code == 2
    assert "option greeting declares neither choices nor a pattern (_patterns" in result.stderr
    spec["_patterns"] = {"greeting": {"regex": "^[a-z]{1,10}$", "rule": "a short word"}}
    spec_path.write_text(json.dumps(spec))
    refused = run("new", "toy", "--no-input", "-o", str(out), "--set", "greeting=Hi there")
    assert "--set greeting='Hi there': must match ^[a-z]{1,10}$ (a short word)" in refused.stderr
    assert run("new", "toy", "--no-input", "-o", str(out), "--set", "greeting=hi").exit_code == 0


def test_every_option_of_the_repository_seeds_declares_a_rule(root: Path) -> None:
    for seed in seeds.load_seeds(root).values():
        patterns = seeds.check_option_rules(seed)
        free_text = {k for k, v in seed.options.items() if not isinstance(v, list)}
        assert free_text <= set(patterns), seed.name
        seeds.check_settings(seed, {})  # the defaults obey the rules


@pytest.mark.parametrize(
    ("seed", "option", "good", "bad", "expected"),
    [
        ("model-build", "aws_region", "eu-central-2", "EU-west-1", "--set aws_region='EU-west-1'"),
        ("model-build", "project_id", "p-abc123", "p_abc", "project_id 'p_abc': must be 1-20"),
        ("model-deploy", "prod_instance_type", "ml.c5.xlarge", "m5.large", "instance type"),
        ("model-deploy", "prod_instance_count", "100", "101", "an integer from 1 to 100"),
        ("model-deploy", "prod_instance_count", "1", "01", "--set prod_instance_count='01'"),
        ("model-deploy", "prod_autoscaling", "no", "maybe", "must be one of yes, no"),
    ],
)
def test_patterns_accept_and_refuse(
    root: Path, seed: str, option: str, good: str, bad: str, expected: str
) -> None:
    chosen = seeds.get_seed(root, seed)
    seeds.check_settings(chosen, {option: good})
    with pytest.raises(SeedsError) as caught:
        seeds.check_settings(chosen, {option: bad})
    assert expected in str(caught.value)


def test_plain_cookiecutter_run_is_checked_by_the_hook(tmp_path: Path, root: Path) -> None:
    """Without the tool, the seed's hook refuses a bad value by the same pattern, reading it
    as data."""
    marker = tmp_path / "ran"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "cookiecutter",
            str(root / "seed_code" / "model-build"),
            "--no-input",
            "-o",
            str(tmp_path / "out"),
            f"aws_region={_payloads(marker)['quote-newline']}",
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "COOKIECUTTER_CONFIG": os.environ["COOKIECUTTER_CONFIG"]},
    )
    assert result.returncode != 0
    assert "ERROR: aws_region=" in result.stderr
    assert "must match ^[a-z]{2}(-[a-z]+)+-[0-9]$" in result.stderr
    assert not marker.exists()


def test_rendered_hooks_leave_nothing_in_the_temporary_folder(
    toy: Path, tmp_path: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(temporary))

    assert run("new", "toy", "--no-input", "-o", str(tmp_path / "out")).exit_code == 0
    assert list(temporary.iterdir()) == []
