"""A finding: one line naming the file, the place and the rule broken."""

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Finding:
    """A rule broken at `path:line`; `rule` is a cfn-lint id or one of ours (MSxxx)."""

    path: str
    line: int
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.rule} {self.message}"
