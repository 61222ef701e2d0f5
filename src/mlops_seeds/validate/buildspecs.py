"""Buildspec checks: the format, and that the CodeBuild project running it sets every
environment variable it reads."""

import re
from collections.abc import Iterator
from typing import Any

from mlops_seeds.validate.documents import Document, line_of
from mlops_seeds.validate.findings import Finding

VERSION = "0.2"
PHASES = ("install", "pre_build", "build", "post_build")
PHASE_KEYS = {"run-as", "on-failure", "runtime-versions", "commands", "finally"}
ENV_MAPPINGS = ("variables", "parameter-store", "secrets-manager")
TOP_KEYS = {"version", "run-as", "env", "proxy", "batch", "phases", "reports", "artifacts", "cache"}

# Set by CodeBuild itself in every build (besides any CODEBUILD_* variable).
BUILTINS = {"AWS_REGION", "AWS_DEFAULT_REGION", "HOME", "PATH", "PWD", "OLDPWD", "SHELL", "USER"}
_READ = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")
_ASSIGN = re.compile(r"(?:^|[\s;&|(])(?:export\s+|local\s+|read\s+(?:-\w+\s+)*)?([A-Za-z_]\w*)=")
_FOR = re.compile(r"\bfor\s+([A-Za-z_]\w*)\s+in\b")
_READ_INTO = re.compile(r"\bread\s+(?:-\w+\s+)*([A-Za-z_]\w*)")


def _commands(body: dict[str, Any]) -> Iterator[str]:
    phases = body.get("phases") or {}
    for phase in phases.values() if isinstance(phases, dict) else []:
        if isinstance(phase, dict):
            for key in ("commands", "finally"):
                commands = phase.get(key)
                for command in commands if isinstance(commands, list) else []:
                    if isinstance(command, str):
                        yield command


def _declared(body: dict[str, Any]) -> set[str]:
    env = body.get("env")
    names: set[str] = set()
    if not isinstance(env, dict):
        return names
    for key in ENV_MAPPINGS:
        section = env.get(key)
        if isinstance(section, dict):
            names |= {str(name) for name in section}
    exported = env.get("exported-variables")
    if isinstance(exported, list):
        names |= {item for item in exported if isinstance(item, str)}
    return names


def variables_read(body: dict[str, Any]) -> set[str]:
    """Variables the buildspec's commands read but neither it nor its commands set."""
    read: set[str] = set()
    assigned = _declared(body)
    for command in _commands(body):
        read |= set(_READ.findall(command))
        assigned |= set(_ASSIGN.findall(command))
        assigned |= set(_FOR.findall(command)) | set(_READ_INTO.findall(command))
    return {
        name
        for name in read - assigned
        if name not in BUILTINS and not name.startswith("CODEBUILD_")
    }


def _is_string_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def check_format(doc: Document) -> list[Finding]:
    """Version 0.2, known top-level keys and phases, each phase a list of commands."""
    body = doc.body
    findings = []

    def add(node: Any, rule: str, message: str) -> None:
        findings.append(Finding(doc.label, line_of(node), rule, message))

    if str(body.get("version")) != VERSION:
        add(body, "MS102", f"version must be {VERSION}, found {body.get('version')!r}")
    for key in body:
        if key not in TOP_KEYS:
            add(body, "MS103", f"unknown top-level key {key!r}")
    env = body.get("env")
    if env is not None and not isinstance(env, dict):
        add(env, "MS103", "env must be a mapping")
    elif env is not None:
        for key in ENV_MAPPINGS:
            if env.get(key) is not None and not isinstance(env[key], dict):
                add(env, "MS103", f"env.{key} must be a mapping of names to values")
        exported = env.get("exported-variables")
        if exported is not None and not _is_string_list(exported):
            add(env, "MS103", "env.exported-variables must be a list of names")
    phases = body.get("phases")
    if not isinstance(phases, dict) or not phases:
        add(body, "MS103", "phases must be a mapping of at least one phase")
        return findings
    for name, phase in phases.items():
        if name not in PHASES:
            add(phases, "MS103", f"unknown phase {name!r} (known: {', '.join(PHASES)})")
            continue
        if not isinstance(phase, dict):
            add(phases, "MS104", f"phase {name!r} must be a mapping")
            continue
        for key in phase:
            if key not in PHASE_KEYS:
                add(phase, "MS104", f"phase {name!r}: unknown key {key!r}")
        commands = phase.get("commands")
        optional = name == "install" and commands is None
        if not optional and not _is_string_list(commands):
            add(phase, "MS104", f"phase {name!r}: commands must be a list of strings")
    return findings


def check_variables(
    buildspec: Document, project: str, template: Document, project_env: set[str], line: int
) -> list[Finding]:
    """A finding for each variable `buildspec` reads that the CodeBuild `project` does not set."""
    missing = sorted(variables_read(buildspec.body) - project_env)
    return [
        Finding(
            template.label,
            line,
            "MS107",
            f"CodeBuild project {project} runs {buildspec.path.name}, which reads ${name}, "
            "but the project does not set it",
        )
        for name in missing
    ]
