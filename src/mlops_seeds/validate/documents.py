"""Load YAML/JSON documents with line numbers and tell templates from buildspecs."""

from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from cfnlint.decode import decode_str

from mlops_seeds.bounded_parsing import check_json, check_yaml, read_text

SUFFIXES = {".yaml", ".yml", ".json", ".template"}


class Kind(Enum):
    """What a document is, judged by its top-level keys."""

    TEMPLATE = "CloudFormation template"
    BUILDSPEC = "buildspec"
    OTHER = "other"


@dataclass(frozen=True)
class Document:
    """A parsed file; `body` keeps cfn-lint's line marks, None when it did not parse."""

    path: Path
    label: str
    body: Any
    # An assembled product template: the (file, line) each of its lines comes from.
    origins: tuple[tuple[str, int], ...] | None = None

    @property
    def kind(self) -> Kind:
        if not isinstance(self.body, dict):
            return Kind.OTHER
        if "Resources" in self.body or "AWSTemplateFormatVersion" in self.body:
            return Kind.TEMPLATE
        if "phases" in self.body and "version" in self.body:
            return Kind.BUILDSPEC
        return Kind.OTHER


def load(path: Path, label: str | None = None) -> Document:
    """Parse `path` (CloudFormation short tags understood); `label` names it in findings.

    The text is checked against the parsing limits first (size, UTF-8, nesting depth, YAML
    aliases, duplicate keys); a file that breaks one is a DocumentError naming it."""
    text = read_text(path)
    name = label or str(path)
    if path.suffix == ".json" or text.lstrip().startswith("{"):
        check_json(text, name)
    else:
        check_yaml(text, name)
    try:
        body, errors = decode_str(text)
    except RecursionError:
        body, errors = None, True
    return Document(path=path, label=label or str(path), body=None if errors else body)


def line_of(node: Any, default: int = 1) -> int:
    """The 1-based line where a parsed node starts."""
    mark = getattr(node, "start_mark", None)
    return mark.line + 1 if mark is not None else default


def discover(directory: Path) -> list[Path]:
    """Every YAML/JSON file below `directory`, skipping hidden and virtualenv folders."""
    skip = {".git", ".nox", ".venv", "node_modules", "__pycache__"}
    return sorted(
        p
        for p in directory.rglob("*")
        if p.is_file()
        and p.suffix in SUFFIXES
        and not any(part in skip or part.startswith(".") for part in p.relative_to(directory).parts)
    )
