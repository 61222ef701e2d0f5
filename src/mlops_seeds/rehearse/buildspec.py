"""Buildspec version 0.2, read into what the local CodeBuild runner executes.

Kept: env.variables, env.parameter-store, env.exported-variables, the four phases'
`commands`, `finally` and `on-failure`, `artifacts` and `secondary-artifacts`. Read and
ignored, with a note in the build log: runtime-versions (the runner's own Python runs every
build), run-as, env.shell other than bash, env.git-credential-helper, reports, cache, proxy.
"""

from dataclasses import dataclass, field
from typing import Any

import yaml

from mlops_seeds.validate.buildspecs import PHASES, VERSION

ON_FAILURE = ("ABORT", "CONTINUE")
_IGNORED_TOP = ("run-as", "reports", "cache", "proxy", "batch")


class BuildspecError(ValueError):
    """The buildspec cannot run (CodeBuild's YAML_FILE_ERROR)."""


@dataclass(frozen=True)
class Phase:
    """One phase: its commands, the commands run even when one of them fails, and whether
    a failure stops the build (ABORT) or lets the next phase run (CONTINUE)."""

    name: str
    commands: tuple[str, ...] = ()
    finally_commands: tuple[str, ...] = ()
    on_failure: str = "ABORT"


@dataclass(frozen=True)
class ArtifactSpec:
    """Which files of the build make an artifact."""

    files: tuple[str, ...]
    base_directory: str = ""
    discard_paths: bool = False
    exclude_paths: tuple[str, ...] = ()


@dataclass(frozen=True)
class Buildspec:
    """A parsed buildspec."""

    variables: dict[str, str] = field(default_factory=dict)
    parameter_store: dict[str, str] = field(default_factory=dict)
    exported_variables: tuple[str, ...] = ()
    phases: tuple[Phase, ...] = ()
    artifacts: ArtifactSpec | None = None
    secondary_artifacts: dict[str, ArtifactSpec] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def phase(self, name: str) -> Phase | None:
        """The phase `name`, if the buildspec has it."""
        return next((p for p in self.phases if p.name == name), None)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BuildspecError(f"{where}: must be a mapping")
    return value


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BuildspecError(f"{where}: must be a list of strings")
    return tuple(value)


def _yes(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in ("yes", "true"))


def _artifact_spec(body: dict[str, Any], where: str) -> ArtifactSpec:
    files = _strings(body.get("files"), f"{where}.files")
    if not files:
        raise BuildspecError(f"{where}.files: must list at least one path")
    return ArtifactSpec(
        files=files,
        base_directory=_text(body.get("base-directory")),
        discard_paths=_yes(body.get("discard-paths")),
        exclude_paths=_strings(body.get("exclude-paths"), f"{where}.exclude-paths"),
    )


def _phase(name: str, body: Any, notes: list[str]) -> Phase:
    body = _mapping(body, f"phases.{name}")
    if "runtime-versions" in body:
        versions = _mapping(body["runtime-versions"], f"phases.{name}.runtime-versions")
        wanted = ", ".join(f"{k} {_text(v)}" for k, v in versions.items())
        notes.append(f"runtime-versions ({wanted}) ignored: the runner's own Python runs builds")
    if "run-as" in body:
        notes.append(f"phases.{name}.run-as ignored: commands run as the current user")
    on_failure = _text(body.get("on-failure") or "ABORT")
    if on_failure not in ON_FAILURE:
        raise BuildspecError(f"phases.{name}.on-failure: must be one of {', '.join(ON_FAILURE)}")
    return Phase(
        name=name,
        commands=_strings(body.get("commands"), f"phases.{name}.commands"),
        finally_commands=_strings(body.get("finally"), f"phases.{name}.finally"),
        on_failure=on_failure,
    )


def _env(body: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    env = _mapping(body.get("env"), "env")
    shell = _text(env.get("shell") or "bash")
    if shell != "bash":
        notes.append(f"env.shell {shell} ignored: commands run in bash")
    if env.get("git-credential-helper"):
        notes.append("env.git-credential-helper ignored: git reaches the sandbox's file:// URLs")
    if env.get("secrets-manager"):
        raise BuildspecError("env.secrets-manager: not supported by the local runner")
    return env


def parse_buildspec(text: str) -> Buildspec:
    """Parse a version 0.2 buildspec; BuildspecError names the field that is wrong."""
    try:
        body = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise BuildspecError(f"not valid YAML: {err}") from err
    body = _mapping(body, "buildspec")
    if _text(body.get("version")) != VERSION:
        raise BuildspecError(f"version: must be {VERSION}, found {body.get('version')!r}")
    notes: list[str] = [f"{key} ignored" for key in _IGNORED_TOP if key in body]
    env = _env(body, notes)
    phases_body = _mapping(body.get("phases"), "phases")
    unknown = sorted(set(phases_body) - set(PHASES))
    if unknown:
        raise BuildspecError(f"phases: unknown phase {unknown[0]!r} (known: {', '.join(PHASES)})")
    phases = tuple(_phase(name, phases_body[name], notes) for name in PHASES if name in phases_body)
    artifacts_body = _mapping(body.get("artifacts"), "artifacts")
    secondary = _mapping(artifacts_body.get("secondary-artifacts"), "artifacts.secondary-artifacts")
    return Buildspec(
        variables={
            str(k): _text(v) for k, v in _mapping(env.get("variables"), "env.variables").items()
        },
        parameter_store={
            str(k): _text(v)
            for k, v in _mapping(env.get("parameter-store"), "env.parameter-store").items()
        },
        exported_variables=_strings(env.get("exported-variables"), "env.exported-variables"),
        phases=phases,
        artifacts=_artifact_spec(artifacts_body, "artifacts")
        if "files" in artifacts_body
        else None,
        secondary_artifacts={
            str(name): _artifact_spec(
                _mapping(spec, f"artifacts.secondary-artifacts.{name}"),
                f"artifacts.secondary-artifacts.{name}",
            )
            for name, spec in secondary.items()
        },
        notes=tuple(notes),
    )
