"""Wildcards and policy variables: how a policy's action and ARN patterns match a request.

- Actions (IAM User Guide, "IAM JSON policy elements: Action",
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html):
  `service:action`, case-insensitive, `*` for any run of characters and `?` for one; no
  policy variables.
- ARNs ("IAM JSON policy elements: Resource" and the ARN condition operators,
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_ARN):
  case-sensitive; "each of the six colon-delimited components of the ARN is checked
  separately", so a `*` in the region does not swallow the account; the sixth component
  (the resource) is everything after the fifth colon and may hold colons itself.
- Policy variables ("IAM policy elements: Variables and tags",
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html):
  `${key}` takes the request context's value of `key` (only with `Version` 2012-10-17; the
  caller passes no resolver otherwise and the text stays literal); `${key, 'default'}`
  uses the default when the key is absent; `${*}`, `${?}` and `${$}` stand for those
  characters literally. In a Resource, variables count only in the resource part (after the
  fifth colon). A variable that cannot be resolved makes the whole statement invalid
  ("any attempt to match it fails and causes the statement to be invalid"): `Unresolved`.
"""

import re
from collections.abc import Callable
from functools import lru_cache

# A resolver gives a variable's value from the request context (None: the key is absent).
Resolver = Callable[[str], str | None]

_TOKEN = re.compile(r"\$\{([^}]*)\}|\*|\?")
_SPECIALS = {"*": "*", "?": "?", "$": "$"}
_DEFAULT = re.compile(r"^\s*([^,]+?)\s*,\s*'([^']*)'\s*$")


class Unresolved(Exception):
    """A policy variable the request context has no single value for; the statement that
    uses it does not apply."""


def resolve_variable(body: str, resolve: Resolver) -> str:
    """The text that `${body}` stands for."""
    if body in _SPECIALS:
        return _SPECIALS[body]
    default: str | None = None
    found = _DEFAULT.match(body)
    key = body.strip()
    if found:
        key, default = found.group(1), found.group(2)
    value = resolve(key)
    if value is None:
        if default is None:
            raise Unresolved(key)
        return default
    return value


def substitute(text: str, resolve: Resolver | None) -> str:
    """`text` with its policy variables replaced (for exact comparisons); unchanged when
    variables do not apply (`resolve` is None)."""
    if resolve is None or "${" not in text:
        return text
    return re.sub(r"\$\{([^}]*)\}", lambda m: resolve_variable(m.group(1), resolve), text)


def _glob_regex(pattern: str, resolve: Resolver | None) -> str:
    parts: list[str] = []
    position = 0
    for token in _TOKEN.finditer(pattern):
        parts.append(re.escape(pattern[position : token.start()]))
        text = token.group(0)
        if text == "*":
            parts.append(".*")
        elif text == "?":
            parts.append(".")
        elif resolve is None:
            parts.append(re.escape(text))
        else:
            parts.append(re.escape(resolve_variable(token.group(1), resolve)))
        position = token.end()
    parts.append(re.escape(pattern[position:]))
    return "".join(parts)


@lru_cache(maxsize=4096)
def _static_glob(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.compile(_glob_regex(pattern, None), flags)


def glob_match(
    pattern: str, value: str, resolve: Resolver | None = None, *, ignore_case: bool = False
) -> bool:
    """Whether `value` matches `pattern` as a whole, `*` and `?` being wildcards."""
    if resolve is None or "${" not in pattern:
        return _static_glob(pattern, ignore_case).fullmatch(value) is not None
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.fullmatch(_glob_regex(pattern, resolve), value, flags) is not None


def match_action(pattern: str, action: str) -> bool:
    """Whether an Action/NotAction entry covers `action` (e.g. `s3:Get*` and
    `s3:GetObject`); case-insensitive, no variables."""
    return glob_match(pattern, action, ignore_case=True)


def match_arn(
    pattern: str,
    arn: str,
    resolve: Resolver | None = None,
    *,
    variables_in_resource_only: bool = True,
) -> bool:
    """Whether a Resource entry or an ARN condition value covers `arn`, component by
    component; `*` alone matches everything, including a resource that is not an ARN.
    Variables count only after the fifth colon in a Resource (the default); condition
    values (`variables_in_resource_only=False`) may use them in any component."""
    if pattern == "*":
        return True
    wanted = pattern.split(":", 5)
    given = arn.split(":", 5)
    if len(wanted) < 6:
        # Not an ARN pattern: compare as a plain string.
        return glob_match(pattern, arn, resolve)
    if len(given) < 6:
        return False
    for index, (part, value) in enumerate(zip(wanted, given, strict=True)):
        variables = resolve if index == 5 or not variables_in_resource_only else None
        if not glob_match(part, value, variables):
            return False
    return True
