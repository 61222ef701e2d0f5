"""`mlops-seeds validate`: lint templates, check buildspecs and derived name lengths."""

import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from mlops_seeds.errors import SeedsError
from mlops_seeds.seeds import BUILDSPECS, bake, load_seeds
from mlops_seeds.validate import buildspecs, cfn, derived_names
from mlops_seeds.validate.documents import Document, Kind, discover, line_of, load
from mlops_seeds.validate.findings import Finding

__all__ = ["Finding", "validate_paths", "validate_repo"]

TEMPLATES = Path("templates")
Progress = Callable[[str], None]


def _label(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def _codebuild_findings(doc: Document, root: Path) -> tuple[list[Finding], set[str]]:
    """Check each CodeBuild project's declared buildspec; return the buildspecs used."""
    findings: list[Finding] = []
    used: set[str] = set()
    for logical_id, resource in (doc.body.get("Resources") or {}).items():
        if not isinstance(resource, dict) or resource.get("Type") != "AWS::CodeBuild::Project":
            continue
        line = line_of(resource)
        declared = ((resource.get("Metadata") or {}).get("MlopsSeeds") or {}).get("Buildspec")
        if not isinstance(declared, str):
            findings.append(
                Finding(
                    doc.label,
                    line,
                    "MS105",
                    f"CodeBuild project {logical_id} does not "
                    "declare its buildspec (Metadata.MlopsSeeds.Buildspec)",
                )
            )
            continue
        used.add(declared)
        spec_path = root / BUILDSPECS / declared
        spec = load(spec_path, _label(spec_path, root))
        if spec.kind is not Kind.BUILDSPEC:
            findings.append(
                Finding(
                    doc.label,
                    line,
                    "MS106",
                    f"CodeBuild project {logical_id} declares "
                    f"buildspec {declared!r}, which is not a buildspec in {BUILDSPECS}/",
                )
            )
            continue
        env = (resource.get("Properties") or {}).get("Environment") or {}
        names = {
            str(v.get("Name")) for v in env.get("EnvironmentVariables") or [] if isinstance(v, dict)
        }
        findings += buildspecs.check_variables(spec, logical_id, doc, names, line)
    return findings, used


def _check(
    docs: Iterable[Document], root: Path, explicit: set[Path], progress: Progress
) -> tuple[list[Finding], set[str]]:
    findings: list[Finding] = []
    used: set[str] = set()
    for doc in docs:
        progress(doc.label)
        if doc.body is None:
            findings.append(Finding(doc.label, 1, "MS101", "not valid YAML or JSON"))
        elif doc.kind is Kind.TEMPLATE:
            findings += cfn.lint(doc)
            findings += derived_names.check(doc)
            project_findings, project_used = _codebuild_findings(doc, root)
            findings += project_findings
            used |= project_used
        elif doc.kind is Kind.BUILDSPEC:
            findings += buildspecs.check_format(doc)
        elif doc.path in explicit:
            findings.append(
                Finding(doc.label, 1, "MS100", "neither a CloudFormation template nor a buildspec")
            )
    return findings, used


def _ignore(_: str) -> None:
    return None


def validate_paths(
    root: Path, paths: Iterable[Path], progress: Progress = _ignore
) -> list[Finding]:
    """Validate the given files, and the templates and buildspecs found below given folders."""
    files: list[Path] = []
    explicit: set[Path] = set()
    for path in paths:
        if path.is_dir():
            files += discover(path)
        elif path.is_file():
            files.append(path)
            explicit.add(path)
        else:
            raise SeedsError(f"{path}: no such file or directory")
    docs = [load(p, _label(p, root)) for p in files]
    findings, _ = _check(docs, root, explicit, progress)
    return sorted(findings)


def _rendered_templates(root: Path, scratch: Path) -> list[Document]:
    """The CloudFormation templates each seed renders with its defaults."""
    docs = []
    for seed in load_seeds(root).values():
        repo = bake(root, seed, scratch / seed.name)
        template_dir = next(p.name for p in seed.path.iterdir() if p.name.startswith("{{"))
        for path in discover(repo):
            doc = load(path)
            if doc.kind is Kind.TEMPLATE:
                relative = path.relative_to(repo)
                label = _label(seed.path / template_dir / relative, root)
                docs.append(Document(path=path, label=label, body=doc.body))
    return docs


def validate_repo(root: Path, progress: Progress = _ignore) -> list[Finding]:
    """Validate the repository: templates/, buildspecs/ and the templates the seeds render.
    Also flags a buildspec that no CodeBuild project runs."""
    files = discover(root / TEMPLATES) + discover(root / BUILDSPECS)
    docs = [load(p, _label(p, root)) for p in files]
    with tempfile.TemporaryDirectory(prefix="mlops-seeds-validate-") as scratch:
        docs += _rendered_templates(root, Path(scratch))
        findings, used = _check(docs, root, set(files), progress)
    for doc in docs:
        if doc.kind is Kind.BUILDSPEC and doc.path.name not in used:
            findings.append(
                Finding(
                    doc.label,
                    1,
                    "MS108",
                    "no CodeBuild project of templates/ "
                    "runs this buildspec (Metadata.MlopsSeeds.Buildspec)",
                )
            )
    return sorted(findings)


def summarize(findings: list[Finding]) -> dict[str, Any]:
    """Counts by rule, for the closing line."""
    counts: dict[str, int] = {}
    for finding in findings:
        counts[finding.rule] = counts.get(finding.rule, 0) + 1
    return counts
