"""Take one permission the project needs out of a copy of the repository, rehearse, and
the rehearsal fails where AWS would refuse, quoting AWS's refusal: the action and the role.

Each edit is checked to change the copy exactly once, so a template change that moves the
permission fails the test rather than silently testing nothing."""

import re
import shutil
from pathlib import Path

import pytest

from mlops_seeds.paths import ROOT_ENV, repo_root
from mlops_seeds.rehearse import flow
from mlops_seeds.rehearse.scenarios import SCENARIOS
from mlops_seeds.rehearse.summary import summary_lines
from mlops_seeds.sandbox import Sandbox

READ_BY_THE_REHEARSAL = ("seed_code", "templates", "buildspecs", "service_catalog")
BUILD_PART = "templates/parts/model-build.yaml"  # the parts of templates/build-deploy.yaml
PASS_PIPELINE_ROLE = "- Sid: PassPipelineRole\n                Effect: Allow\n                "


def _copy_without(tmp_path: Path, relative: str, old: str, new: str) -> Path:
    """A copy of what the rehearsal reads, with `old` replaced by `new` (once) in one file."""
    root = tmp_path / "repo"
    for name in READ_BY_THE_REHEARSAL:
        shutil.copytree(repo_root() / name, root / name)
    path = root / relative
    text = path.read_text()
    assert text.count(old) == 1, f"{relative}: {old!r} occurs {text.count(old)} times"
    path.write_text(text.replace(old, new))
    return root


def _rehearse_without(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edit: tuple[str, str, str]
) -> tuple[flow.Report, str]:
    monkeypatch.setenv(ROOT_ENV, str(_copy_without(tmp_path, *edit)))
    options = flow.Options(scenario=SCENARIOS["happy"])
    work = tmp_path / "work"
    work.mkdir()
    report = flow.run(options, flow.prepare(options), print, sandbox, work)
    lines = summary_lines(report)
    print("\n".join(lines))
    failed = [line for line in lines if line.startswith("Rehearsal FAILED")]
    assert len(failed) == 1, lines
    return report, failed[0]


REFUSALS = {
    "launch role cannot create the project's roles": (
        (
            "service_catalog/spoke-bootstrap.yaml",
            "                  - iam:CreateRole\n",
            "",
        ),
        "scientist",
        r"User: arn:aws:sts::111111111111:assumed-role/MlopsSeedsLaunchRole/\S+ is not "
        r"authorized to perform: iam:CreateRole on resource: "
        r"arn:aws:iam::111111111111:role/mlops-seeds/\S+",
    ),
    "EventBridge role cannot start the pipeline": (
        (
            BUILD_PART,
            "Action: codepipeline:StartPipelineExecution",
            "Action: codepipeline:GetPipeline",
        ),
        "build",
        r"User: arn:aws:sts::111111111111:assumed-role/\S+-EventsRole-\S+ is not authorized "
        r"to perform: codepipeline:StartPipelineExecution on resource: "
        r"arn:aws:codepipeline:us-east-1:111111111111:sagemaker-rehearsal-\S+-modelbuild",
    ),
    "pipeline role cannot write artifacts": (
        (
            BUILD_PART,
            "Action: [s3:GetObject, s3:GetObjectVersion, s3:PutObject, s3:GetBucketVersioning,",
            "Action: [s3:GetObject, s3:GetObjectVersion, s3:GetBucketVersioning,",
        ),
        "build",
        r"User: arn:aws:sts::111111111111:assumed-role/\S+-CodePipelineRole-\S+ is not "
        r"authorized to perform: s3:PutObject on resource: arn:aws:s3:::sagemaker-\S+",
    ),
    "build cannot pass the pipeline role": (
        (
            BUILD_PART,
            f"{PASS_PIPELINE_ROLE}Action: iam:PassRole",
            f"{PASS_PIPELINE_ROLE}Action: iam:GetRole",
        ),
        "build",
        r"User: arn:aws:sts::111111111111:assumed-role/\S+-CodeBuildRole-\S+ is not "
        r"authorized to perform: iam:PassRole on resource: "
        r"arn:aws:iam::111111111111:role/mlops-seeds/\S+-PipelineExecutionRole-\S+",
    ),
    # The staging test's refusal: tests/rehearse/test_rehearse_multi_account.py (its test
    # role in the staging account), after the same build, which is not run again here.
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_a_missing_permission_fails_the_rehearsal_with_awss_refusal(
    case: str, sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    edit, stage, refusal = REFUSALS[case]
    report, failed = _rehearse_without(sandbox, tmp_path, monkeypatch, edit)
    assert re.search(refusal, failed), failed
    stages = {s.name: s.status for s in report.timeline.stages}
    assert stages[stage] == "failed", stages
    assert report.outcome is None or not report.outcome.passed


def test_a_seed_missing_a_runtime_dependency_fails_its_build(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pyproject = "seed_code/model-build/{{cookiecutter.__repo_name}}/pyproject.toml"
    edit = (pyproject, '    "sagemaker==3.27.*",\n', "")
    report, failed = _rehearse_without(sandbox, tmp_path, monkeypatch, edit)
    assert {s.name: s.status for s in report.timeline.stages}["build"] == "failed"
    assert report.runs is not None
    action = report.runs.history[0].record.failed_action
    assert action is not None and action.name == "BuildAndRunSageMakerPipeline"
    logs = "\n".join(p.read_text() for p in (tmp_path / "work").rglob("build.log"))
    assert "No module named 'sagemaker'" in logs
    assert "production is not serving" in failed
