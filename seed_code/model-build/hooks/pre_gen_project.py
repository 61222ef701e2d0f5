"""Validate cookiecutter answers before the model-build repo is rendered.

The answers arrive as one JSON string literal (Jinja's tojson), so a value is only ever
data, never code. The rules are the seed's own cookiecutter.json: each option is a choice
list or has a pattern under _patterns that the whole value must match; the tool checks
the same rules before it renders, this hook checks them for a plain cookiecutter run.
"""

import json
import re
import sys
from pathlib import Path

ANSWERS = json.loads({{ cookiecutter | tojson | tojson }})
SPEC = json.loads(Path(ANSWERS["_repo_dir"], "cookiecutter.json").read_text(encoding="utf-8"))


def problem(option: str, declared: object, value: str, patterns: dict) -> str:
    """Why `value` is not allowed for `option`, or '' when it is."""
    if isinstance(declared, list):
        choices = [str(choice) for choice in declared]
        return "" if value in choices else f"must be one of {', '.join(choices)}"
    if option not in patterns:
        return "declares neither choices nor a pattern (_patterns in cookiecutter.json)"
    pattern = patterns[option]
    if re.fullmatch(pattern["regex"], value) is None:
        return f"must match {pattern['regex']} ({pattern['rule']})"
    return ""


def check() -> None:
    """Check every answer; stop at the first bad one with one line."""
    patterns = SPEC.get("_patterns", {})
    for option, declared in SPEC.items():
        if option.startswith("_"):
            continue
        value = str(ANSWERS.get(option, ""))
        reason = problem(option, declared, value, patterns)
        if reason:
            print(f"ERROR: {option}={value!r}: {reason}", file=sys.stderr)
            sys.exit(1)


check()
