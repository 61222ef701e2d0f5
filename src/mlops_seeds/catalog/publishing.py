"""plan (reads only) and publish (runs the plan's actions) for both routes."""

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from mlops_seeds import aws
from mlops_seeds.catalog import portfolio, products, storage
from mlops_seeds.catalog.actions import Action, Context
from mlops_seeds.catalog.artifacts import Artifacts, Blob, build
from mlops_seeds.catalog.calls import CallCounter
from mlops_seeds.catalog.manifest import Manifest
from mlops_seeds.errors import SeedsError

Progress = Callable[[int, int, Action], None]


class PublishFailed(Exception):
    """An AWS call failed part way; a rerun of publish converges."""


@dataclass
class Summary:
    """What a publish did, and what it cost."""

    actions: list[Action]
    done: int
    seconds: float
    calls: CallCounter = field(default_factory=CallCounter)
    left: list[Action] = field(default_factory=list)
    """Planned retire actions not run (publish without retire=True)."""

    @property
    def by_verb(self) -> Counter[str]:
        """Number of actions done per verb."""
        return Counter(a.verb for a in self.actions[: self.done])


def bucket_name(template: str, ctx: Context) -> str:
    """A manifest bucket name with {account_id} and {region} filled in."""
    return template.replace("{account_id}", ctx.hub_account).replace("{region}", ctx.region)


def connect(manifest: Manifest, counter: CallCounter | None = None) -> Context:
    """The hub context (default session) and a session in each spoke account."""
    hub = aws.make_session()
    if counter is not None:
        counter.watch(hub)
    identity = aws.client("sts", hub).get_caller_identity()
    ctx = Context(
        hub=hub,
        hub_account=str(identity["Account"]),
        region=aws.region_of(hub),
        partition=str(identity["Arn"]).split(":")[1],
    )
    return ctx


def _connect_spokes(ctx: Context, manifest: Manifest, counter: CallCounter | None) -> None:
    role = manifest.spokes.role_name
    for account in manifest.spokes.accounts:
        if account in ctx.spokes:
            continue
        arn = f"arn:{ctx.partition}:iam::{account}:role/{role}"
        session: boto3.Session = aws.assume_role(ctx.hub, arn)
        if counter is not None:
            counter.watch(session)
        ctx.spokes[account] = session


def compute(
    ctx: Context,
    root: Path,
    manifest: Manifest,
    route: str,
    counter: CallCounter | None = None,
) -> list[Action]:
    """The actions that bring the accounts to the manifest, from reads only."""
    principals = _check_against_accounts(ctx, manifest, route)
    seed_bucket = bucket_name(manifest.seed_bucket.name, ctx)
    artifacts = build(root, manifest, seed_bucket)
    route_bucket = bucket_name(manifest.s3_route.bucket, ctx) if manifest.s3_route else None
    actions, exists = storage.bucket_actions(
        ctx, seed_bucket, cors=route == "s3" and route_bucket == seed_bucket
    )
    spokes = manifest.spokes
    actions += storage.policy_actions(
        ctx, seed_bucket, exists, spokes.accounts, spokes.organization_nodes
    )
    actions += storage.upload_actions(ctx, seed_bucket, _seed_side_blobs(artifacts, route), exists)
    if route == "s3":
        return actions + _s3_route(ctx, manifest, artifacts, seed_bucket)
    return actions + _catalog_route(ctx, manifest, artifacts, seed_bucket, principals, counter)


def _check_against_accounts(
    ctx: Context, manifest: Manifest, route: str
) -> dict[str, list[tuple[str, str]]]:
    """What the manifest check could not know before the hub account: refuse it before any
    other call. Returns the principals to associate in each account."""
    if route == "s3" and manifest.s3_route is None:
        raise SeedsError("s3_route: the manifest has no s3_route section (needed by --route s3)")
    if ctx.hub_account in manifest.spokes.accounts:
        raise SeedsError(f"spokes.accounts: {ctx.hub_account} is the hub account itself")
    return portfolio.principals_by_account(ctx, manifest)


def _seed_side_blobs(artifacts: Artifacts, route: str) -> list[Blob]:
    """Seed zips and buildspecs always; the content-hash templates for Service Catalog."""
    templates = {b.template.key for b in artifacts.products.values()}
    return [b for b in artifacts.blobs if route == "servicecatalog" or b.key not in templates]


def _catalog_route(
    ctx: Context,
    manifest: Manifest,
    artifacts: Artifacts,
    bucket: str,
    principals: dict[str, list[tuple[str, str]]],
    counter: CallCounter | None,
) -> list[Action]:
    actions = portfolio.portfolio_actions(ctx, manifest)
    known = ctx.portfolio_id is not None
    actions += products.product_actions(ctx, manifest, bucket, artifacts.products, known)
    actions += portfolio.principal_actions(ctx, ctx.hub_account, principals[ctx.hub_account], known)
    actions += portfolio.share_actions(ctx, manifest, known)
    _connect_spokes(ctx, manifest, counter)
    for account in manifest.spokes.accounts:
        accept, accepted = portfolio.accept_actions(ctx, account, known)
        actions += accept
        actions += portfolio.principal_actions(ctx, account, principals[account], accepted)
    return actions


def _s3_route(
    ctx: Context, manifest: Manifest, artifacts: Artifacts, seed_bucket: str
) -> list[Action]:
    route = manifest.s3_route
    if route is None:
        raise SeedsError("s3_route: the manifest has no s3_route section (needed by --route s3)")
    route_bucket = bucket_name(route.bucket, ctx)
    actions: list[Action] = []
    exists = True
    if route_bucket != seed_bucket:
        bucket_setup, exists = storage.bucket_actions(ctx, route_bucket, cors=True)
        actions += bucket_setup
    prefix = route.prefix
    templates = {f"{prefix}{key}.yaml": b.template for key, b in artifacts.products.items()}
    actions += storage.route_template_actions(ctx, route_bucket, templates, exists)
    location = f"s3://{route_bucket}/{prefix}"
    return actions + storage.domain_actions(ctx, route.domain_ids, location)


def plan(root: Path, manifest: Manifest, route: str) -> list[Action]:
    """What publish would do now; no mutating call is made."""
    ctx = connect(manifest)
    return compute(ctx, root, manifest, route)


def publish(
    root: Path,
    manifest: Manifest,
    route: str,
    progress: Progress | None = None,
    retire: bool = False,
) -> Summary:
    """Apply the plan action by action; PublishFailed names the action that failed.

    Products of the portfolio the manifest no longer has are retired only with
    `retire=True` (`publish --retire`); otherwise their actions are returned in
    `Summary.left`."""
    started = time.perf_counter()
    counter = CallCounter()
    ctx = connect(manifest, counter)
    planned = compute(ctx, root, manifest, route, counter)
    actions = [a for a in planned if retire or a.verb != products.RETIRE]
    left = [a for a in planned if not retire and a.verb == products.RETIRE]
    summary = Summary(actions=actions, done=0, seconds=0.0, calls=counter, left=left)
    for number, action in enumerate(actions, 1):
        if progress is not None:
            progress(number, len(actions), action)
        try:
            action.run(ctx)
        except (ClientError, BotoCoreError) as err:
            raise PublishFailed(
                f"action {number}/{len(actions)} failed ({action}): {err}; "
                "publish again to converge"
            ) from err
        summary.done = number
    summary.seconds = time.perf_counter() - started
    return summary
