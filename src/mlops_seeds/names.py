"""Rules for SageMaker project names and ids, and the longest legal values of each."""

import re

from mlops_seeds.errors import SeedsError

PROJECT_NAME_MAX = 32
PROJECT_NAME_PATTERN = re.compile(r"[a-zA-Z](-*[a-zA-Z0-9])*")
PROJECT_ID_MAX = 20
PROJECT_ID_PATTERN = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9])*")

# The longest values Studio accepts; derived names are checked with these. The name has
# upper case on purpose: S3 bucket names derived from it would be illegal.
LONGEST_PROJECT_NAME = "Longest-Legal-Project-Name-12345"
LONGEST_PROJECT_ID = "p-" + "abcdefghijklmnopqr"


def check_project_name(name: str, field: str = "project_name") -> None:
    """Raise SeedsError unless `name` is a legal SageMaker project name."""
    if not 1 <= len(name) <= PROJECT_NAME_MAX or not PROJECT_NAME_PATTERN.fullmatch(name):
        raise SeedsError(
            f"{field} {name!r}: must be 1-{PROJECT_NAME_MAX} characters of letters, digits and "
            "hyphens, start with a letter and not end with a hyphen"
        )


def check_project_id(project_id: str, field: str = "project_id") -> None:
    """Raise SeedsError unless `project_id` is a legal SageMaker project id."""
    if not 1 <= len(project_id) <= PROJECT_ID_MAX or not PROJECT_ID_PATTERN.fullmatch(project_id):
        raise SeedsError(
            f"{field} {project_id!r}: must be 1-{PROJECT_ID_MAX} characters of letters, digits "
            "and hyphens, start with a letter or digit and not end with a hyphen"
        )


REGION_PATTERN = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]")


def check_region(region: str, field: str = "--region") -> None:
    """Raise SeedsError unless `region` is shaped like an AWS region (us-east-1)."""
    if not REGION_PATTERN.fullmatch(region):
        raise SeedsError(
            f"{field} {region!r}: must be an AWS region like us-east-1 (^{REGION_PATTERN.pattern}$)"
        )
