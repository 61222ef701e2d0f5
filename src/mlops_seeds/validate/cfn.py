"""cfn-lint over a template: errors and warnings become findings."""

import difflib
import re
from collections.abc import Sequence
from typing import Any

from cfnlint.api import ManualArgs, lint_file

from mlops_seeds.validate.documents import Document
from mlops_seeds.validate.findings import Finding

REGIONS = ["us-east-1"]
# W3037 lists every action of the service: "'getobjekt' is not one of ['abort...', ...]".
_NOT_ONE_OF = re.compile(r"'([^']*)' is not one of \[(.*)\]", re.DOTALL)
_QUOTED = re.compile(r"'([^']*)'")


def _at(body: Any, path: Sequence[Any]) -> Any:
    node = body
    for step in path:
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def _unknown_action(doc: Document, path: Sequence[Any], message: str) -> str:
    """W3037's message as one line: the action as written and the closest known names."""
    match = _NOT_ONE_OF.fullmatch(" ".join(message.split()))
    if not match:
        return " ".join(message.split())
    wrong, known = match.group(1), _QUOTED.findall(match.group(2))
    node = _at(doc.body, path)
    entries = node if isinstance(node, list) else [node]
    written = next(
        (
            e
            for e in entries
            if isinstance(e, str)
            and wrong in (e.lower(), e.partition(":")[0].lower(), e.partition(":")[2].lower())
        ),
        wrong,
    )
    what = (
        "service"
        if ":" not in written or written.partition(":")[0].lower() == wrong
        else ("action")
    )
    service = written.partition(":")[0] + ":" if what == "action" else ""
    close = [service + c for c in difflib.get_close_matches(wrong, known, n=3)]
    hint = f"; did you mean {' or '.join(close)}?" if close else ""
    return f"unknown IAM {what} in {written!r} (not among {len(known)} known){hint}"


def lint(doc: Document) -> list[Finding]:
    """Run cfn-lint on the document's file; informational matches are left out. A template
    cfn-lint cannot check (it raised) is one finding, MS111."""
    try:
        matches = lint_file(doc.path, config=ManualArgs(regions=REGIONS))
    except Exception as err:  # a shape cfn-lint does not expect
        problem = " ".join(f"{type(err).__name__}: {err}".split())
        return [Finding(doc.label, 1, "MS111", f"cfn-lint cannot check this template ({problem})")]
    return [
        Finding(
            doc.label,
            m.linenumber,
            m.rule.id,
            _unknown_action(doc, getattr(m, "path", None) or [], m.message)
            if m.rule.id == "W3037"
            else m.message,
        )
        for m in matches
        if m.rule.severity in ("error", "warning")
    ]
