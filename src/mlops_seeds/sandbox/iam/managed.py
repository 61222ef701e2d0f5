"""AWS-managed policies with their real documents, from the copy moto ships
(`moto/iam/aws_managed_policies.py`: one JSON object, keyed by policy name, each entry with
`Path`, `DefaultVersionId`, dates and the default version's `Document`).

An AWS-managed policy's ARN is `arn:aws:iam::aws:policy<Path><Name>`, e.g.
`arn:aws:iam::aws:policy/service-role/AmazonSageMakerServiceCatalogProductsLaunchRolePolicy`
(IAM User Guide, "AWS managed policies",
https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_managed-vs-inline.html#aws-managed-policies).
The copy is as recent as the pinned moto release, not AWS's current versions.
"""

import json
from functools import lru_cache
from typing import Any

from mlops_seeds.sandbox.iam.documents import Policy, parse_policy

_ARN_PREFIX = "arn:aws:iam::aws:policy"


class UnknownManagedPolicy(KeyError):
    """No AWS-managed policy of that name or ARN in moto's copy."""


@lru_cache(maxsize=1)
def _catalogue() -> dict[str, dict[str, Any]]:
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    data: dict[str, dict[str, Any]] = json.loads(aws_managed_policies_data)
    return data


def _entry(name_or_arn: str) -> tuple[str, dict[str, Any]]:
    name = name_or_arn
    if name_or_arn.startswith("arn:"):
        name = name_or_arn.rsplit("/", 1)[-1]
    entry = _catalogue().get(name)
    if entry is None or (name_or_arn.startswith("arn:") and aws_managed_arn(name) != name_or_arn):
        raise UnknownManagedPolicy(name_or_arn)
    return name, entry


def aws_managed_names() -> list[str]:
    """The names of every AWS-managed policy in the copy, sorted."""
    return sorted(_catalogue())


def aws_managed_arn(name: str) -> str:
    """The ARN of the AWS-managed policy `name` (its path included)."""
    entry = _catalogue().get(name)
    if entry is None:
        raise UnknownManagedPolicy(name)
    return f"{_ARN_PREFIX}{entry.get('Path') or '/'}{name}"


def aws_managed_document(name_or_arn: str) -> dict[str, Any]:
    """The document (default version) of an AWS-managed policy, by name or ARN."""
    document: dict[str, Any] = json.loads(json.dumps(_entry(name_or_arn)[1]["Document"]))
    return document


def aws_managed_entry(name_or_arn: str) -> tuple[str, dict[str, Any]]:
    """The name and a copy of the whole entry (Path, DefaultVersionId, dates, Document)."""
    name, entry = _entry(name_or_arn)
    copied: dict[str, Any] = json.loads(json.dumps(entry))
    return name, copied


def aws_managed_version(name_or_arn: str) -> str:
    """The version id of the copy's document (e.g. "v12")."""
    return str(_entry(name_or_arn)[1].get("DefaultVersionId", ""))


def aws_managed_policy(name_or_arn: str) -> Policy:
    """The parsed AWS-managed policy, named by its ARN, by name or ARN (parsed once)."""
    return _parsed(_entry(name_or_arn)[0])


@lru_cache(maxsize=256)
def _parsed(name: str) -> Policy:
    return parse_policy(_catalogue()[name]["Document"], name=aws_managed_arn(name))
