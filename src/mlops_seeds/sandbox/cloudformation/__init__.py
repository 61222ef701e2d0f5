"""Sandbox extension: CloudFormation resource types moto skips or misnames.

CodeBuild projects, CodePipelines, CodeCommit repositories (real bare git repositories
seeded from S3), SageMaker model package groups, models, endpoint configs and endpoints
(named as the template says), Application Auto Scaling targets and policies, S3 bucket
policies; custom resources fail fast; a stack whose resource fails rolls back. See
install.py and each type's module.
"""

from mlops_seeds.sandbox.cloudformation import gitrepo
from mlops_seeds.sandbox.cloudformation import install as _install


def install() -> None:
    """Patch moto for this extension (idempotent)."""
    _install.install()


def reset() -> None:
    """Forget this extension's state: the git repositories on disk (moto's reset follows)."""
    root = gitrepo.git_root()
    if root is not None:
        gitrepo.remove(root)
