"""Custom resources (`Custom::*`, AWS::CloudFormation::CustomResource) in the sandbox.

moto would invoke the backing Lambda function in Docker and wait for its answer; the
sandbox has no Lambda runtime, so a custom resource fails at once with a reason saying so,
and the stack rolls back (see stacks.py). The seed check-in of GitHub, GitLab and Bitbucket
repositories says what to do instead.
"""

from mlops_seeds.sandbox.cloudformation.resource import FailingResource

SEED_CHECKIN = "Custom::SeedCheckin"


class CustomResourceUnsupported(Exception):
    """A custom resource cannot run in the sandbox."""


def reason(resource_type: str) -> str:
    """Why a custom resource of `resource_type` cannot be created in the sandbox."""
    if resource_type == SEED_CHECKIN:
        return (
            f"{SEED_CHECKIN} cannot run in the sandbox: it pushes the seed code to GitHub, "
            "GitLab or Bitbucket through a CodeConnections connection, which the offline "
            "sandbox cannot reach. Launch the project with SourceProvider=CodeCommit."
        )
    return (
        f"{resource_type} cannot run in the sandbox: custom resources are backed by Lambda "
        "functions, and the sandbox runs no Lambda functions."
    )


class CustomResource(FailingResource):
    """A Lambda- or SNS-backed custom resource: always fails to create."""

    TYPE = "AWS::CloudFormation::CustomResource"

    @classmethod
    def failure(cls, resource_type: str) -> Exception:
        """CustomResourceUnsupported, with the reason."""
        return CustomResourceUnsupported(reason(resource_type))
