"""AWS's own rules for the resource names the tool turns into folders, checked before a
name becomes a path (see `mlops_seeds.containment` for the second line of defence).

Each rule is the member's length constraints and pattern from the service's API
reference; `violation` words a failure as the services word a failed member constraint.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class NameRule:
    """Length limits and pattern of one API member."""

    member: str
    pattern: str
    max_length: int
    min_length: int = 1

    def violation(self, value: object) -> str | None:
        """The failed constraint ("Member must ..."), or None when `value` is legal."""
        if not isinstance(value, str):
            return "Member must be a string"
        if len(value) < self.min_length:
            return f"Member must have length greater than or equal to {self.min_length}"
        if len(value) > self.max_length:
            return f"Member must have length less than or equal to {self.max_length}"
        if not re.fullmatch(self.pattern, value, flags=re.ASCII):  # AWS's \w is ASCII
            return f"Member must satisfy regular expression pattern: {self.pattern}"
        return None


# SageMaker API reference: CreatePipeline.PipelineName (1-256).
PIPELINE_NAME = NameRule("pipelineName", r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}", 256)
# SageMaker API reference: CreateEndpoint.EndpointName and ProductionVariant.VariantName
# (at most 63), CreateModel.ModelName (at most 63).
ENDPOINT_NAME = NameRule("endpointName", r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", 63)
VARIANT_NAME = NameRule("variantName", r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", 63)
MODEL_NAME = NameRule("modelName", r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", 63)
# SageMaker API reference: Channel.ChannelName (1-64).
CHANNEL_NAME = NameRule("channelName", r"[A-Za-z0-9\.\-_]+", 64)
# CodeCommit API reference: CreateRepository.repositoryName (1-100); the suffix .git is
# prohibited, and "." and ".." are refused by the service (they name no repository).
REPOSITORY_NAME = NameRule("repositoryName", r"[\w\.-]+", 100)
REPOSITORY_RESERVED = frozenset({".", ".."})
REPOSITORY_SUFFIX = ".git"


def repository_name_violation(name: object) -> str | None:
    """Why `name` is not a legal CodeCommit repository name (None when it is)."""
    problem = REPOSITORY_NAME.violation(name)
    if problem is None and name in REPOSITORY_RESERVED:
        return f"Member must not be {name!r}"
    if problem is None and str(name).endswith(REPOSITORY_SUFFIX):
        return f"Member must not end with {REPOSITORY_SUFFIX}"
    return problem
