"""Run a CodeBuild project on this machine, as CodeBuild would run it.

The project is read from the CodeBuild API (environment variables, buildspec, service role,
timeout); the buildspec's commands run in one bash shell (shell.py) in a Python virtual
environment made for the build (pyenv.py); the build calls AWS with the credentials of the
project's service role, at the caller's endpoint. Differences from CodeBuild: no container
image (the machine's own tools run the build), runtime-versions are ignored, and the log is
a local file (no CloudWatch Logs).
"""

import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from fnmatch import fnmatch
from pathlib import Path
from typing import IO, Any

import boto3

from mlops_seeds import aws
from mlops_seeds.errors import SeedsError
from mlops_seeds.failures import AWS_REFUSAL
from mlops_seeds.rehearse.buildspec import ArtifactSpec, Buildspec, BuildspecError, parse_buildspec
from mlops_seeds.rehearse.pyenv import create_build_venv, pip_environment
from mlops_seeds.rehearse.roles import act_as
from mlops_seeds.rehearse.shell import BuildShell, CommandTimeout
from mlops_seeds.sandbox import runtime
from mlops_seeds.sandbox.iam import acting
from mlops_seeds.sandbox.iam.principals import CODEBUILD

SUCCEEDED, FAILED, TIMED_OUT = "SUCCEEDED", "FAILED", "TIMED_OUT"
DEFAULT_BUILDSPEC = "buildspec.yml"
DEFAULT_TIMEOUT_MINUTES = 60
_DROPPED_PREFIXES = ("AWS_", "PIP_", "CODEBUILD_")
_DROPPED = ("VIRTUAL_ENV", "PYTHONHOME")
_VARIABLE = re.compile(r"\$(?:\{([A-Za-z_]\w*)\}|([A-Za-z_]\w*))")
_S3_ARN = re.compile(r"^arn:aws[a-z-]*:s3:::([^/]+)/(.+)$")

Echo = Callable[[str], None]


class CodeBuildError(RuntimeError):
    """The build cannot start: no such project, an unsupported setting, bad overrides."""


@dataclass(frozen=True)
class Sources:
    """The build's sources: the primary directory (CODEBUILD_SRC_DIR), the secondary ones by
    name (CODEBUILD_SRC_DIR_<name>) and the source version (a commit id)."""

    primary: Path
    secondary: Mapping[str, Path] = field(default_factory=dict)
    version: str = ""


@dataclass(frozen=True)
class PhaseResult:
    """How one phase of the build ended."""

    name: str
    status: str
    seconds: float
    reason: str = ""


@dataclass(frozen=True)
class BuildResult:
    """A finished build: its status, phases, exported variables, output artifacts by name,
    log file and wall time."""

    build_id: str
    project: str
    status: str
    phases: tuple[PhaseResult, ...]
    exported: dict[str, str]
    artifacts: dict[str, Path]
    log_path: Path
    seconds: float
    reason: str = ""

    @property
    def succeeded(self) -> bool:
        """Whether the build succeeded."""
        return self.status == SUCCEEDED

    def denial(self) -> str:
        """The last IAM refusal in the build's log ("User: ... is not authorized to perform:
        ..."; "" when none): what a reader of a failed build looks for first."""
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        found = AWS_REFUSAL.findall(text)
        return str(found[-1]).strip() if found else ""

    def log_tail(self, lines: int = 30) -> str:
        """The last `lines` lines of the build log."""
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


class _Log:
    """The build log, with CodeBuild's `[Container]` lines between the commands' output."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream

    def line(self, text: str) -> None:
        stamp = datetime.now().strftime("%Y/%m/%d %H:%M:%S.%f")
        self.stream.write(f"[Container] {stamp} {text}\n".encode())
        self.stream.flush()


def read_project(session: boto3.Session, name: str) -> dict[str, Any]:
    """The project `name` as batch_get_projects describes it; CodeBuildError if missing."""
    found = aws.client("codebuild", session).batch_get_projects(names=[name])
    projects: list[dict[str, Any]] = found.get("projects") or []
    if not projects:
        raise CodeBuildError(f"CodeBuild project {name} does not exist")
    return projects[0]


def action_environment_variables(text: str) -> list[dict[str, str]]:
    """The EnvironmentVariables of a CodePipeline CodeBuild action (a JSON list of
    {name, value, type}); CodeBuildError when it is not such a list."""
    try:
        items = json.loads(text)
    except ValueError as err:
        raise CodeBuildError(f"EnvironmentVariables: not valid JSON: {err}") from err
    if not isinstance(items, list) or not all(
        isinstance(i, dict) and isinstance(i.get("name"), str) for i in items
    ):
        raise CodeBuildError("EnvironmentVariables: must be a JSON list of {name, value, type}")
    return [
        {"name": i["name"], "value": str(i.get("value", "")), "type": i.get("type", "PLAINTEXT")}
        for i in items
    ]


def load_buildspec(session: boto3.Session, project: dict[str, Any], primary: Path) -> str:
    """The buildspec text the project names: inline YAML, an S3 object ARN, or a path in
    the primary source (default buildspec.yml). BuildspecError when it cannot be read."""
    named = str((project.get("source") or {}).get("buildspec") or DEFAULT_BUILDSPEC)
    if "\n" in named or named.lstrip().startswith("version"):
        return named
    arn = _S3_ARN.match(named)
    if arn:
        s3 = aws.client("s3", session)
        try:
            body = s3.get_object(Bucket=arn.group(1), Key=arn.group(2))["Body"].read()
        except Exception as err:  # botocore's ClientError
            raise BuildspecError(f"cannot read buildspec {named}: {err}") from err
        return str(body.decode())
    path = primary / named
    if not path.is_file():
        raise BuildspecError(f"stat {named}: no such file or directory in the primary source")
    return path.read_text()


def _base_environment() -> dict[str, str]:
    """The machine's environment without AWS, pip, CodeBuild or virtualenv settings."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(_DROPPED_PREFIXES) and k not in _DROPPED
    }


def aws_environment(caller: boto3.Session, credentials: boto3.Session) -> dict[str, str]:
    """Variables giving the build `credentials`' keys and the caller's endpoint and region."""
    frozen = credentials.get_credentials().get_frozen_credentials()
    region = aws.region_of(caller)
    env = {
        "AWS_ACCESS_KEY_ID": frozen.access_key,
        "AWS_SECRET_ACCESS_KEY": frozen.secret_key,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    if frozen.token:
        env["AWS_SESSION_TOKEN"] = frozen.token
    endpoint = aws.endpoint_of(caller) or os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        env["AWS_ENDPOINT_URL"] = endpoint
    env.update({k: v for k, v in os.environ.items() if k.startswith("AWS_ENDPOINT_URL_")})
    return env


def _resolve(session: boto3.Session, variables: Sequence[Mapping[str, str]]) -> dict[str, str]:
    """Project or override variables: PLAINTEXT as given, PARAMETER_STORE read from SSM."""
    resolved: dict[str, str] = {}
    for item in variables:
        kind = item.get("type") or "PLAINTEXT"
        if kind == "PLAINTEXT":
            resolved[item["name"]] = item.get("value", "")
        elif kind == "PARAMETER_STORE":
            resolved[item["name"]] = _parameter(session, item.get("value", ""))
        else:
            raise CodeBuildError(f"environment variable {item['name']}: type {kind} unsupported")
    return resolved


def _parameter(session: boto3.Session, name: str) -> str:
    ssm = aws.client("ssm", session)
    try:
        return str(ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"])
    except Exception as err:  # botocore's ClientError
        raise CodeBuildError(f"parameter store {name}: {err}") from err


def _codebuild_environment(
    project: dict[str, Any], build_id: str, sources: Sources, initiator: str
) -> dict[str, str]:
    arn = str(project.get("arn") or "")
    env = {
        "CODEBUILD_BUILD_ID": build_id,
        "CODEBUILD_BUILD_ARN": arn.rsplit(":", 1)[0] + f":build/{build_id}" if arn else "",
        "CODEBUILD_BUILD_NUMBER": "1",
        "CODEBUILD_BUILD_IMAGE": str((project.get("environment") or {}).get("image", "")),
        "CODEBUILD_BUILD_SUCCEEDING": "1",
        "CODEBUILD_INITIATOR": initiator,
        "CODEBUILD_SRC_DIR": str(sources.primary),
        "CODEBUILD_RESOLVED_SOURCE_VERSION": sources.version,
        "CODEBUILD_SOURCE_VERSION": sources.version,
        "CODEBUILD_START_TIME": str(int(time.time() * 1000)),
    }
    env.update({f"CODEBUILD_SRC_DIR_{name}": str(path) for name, path in sources.secondary.items()})
    return env


def _expand(text: str, values: Mapping[str, str]) -> str:
    return _VARIABLE.sub(lambda m: values.get(m.group(1) or m.group(2), ""), text)


def _names_in(spec: ArtifactSpec) -> list[str]:
    texts = [*spec.files, spec.base_directory]
    return sorted({a or b for t in texts for a, b in _VARIABLE.findall(t)})


def collect_artifacts(
    spec: ArtifactSpec, source: Path, values: Mapping[str, str], target: Path
) -> list[str]:
    """Copy the files `spec` selects under `source` (its $VARIABLES expanded from `values`)
    into `target`; their paths in the artifact. ValueError when nothing matches (CodeBuild's
    CLIENT_ERROR: no matching artifact paths found)."""
    base = source / _expand(spec.base_directory, values) if spec.base_directory else source
    chosen: dict[str, Path] = {}
    for pattern in spec.files:
        expanded = _expand(pattern, values).strip().removeprefix("./")
        if not expanded or Path(expanded).is_absolute():
            continue
        for path in sorted(base.glob(expanded)):
            relative = path.relative_to(base).as_posix()
            if path.is_file() and not any(fnmatch(relative, x) for x in spec.exclude_paths):
                chosen[path.name if spec.discard_paths else relative] = path
    if not chosen:
        raise ValueError("CLIENT_ERROR: no matching artifact paths found")
    target.mkdir(parents=True, exist_ok=True)
    for name, path in chosen.items():
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target / name)
    return sorted(chosen)


def _run_commands(
    shell: BuildShell, commands: Sequence[str], log: _Log, deadline: float
) -> tuple[str, str]:
    for command in commands:
        log.line(f"Running command {command}")
        status = shell.run(command, timeout=max(1.0, deadline - time.monotonic()))
        if status != 0:
            log.line(f"Command did not exit successfully {command} exit status {status}")
            return FAILED, (
                "COMMAND_EXECUTION_ERROR: Error while executing command: "
                f"{command}. Reason: exit status {status}"
            )
    return SUCCEEDED, ""


def _run_phases(
    shell: BuildShell, spec: Buildspec, log: _Log, deadline: float, echo: Echo
) -> tuple[list[PhaseResult], str]:
    """Run the phases as CodeBuild does: a failed install or pre_build ends the build
    (unless on-failure is CONTINUE); a failed build still runs post_build, which sees
    CODEBUILD_BUILD_SUCCEEDING=0; each phase's `finally` commands always run."""
    results: list[PhaseResult] = []
    failed = False
    for phase in spec.phases:
        if phase.name == "post_build":
            shell.run(f"export CODEBUILD_BUILD_SUCCEEDING={0 if failed else 1}")
        log.line(f"Entering phase {phase.name.upper()}")
        started = time.monotonic()
        status, reason = _run_commands(shell, phase.commands, log, deadline)
        after, after_reason = _run_commands(shell, phase.finally_commands, log, deadline)
        if status == SUCCEEDED and after == FAILED:
            status, reason = after, after_reason
        log.line(f"Phase complete: {phase.name.upper()} State: {status}")
        if reason:
            log.line(f"Phase context status code: {reason}")
        result = PhaseResult(phase.name, status, time.monotonic() - started, reason)
        results.append(result)
        echo(f"{phase.name} {status.lower()} in {result.seconds:.1f} s")
        if status == FAILED:
            failed = True
            if phase.on_failure == "ABORT" and phase.name in ("install", "pre_build"):
                break
    return results, FAILED if failed else SUCCEEDED


def _collect_outputs(
    shell: BuildShell, spec: Buildspec, outputs: Sequence[str], source: Path, target: Path
) -> dict[str, Path]:
    """The build's output artifacts by name: one output is the buildspec's `artifacts`;
    several are its secondary-artifacts of the same names."""
    wanted: dict[str, ArtifactSpec | None] = {}
    if len(outputs) == 1:
        wanted[outputs[0]] = spec.artifacts
    else:
        wanted = {name: spec.secondary_artifacts.get(name) for name in outputs}
    collected: dict[str, Path] = {}
    for name, artifact in wanted.items():
        if artifact is None:
            raise ValueError(f"CLIENT_ERROR: the buildspec defines no artifacts for {name}")
        values = shell.values(_names_in(artifact))
        collect_artifacts(artifact, source, values, target / name)
        collected[name] = target / name
    return collected


def _variables(
    role: boto3.Session,
    spec: Buildspec,
    project: dict[str, Any],
    overrides: Sequence[Mapping[str, str]],
) -> dict[str, str]:
    """The build's own variables, lowest precedence first: the buildspec's env, the
    project's, the start-build (or CodePipeline action) overrides."""
    variables = dict(spec.variables)
    variables.update({k: _parameter(role, v) for k, v in spec.parameter_store.items()})
    environment = project.get("environment") or {}
    variables.update(_resolve(role, environment.get("environmentVariables") or []))
    variables.update(_resolve(role, overrides))
    return variables


@dataclass
class _Build:
    """A build being run: identity, log and the parts of its result known so far."""

    build_id: str
    project: str
    log_path: Path
    started: float = field(default_factory=time.monotonic)
    phases: list[PhaseResult] = field(default_factory=list)
    exported: dict[str, str] = field(default_factory=dict)
    artifacts: dict[str, Path] = field(default_factory=dict)

    def result(self, status: str, reason: str = "") -> BuildResult:
        return BuildResult(
            build_id=self.build_id,
            project=self.project,
            status=status,
            phases=tuple(self.phases),
            exported=self.exported,
            artifacts=self.artifacts,
            log_path=self.log_path,
            seconds=time.monotonic() - self.started,
            reason=reason or next((p.reason for p in self.phases if p.reason), ""),
        )


def _execute(
    build: _Build, shell: BuildShell, spec: Buildspec, log: _Log, job: "_Job"
) -> BuildResult:
    try:
        build.phases, status = _run_phases(shell, spec, log, job.deadline, job.echo)
    except CommandTimeout as err:
        log.line(f"Build timed out: {err}")
        return build.result(TIMED_OUT, f"BUILD_TIMED_OUT: {err}")
    build.exported = shell.values(list(spec.exported_variables))
    if status == SUCCEEDED:
        try:
            build.artifacts = _collect_outputs(
                shell, spec, job.outputs, job.sources.primary, job.workdir / "out"
            )
        except ValueError as err:
            log.line(f"Phase complete: UPLOAD_ARTIFACTS State: FAILED: {err}")
            build.phases.append(PhaseResult("upload_artifacts", FAILED, 0.0, str(err)))
            status = FAILED
    log.line(f"Build {status}")
    return build.result(status)


@dataclass(frozen=True)
class _Job:
    sources: Sources
    workdir: Path
    outputs: Sequence[str]
    deadline: float
    echo: Echo


def run_project(
    session: boto3.Session,
    project_name: str,
    sources: Sources,
    workdir: Path,
    *,
    overrides: Sequence[Mapping[str, str]] = (),
    outputs: Sequence[str] = (),
    initiator: str = "mlops-seeds",
    echo: Echo = lambda line: None,
) -> BuildResult:
    """Run CodeBuild project `project_name` over `sources`, keeping the log (build.log), the
    build's virtual environment and its `outputs` (artifact names) under `workdir`.

    `overrides` are {name, value, type} variables over the project's (a start-build or
    CodePipeline action override); `echo` gets a line per phase. CodeBuildError when the
    build cannot start (among others: `session`, the caller's, may not start it); a bad
    buildspec or a failing command gives a FAILED result."""
    sandbox = runtime.current()
    try:  # the caller starts the build; CodeBuild then reads its own project
        sandbox.check(session, "codebuild", "StartBuild", {"projectName": project_name})
    except acting.AccessDenied as err:
        raise CodeBuildError(f"StartBuild: {err.message}") from err
    project = read_project(sandbox.account_session(aws.account_id(session)), project_name)
    workdir.mkdir(parents=True, exist_ok=True)
    build = _Build(f"{project_name}:{uuid.uuid4()}", project_name, workdir / "build.log")
    timeout = 60 * int(project.get("timeoutInMinutes") or DEFAULT_TIMEOUT_MINUTES)
    job = _Job(sources, workdir, outputs, build.started + timeout, echo)
    with build.log_path.open("ab") as stream:
        log = _Log(stream)
        log.line(f"Build {build.build_id}, initiated by {initiator}")
        try:
            spec = parse_buildspec(load_buildspec(session, project, sources.primary))
        except BuildspecError as err:
            reason = f"YAML_FILE_ERROR: {err}"
            log.line(f"Phase complete: DOWNLOAD_SOURCE State: FAILED: {reason}")
            build.phases.append(PhaseResult("download_source", FAILED, 0.0, reason))
            return build.result(FAILED)
        for note in spec.notes:
            log.line(f"Note: {note}")
        try:
            role = act_as(CODEBUILD, str(project["serviceRole"]), "codebuild")
        except SeedsError as err:
            reason = f"ACCESS_DENIED: {err}"
            log.line(f"Phase complete: PROVISIONING State: FAILED: {reason}")
            build.phases.append(PhaseResult("provisioning", FAILED, 0.0, reason))
            return build.result(FAILED)
        variables = _variables(role, spec, project, overrides)
        made = time.monotonic()
        bin_dir = create_build_venv(workdir / "venv", sources.primary)
        log.line(f"Virtual environment {bin_dir.parent} made in {time.monotonic() - made:.2f} s")
        env = {
            **_base_environment(),
            **aws_environment(session, role),
            **pip_environment(),
            **variables,
            **_codebuild_environment(project, build.build_id, sources, initiator),
            "VIRTUAL_ENV": str(bin_dir.parent),
        }
        env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', os.defpath)}"
        with BuildShell(sources.primary, env, stream, workdir / "shell") as shell:
            return _execute(build, shell, spec, log, job)
