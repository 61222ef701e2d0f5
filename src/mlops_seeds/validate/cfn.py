"""cfn-lint over a template: errors and warnings become findings."""

from cfnlint.api import ManualArgs, lint_file

from mlops_seeds.validate.documents import Document
from mlops_seeds.validate.findings import Finding

REGIONS = ["us-east-1"]


def lint(doc: Document) -> list[Finding]:
    """Run cfn-lint on the document's file; informational matches are left out. A template
    cfn-lint cannot check (it raised) is one finding, MS111."""
    try:
        matches = lint_file(doc.path, config=ManualArgs(regions=REGIONS))
    except Exception as err:  # a shape cfn-lint does not expect
        problem = " ".join(f"{type(err).__name__}: {err}".split())
        return [Finding(doc.label, 1, "MS111", f"cfn-lint cannot check this template ({problem})")]
    return [
        Finding(doc.label, m.linenumber, m.rule.id, m.message)
        for m in matches
        if m.rule.severity in ("error", "warning")
    ]
