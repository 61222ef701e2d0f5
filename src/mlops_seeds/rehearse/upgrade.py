"""The upgrade scenario's second act: the platform team changes a seed and a product
template in its seeds repository and publishes version 2; the project is upgraded to the
new provisioning artifact and each of its repositories behind its seed is offered the
seed's update on a pushed branch (`mlops-seeds projects upgrade --offer-seed-updates`),
which the scientist merges; the merge's build runs on both changes.

The rehearsal works on a copy of the seeds repository (a git repository of its own), so the
platform team's change never touches the checkout it runs from.
"""

import shutil
from pathlib import Path

import boto3

from mlops_seeds import aws, seed_update
from mlops_seeds import projects as launched
from mlops_seeds.errors import SeedsError
from mlops_seeds.rehearse import git

# What a seeds repository holds for publish and rendering.
SEEDS_PARTS = ("seed_code", "buildspecs", "templates", "service_catalog")
PLATFORM = git.Identity("Rehearsal Platform Team", "platform@example.com")
SEED_PIPELINE = Path("seed_code/model-build/{{cookiecutter.__repo_name}}/pipelines/pipeline.py")
PIPELINE_FIRST_LINE = (
    '"""The model-build SageMaker Pipeline: preprocess, baseline, train, evaluate, check, '
    "register.\n"
)
PLATFORM_NOTE = (
    "\nSeed version 2 (the platform team): the retraining cadence is the prod stack's\n"
    "MonitoringSchedule; see the deploy repository.\n"
)
NOTIFICATIONS = Path("templates/parts/notifications.yaml")
PENDING_RULE = "waiting for approval is notified."
PENDING_RULE_V2 = "waiting for approval is notified (seed version 2)."


def copy_seeds(root: Path, directory: Path) -> Path:
    """A git repository holding `root`'s seeds, buildspecs, templates and catalog, committed
    as version 1; its path."""
    copy = directory / "seeds-repository"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for part in SEEDS_PARTS:
        shutil.copytree(root / part, copy / part, ignore=ignore)
    git.git("init", "--quiet", "--initial-branch=main", str(copy))
    git.commit_all(copy, "Seeds version 1", PLATFORM)
    return copy


def change_seeds(seeds: Path) -> str:
    """The platform team's version 2: a note in the model-build seed's pipeline (its first
    lines) and a reworded rule description in the product template; committed. The
    commit id."""
    pipeline = seeds / SEED_PIPELINE
    text = pipeline.read_text()
    if not text.startswith(PIPELINE_FIRST_LINE):
        raise SeedsError(f"{pipeline}: its first line changed; the rehearsal edits after it")
    pipeline.write_text(PIPELINE_FIRST_LINE + PLATFORM_NOTE + text[len(PIPELINE_FIRST_LINE) :])
    template = seeds / NOTIFICATIONS
    rules = template.read_text()
    if PENDING_RULE not in rules:
        raise SeedsError(f"{template}: no {PENDING_RULE!r} description to reword")
    template.write_text(rules.replace(PENDING_RULE, PENDING_RULE_V2, 1))
    return git.commit_all(seeds, "Seeds version 2: a pipeline note, a rule's description", PLATFORM)


def admit_admin(session: boto3.Session) -> str:
    """The spoke's admin among the principals of the portfolios it imported (it reads the
    products' artifacts as an end user does); its role ARN."""
    arn = str(aws.client("sts", session).get_caller_identity()["Arn"])
    account, role = arn.split(":")[4], arn.split("/")[1]
    role_arn = f"arn:aws:iam::{account}:role/{role}"
    catalog = aws.client("servicecatalog", session)
    for portfolio in catalog.list_accepted_portfolio_shares()["PortfolioDetails"]:
        catalog.associate_principal_with_portfolio(
            PortfolioId=portfolio["Id"], PrincipalARN=role_arn, PrincipalType="IAM"
        )
    return role_arn


def plan_and_upgrade(session: boto3.Session, name: str) -> launched.Upgrade:
    """The project's plan to the newest artifact, then the upgrade (UpgradeFailed with the
    reason when the update rolled back)."""
    planned = launched.plan(session, name)
    launched.upgrade(session, planned)
    return planned


def offer_seed_updates(
    admin: boto3.Session, name: str, seeds: Path, workdir: Path
) -> seed_update.Offered:
    """What `projects upgrade --offer-seed-updates` does after the update: the project's
    repositories cloned (under `workdir`/platform) and each behind its seed offered the
    update on a pushed branch."""
    scratch = workdir / "platform"
    scratch.mkdir(parents=True, exist_ok=True)
    return launched.offer_seed_updates(admin, name, seeds, scratch)
