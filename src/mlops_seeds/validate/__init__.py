"""`mlops-seeds validate`: lint templates, check buildspecs and derived name lengths."""

import errno
import re
import stat
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from mlops_seeds.bounded_parsing import DocumentError
from mlops_seeds.catalog import template_parts
from mlops_seeds.errors import SeedsError
from mlops_seeds.seeds import BUILDSPECS, bake, load_seeds
from mlops_seeds.validate import buildspecs, cfn, derived_names, iam
from mlops_seeds.validate.documents import SUFFIXES, Document, Kind, discover, line_of, load
from mlops_seeds.validate.findings import Finding

__all__ = ["Finding", "validate_paths", "validate_repo"]

TEMPLATES = Path("templates")
BOOTSTRAP = Path("service_catalog")  # its *-bootstrap.yaml: the hub and spoke templates
Progress = Callable[[str], None]
_LINE = re.compile(r"line (\d+): ")
_PLACE = re.compile(r"^(?P<path>[^:\s]+):(?P<line>\d+): ")
# A buildspec is declared by its file name in buildspecs/, nothing else.
_BUILDSPEC_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\.ya?ml")


def _label(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except (ValueError, RuntimeError, OSError):  # outside root; a symbolic link loop
        return str(path)


def _mapping(node: Any) -> Mapping[str, Any]:
    """`node` when it is a mapping, else an empty one (the shape is reported elsewhere)."""
    return node if isinstance(node, Mapping) else {}


def _codebuild_findings(doc: Document, root: Path) -> tuple[list[Finding], set[str]]:
    """Check each CodeBuild project's declared buildspec; return the buildspecs used."""
    findings: list[Finding] = []
    used: set[str] = set()
    for logical_id, resource in _mapping(doc.body.get("Resources")).items():
        if not isinstance(resource, dict) or resource.get("Type") != "AWS::CodeBuild::Project":
            continue
        line = line_of(resource)
        declared = _mapping(_mapping(resource.get("Metadata")).get("MlopsSeeds")).get("Buildspec")
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
        spec_path = root / BUILDSPECS / declared
        spec = None
        if _BUILDSPEC_NAME.fullmatch(declared) and spec_path.is_file():
            used.add(declared)
            try:
                spec = load(spec_path, _label(spec_path, root))
            except DocumentError:  # reported when buildspecs/ itself is validated
                spec = None
        if spec is None or spec.kind is not Kind.BUILDSPEC:
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
        env = _mapping(_mapping(resource.get("Properties")).get("Environment"))
        variables = env.get("EnvironmentVariables")
        names = {
            str(v.get("Name"))
            for v in (variables if isinstance(variables, list) else [])
            if isinstance(v, dict)
        }
        findings += buildspecs.check_variables(spec, logical_id, doc, names, line)
    return findings, used


def _shape_findings(doc: Document) -> list[Finding]:
    """The template's top-level sections and resources must be mappings: a finding for
    each that is not (the other checks then skip it)."""
    findings = []
    for section in ("Parameters", "Resources", "Outputs", "Conditions", "Mappings"):
        node = doc.body.get(section)
        if node is not None and not isinstance(node, Mapping):
            findings.append(
                Finding(
                    doc.label,
                    line_of(node, line_of(doc.body)),
                    "MS110",
                    f"{section} must be a mapping, found {_kind_of(node)}",
                )
            )
    for logical_id, resource in _mapping(doc.body.get("Resources")).items():
        where = line_of(resource, line_of(doc.body))
        if not isinstance(resource, Mapping):
            findings.append(
                Finding(
                    doc.label,
                    where,
                    "MS110",
                    f"resource {logical_id} must be a mapping, found {_kind_of(resource)}",
                )
            )
            continue
        for key in ("Properties", "Metadata"):
            value = resource.get(key)
            if value is not None and not isinstance(value, Mapping):
                findings.append(
                    Finding(
                        doc.label,
                        line_of(value, where),
                        "MS110",
                        f"resource {logical_id}: {key} must be a mapping, found {_kind_of(value)}",
                    )
                )
    return findings


def _kind_of(node: Any) -> str:
    if isinstance(node, list):
        return "a list"
    if isinstance(node, str):
        return "a string"
    if node is None:
        return "nothing"
    return f"a {type(node).__name__.removesuffix('_node')}"


def _refusal(label: str, err: DocumentError) -> Finding:
    """A file the parser refused (not UTF-8, too deep, too large, ...) as an MS101 finding."""
    message = str(err).removeprefix(f"{label}: ")
    line = _LINE.match(message)
    if line:
        message = message[line.end() :]
    return Finding(label, int(line.group(1)) if line else 1, "MS101", message)


def _load_all(
    files: Iterable[Path], root: Path, scratch: Path
) -> tuple[list[Document], list[Finding]]:
    """The documents of `files` (a product template made of parts assembled, in `scratch`),
    and a finding for each the parser refused or that does not assemble."""
    docs: list[Document] = []
    refused: list[Finding] = []
    for path in files:
        label = _label(path, root)
        try:
            if template_parts.is_recipe(path):
                docs.append(_assembled(path, label, root, scratch))
            else:
                docs.append(load(path, label))
        except DocumentError as err:
            refused.append(_refusal(label, err))
        except SeedsError as err:
            refused.append(_unassembled(label, str(err)))
    return docs, refused


def _assembled(path: Path, label: str, root: Path, scratch: Path) -> Document:
    """A product template made of parts, as Studio receives it; its findings name the
    part and the line they come from."""
    base, relative = template_parts.base_of(path, root)
    assembled = template_parts.assemble(base, relative)
    copy = scratch / f"{len(list(scratch.iterdir()))}-{path.name}"
    copy.write_text(assembled.text)
    doc = load(copy, label)
    origins = tuple((_label(base / file, root), line) for file, line in assembled.origins)
    return Document(path=copy, label=label, body=doc.body, origins=origins)


def _unassembled(label: str, message: str) -> Finding:
    """A product template whose parts do not assemble, as an MS112 finding at its place."""
    place = _PLACE.match(message)
    if place:
        return Finding(place["path"], int(place["line"]), "MS112", message[place.end() :])
    return Finding(label, 1, "MS112", message.removeprefix(f"{label}: "))


def _from_parts(doc: Document, findings: list[Finding]) -> list[Finding]:
    """An assembled template's findings at the part and line they come from."""
    if doc.origins is None:
        return findings
    placed = []
    for finding in findings:
        if finding.path != doc.label:
            placed.append(finding)
            continue
        index = min(max(finding.line, 1), len(doc.origins)) - 1
        path, line = doc.origins[index]
        placed.append(Finding(path, line, finding.rule, f"{finding.message} (in {doc.label})"))
    return placed


def _with_parts(files: list[Path], root: Path) -> list[Path]:
    """`files` with each template part replaced by the product templates that include it
    (a part is validated as part of them), recipes found in the repository's templates/."""
    recipes = [
        p
        for p in dict.fromkeys([*discover(root / TEMPLATES), *files])
        if template_parts.is_recipe(p)
    ]
    including: dict[Path, list[Path]] = {}
    for recipe in recipes:
        for part in template_parts.part_files(recipe):
            including.setdefault(part.resolve(), []).append(recipe)
    chosen: list[Path] = []
    for path in files:
        chosen += including.get(path.resolve(), [path])
    return list(dict.fromkeys(chosen))


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
            shape = _shape_findings(doc)
            found = shape or cfn.lint(doc)
            found += derived_names.check(doc)
            found += [] if shape else iam.check(doc)
            project_findings, project_used = _codebuild_findings(doc, root)
            findings += _from_parts(doc, found + project_findings)
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


def _kind_of_path(path: Path) -> str:
    """ "dir" or "file" for a path validate reads; SeedsError naming the path and the rule
    for anything else (missing, a broken or looping link, a device, a socket, ...)."""
    try:
        mode = path.stat().st_mode
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise SeedsError(f"{path}: a symbolic link loop, not a file or directory") from None
        if err.errno == errno.ENOENT and path.is_symlink():
            raise SeedsError(
                f"{path}: a broken symbolic link (its target does not exist)"
            ) from None
        if err.errno == errno.ENOENT:
            raise SeedsError(f"{path}: no such file or directory") from None
        raise SeedsError(f"{path}: cannot read it ({err.strerror})") from None
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISREG(mode):
        return "file"
    raise SeedsError(
        f"{path}: not a regular file or directory (validate reads YAML and JSON files)"
    )


def _unreadable(path: Path) -> str | None:
    """Why a file found below a folder cannot be read (a looping or broken link), or None."""
    try:
        path.stat()
    except OSError as err:
        if err.errno == errno.ELOOP:
            return "a symbolic link loop"
        if err.errno == errno.ENOENT:
            return "a broken symbolic link"
        return f"cannot read it ({err.strerror})"
    return None


def _found_links(directory: Path) -> list[Path]:
    """Looping or broken links with a template suffix below `directory` (discover skips
    them, as they are not files)."""
    return sorted(
        p
        for p in directory.rglob("*")
        if p.suffix in SUFFIXES
        and p.is_symlink()
        and _unreadable(p) is not None
        and not any(part.startswith(".") for part in p.relative_to(directory).parts)
    )


def validate_paths(
    root: Path, paths: Iterable[Path], progress: Progress = _ignore
) -> list[Finding]:
    """Validate the given files, and the templates and buildspecs found below given folders.
    SeedsError for a given path that is neither a regular file nor a directory."""
    files: list[Path] = []
    explicit: set[Path] = set()
    findings: list[Finding] = []
    for path in paths:
        if _kind_of_path(path) == "dir":
            files += discover(path)
            for link in _found_links(path):
                reason = _unreadable(link)
                findings.append(Finding(_label(link, root), 1, "MS109", f"cannot read: {reason}"))
        else:
            files.append(path)
            explicit.add(path)
    files = _with_parts(files, root)
    with tempfile.TemporaryDirectory(prefix="mlops-seeds-validate-") as scratch:
        docs, refused = _load_all(files, root, Path(scratch))
        checked, _ = _check(docs, root, explicit, progress)
    return sorted(set(findings + refused + checked))


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
    """Validate the repository: templates/, service_catalog/*-bootstrap.yaml, buildspecs/ and
    the templates the seeds render. Also flags a buildspec that no CodeBuild project runs."""
    bootstrap = sorted((root / BOOTSTRAP).glob("*-bootstrap.yaml"))
    files = _with_parts(discover(root / TEMPLATES), root) + bootstrap + discover(root / BUILDSPECS)
    with tempfile.TemporaryDirectory(prefix="mlops-seeds-validate-") as scratch:
        assembled = Path(scratch) / "assembled"
        assembled.mkdir()
        docs, refused = _load_all(files, root, assembled)
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
    return sorted(set(findings + refused))


def summarize(findings: list[Finding]) -> dict[str, Any]:
    """Counts by rule, for the closing line."""
    counts: dict[str, int] = {}
    for finding in findings:
        counts[finding.rule] = counts.get(finding.rule, 0) + 1
    return counts
