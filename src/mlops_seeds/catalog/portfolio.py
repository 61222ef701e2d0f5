"""The hub portfolio: the portfolio itself, its principals, its shares and the spokes'
imports of it (accept the share, associate the spoke's principals)."""

from typing import Any

from mlops_seeds.catalog import rules
from mlops_seeds.catalog.actions import Action, Context, missing_tags, pages, tag_dict, tag_list
from mlops_seeds.catalog.manifest import Manifest
from mlops_seeds.errors import SeedsError

VISIBILITY = {"sagemaker:studio-visibility": "true"}
# The organization node types a share may carry principals to (CreatePortfolioShare).
PRINCIPAL_SHARE_TYPES = ("ORGANIZATION", "ORGANIZATIONAL_UNIT")


def wanted_tags(manifest: Manifest) -> dict[str, str]:
    """The manifest's tags plus the one that makes Studio list a portfolio or product."""
    return {**manifest.tags, **VISIBILITY}


def find_portfolio(ctx: Context, manifest: Manifest) -> dict[str, Any] | None:
    """The hub portfolio with the manifest's display name (None when absent)."""
    name = manifest.portfolio.display_name
    sc = ctx.client("servicecatalog")
    found = [p for p in pages(sc.list_portfolios, "PortfolioDetails") if p["DisplayName"] == name]
    if len(found) > 1:
        ids = ", ".join(p["Id"] for p in found)
        raise SeedsError(f"{len(found)} portfolios named {name!r} in the hub ({ids}): keep one")
    return found[0] if found else None


def portfolio_actions(ctx: Context, manifest: Manifest) -> list[Action]:
    """Create the portfolio, or update its description, provider and tags."""
    spec = manifest.portfolio
    resource = f"portfolio {spec.display_name!r}"
    found = find_portfolio(ctx, manifest)
    if found is None:
        return [Action("create", ctx.hub_account, resource, "tagged for Studio", _create(manifest))]
    ctx.portfolio_id = found["Id"]
    described = ctx.client("servicecatalog").describe_portfolio(Id=found["Id"])
    changes: dict[str, Any] = {}
    detail = described["PortfolioDetail"]
    if detail.get("Description", "") != spec.description:
        changes["Description"] = spec.description
    if detail.get("ProviderName", "") != spec.provider:
        changes["ProviderName"] = spec.provider
    add = missing_tags(wanted_tags(manifest), tag_dict(described.get("Tags", [])))
    if add:
        changes["AddTags"] = tag_list(add)
    if not changes:
        return []
    what = ", ".join(sorted(k.removeprefix("Add").lower() for k in changes))
    return [Action("update", ctx.hub_account, resource, what, _update(changes))]


def _create(manifest: Manifest) -> Any:
    def run(ctx: Context) -> None:
        response = ctx.client("servicecatalog").create_portfolio(
            DisplayName=manifest.portfolio.display_name,
            Description=manifest.portfolio.description,
            ProviderName=manifest.portfolio.provider,
            Tags=tag_list(wanted_tags(manifest)),
        )
        ctx.portfolio_id = response["PortfolioDetail"]["Id"]

    return run


def _update(changes: dict[str, Any]) -> Any:
    def run(ctx: Context) -> None:
        ctx.client("servicecatalog").update_portfolio(Id=ctx.require_portfolio(), **changes)

    return run


def principals_by_account(ctx: Context, manifest: Manifest) -> dict[str, list[tuple[str, str]]]:
    """Account -> [(principal ARN, IAM | IAM_PATTERN)]: a role ARN in its own account, a
    pattern in the hub and in every spoke account."""
    spokes = manifest.spokes.accounts
    result: dict[str, list[tuple[str, str]]] = {a: [] for a in [ctx.hub_account, *spokes]}
    for index, arn in enumerate(manifest.principals):
        account = rules.principal_account(arn)
        if account is None:
            for principals in result.values():
                principals.append((arn, "IAM_PATTERN"))
        elif account in result:
            result[account].append((arn, "IAM"))
        else:
            raise SeedsError(
                f"principals[{index}]: account {account} is neither the hub "
                f"({ctx.hub_account}) nor a spoke in spokes.accounts"
            )
    return result


def principal_actions(
    ctx: Context, account: str, principals: list[tuple[str, str]], portfolio_known: bool
) -> list[Action]:
    """Associate the principals missing from the portfolio as seen from `account`."""
    present: set[str] = set()
    if portfolio_known:
        sc = ctx.client("servicecatalog", account)
        present = {
            p["PrincipalARN"]
            for p in pages(
                sc.list_principals_for_portfolio, "Principals", PortfolioId=ctx.require_portfolio()
            )
        }
    return [
        Action(
            "associate",
            account,
            f"principal {arn}",
            f"{kind} with the portfolio",
            _associate_principal(account, arn, kind),
        )
        for arn, kind in principals
        if arn not in present
    ]


def _associate_principal(account: str, arn: str, kind: str) -> Any:
    def run(ctx: Context) -> None:
        ctx.client("servicecatalog", account).associate_principal_with_portfolio(
            PortfolioId=ctx.require_portfolio(), PrincipalARN=arn, PrincipalType=kind
        )

    return run


def share_actions(ctx: Context, manifest: Manifest, portfolio_known: bool) -> list[Action]:
    """Share the portfolio with each spoke account and org node. Principals are shared with
    org nodes only: CreatePortfolioShare's SharePrincipals "is only supported for portfolios
    with an OrganizationalNode Type of ORGANIZATION or ORGANIZATIONAL_UNIT"; a spoke account
    associates its own principals (principal_actions)."""
    hub = ctx.hub_account
    targets = [("ACCOUNT", a) for a in manifest.spokes.accounts] + [
        (rules.organization_node_type(n), n) for n in manifest.spokes.organization_nodes
    ]
    existing: dict[str, dict[str, Any]] = {}
    if portfolio_known:
        sc = ctx.client("servicecatalog")
        for kind in sorted({k for k, _ in targets}):
            for share in pages(
                sc.describe_portfolio_shares,
                "PortfolioShareDetails",
                PortfolioId=ctx.require_portfolio(),
                Type=kind,
            ):
                existing[share["PrincipalId"]] = share
    actions = []
    for kind, target in targets:
        found = existing.get(target)
        if found is None:
            actions.append(
                Action(
                    "share",
                    hub,
                    f"portfolio with {target}",
                    f"{kind}, principals shared" if shares_principals(kind) else kind,
                    _share(kind, target, update=False),
                )
            )
        elif shares_principals(kind) and not found.get("SharePrincipals"):
            actions.append(
                Action(
                    "update",
                    hub,
                    f"share with {target}",
                    "share principals",
                    _share(kind, target, update=True),
                )
            )
    return actions


def shares_principals(kind: str) -> bool:
    """Whether a share of this type carries the portfolio's principals (SharePrincipals)."""
    return kind in PRINCIPAL_SHARE_TYPES


def _share(kind: str, target: str, update: bool) -> Any:
    def run(ctx: Context) -> None:
        sc = ctx.client("servicecatalog")
        where: dict[str, Any] = (
            {"AccountId": target}
            if kind == "ACCOUNT"
            else {"OrganizationNode": {"Type": kind, "Value": target}}
        )
        call = sc.update_portfolio_share if update else sc.create_portfolio_share
        if shares_principals(kind):
            where["SharePrincipals"] = True
        call(PortfolioId=ctx.require_portfolio(), **where)

    return run


def accept_actions(ctx: Context, account: str, portfolio_known: bool) -> tuple[list[Action], bool]:
    """Accept the hub's share in a spoke; and whether it is accepted already."""
    accepted = False
    if portfolio_known:
        sc = ctx.client("servicecatalog", account)
        accepted = any(
            p["Id"] == ctx.portfolio_id
            for p in pages(
                sc.list_accepted_portfolio_shares, "PortfolioDetails", PortfolioShareType="IMPORTED"
            )
        )
    if accepted:
        return [], True
    return [
        Action("accept", account, "portfolio share", "import the hub portfolio", _accept(account))
    ], False


def _accept(account: str) -> Any:
    def run(ctx: Context) -> None:
        ctx.client("servicecatalog", account).accept_portfolio_share(
            PortfolioId=ctx.require_portfolio(), PortfolioShareType="IMPORTED"
        )

    return run
