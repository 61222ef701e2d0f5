"""Validate cookiecutter answers before the model-build repo is rendered."""

import re
import sys

PROJECT_NAME = "{{ cookiecutter.project_name }}"
PROJECT_ID = "{{ cookiecutter.project_id }}"
AWS_REGION = "{{ cookiecutter.aws_region }}"
FRAMEWORK = "{{ cookiecutter.framework }}"
PROBLEM_TYPE = "{{ cookiecutter.problem_type }}"

NAME_RULE = r"^[a-zA-Z](-*[a-zA-Z0-9])*$"
ID_RULE = r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,19}$"
REGION_RULE = r"^[a-z]{2}(-[a-z]+)+-\d$"
FRAMEWORKS = ("xgboost", "sklearn")
PROBLEM_TYPES = ("regression", "classification")


def fail(message: str) -> None:
    """Print one clear line and stop the bake."""
    print(f"ERROR: {message}", file=sys.stderr)
    sys.exit(1)


def check() -> None:
    """Check every answer; stop at the first bad one."""
    if not (re.match(NAME_RULE, PROJECT_NAME) and 1 <= len(PROJECT_NAME) <= 32):
        fail(f"project_name {PROJECT_NAME!r} must match {NAME_RULE} and be 1-32 characters")
    if not (re.match(ID_RULE, PROJECT_ID) and 1 <= len(PROJECT_ID) <= 20):
        fail(f"project_id {PROJECT_ID!r} must match {ID_RULE} and be 1-20 characters")
    if not re.match(REGION_RULE, AWS_REGION):
        fail(f"aws_region {AWS_REGION!r} must look like us-east-1 ({REGION_RULE})")
    if FRAMEWORK not in FRAMEWORKS:
        fail(f"framework {FRAMEWORK!r} must be one of {', '.join(FRAMEWORKS)}")
    if PROBLEM_TYPE not in PROBLEM_TYPES:
        fail(f"problem_type {PROBLEM_TYPE!r} must be one of {', '.join(PROBLEM_TYPES)}")


check()
