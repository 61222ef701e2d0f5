"""Products and their provisioning artifacts (versions), as an administrator manages them."""

from typing import Any

from mlops_seeds.sandbox.catalog.context import (
    Caller,
    backends_in,
    find_product,
    local_product,
    product_by_id_or_name,
    visible_portfolio,
)
from mlops_seeds.sandbox.catalog.errors import InvalidParameters, ResourceInUse, ResourceNotFound
from mlops_seeds.sandbox.catalog.model import Artifact, new_id, state_of
from mlops_seeds.sandbox.catalog.paging import page, with_token
from mlops_seeds.sandbox.catalog.tags import check_tags
from mlops_seeds.sandbox.catalog.templates import parse_template, read_template, template_parameters
from mlops_seeds.sandbox.catalog.views import artifacts_of, product_view_detail, search

SUPPORTED_TYPE = "CLOUD_FORMATION_TEMPLATE"
GUIDANCE = ("DEFAULT", "DEPRECATED")
PRODUCT_SOURCES = ("ACCOUNT",)


def _new_artifact(parameters: dict[str, Any], field: str) -> Artifact:
    """An artifact from ProvisioningArtifactParameters, its template read from S3."""
    artifact_type = parameters.get("Type") or SUPPORTED_TYPE
    if artifact_type != SUPPORTED_TYPE:
        raise InvalidParameters(
            f"{field}.Type {artifact_type}: the sandbox supports {SUPPORTED_TYPE}"
        )
    info = parameters.get("Info") or {}
    url = info.get("LoadTemplateFromURL")
    if not url:
        raise InvalidParameters(f"{field}.Info must contain LoadTemplateFromURL")
    body = read_template(str(url))
    if not parameters.get("DisableTemplateValidation"):
        parse_template(body, str(url))
    return Artifact(
        id=new_id("pa"),
        name=str(parameters.get("Name") or ""),
        description=str(parameters.get("Description") or ""),
        type=artifact_type,
        template_url=str(url),
        template_body=body,
    )


def _check_unique_name(artifacts: dict[str, Artifact], name: str, own_id: str = "") -> None:
    if name and any(a.name == name and a.id != own_id for a in artifacts.values()):
        raise InvalidParameters(f"Provisioning artifact name {name} already exists in the product")


def _exists(caller: Caller, product_id: str) -> bool:
    return any(product_id in backend.products for backend in backends_in(caller.region))


def _artifact(owner: Any, product: Any, params: dict[str, Any]) -> Artifact:
    artifacts = artifacts_of(owner, product.id)
    artifact_id = params.get("ProvisioningArtifactId")
    name = params.get("ProvisioningArtifactName")
    if not artifact_id and not name:
        raise InvalidParameters(
            "Either ProvisioningArtifactId or ProvisioningArtifactName must be specified."
        )
    for artifact in artifacts.values():
        if artifact.id == artifact_id or (not artifact_id and artifact.name == name):
            return artifact
    raise ResourceNotFound(
        f"Provisioning artifact {artifact_id or name} not found in product {product.id}."
    )


def _result(artifact: Artifact) -> dict[str, Any]:
    return {
        "ProvisioningArtifactDetail": artifact.detail(),
        "Info": {"TemplateUrl": artifact.template_url},
        "Status": "AVAILABLE",
    }


def create_product(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """CreateProduct: the product and its initial provisioning artifact."""
    backend, state = caller.backend, caller.state
    token = params.get("IdempotencyToken")
    if token and state.tokens.get(token) in backend.products:
        product = backend.products[state.tokens[token]]
        first = next(iter(artifacts_of(backend, product.id).values()))
        return {
            "ProductViewDetail": product_view_detail(product),
            "ProvisioningArtifactDetail": first.detail(),
            "Tags": product.tags,
        }
    product_type = params.get("ProductType")
    if product_type != SUPPORTED_TYPE:
        raise InvalidParameters(
            f"ProductType {product_type}: the sandbox supports {SUPPORTED_TYPE}"
        )
    if not params.get("ProvisioningArtifactParameters"):
        raise InvalidParameters("ProvisioningArtifactParameters is required")
    tags = check_tags(params.get("Tags") or [], "Tags")
    artifact = _new_artifact(
        params["ProvisioningArtifactParameters"], "ProvisioningArtifactParameters"
    )
    product = backend.create_product(
        name=params.get("Name"),
        owner=params.get("Owner"),
        description=params.get("Description"),
        distributor=params.get("Distributor"),
        support_description=params.get("SupportDescription"),
        support_email=params.get("SupportEmail"),
        support_url=params.get("SupportUrl"),
        product_type=product_type,
        tags=[{"Key": key, "Value": value} for key, value in tags.items()],
        provisioning_artifact_parameters=params["ProvisioningArtifactParameters"],
        idempotency_token=None,
        source_connection=params.get("SourceConnection"),
        accept_language=params.get("AcceptLanguage"),
    )
    artifacts_of(backend, product.id)[artifact.id] = artifact
    if token:
        state.tokens[token] = product.id
    return {
        "ProductViewDetail": product_view_detail(product),
        "ProvisioningArtifactDetail": artifact.detail(),
        "Tags": product.tags,
    }


def delete_product(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """DeleteProduct: refused while the product is in a portfolio."""
    product = local_product(caller, params["Id"])
    state = caller.state
    if any(product.id in ids for ids in state.portfolio_products.values()):
        raise ResourceInUse(f"Product {product.id} is associated with a portfolio.")
    state.artifacts.pop(product.id, None)
    caller.backend.tagger.delete_all_tags_for_resource(product.arn)
    del caller.backend.products[product.id]
    return {}


def describe_product_as_admin(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """DescribeProductAsAdmin: the product, its artifact summaries and tags."""
    owner, product = product_by_id_or_name(caller, params)
    if params.get("SourcePortfolioId"):
        visible_portfolio(caller, params["SourcePortfolioId"])
    return {
        "ProductViewDetail": product_view_detail(product),
        "ProvisioningArtifactSummaries": [
            a.summary() for a in artifacts_of(owner, product.id).values()
        ],
        "Tags": owner._list_tags_for_resource(product.arn),
        "TagOptions": [],
        "Budgets": [],
    }


def search_products_as_admin(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """SearchProductsAsAdmin: the account's products, or those of one portfolio. The
    Filters keys are FullTextSearch, Owner, ProductType and SourceProductId (the API has no
    tag filter: tags are read with DescribeProductAsAdmin); ProductSource is ACCOUNT."""
    source = params.get("ProductSource")
    if source is not None and source not in PRODUCT_SOURCES:
        raise InvalidParameters(f"ProductSource must be one of {PRODUCT_SOURCES}")
    portfolio_id = params.get("PortfolioId")
    if portfolio_id:
        owner, _ = visible_portfolio(caller, portfolio_id)
        ids = state_of(owner).portfolio_products.get(portfolio_id, [])
        candidates = [find_product(caller.region, i) for i in ids if _exists(caller, i)]
    else:
        candidates = [(caller.backend, p) for p in caller.backend.products.values()]
    found, token = page(search(candidates, params), params)
    return with_token({"ProductViewDetails": [product_view_detail(p) for _, p in found]}, token)


def create_provisioning_artifact(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """CreateProvisioningArtifact: a new version of one of the account's products."""
    product = local_product(caller, params["ProductId"])
    artifacts = artifacts_of(caller.backend, product.id)
    token = params.get("IdempotencyToken")
    if token and caller.state.tokens.get(token) in artifacts:
        return _result(artifacts[caller.state.tokens[token]])
    artifact = _new_artifact(params.get("Parameters") or {}, "Parameters")
    _check_unique_name(artifacts, artifact.name)
    artifacts[artifact.id] = artifact
    if token:
        caller.state.tokens[token] = artifact.id
    return _result(artifact)


def list_provisioning_artifacts(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """ListProvisioningArtifacts: every artifact of a product (no pagination, as in AWS)."""
    owner, product = product_by_id_or_name(caller, params, id_key="ProductId")
    details = [a.detail() for a in artifacts_of(owner, product.id).values()]
    return {"ProvisioningArtifactDetails": details}


def describe_provisioning_artifact(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """DescribeProvisioningArtifact: Verbose adds Info.TemplateUrl."""
    owner, product = product_by_id_or_name(caller, params, id_key="ProductId")
    artifact = _artifact(owner, product, params)
    result: dict[str, Any] = {
        "ProvisioningArtifactDetail": artifact.detail(),
        "Info": {"TemplateUrl": artifact.template_url} if params.get("Verbose") else {},
        "Status": "AVAILABLE",
    }
    if params.get("IncludeProvisioningArtifactParameters"):
        document = parse_template(artifact.template_body, artifact.template_url)
        result["ProvisioningArtifactParameters"] = template_parameters(document)
    return result


def update_provisioning_artifact(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """UpdateProvisioningArtifact: Name, Description, Active, Guidance."""
    product = local_product(caller, params["ProductId"])
    artifact = _artifact(caller.backend, product, params)
    guidance = params.get("Guidance")
    if guidance is not None and guidance not in GUIDANCE:
        raise InvalidParameters(f"Guidance must be one of {GUIDANCE}")
    if params.get("Name"):
        _check_unique_name(artifacts_of(caller.backend, product.id), params["Name"], artifact.id)
        artifact.name = params["Name"]
    if params.get("Description") is not None:
        artifact.description = params["Description"]
    if params.get("Active") is not None:
        artifact.active = bool(params["Active"])
    if guidance is not None:
        artifact.guidance = guidance
    return _result(artifact)


def delete_provisioning_artifact(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """DeleteProvisioningArtifact: never the last one, nor one a provisioned product uses."""
    product = local_product(caller, params["ProductId"])
    artifacts = artifacts_of(caller.backend, product.id)
    artifact = _artifact(caller.backend, product, params)
    if len(artifacts) == 1:
        raise InvalidParameters(f"Cannot delete the last provisioning artifact of {product.id}.")
    for backend in backends_in(caller.region):
        if any(pp.artifact_id == artifact.id for pp in state_of(backend).provisioned.values()):
            raise ResourceInUse(f"Provisioning artifact {artifact.id} is in use.")
    del artifacts[artifact.id]
    return {}


OPERATIONS = {
    "CreateProduct": create_product,
    "DeleteProduct": delete_product,
    "DescribeProductAsAdmin": describe_product_as_admin,
    "SearchProductsAsAdmin": search_products_as_admin,
    "CreateProvisioningArtifact": create_provisioning_artifact,
    "ListProvisioningArtifacts": list_provisioning_artifacts,
    "DescribeProvisioningArtifact": describe_provisioning_artifact,
    "UpdateProvisioningArtifact": update_provisioning_artifact,
    "DeleteProvisioningArtifact": delete_provisioning_artifact,
}
