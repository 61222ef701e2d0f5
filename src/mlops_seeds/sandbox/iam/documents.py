"""Policy documents parsed into a normal form: every element that may be a string or a list
becomes a tuple, a lone Statement object becomes a one-statement list, and the Condition
block becomes parsed conditions.

Grammar and elements: IAM User Guide, "IAM JSON policy elements reference" and "Grammar of
the IAM JSON policy language"
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements.html,
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html).

- `Version`: "2012-10-17" or "2008-10-17"; a policy without it is read as 2008-10-17, in
  which `${...}` is literal text ("IAM JSON policy elements: Version").
- A statement has `Effect` (Allow/Deny), exactly one of `Action`/`NotAction`, at most one of
  `Resource`/`NotResource` (resource-based policies such as role trust policies may omit
  it), at most one of `Principal`/`NotPrincipal`, an optional `Condition` and `Sid`.
- `Principal` is `"*"` or an object whose `AWS`, `Service`, `Federated` or `CanonicalUser`
  entries are strings or lists; `{"AWS": "*"}` is the same as `"*"`.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from mlops_seeds.sandbox.iam.conditions import Condition, parse_conditions
from mlops_seeds.sandbox.iam.errors import PolicyError

VERSION_2012 = "2012-10-17"
VERSION_2008 = "2008-10-17"
VERSIONS = (VERSION_2012, VERSION_2008)

_STATEMENT_KEYS = frozenset(
    {
        "Sid",
        "Effect",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Principal",
        "NotPrincipal",
        "Condition",
    }
)
_PRINCIPAL_KINDS = ("AWS", "Service", "Federated", "CanonicalUser")


class Effect(Enum):
    ALLOW = "Allow"
    DENY = "Deny"


@dataclass(frozen=True)
class Principals:
    """A Principal/NotPrincipal element: for each kind (`AWS`, `Service`, ...), its values.
    `everyone` is set by `"*"` or `{"AWS": "*"}`."""

    everyone: bool = False
    entries: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def of(self, kind: str) -> tuple[str, ...]:
        return self.entries.get(kind, ())


@dataclass(frozen=True)
class Statement:
    """One statement in normal form. `resources` is None when the statement has neither
    Resource nor NotResource; `principals` None when it has neither Principal nor
    NotPrincipal. `policy` names the policy it came from (for messages and tests)."""

    effect: Effect
    actions: tuple[str, ...]
    not_action: bool = False
    resources: tuple[str, ...] | None = None
    not_resource: bool = False
    principals: Principals | None = None
    not_principal: bool = False
    conditions: tuple[Condition, ...] = ()
    sid: str | None = None
    index: int = 0
    policy: str | None = None

    def describe(self) -> str:
        """`policy` and Sid or position, for messages: "deploy-policy: DenyDelete"."""
        label = self.sid if self.sid else f"Statement[{self.index}]"
        return f"{self.policy}: {label}" if self.policy else label


@dataclass(frozen=True)
class Policy:
    """A parsed policy document; `name` is the policy's name or ARN when known."""

    version: str
    statements: tuple[Statement, ...]
    name: str | None = None
    id: str | None = None

    @property
    def variables(self) -> bool:
        """Whether `${...}` are policy variables (Version 2012-10-17) or literal text."""
        return self.version == VERSION_2012


def _strings(element: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise PolicyError(f"{element} must be a string or a non-empty list of strings")


def _principals(element: str, value: Any) -> Principals:
    if value == "*":
        return Principals(everyone=True)
    if not isinstance(value, dict) or not value:
        raise PolicyError(f'{element} must be "*" or an object of principal kinds')
    entries: dict[str, tuple[str, ...]] = {}
    for kind, names in value.items():
        if kind not in _PRINCIPAL_KINDS:
            raise PolicyError(f"{element} has an unknown principal kind: {kind}")
        entries[kind] = _strings(f"{element}.{kind}", names)
    everyone = "*" in entries.get("AWS", ())
    return Principals(everyone=everyone, entries=entries)


def _either(raw: Mapping[str, Any], name: str, *, required: bool) -> tuple[str, Any] | None:
    """The present one of `name` and `Not<name>`, as (element, value)."""
    present = [key for key in (name, f"Not{name}") if key in raw]
    if len(present) > 1:
        raise PolicyError(f"a statement cannot have both {name} and Not{name}")
    if not present:
        if required:
            raise PolicyError(f"a statement needs {name} or Not{name}")
        return None
    return present[0], raw[present[0]]


def parse_statement(raw: Any, index: int = 0, policy: str | None = None) -> Statement:
    """One statement object in normal form."""
    if not isinstance(raw, dict):
        raise PolicyError("each statement must be an object")
    unknown = set(raw) - _STATEMENT_KEYS
    if unknown:
        raise PolicyError(f"a statement has unknown elements: {', '.join(sorted(unknown))}")
    try:
        effect = Effect(raw.get("Effect"))
    except ValueError:
        raise PolicyError('Effect must be "Allow" or "Deny"') from None
    action = _either(raw, "Action", required=True)
    assert action is not None
    resource = _either(raw, "Resource", required=False)
    principal = _either(raw, "Principal", required=False)
    condition = raw.get("Condition", {})
    if not isinstance(condition, dict):
        raise PolicyError("Condition must be an object")
    sid = raw.get("Sid")
    if sid is not None and not isinstance(sid, str):
        raise PolicyError("Sid must be a string")
    return Statement(
        effect=effect,
        actions=_strings(action[0], action[1]),
        not_action=action[0] == "NotAction",
        resources=None if resource is None else _strings(resource[0], resource[1]),
        not_resource=resource is not None and resource[0] == "NotResource",
        principals=None if principal is None else _principals(principal[0], principal[1]),
        not_principal=principal is not None and principal[0] == "NotPrincipal",
        conditions=parse_conditions(condition),
        sid=sid,
        index=index,
        policy=policy,
    )


def parse_policy(document: str | Mapping[str, Any], name: str | None = None) -> Policy:
    """A policy from its JSON text or its decoded object; `PolicyError` when malformed."""
    if isinstance(document, str):
        try:
            raw = json.loads(document)
        except json.JSONDecodeError as error:
            raise PolicyError(f"the policy is not JSON: {error.msg}") from None
    else:
        raw = document
    if not isinstance(raw, Mapping):
        raise PolicyError("a policy must be a JSON object")
    unknown = set(raw) - {"Version", "Id", "Statement"}
    if unknown:
        raise PolicyError(f"the policy has unknown elements: {', '.join(sorted(unknown))}")
    version = raw.get("Version", VERSION_2008)
    if version not in VERSIONS:
        raise PolicyError(f"Version must be {VERSION_2012} or {VERSION_2008}, not {version!r}")
    if "Statement" not in raw:
        raise PolicyError("the policy has no Statement")
    statements = raw["Statement"]
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list):
        raise PolicyError("Statement must be an object or a list of objects")
    policy_id = raw.get("Id")
    return Policy(
        version=version,
        statements=tuple(parse_statement(s, i, name) for i, s in enumerate(statements)),
        name=name,
        id=policy_id if isinstance(policy_id, str) else None,
    )
