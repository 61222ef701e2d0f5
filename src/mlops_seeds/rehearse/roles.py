"""Acting as a service role, as CodePipeline and CodeBuild do, from a person's credentials."""

from collections.abc import Callable

import boto3

from mlops_seeds import aws
from mlops_seeds.errors import SeedsError


def act_as(
    session: boto3.Session, role_arn: str, session_name: str, echo: Callable[[str], None]
) -> boto3.Session:
    """A session of the service role `role_arn`; the caller's own session when the role
    cannot be assumed (on AWS a service role trusts only its service), said through `echo`."""
    try:
        return aws.assume_role(session, role_arn, session_name)
    except SeedsError as err:
        echo(f"acting with the caller's credentials: {err}")
        return session
