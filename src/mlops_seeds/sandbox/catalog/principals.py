"""Principal ARNs of portfolio associations, and matching them against a caller.

The sandbox's callers are identified by STS, whose identities carry no IAM path, so matching
ignores paths: an association matches when the type (role/user/group), the name (or, for
IAM_PATTERN, the `*`/`?` pattern of the name) and, for IAM, the account agree.
"""

import re
from fnmatch import fnmatchcase

from mlops_seeds.sandbox.catalog.errors import InvalidParameters
from mlops_seeds.sandbox.catalog.model import Principal

PRINCIPAL_TYPES = ("IAM", "IAM_PATTERN")
_IAM = re.compile(
    r"^arn:aws[a-z-]*:iam::(?P<account>\d{12}):(?P<kind>role|user|group)/(?P<path>.+)$"
)
_PATTERN = re.compile(r"^arn:aws[a-z-]*:iam:::(?P<kind>role|user|group)/(?P<path>.+)$")


def principal(arn: str, principal_type: str) -> Principal:
    """A checked principal; IAM needs an account id, IAM_PATTERN must leave it empty."""
    if principal_type not in PRINCIPAL_TYPES:
        raise InvalidParameters(f"PrincipalType must be one of {PRINCIPAL_TYPES}")
    if principal_type == "IAM" and not _IAM.match(arn):
        raise InvalidParameters(
            f"PrincipalARN {arn} is not an IAM ARN arn:aws:iam::<account>:role|user|group/<name>"
        )
    if principal_type == "IAM_PATTERN" and not _PATTERN.match(arn):
        raise InvalidParameters(
            f"PrincipalARN {arn}: an IAM_PATTERN has no account id: arn:aws:iam:::role/<pattern>"
        )
    return Principal(arn=arn, type=principal_type)


def matches(association: Principal, caller_arn: str) -> bool:
    """Whether a principal association admits the caller (an IAM ARN, see Caller.arn)."""
    caller = _IAM.match(caller_arn)
    if caller is None:
        return False
    name = caller["path"].split("/")[-1]
    if association.type == "IAM":
        own = _IAM.match(association.arn)
        return bool(
            own
            and own["account"] == caller["account"]
            and own["kind"] == caller["kind"]
            and own["path"].split("/")[-1] == name
        )
    pattern = _PATTERN.match(association.arn)
    return bool(
        pattern
        and pattern["kind"] == caller["kind"]
        and fnmatchcase(name, pattern["path"].split("/")[-1])
    )
