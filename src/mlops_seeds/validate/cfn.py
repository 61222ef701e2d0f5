"""cfn-lint over a template: errors and warnings become findings."""

from cfnlint.api import ManualArgs, lint_file

from mlops_seeds.validate.documents import Document
from mlops_seeds.validate.findings import Finding

REGIONS = ["us-east-1"]


def lint(doc: Document) -> list[Finding]:
    """Run cfn-lint on the document's file; informational matches are left out."""
    matches = lint_file(doc.path, config=ManualArgs(regions=REGIONS))
    return [
        Finding(doc.label, m.linenumber, m.rule.id, m.message)
        for m in matches
        if m.rule.severity in ("error", "warning")
    ]
