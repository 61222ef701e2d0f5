"""The hub's products: found by their key tag (by name once, for products published before
they were tagged), created or updated in place (a rename included), one provisioning
artifact per content hash, old ones deprecated past `keep_active`, associated with the
portfolio and launched through the launch role (a LAUNCH constraint by local role name);
products the manifest no longer has are retired when asked."""

import json
from dataclasses import dataclass, field
from typing import Any

from mlops_seeds.catalog.actions import Action, Context, missing_tags, pages, tag_dict, tag_list
from mlops_seeds.catalog.artifacts import ProductBuild
from mlops_seeds.catalog.manifest import Manifest, Product
from mlops_seeds.catalog.portfolio import VISIBILITY, wanted_tags
from mlops_seeds.catalog.storage import bucket_url
from mlops_seeds.errors import SeedsError

TEMPLATE_TYPE = "CLOUD_FORMATION_TEMPLATE"
DEPRECATED = "DEPRECATED"
DEFAULT = "DEFAULT"
RETIRE = "retire"
# Identifies a product across renames: its manifest key. Service Catalog tag keys and
# values are 1-128 and 1-256 of letters, digits, spaces and _.:/=+-@ (the Tag shape); a
# manifest key (lowercase letters, digits, hyphens) always fits.
KEY_TAG = "mlops-seeds:product-key"
MAX_CREATE_TAGS = 20  # CreateProduct's Tags: at most 20 items


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


@dataclass(frozen=True)
class Existing:
    """A product of the hub account: its id, its DescribeProductAsAdmin response, whether
    it is in the portfolio, and how it was found ("tag", or "name" for an untagged one)."""

    id: str
    described: dict[str, Any] = field(compare=False, repr=False)
    in_portfolio: bool
    found_by: str

    @property
    def name(self) -> str:
        """The product's display name."""
        return str(self.described["ProductViewDetail"]["ProductViewSummary"].get("Name", ""))

    @property
    def key(self) -> str | None:
        """The manifest key the product is tagged with (None when untagged)."""
        return key_of(self.described)


def product_tags(manifest: Manifest, key: str) -> dict[str, str]:
    """The tags of product `key`: the portfolio's, and the key that identifies it."""
    return {**wanted_tags(manifest), KEY_TAG: key}


def key_of(described: dict[str, Any]) -> str | None:
    """The KEY_TAG value in a DescribeProductAsAdmin response (None when absent)."""
    return tag_dict(described.get("Tags", [])).get(KEY_TAG)


def find_products(
    ctx: Context, manifest: Manifest, portfolio_known: bool
) -> tuple[dict[str, Existing], list[Existing]]:
    """The products that exist, by manifest key, and those to retire.

    A product is found by its KEY_TAG among the portfolio's products. A key not found
    there is looked up by name: among the portfolio's untagged products, else among the
    account's own products, where one tagged with the key (created by an interrupted
    publish) wins over an untagged one (published before products were tagged; the plan
    tags it). Products of the portfolio tagged with a key the manifest no longer has are
    returned to retire.
    """
    sc = ctx.client("servicecatalog")
    described: dict[str, dict[str, Any]] = {}

    def describe(product_id: str) -> dict[str, Any]:
        if product_id not in described:
            described[product_id] = sc.describe_product_as_admin(Id=product_id)
        return described[product_id]

    in_portfolio: list[str] = []
    if portfolio_known:
        for view in pages(
            sc.search_products_as_admin, "ProductViewDetails", PortfolioId=ctx.require_portfolio()
        ):
            product_id = view["ProductViewSummary"]["ProductId"]
            if product_id not in in_portfolio:
                in_portfolio.append(product_id)
    tagged: dict[str, list[str]] = {}
    untagged: list[str] = []
    for product_id in in_portfolio:
        key = key_of(describe(product_id))
        if key is None:
            untagged.append(product_id)
        else:
            tagged.setdefault(key, []).append(product_id)

    def existing(product_id: str, found_by: str) -> Existing:
        return Existing(product_id, describe(product_id), product_id in in_portfolio, found_by)

    found: dict[str, Existing] = {}
    claimed: set[str] = set()
    for product in manifest.products:
        ids = tagged.get(product.key, [])
        if len(ids) > 1:
            raise SeedsError(
                f"{len(ids)} products tagged {KEY_TAG}={product.key} in the portfolio "
                f"({', '.join(sorted(ids))}): keep one"
            )
        if ids:
            found[product.key] = existing(ids[0], "tag")
            continue
        match = _by_name(ctx, product.key, product.name, in_portfolio, untagged, claimed, describe)
        if match is not None:
            found[product.key] = existing(*match)
            claimed.add(match[0])
    wanted = {p.key for p in manifest.products}
    retire = [
        existing(product_id, "tag")
        for key, ids in sorted(tagged.items())
        if key not in wanted
        for product_id in ids
    ]
    return found, retire


def _by_name(
    ctx: Context,
    key: str,
    name: str,
    in_portfolio: list[str],
    untagged: list[str],
    claimed: set[str],
    describe: Any,
) -> tuple[str, str] | None:
    """(product id, "tag" or "name") of the product for `key` found by its name, or None."""
    sc = ctx.client("servicecatalog")

    def named(product_id: str) -> bool:
        summary = describe(product_id)["ProductViewDetail"]["ProductViewSummary"]
        return bool(summary.get("Name") == name)

    candidates = [i for i in untagged if i not in claimed and named(i)]
    if not candidates:
        outside = [
            v["ProductViewSummary"]["ProductId"]
            for v in pages(
                sc.search_products_as_admin,
                "ProductViewDetails",
                Filters={"FullTextSearch": [name]},
                ProductSource="ACCOUNT",  # not products imported from another hub
            )
            if v["ProductViewSummary"]["Name"] == name
            and v["ProductViewSummary"]["ProductId"] not in in_portfolio
        ]
        outside = list(dict.fromkeys(outside))
        keys = {i: key_of(describe(i)) for i in outside}
        same_key = [i for i in outside if keys[i] == key]
        if same_key:
            if len(same_key) > 1:
                raise SeedsError(
                    f"{len(same_key)} products tagged {KEY_TAG}={key} in the hub "
                    f"({', '.join(sorted(same_key))}): keep one"
                )
            return same_key[0], "tag"
        candidates = [i for i in outside if keys[i] is None and i not in claimed]
    if len(candidates) > 1:
        raise SeedsError(
            f"{len(candidates)} untagged products named {name!r} in the hub "
            f"({', '.join(sorted(candidates))}): keep one, or tag it {KEY_TAG}={key}"
        )
    return (candidates[0], "name") if candidates else None


def product_actions(
    ctx: Context,
    manifest: Manifest,
    bucket: str,
    builds: dict[str, ProductBuild],
    portfolio_known: bool,
) -> list[Action]:
    """Everything each product needs in the hub, in dependency order; then a "retire"
    action for each product of the portfolio the manifest no longer has (publish runs
    those only when asked)."""
    existing, retired = find_products(ctx, manifest, portfolio_known)
    ctx.product_ids.update({key: found.id for key, found in existing.items()})
    actions: list[Action] = []
    for product in manifest.products:
        build = builds[product.key]
        found = existing.get(product.key)
        if found is not None:
            actions += _existing_product(ctx, manifest, bucket, build, found)
            associated = portfolio_known and found.in_portfolio
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
    return actions + [_retire_action(ctx, found) for found in retired]


def _create(manifest: Manifest, bucket: str, build: ProductBuild) -> Any:
    key = build.product.key

    def run(ctx: Context) -> None:
        sc = ctx.client("servicecatalog")
        # The key tag first, so that the product is found by it from its first moment;
        # CreateProduct takes at most 20 tags, UpdateProduct adds the rest.
        tags = product_tags(manifest, key)
        first = [KEY_TAG, *VISIBILITY]
        ordered = tag_list({k: tags[k] for k in first}) + tag_list(
            {k: v for k, v in tags.items() if k not in first}
        )
        response = sc.create_product(
            **_fields(build.product),
            ProductType=TEMPLATE_TYPE,
            Tags=ordered[:MAX_CREATE_TAGS],
            ProvisioningArtifactParameters=_artifact_parameters(ctx, bucket, build),
        )
        product_id = response["ProductViewDetail"]["ProductViewSummary"]["ProductId"]
        ctx.product_ids[key] = product_id
        if ordered[MAX_CREATE_TAGS:]:
            sc.update_product(Id=product_id, AddTags=ordered[MAX_CREATE_TAGS:])

    return run


def _existing_product(
    ctx: Context, manifest: Manifest, bucket: str, build: ProductBuild, found: Existing
) -> list[Action]:
    sc = ctx.client("servicecatalog")
    key, hub = build.product.key, ctx.hub_account
    summary = _summary_fields(found.described["ProductViewDetail"]["ProductViewSummary"])
    actions = []
    changes: dict[str, Any] = {
        k: v for k, v in _fields(build.product).items() if summary.get(k, "") != v
    }
    add = missing_tags(product_tags(manifest, key), tag_dict(found.described.get("Tags", [])))
    if add:
        changes["AddTags"] = tag_list(add)
    if changes:
        what = ", ".join(sorted(k.removeprefix("Add").lower() for k in changes))
        if "Name" in changes:
            what += f" ({summary['Name']!r} -> {changes['Name']!r})"
        if found.found_by == "name":
            what += f" (untagged product {found.id} found by name: tag it {KEY_TAG}={key})"
        actions.append(Action("update", hub, f"product {key}", what, _update(key, changes)))
    artifacts = sc.list_provisioning_artifacts(ProductId=found.id)["ProvisioningArtifactDetails"]
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
    elif current[0].get("Guidance") == DEPRECATED or current[0].get("Active") is False:
        actions.append(
            Action(
                "reactivate",
                hub,
                f"product {key}",
                f"artifact {current[0]['Name']}",
                _guidance(key, current[0]["Id"], DEFAULT, active=True),
            )
        )
    current_ids = {a["Id"] for a in current[:1]}
    older = sorted(
        (a for a in artifacts if a["Id"] not in current_ids),
        key=lambda a: (a.get("CreatedTime") or 0, a["Id"]),
        reverse=True,
    )
    for artifact in older[manifest.keep_active - 1 :]:
        if artifact.get("Guidance") != DEPRECATED and artifact.get("Active") is not False:
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


def _guidance(key: str, artifact_id: str, guidance: str, active: bool | None = None) -> Any:
    def run(ctx: Context) -> None:
        ctx.client("servicecatalog").update_provisioning_artifact(
            ProductId=ctx.require_product(key),
            ProvisioningArtifactId=artifact_id,
            Guidance=guidance,
            **({} if active is None else {"Active": active}),
        )

    return run


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


def _retire_action(ctx: Context, found: Existing) -> Action:
    """Retire a product the manifest no longer has: deactivate its active versions (no
    new launch or update from them; provisioned products keep running and can be
    terminated), delete its constraints in the portfolio, and take it out of the
    portfolio (so out of Studio and of every spoke). The product itself is kept, tagged,
    so that a project launched from it keeps its product, and re-adding its key to the
    manifest brings it back. Taking it out of the portfolio comes last: an interrupted
    retire leaves it in the portfolio, and the next plan retires it again."""
    sc = ctx.client("servicecatalog")
    portfolio_id = ctx.require_portfolio()
    artifacts = [
        a["Id"]
        for a in sc.list_provisioning_artifacts(ProductId=found.id)["ProvisioningArtifactDetails"]
        if a.get("Active") is not False
    ]
    constraints = [
        c["ConstraintId"]
        for c in pages(
            sc.list_constraints_for_portfolio,
            "ConstraintDetails",
            PortfolioId=portfolio_id,
            ProductId=found.id,
        )
    ]

    def run(ctx: Context) -> None:
        client = ctx.client("servicecatalog")
        for artifact_id in artifacts:
            client.update_provisioning_artifact(
                ProductId=found.id, ProvisioningArtifactId=artifact_id, Active=False
            )
        for constraint_id in constraints:
            client.delete_constraint(Id=constraint_id)
        client.disassociate_product_from_portfolio(ProductId=found.id, PortfolioId=portfolio_id)

    return Action(
        RETIRE,
        ctx.hub_account,
        f"product {found.key}",
        f"{found.name!r} ({found.id}) is not in the manifest: take it out of the portfolio, "
        "deactivate its versions (only with publish --retire)",
        run,
    )
