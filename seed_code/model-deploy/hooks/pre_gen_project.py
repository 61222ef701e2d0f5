"""Validate cookiecutter answers before the model-deploy repo is rendered."""

import re
import sys

PROJECT_NAME = "{{ cookiecutter.project_name }}"
PROJECT_ID = "{{ cookiecutter.project_id }}"
AWS_REGION = "{{ cookiecutter.aws_region }}"
STAGING_INSTANCE_TYPE = "{{ cookiecutter.staging_instance_type }}"
PROD_INSTANCE_TYPE = "{{ cookiecutter.prod_instance_type }}"
PROD_INSTANCE_COUNT = "{{ cookiecutter.prod_instance_count }}"

NAME_RULE = r"^[a-zA-Z](-*[a-zA-Z0-9])*$"
ID_RULE = r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,19}$"
REGION_RULE = r"^[a-z]{2}(-[a-z]+)+-\d$"
INSTANCE_RULE = r"^ml\.[a-z0-9]+\.[a-z0-9]+$"


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
    for key, value in (
        ("staging_instance_type", STAGING_INSTANCE_TYPE),
        ("prod_instance_type", PROD_INSTANCE_TYPE),
    ):
        if not re.match(INSTANCE_RULE, value):
            fail(f"{key} {value!r} must be a SageMaker instance type like ml.m5.large")
    if not PROD_INSTANCE_COUNT.isdigit() or not 1 <= int(PROD_INSTANCE_COUNT) <= 100:
        fail(f"prod_instance_count {PROD_INSTANCE_COUNT!r} must be an integer from 1 to 100")


check()
