"""Acting as a service role, as AWS's services do: CodePipeline as a pipeline's role,
CodeBuild as a project's service role, EventBridge as a rule target's role. The sandbox
hands the service the role's credentials; with IAM enforced only when the role's trust
policy allows that service."""

import boto3

from mlops_seeds.errors import SeedsError
from mlops_seeds.sandbox import runtime
from mlops_seeds.sandbox.iam import acting


def act_as(service: str, role_arn: str, session_name: str) -> boto3.Session:
    """A session of `role_arn` held by `service`; SeedsError (AWS's words) when the
    service may not assume it."""
    try:
        return runtime.current().session_as(service, role_arn, session_name)
    except acting.AccessDenied as err:
        raise SeedsError(err.message) from err
