"""The sandbox's IAM policy evaluator: parse policy documents, build a request and the
identity that signed it, and get AWS's decision and its AccessDenied message.

    decision = evaluate(
        Request("sagemaker:InvokeEndpoint", (Resource(endpoint_arn),)),
        Identity(session_arn, policies=(parse_policy(document),)),
    )
    if decision.denied:
        raise AccessDenied(decision.message())

Wired into the request gate by auth.authorize; services acting as roles are checked
through `acting`. SCPs, RCPs, VPC endpoint policies and ACLs are not
evaluated (see `evaluation`).
"""

from mlops_seeds.sandbox.iam.conditions import Condition
from mlops_seeds.sandbox.iam.context import Context
from mlops_seeds.sandbox.iam.documents import Effect, Policy, Statement, parse_policy
from mlops_seeds.sandbox.iam.errors import PolicyError
from mlops_seeds.sandbox.iam.evaluation import Decision, PolicyType, Request, Resource, evaluate
from mlops_seeds.sandbox.iam.managed import (
    UnknownManagedPolicy,
    aws_managed_arn,
    aws_managed_document,
    aws_managed_policy,
)
from mlops_seeds.sandbox.iam.principals import Identity, Kind

__all__ = [
    "Condition",
    "Context",
    "Decision",
    "Effect",
    "Identity",
    "Kind",
    "Policy",
    "PolicyError",
    "PolicyType",
    "Request",
    "Resource",
    "Statement",
    "UnknownManagedPolicy",
    "aws_managed_arn",
    "aws_managed_document",
    "aws_managed_policy",
    "evaluate",
    "parse_policy",
]
