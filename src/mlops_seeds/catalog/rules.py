"""Format rules of the AWS identifiers a catalog manifest holds.

Each check returns the value or raises ValueError with the rule in words, so that the
manifest loader can report `field.path: rule`.
"""

import re
from ipaddress import ip_address

ACCOUNT_ID = re.compile(r"^\d{12}$")
OU_ID = re.compile(r"^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$")
ORG_ID = re.compile(r"^o-[a-z0-9]{10,32}$")
ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")
ROLE_PATH_AND_NAME = re.compile(r"^(?:[\w+=,.@-]+/)*[\w+=,.@-]{1,64}$")
PATTERN_PATH_AND_NAME = re.compile(r"^(?:[\w+=,.@*?-]+/)*[\w+=,.@*?-]{1,64}$")
ROLE_ARN = re.compile(r"^arn:(aws[a-z-]*):iam::(\d{12}):role/(.+)$")
PATTERN_ARN = re.compile(r"^arn:(aws[a-z-]*):iam:::role/(.+)$")
DOMAIN_ID = re.compile(r"^d-[a-z0-9]{12}$")
BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
KEY_NAME = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,39}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
URL = re.compile(r"^https?://[^\s/]+\S*$")

# Placeholders a bucket name may hold, with the longest value each can take.
BUCKET_PLACEHOLDERS = {"{account_id}": "123456789012", "{region}": "ap-southeast-4"}
RESERVED_TAG_PREFIXES = ("aws:", "sagemaker:", "mlops-seeds:")  # AWS's, Studio's, ours
S3_SAFE_SEGMENT = re.compile(r"^[A-Za-z0-9!_.*'()-]+$")
S3_PREFIX_MAX = 512  # leaves room in S3's 1024-byte keys for what publish adds
TAG_KEY = re.compile(r"^[\w.:/=+@ -]{1,128}$")


def account_id(value: str) -> str:
    """A 12-digit AWS account id."""
    if not ACCOUNT_ID.match(value):
        raise ValueError(f"{value!r} is not an AWS account id (12 digits)")
    return value


def organization_node(value: str) -> str:
    """An organization id (o-...) or organizational unit id (ou-...)."""
    if not (ORG_ID.match(value) or OU_ID.match(value)):
        raise ValueError(
            f"{value!r} is neither an organization id (o- and 10-32 lowercase letters or "
            "digits) nor an OU id (ou-xxxx-xxxxxxxx)"
        )
    return value


def organization_node_type(value: str) -> str:
    """The Service Catalog OrganizationNode type of an organization or OU id."""
    return "ORGANIZATIONAL_UNIT" if value.startswith("ou-") else "ORGANIZATION"


def role_name(value: str) -> str:
    """An IAM role name (no path): 1-64 of letters, digits and +=,.@_-."""
    if not ROLE_NAME.match(value):
        raise ValueError(f"{value!r} is not an IAM role name (1-64 of letters, digits, +=,.@_-)")
    return value


def principal(value: str) -> str:
    """An IAM role ARN with an account id, or an IAM_PATTERN ARN without one."""
    exact = ROLE_ARN.match(value)
    if exact:
        if not ROLE_PATH_AND_NAME.match(exact.group(3)):
            raise ValueError(
                f"{value!r}: a role ARN with an account id takes no wildcard "
                "(use arn:aws:iam:::role/... for a pattern)"
            )
        return value
    pattern = PATTERN_ARN.match(value)
    if pattern and PATTERN_PATH_AND_NAME.match(pattern.group(2)):
        return value
    raise ValueError(
        f"{value!r} is neither a role ARN (arn:aws:iam::<12 digits>:role/NAME) nor an "
        "IAM_PATTERN (arn:aws:iam:::role/NAME-WITH-*)"
    )


def is_pattern(value: str) -> bool:
    """True for an IAM_PATTERN principal (an ARN without account id)."""
    return PATTERN_ARN.match(value) is not None


def principal_account(value: str) -> str | None:
    """The account of a role ARN; None for a pattern."""
    exact = ROLE_ARN.match(value)
    return exact.group(2) if exact else None


def domain_id(value: str) -> str:
    """A SageMaker domain id: d- and 12 lowercase letters or digits."""
    if not DOMAIN_ID.match(value):
        raise ValueError(f"{value!r} is not a SageMaker domain id (d- and 12 letters/digits)")
    return value


def bucket_name(value: str) -> str:
    """An S3 bucket name, which may hold {account_id} and {region}; checked with their
    longest values."""
    longest = value
    for placeholder, example in BUCKET_PLACEHOLDERS.items():
        longest = longest.replace(placeholder, example)
    if "{" in longest or "}" in longest:
        raise ValueError(
            f"{value!r}: unknown placeholder (allowed: {', '.join(BUCKET_PLACEHOLDERS)})"
        )
    if not BUCKET.match(longest):
        raise ValueError(
            f"{value!r} is not an S3 bucket name (3-63 lowercase letters, digits, dots, "
            "hyphens; starts and ends with a letter or digit; placeholders at their longest)"
        )
    if ".." in longest or _looks_like_ip(longest) or longest.startswith("xn--"):
        raise ValueError(f"{value!r} is not an S3 bucket name (no '..', IP form or xn-- prefix)")
    return value


def _looks_like_ip(value: str) -> bool:
    try:
        ip_address(value)
    except ValueError:
        return False
    return True


def s3_prefix(value: str) -> str:
    """A key prefix: empty, or segments of S3's safe characters (letters, digits and
    !-_.*'()) each followed by '/'; no leading '/', no empty, '.' or '..' segment."""
    if not value:
        return value
    if len(value) > S3_PREFIX_MAX:
        raise ValueError(f"{value!r}: a prefix is at most {S3_PREFIX_MAX} characters")
    if value.startswith("/") or not value.endswith("/"):
        raise ValueError(f"{value!r}: a prefix is empty or ends with '/' (no leading '/')")
    for segment in value[:-1].split("/"):
        if segment in {"", ".", ".."}:
            raise ValueError(f"{value!r}: a prefix has no empty, '.' or '..' segment")
        if not S3_SAFE_SEGMENT.match(segment):
            raise ValueError(
                f"{value!r}: a prefix holds only letters, digits, !-_.*'() and '/' "
                "(S3's safe characters)"
            )
    return value


def product_key(value: str) -> str:
    """The manifest's key of a product: lowercase letters, digits, hyphens (1-40)."""
    if not KEY_NAME.match(value):
        raise ValueError(
            f"{value!r}: a key is 1-40 lowercase letters, digits and hyphens, starting "
            "with a letter"
        )
    return value


def version(value: str) -> str:
    """A product version label: 1-40 of letters, digits and ._+-."""
    if not VERSION.match(value):
        raise ValueError(f"{value!r}: a version is 1-40 of letters, digits and ._+-")
    return value


def email(value: str) -> str:
    """An e-mail address (one @, a dot in the domain)."""
    if not EMAIL.match(value):
        raise ValueError(f"{value!r} is not an e-mail address")
    return value


def url(value: str) -> str:
    """An http(s) URL."""
    if not URL.match(value):
        raise ValueError(f"{value!r} is not an http(s) URL")
    return value


def tag_key(value: str) -> str:
    """A user tag key: 1-128 characters, not in the aws: or sagemaker: namespace."""
    if not TAG_KEY.match(value):
        raise ValueError(f"{value!r}: a tag key is 1-128 of letters, digits, spaces and _.:/=+-@")
    if value.lower().startswith(RESERVED_TAG_PREFIXES):
        raise ValueError(
            f"{value!r}: tag keys starting with {', '.join(RESERVED_TAG_PREFIXES)} are reserved"
        )
    return value
