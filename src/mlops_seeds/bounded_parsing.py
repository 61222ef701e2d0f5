"""Bounded parsing of the YAML and JSON files the tool reads from users.

Every manifest, template, buildspec and cookiecutter.json goes through here, so that a
hostile or broken file costs a bounded amount of time and memory and ends in one line
naming the file and the rule it broke:

- size: at most MAX_BYTES (1 MiB, CloudFormation's own limit for a template in S3);
- text: UTF-8 (a byte-order mark is allowed);
- nesting: at most MAX_DEPTH (100) levels of mappings and sequences;
- YAML aliases: at most MAX_ALIASES (50) per document, expanding to at most
  MAX_ALIAS_NODES (10,000) nodes in all, and none that refers to itself: an alias bomb
  ("billion laughs") is refused while it is parsed, before anything is built from it;
- duplicate keys: a key repeated in one mapping is an error naming the key and its line
  (YAML merge keys `<<` may still be overridden, as YAML intends).
"""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from mlops_seeds.errors import SeedsError

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 100
MAX_ALIASES = 50
MAX_ALIAS_NODES = 10_000

_MERGE_TAG = "tag:yaml.org,2002:merge"
_LIBYAML_TOO_DEEP = "exceeded maximum nesting depth"  # libyaml's own limit (1000 levels)


class DocumentError(SeedsError):
    """A file the tool will not parse: `source: rule`, one line."""


class _Refused(Exception):
    """A limit broken while parsing; load_yaml adds the source."""


def _line(node_or_event: Any) -> str:
    mark = getattr(node_or_event, "start_mark", None)
    return f"line {mark.line + 1}: " if mark is not None else ""


if yaml.__with_libyaml__:  # as PyYAML's wheels are built
    from yaml._yaml import CParser

    class _SafeReading(Composer, CParser, SafeConstructor, Resolver):
        """yaml.SafeLoader's composer, constructor and resolver over libyaml's scanner and
        parser: the same nodes and errors, read about six times faster. The composer stays
        in Python (yaml.CSafeLoader's is in C) so that BoundedLoader sees every node."""

        def __init__(self, stream: Any) -> None:
            CParser.__init__(self, stream)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)

else:  # pragma: no cover - PyYAML built without libyaml
    _SafeReading = yaml.SafeLoader  # type: ignore[misc,assignment]


class BoundedLoader(_SafeReading):
    """A safe YAML loader with limits on nesting depth and alias expansion, refusing
    duplicate keys. Subclass it to add tag constructors (CloudFormation's !Ref, !Sub, ...)."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._depth = 0
        self._aliases = 0
        self._alias_nodes = 0
        self._sizes: dict[int, tuple[Node, int]] = {}

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            self._count_alias(event)
            return super().compose_node(parent, index)
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _Refused(f"{_line(event)}nested deeper than {MAX_DEPTH} levels")
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if node is not None:
            self._sizes[id(node)] = (node, self._size(node))
        return node

    def _count_alias(self, event: yaml.AliasEvent) -> None:
        self._aliases += 1
        if self._aliases > MAX_ALIASES:
            raise _Refused(f"{_line(event)}more than {MAX_ALIASES} YAML aliases")
        target = self.anchors.get(event.anchor)
        if target is None:
            return  # undefined: the composer says so
        known = self._sizes.get(id(target))
        if known is None:
            raise _Refused(f"{_line(event)}YAML alias *{event.anchor} refers to itself")
        self._alias_nodes += known[1]
        if self._alias_nodes > MAX_ALIAS_NODES:
            raise _Refused(
                f"{_line(event)}YAML aliases expand to more than {MAX_ALIAS_NODES} nodes"
            )

    def _size(self, node: Node) -> int:
        if isinstance(node, SequenceNode):
            return 1 + sum(self._sizes[id(child)][1] for child in node.value)
        if isinstance(node, MappingNode):
            return 1 + sum(
                self._sizes[id(key)][1] + self._sizes[id(value)][1] for key, value in node.value
            )
        return 1

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, MappingNode):
            _refuse_duplicate_keys(node)
        return super().construct_mapping(node, deep=deep)


def _refuse_duplicate_keys(node: MappingNode) -> None:
    """_Refused naming the first key that repeats in `node` (merge keys aside)."""
    seen: dict[tuple[str, str], int] = {}
    for key, _ in node.value:
        if not isinstance(key, ScalarNode) or key.tag == _MERGE_TAG:
            continue
        line = key.start_mark.line + 1
        if (key.tag, key.value) in seen:
            first = seen[key.tag, key.value]
            raise _Refused(f"line {line}: duplicate key {key.value!r} (first at line {first})")
        seen[key.tag, key.value] = line


def decode(data: bytes, source: str) -> str:
    """`data` as text, or DocumentError when it is too large or not UTF-8."""
    if len(data) > MAX_BYTES:
        raise DocumentError(f"{source}: larger than {MAX_BYTES} bytes")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise DocumentError(
            f"{source}: not UTF-8 text (byte 0x{data[err.start]:02x} at offset {err.start})"
        ) from None


def read_text(path: Path) -> str:
    """The UTF-8 text of `path`, at most MAX_BYTES; DocumentError otherwise."""
    try:
        if path.stat().st_size > MAX_BYTES:
            raise DocumentError(f"{path}: larger than {MAX_BYTES} bytes")
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as err:
        raise DocumentError(f"{path}: cannot read: {err.strerror or err}") from None
    return decode(data, str(path))


def _check_size(text: str, source: str) -> None:
    if len(text) > MAX_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise DocumentError(f"{source}: larger than {MAX_BYTES} bytes")


def _syntax(err: yaml.YAMLError, source: str) -> DocumentError:
    if isinstance(err, yaml.reader.ReaderError):  # a character YAML does not allow
        return DocumentError(f"{source}: YAML syntax: {err.reason} (offset {err.position})")
    mark = getattr(err, "problem_mark", None)
    where = f"line {mark.line + 1}: " if mark is not None else ""
    problem = getattr(err, "problem", None) or "invalid YAML"
    if problem == _LIBYAML_TOO_DEEP:  # its scanner may reach its limit before our composer
        return DocumentError(f"{source}: {where}nested deeper than {MAX_DEPTH} levels")
    return DocumentError(f"{source}: {where}YAML syntax: {problem}")


def load_yaml(text: str, source: str, loader: type[BoundedLoader] = BoundedLoader) -> Any:
    """The single YAML document in `text` (read with `loader`), or DocumentError naming
    `source` and the rule: size, depth, aliases, duplicate key, or syntax."""
    _check_size(text, source)
    try:
        instance = loader(text)
    except yaml.YAMLError as err:  # the pure-Python reader checks characters up front
        raise _syntax(err, source) from None
    try:
        data = instance.get_single_data()
        # aliases may stack anchors' depths beyond what the parser counted
        if _depth(data) > MAX_DEPTH:
            raise _Refused(f"nested deeper than {MAX_DEPTH} levels (through aliases)")
        return data
    except _Refused as err:
        raise DocumentError(f"{source}: {err}") from None
    except yaml.YAMLError as err:
        raise _syntax(err, source) from None
    except RecursionError:  # a limit above this one's depth, e.g. a deep constructor
        raise DocumentError(f"{source}: nested deeper than {MAX_DEPTH} levels") from None
    finally:
        instance.dispose()


def check_yaml(text: str, source: str) -> None:
    """Refuse `text` when it breaks a limit (size, depth, aliases, duplicate keys); leave
    syntax errors and unknown tags to the parser that reads it next (e.g. cfn-lint's)."""
    _check_size(text, source)
    try:
        instance = BoundedLoader(text)
    except yaml.YAMLError:
        return
    try:
        node = instance.get_single_node()
        if node is not None:
            _check_duplicates(node)
            if _node_depth(node) > MAX_DEPTH:
                raise _Refused(f"nested deeper than {MAX_DEPTH} levels (through aliases)")
    except _Refused as err:
        raise DocumentError(f"{source}: {err}") from None
    except yaml.YAMLError as err:
        if getattr(err, "problem", None) == _LIBYAML_TOO_DEEP:
            raise _syntax(err, source) from None  # a limit, not the syntax
        return
    finally:
        instance.dispose()


def _check_duplicates(root: Node) -> None:
    pending, seen = [root], set()
    while pending:
        node = pending.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, MappingNode):
            _refuse_duplicate_keys(node)
            pending += [item for pair in node.value for item in pair]
        elif isinstance(node, SequenceNode):
            pending += node.value


def read_yaml(path: Path) -> Any:
    """The YAML document at `path`, within the limits above."""
    return load_yaml(read_text(path), str(path))


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _Refused(f"duplicate key {key!r}")
        result[key] = value
    return result


def _deepest(root: Any, children: Callable[[Any], list[Any] | None]) -> int:
    """How deep `root` nests, walking `children` (None for a leaf); stops past MAX_DEPTH."""
    deepest, pending = 0, [(root, 1)]
    while pending:
        item, depth = pending.pop()
        below = children(item)
        if below is not None:
            deepest = max(deepest, depth)
            if depth > MAX_DEPTH:
                return depth
            pending += [(child, depth + 1) for child in below]
    return deepest


def _node_children(node: Any) -> list[Any] | None:
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return list(node.value) if isinstance(node, SequenceNode) else None


def _value_children(item: Any) -> list[Any] | None:
    if isinstance(item, dict):
        return list(item.values())
    return item if isinstance(item, list) else None


def _node_depth(root: Node) -> int:
    """How deep the composed document nests, aliases followed (early out past the limit)."""
    return _deepest(root, _node_children)


def _depth(value: Any) -> int:
    """How deep a loaded value nests (early out past the limit)."""
    return _deepest(value, _value_children)


def load_json(text: str, source: str) -> Any:
    """The JSON value in `text`, or DocumentError naming `source` and the rule: size,
    depth, duplicate key or syntax (with its line)."""
    _check_size(text, source)
    try:
        value = json.loads(text, object_pairs_hook=_unique_pairs)
    except _Refused as err:
        raise DocumentError(f"{source}: {err}") from None
    except RecursionError:
        raise DocumentError(f"{source}: nested deeper than {MAX_DEPTH} levels") from None
    except json.JSONDecodeError as err:
        raise DocumentError(f"{source}: line {err.lineno}: JSON syntax: {err.msg}") from None
    if _depth(value) > MAX_DEPTH:
        raise DocumentError(f"{source}: nested deeper than {MAX_DEPTH} levels")
    return value


def check_json(text: str, source: str) -> None:
    """Refuse `text` when it breaks a limit; leave syntax errors to the next parser."""
    try:
        load_json(text, source)
    except DocumentError as err:
        if "JSON syntax" not in str(err):
            raise


def read_json(path: Path) -> Any:
    """The JSON value at `path`, within the limits above."""
    return load_json(read_text(path), str(path))
