"""Product templates assembled from parts, so that each parameter, rule, condition, resource
and output is written once (templates/parts/) and each product names the parts it is made of.

A product template is a whole CloudFormation template, or a recipe: the template's header
(AWSTemplateFormatVersion, Description, comments) and `Parts`, the part files it is made of,
relative to it. A part holds template sections (Metadata and the sections in SECTIONS). The
assembled template, what Studio receives, is the recipe's header, the parts' Metadata merged
(mappings joined, lists concatenated), then each section with every part's entries as
written (comments kept), in the recipe's order. An entry two parts define is an error.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from mlops_seeds.bounded_parsing import check_yaml, load_yaml, read_text
from mlops_seeds.catalog.templates import CfnLoader
from mlops_seeds.containment import PathEscape, contained
from mlops_seeds.errors import SeedsError

PARTS = "Parts"
HEADER = ("AWSTemplateFormatVersion", "Description")
METADATA = "Metadata"
SECTIONS = ("Parameters", "Rules", "Mappings", "Conditions", "Resources", "Outputs")
STR_TAG = "tag:yaml.org,2002:str"
ONE_SOURCE = "each parameter, rule, condition, resource and output is written in one part"


@dataclass(frozen=True)
class Assembled:
    """An assembled template: its text, and where each of its lines comes from."""

    text: str
    origins: tuple[tuple[str, int], ...]  # line n of `text` comes from origins[n - 1]
    parts: tuple[str, ...]  # the parts' paths relative to the root

    def origin(self, line: int) -> tuple[str, int]:
        """(file, line) that line `line` (1-based) of the text comes from."""
        return self.origins[min(max(line, 1), len(self.origins)) - 1]


@dataclass(frozen=True)
class _Source:
    """A parsed YAML file: its lines and its top-level keys with their nodes."""

    label: str
    lines: list[str]
    keys: list[tuple[str, int, Node]]  # (key, 0-based line of the key, value node)

    def block(self, key: str) -> tuple[list[str], list[int]]:
        """The lines of a top-level block mapping's entries (without its key line), with the
        blank and comment lines just above the key (but the file's own header), and their
        1-based line numbers."""
        index = next(i for i, (k, _, _) in enumerate(self.keys) if k == key)
        start = self.keys[index][1]
        end = self.keys[index + 1][1] if index + 1 < len(self.keys) else len(self.lines)
        lead = start
        if index > 0:
            while lead > self.keys[index - 1][1] + 1 and _loose(self.lines[lead - 1]):
                lead -= 1
        stop = end
        if end < len(self.lines):  # the loose lines above the next key are the next block's
            while stop > start + 1 and _loose(self.lines[stop - 1]):
                stop -= 1
        numbers = [*range(lead, start), *range(start + 1, stop)]
        return [self.lines[n] for n in numbers], [n + 1 for n in numbers]


def _loose(line: str) -> bool:
    """A blank line or a comment at column 0 (it belongs to the key below it)."""
    return not line.strip() or line.startswith("#")


def _parse(path: Path, label: str) -> _Source:
    return _parse_text(read_text(path), label)


@lru_cache(maxsize=64)
def _parse_text(text: str, label: str) -> _Source:
    """A file's lines and top-level keys (parsed once per content: publish and plan read
    the same templates many times)."""
    check_yaml(text, label)
    try:
        root = CfnLoader(text).get_single_node()
    except yaml.YAMLError as err:
        raise SeedsError(f"{label}: not valid YAML ({' '.join(str(err).split())})") from None
    if not isinstance(root, MappingNode):
        raise SeedsError(f"{label}: must be a mapping of template sections")
    keys = [(str(k.value), k.start_mark.line, v) for k, v in root.value]
    return _Source(label, text.splitlines(keepends=True), keys)


@lru_cache(maxsize=64)
def _metadata(text: str, label: str) -> Any:
    return load_yaml(text, label, CfnLoader)[METADATA]


@lru_cache(maxsize=32)
def _checked_whole(text: str, template: str) -> None:
    """The assembled text parses as one template."""
    try:
        load_yaml(text, template, CfnLoader)
    except SeedsError as err:
        raise SeedsError(f"{template}: its parts do not make one template ({err})") from None


def _label(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def is_recipe(path: Path) -> bool:
    """Whether the template at `path` is a recipe of parts (it has a top-level `Parts`)."""
    try:
        return any(key == PARTS for key, _, _ in _parse(path, str(path)).keys)
    except SeedsError:
        return False


def part_files(path: Path) -> list[Path]:
    """The part files a recipe lists (resolved), or none when it cannot be read."""
    try:
        recipe = _parse(path, str(path))
        return [part.resolve() for part, _ in _part_paths(recipe, path, path.parent)]
    except (SeedsError, StopIteration):
        return []


def _part_paths(recipe: _Source, path: Path, root: Path) -> list[tuple[Path, str]]:
    listed = next(v for k, _, v in recipe.keys if k == PARTS)
    where = f"{recipe.label}: {PARTS}"
    items = listed.value if isinstance(listed, SequenceNode) else []
    if not items or not all(isinstance(n, ScalarNode) and n.tag == STR_TAG for n in items):
        raise SeedsError(f"{where} must be a list of part files (paths relative to it)")
    names = [str(n.value) for n in items]
    if len(set(names)) != len(names):
        raise SeedsError(f"{where} names a part twice")
    found = []
    for index, name in enumerate(names):
        try:
            part = contained(path.parent, name, what=f"{where}[{index}] {name!r}")
        except PathEscape as err:
            raise SeedsError(str(err)) from None
        if not part.is_file():
            raise SeedsError(f"{where}[{index}] {name!r}: no such file")
        found.append((part, _label(part, root)))
    return found


def _merge(
    into: Any, extra: Any, path: tuple[str, ...], label: str, owners: dict[tuple[str, ...], str]
) -> Any:
    """Metadata merged: mappings joined, lists concatenated; `owners` records which part
    added each key, so that the same value set twice is an error naming both parts."""
    if isinstance(into, dict) and isinstance(extra, dict):
        merged = dict(into)
        for key, value in extra.items():
            at = (*path, str(key))
            if key in into:
                merged[key] = _merge(into[key], value, at, label, owners)
            else:
                merged[key] = value
                owners[at] = label
        return merged
    if isinstance(into, list) and isinstance(extra, list):
        return into + extra
    owner = next(owners[path[:n]] for n in range(len(path), 0, -1) if path[:n] in owners)
    raise SeedsError(f"{label}: {'.'.join(path)} is also set in {owner}: {ONE_SOURCE}")


def _checked_part(source: _Source) -> None:
    for key, line, value in source.keys:
        if key in (*HEADER, PARTS):
            raise SeedsError(
                f"{source.label}:{line + 1}: a part holds template sections only "
                f"({METADATA}, {', '.join(SECTIONS)}); {key} belongs to the product template"
            )
        if key not in (METADATA, *SECTIONS):
            raise SeedsError(f"{source.label}:{line + 1}: {key} is not a template section")
        if not isinstance(value, MappingNode) or value.flow_style or value.start_mark.line == line:
            raise SeedsError(
                f"{source.label}:{line + 1}: {key} must be a block mapping (its entries on the "
                "lines below it)"
            )


def _entries(source: _Source, section: str) -> Iterator[tuple[str, int]]:
    for key, _, value in source.keys:
        if key == section and isinstance(value, MappingNode):
            for name, _ in value.value:
                yield str(name.value), name.start_mark.line + 1


def assemble(root: Path, template: str) -> Assembled:
    """The recipe at `root/template` assembled; SeedsError naming the file, the line and the
    rule for a recipe or part that breaks one."""
    path = root / template
    recipe = _parse(path, template)
    for key, line, _ in recipe.keys:
        if key not in (*HEADER, PARTS):
            raise SeedsError(
                f"{template}:{line + 1}: a product template made of parts holds "
                f"{', '.join(HEADER)} and {PARTS}; {key} belongs in a part"
            )
    parts = [_parse(p, label) for p, label in _part_paths(recipe, path, root)]
    for part in parts:
        _checked_part(part)
    lines: list[str] = []
    origins: list[tuple[str, int]] = []

    def emit(text: str, origin: tuple[str, int]) -> None:
        lines.append(text if text.endswith("\n") else text + "\n")
        origins.append(origin)

    _, parts_line, listed = next(k for k in recipe.keys if k[0] == PARTS)
    last = listed.value[-1].end_mark.line if listed.value else parts_line
    for number, text in enumerate(recipe.lines):
        if not parts_line <= number <= last:  # the recipe without its Parts
            emit(text, (template, number + 1))
    holders = [p for p in parts if any(key == METADATA for key, _, _ in p.keys)]
    metadata: dict[str, Any] = {}
    owners: dict[tuple[str, ...], str] = {}
    for part in holders:
        body = copy.deepcopy(_metadata("".join(part.lines), part.label))
        metadata = _merge(metadata, body, (METADATA,), part.label, owners)
    if metadata:
        dumped = yaml.safe_dump({METADATA: metadata}, sort_keys=False, width=100)
        for text in dumped.splitlines():
            emit(text, (holders[0].label, 1))
    defined: dict[tuple[str, str], str] = {}
    for section in SECTIONS:
        holders = [p for p in parts if any(key == section for key, _, _ in p.keys)]
        if not holders:
            continue
        emit(f"{section}:", (holders[0].label, 1))
        for part in holders:
            for name, line in _entries(part, section):
                other = defined.setdefault((section, name), part.label)
                if other != part.label:
                    raise SeedsError(
                        f"{part.label}:{line}: {section}.{name} is also defined in {other}: "
                        f"{ONE_SOURCE}"
                    )
            block, numbers = part.block(section)
            emit(f"  # {section} of {part.label}", (part.label, numbers[0] if numbers else 1))
            for text, number in zip(block, numbers, strict=True):
                emit(text, (part.label, number))
    text = "".join(lines)
    _checked_whole(text, template)
    return Assembled(text, tuple(origins), tuple(p.label for p in parts))


def template_text(root: Path, template: str) -> str:
    """The template Studio receives for `root/template`: assembled when it is a recipe."""
    path = root / template
    if not path.is_file():
        raise SeedsError(f"{template}: no such file")
    return assemble(root, template).text if is_recipe(path) else read_text(path)


def base_of(path: Path, root: Path) -> tuple[Path, str]:
    """(root, path relative to it) for a template at `path`: the repository's root when
    the template is inside it, else the template's own folder."""
    resolved = path.resolve()
    base = root if root.resolve() in resolved.parents else path.parent
    return base, resolved.relative_to(base.resolve()).as_posix()
