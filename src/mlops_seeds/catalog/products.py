"""The hub's products: found by name, created or updated, one provisioning artifact per
content hash, old ones deprecated past `keep_active`, associated with the portfolio and
launched through the launch role (a LAUNCH constraint by local role name)."""

import json
from typing import Any

from mlops_seeds.catalog.actions import Action, Context, missing_tags, pages, tag_dict, tag_list
from mlops_seeds.catalog.artifacts import ProductBuild
from mlops_seeds.catalog.manifest import Manifest, Product
from mlops_seeds.catalog.portfolio import wanted_tags
from mlops_seeds.catalog.storage import bucket_url
from mlops_seeds.errors import SeedsError

TEMPLATE_TYPE = "CLOUD_FORMATION_TEMPLATE"
DEPRECATED = "DEPRECATED"
DEFAULT = "DEFAULT"


def _fields(product: Product) -> dict[str, str]:
    """The product attributes as CreateProduct/UpdateProduct take them."""
    fields = {
        "Name": product.name,
        "Owner": product.owner,
        "Description": product.description,
        "Distributor": product.distributor,
        "SupportDescription": product.support.description,
    }
    if product.support.email:
        fields["SupportEmail"] = product.support.email
    if product.support.url:
        fields["SupportUrl"] = product.support.url
    return fields


def _summary_fields(summary: dict[str, Any]) -> dict[str, str]:
    return {
        "Name": summary.get("Name", ""),
        "Owner": summary.get("Owner", ""),
        "Description": summary.get("ShortDescription", ""),
        "Distributor": summary.get("Distributor", ""),
        "SupportDescription": summary.get("SupportDescription", ""),
        "SupportEmail": summary.get("SupportEmail", ""),
        "SupportUrl": summary.get("SupportUrl", ""),
    }


def _artifact_parameters(ctx: Context, bucket: str, build: ProductBuild) -> dict[str, Any]:
    return {
        "Name": build.artifact_name,
        "Description": f"sha256:{build.digest}",
        "Info": {"LoadTemplateFromURL": bucket_url(ctx, bucket, build.template.key)},
        "Type": TEMPLATE_TYPE,
    }


def find_products(ctx: Context, manifest: Manifest, portfolio_known: bool) -> dict[str, str]:
    """Manifest key -> product id of the products that exist, found by name among the
    portfolio's products, then among all the hub's products."""
    sc = ctx.client("servicecatalog")
    by_name: dict[str, list[str]] = {}
    if portfolio_known:
        for view in pages(
            sc.search_products_as_admin, "ProductViewDetails", PortfolioId=ctx.require_portfolio()
        ):
            summary = view["ProductViewSummary"]
            by_name.setdefault(summary["Name"], []).append(summary["ProductId"])
    found = {}
    for product in manifest.products:
        ids = by_name.get(product.name)
        if not ids:
            ids = [
                v["ProductViewSummary"]["ProductId"]
                for v in pages(
                    sc.search_products_as_admin,
                    "ProductViewDetails",
                    Filters={"FullTextSearch": [product.name]},
                    ProductSource="ACCOUNT",  # not products imported from another hub
                )
                if v["ProductViewSummary"]["Name"] == product.name
            ]
        if len(set(ids)) > 1:
            raise SeedsError(
                f"{len(set(ids))} products named {product.name!r} in the hub "
                f"({', '.join(sorted(set(ids)))}): keep one"
            )
        if ids:
            found[product.key] = ids[0]
    return found


def product_actions(
    ctx: Context,
    manifest: Manifest,
    bucket: str,
    builds: dict[str, ProductBuild],
    portfolio_known: bool,
) -> list[Action]:
    """Everything each product needs in the hub, in dependency order."""
    existing = find_products(ctx, manifest, portfolio_known)
    ctx.product_ids.update(existing)
    actions: list[Action] = []
    for product in manifest.products:
        build = builds[product.key]
        if product.key in existing:
            actions += _existing_product(ctx, manifest, bucket, build, existing[product.key])
            associated = portfolio_known and _associated(ctx, existing[product.key])
        else:
            actions.append(
                Action(
                    "create",
                    ctx.hub_account,
                    f"product {product.key}",
                    f"{product.name!r}, artifact {build.artifact_name}",
                    _create(manifest, bucket, build),
                )
            )
            associated = False
        if not associated:
            actions.append(
                Action(
                    "associate",
                    ctx.hub_account,
                    f"product {product.key}",
                    "with the portfolio",
                    _associate(product.key),
                )
            )
        actions += _launch_constraint(ctx, manifest, product.key, associated)
    return actions


def _create(manifest: Manifest, bucket: str, build: ProductBuild) -> Any:
    def run(ctx: Context) -> None:
        response = ctx.client("servicecatalog").create_product(
            **_fields(build.product),
            ProductType=TEMPLATE_TYPE,
            Tags=tag_list(wanted_tags(manifest)),
            ProvisioningArtifactParameters=_artifact_parameters(ctx, bucket, build),
        )
        product_id = response["ProductViewDetail"]["ProductViewSummary"]["ProductId"]
        ctx.product_ids[build.product.key] = product_id

    return run


def _existing_product(
    ctx: Context, manifest: Manifest, bucket: str, build: ProductBuild, product_id: str
) -> list[Action]:
    sc = ctx.client("servicecatalog")
    key, hub = build.product.key, ctx.hub_account
    described = sc.describe_product_as_admin(Id=product_id)
    actions = []
    changes: dict[str, Any] = {
        k: v
        for k, v in _fields(build.product).items()
        if _summary_fields(described["ProductViewDetail"]["ProductViewSummary"]).get(k, "") != v
    }
    add = missing_tags(wanted_tags(manifest), tag_dict(described.get("Tags", [])))
    if add:
        changes["AddTags"] = tag_list(add)
    if changes:
        what = ", ".join(sorted(k.removeprefix("Add").lower() for k in changes))
        actions.append(Action("update", hub, f"product {key}", what, _update(key, changes)))
    artifacts = sc.list_provisioning_artifacts(ProductId=product_id)["ProvisioningArtifactDetails"]
    current = [a for a in artifacts if a["Name"].endswith(f"-{build.digest[:12]}")]
    if not current:
        actions.append(
            Action(
                "new-version",
                hub,
                f"product {key}",
                f"artifact {build.artifact_name}",
                _new_artifact(bucket, build),
            )
        )
    elif current[0].get("Guidance") == DEPRECATED:
        actions.append(
            Action(
                "reactivate",
                hub,
                f"product {key}",
                f"artifact {current[0]['Name']}",
                _guidance(key, current[0]["Id"], DEFAULT),
            )
        )
    current_ids = {a["Id"] for a in current[:1]}
    older = sorted(
        (a for a in artifacts if a["Id"] not in current_ids),
        key=lambda a: (a.get("CreatedTime") or 0, a["Id"]),
        reverse=True,
    )
    for artifact in older[manifest.keep_active - 1 :]:
        if artifact.get("Guidance") != DEPRECATED:
            actions.append(
                Action(
                    "deprecate",
                    hub,
                    f"product {key}",
                    f"artifact {artifact['Name']}",
                    _guidance(key, artifact["Id"], DEPRECATED),
                )
            )
    return actions


def _update(key: str, changes: dict[str, Any]) -> Any:
    def run(ctx: Context) -> None:
        ctx.client("servicecatalog").update_product(Id=ctx.require_product(key), **changes)

    return run


def _new_artifact(bucket: str, build: ProductBuild) -> Any:
    def run(ctx: Context) -> None:
        ctx.client("servicecatalog").create_provisioning_artifact(
            ProductId=ctx.require_product(build.product.key),
            Parameters=_artifact_parameters(ctx, bucket, build),
        )

    return run


def _guidance(key: str, artifact_id: str, guidance: str) -> Any:
    def run(ctx: Context) -> None:
        ctx.client("servicecatalog").update_provisioning_artifact(
            ProductId=ctx.require_product(key),
            ProvisioningArtifactId=artifact_id,
            Guidance=guidance,
        )

    return run


def _associated(ctx: Context, product_id: str) -> bool:
    sc = ctx.client("servicecatalog")
    return any(
        p["Id"] == ctx.portfolio_id
        for p in pages(sc.list_portfolios_for_product, "PortfolioDetails", ProductId=product_id)
    )


def _associate(key: str) -> Any:
    def run(ctx: Context) -> None:
        ctx.client("servicecatalog").associate_product_with_portfolio(
            ProductId=ctx.require_product(key), PortfolioId=ctx.require_portfolio()
        )

    return run


def _launch_constraint(
    ctx: Context, manifest: Manifest, key: str, associated: bool
) -> list[Action]:
    role = manifest.launch_role
    resource, hub = f"product {key}", ctx.hub_account
    if associated:
        sc = ctx.client("servicecatalog")
        launch = [
            c
            for c in pages(
                sc.list_constraints_for_portfolio,
                "ConstraintDetails",
                PortfolioId=ctx.require_portfolio(),
                ProductId=ctx.require_product(key),
            )
            if c["Type"] == "LAUNCH"
        ]
        if launch:
            described = sc.describe_constraint(Id=launch[0]["ConstraintId"])
            parameters = json.loads(described.get("ConstraintParameters") or "{}")
            if parameters.get("LocalRoleName") == role:
                return []
            return [
                Action(
                    "update",
                    hub,
                    resource,
                    f"launch role {role}",
                    _update_constraint(launch[0]["ConstraintId"], role),
                )
            ]
    return [Action("constrain", hub, resource, f"launch role {role}", _constrain(key, role))]


def _constrain(key: str, role: str) -> Any:
    def run(ctx: Context) -> None:
        ctx.client("servicecatalog").create_constraint(
            PortfolioId=ctx.require_portfolio(),
            ProductId=ctx.require_product(key),
            Type="LAUNCH",
            Parameters=json.dumps({"LocalRoleName": role}),
            Description=f"Launch as {role}",
        )

    return run


def _update_constraint(constraint_id: str, role: str) -> Any:
    def run(ctx: Context) -> None:
        ctx.client("servicecatalog").update_constraint(
            Id=constraint_id, Parameters=json.dumps({"LocalRoleName": role})
        )

    return run
