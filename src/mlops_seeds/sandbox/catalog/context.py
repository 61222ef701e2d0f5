"""Who calls, and what the caller can see: local resources, and portfolios shared to it.

Visibility follows AWS: a portfolio shared to an account is visible there only once the share
is accepted; a share through AWS Organizations (organization or OU node) counts as accepted
for every member account under the node unless that account rejected it.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from moto.organizations.models import organizations_backends
from moto.servicecatalog.models import servicecatalog_backends
from moto.sts.models import sts_backends
from moto.utilities.utils import get_partition

from mlops_seeds.sandbox.catalog.errors import InvalidParameters, ResourceNotFound
from mlops_seeds.sandbox.catalog.model import CatalogState, Share, state_of

ACCOUNT_SHARE_TYPES = ("ACCOUNT", "ORGANIZATION_MEMBER_ACCOUNT")


@dataclass(frozen=True)
class Caller:
    """The account, region and principal of one request.

    `arn` is the caller's IAM principal: for assumed-role credentials the role
    (`arn:aws:iam::<acct>:role/<name>`), otherwise the IAM user moto reports for the key.
    """

    account: str
    region: str
    arn: str

    @classmethod
    def of(cls, response: Any) -> "Caller":
        """The caller of the request a moto response object is handling."""
        account = str(response.current_account)
        region = str(response.region)
        sts = sts_backends[account][get_partition(region)]
        _, arn, _ = sts.get_caller_identity(response.get_access_key(), region)
        return cls(account=account, region=region, arn=iam_principal_of(str(arn)))

    @property
    def backend(self) -> Any:
        """moto's ServiceCatalog backend of the caller's account and region."""
        return servicecatalog_backends[self.account][self.region]

    @property
    def state(self) -> CatalogState:
        """The extension state of the caller's account and region."""
        return state_of(self.backend)


def iam_principal_of(identity_arn: str) -> str:
    """The IAM ARN behind an STS identity: assumed-role/R/S -> role/R, sts user -> iam user."""
    prefix, _, resource = identity_arn.partition(":sts::")
    if not resource:
        return identity_arn
    account, _, path = resource.partition(":")
    if path.startswith("assumed-role/"):
        return f"{prefix}:iam::{account}:role/{path.split('/')[1]}"
    return f"{prefix}:iam::{account}:{path}"


def backends_in(region: str) -> Iterator[Any]:
    """The ServiceCatalog backends of every account that has one in `region`."""
    for per_account in list(dict.values(servicecatalog_backends)):
        backend = dict.get(per_account, region)
        if backend is not None:
            yield backend


def local_portfolio(caller: Caller, portfolio_id: str) -> Any:
    """The caller's own portfolio, else ResourceNotFoundException."""
    portfolio = caller.backend.portfolios.get(portfolio_id)
    if portfolio is None:
        raise ResourceNotFound(f"Portfolio {portfolio_id} not found.")
    return portfolio


def local_product(caller: Caller, product_id: str) -> Any:
    """The caller's own product, else ResourceNotFoundException."""
    product = caller.backend.products.get(product_id)
    if product is None:
        raise ResourceNotFound(f"Product {product_id} not found.")
    return product


def owner_of_portfolio(region: str, portfolio_id: str) -> Any | None:
    """The backend of the account that owns the portfolio, if any."""
    for backend in backends_in(region):
        if portfolio_id in backend.portfolios:
            return backend
    return None


def organization_of(account: str) -> Any | None:
    """moto's Organizations backend of an account that manages an organization, if any."""
    backend = dict.get(dict.get(organizations_backends, account) or {}, "aws")
    if backend is None or backend.org is None:
        return None
    return backend


def share_covers(owner: Any, share: Share, account: str) -> bool:
    """Whether `share` (made by `owner`) reaches `account`."""
    if share.type in ACCOUNT_SHARE_TYPES:
        return share.principal_id == account
    organizations = organization_of(owner.account_id)
    if organizations is None:
        return False
    member = next((a for a in organizations.accounts if a.id == account), None)
    if member is None:
        return False
    if share.type == "ORGANIZATION":
        return bool(organizations.org.id == share.principal_id)
    parents = {unit.id: unit.parent_id for unit in organizations.ou}
    node = member.parent_id
    while node:
        if node == share.principal_id:
            return True
        node = parents.get(node)
    return False


def shares_to(caller: Caller, portfolio_id: str, owner: Any) -> list[Share]:
    """The owner's shares of the portfolio that reach the caller's account."""
    shares = state_of(owner).shares.get(portfolio_id, [])
    return [share for share in shares if share_covers(owner, share, caller.account)]


def share_type(share: Share) -> str:
    """The PortfolioShareType under which a recipient sees `share`."""
    return "AWS_ORGANIZATIONS" if share.via_organizations else "IMPORTED"


def accepted_share(caller: Caller, portfolio_id: str, owner: Any) -> Share | None:
    """The share through which the caller has accepted the owner's portfolio, if any."""
    for share in shares_to(caller, portfolio_id, owner):
        if share.via_organizations and portfolio_id not in caller.state.rejected:
            return share
        if not share.via_organizations and share.accepted:
            return share
    return None


def imported_portfolios(caller: Caller) -> Iterator[tuple[Any, Any, Share]]:
    """(owner backend, portfolio, share) of every portfolio the caller has accepted."""
    for owner in backends_in(caller.region):
        if owner.account_id == caller.account:
            continue
        for portfolio_id in list(state_of(owner).shares):
            share = accepted_share(caller, portfolio_id, owner)
            if share is not None and portfolio_id in owner.portfolios:
                yield owner, owner.portfolios[portfolio_id], share


def find_product(region: str, product_id: str) -> tuple[Any, Any]:
    """(owner backend, product) of a product id in any account of the region."""
    for backend in backends_in(region):
        if product_id in backend.products:
            return backend, backend.products[product_id]
    raise ResourceNotFound(f"Product {product_id} not found.")


def visible_portfolio(caller: Caller, portfolio_id: str) -> tuple[Any, Any]:
    """(owner backend, portfolio) of a local or accepted imported portfolio, else not found."""
    if portfolio_id in caller.backend.portfolios:
        return caller.backend, caller.backend.portfolios[portfolio_id]
    owner = owner_of_portfolio(caller.region, portfolio_id)
    if owner is not None and accepted_share(caller, portfolio_id, owner) is not None:
        return owner, owner.portfolios[portfolio_id]
    raise ResourceNotFound(f"Portfolio {portfolio_id} not found.")


def visible_portfolios(caller: Caller) -> list[tuple[Any, Any]]:
    """(owner backend, portfolio) of the caller's own and accepted imported portfolios."""
    local = [(caller.backend, portfolio) for portfolio in caller.backend.portfolios.values()]
    return local + [(owner, portfolio) for owner, portfolio, _ in imported_portfolios(caller)]


def visible_product(caller: Caller, product_id: str) -> tuple[Any, Any]:
    """(owner backend, product) of a local product or one in an accepted imported portfolio."""
    if product_id in caller.backend.products:
        return caller.backend, caller.backend.products[product_id]
    for owner, portfolio, _ in imported_portfolios(caller):
        if product_id in state_of(owner).portfolio_products.get(portfolio.id, []):
            return owner, owner.products[product_id]
    raise ResourceNotFound(f"Product {product_id} not found.")


def product_by_id_or_name(caller: Caller, params: dict[str, Any], id_key: str = "Id") -> Any:
    """(owner backend, product) named by `Id`/`Name` (or the given keys) among visible ones."""
    product_id = params.get(id_key)
    name_key = "Name" if id_key == "Id" else "ProductName"
    name = params.get(name_key)
    if product_id:
        return visible_product(caller, product_id)
    if not name:
        raise InvalidParameters(f"Either {id_key} or {name_key} must be specified.")
    for backend, product in visible_products(caller):
        if product.name == name:
            return backend, product
    raise ResourceNotFound(f"Product with name {name} not found.")


def visible_products(caller: Caller) -> list[tuple[Any, Any]]:
    """(owner backend, product) of local products and of accepted imported portfolios."""
    seen: dict[str, tuple[Any, Any]] = {
        product.id: (caller.backend, product) for product in caller.backend.products.values()
    }
    for owner, portfolio, _ in imported_portfolios(caller):
        for product_id in state_of(owner).portfolio_products.get(portfolio.id, []):
            if product_id in owner.products:
                seen.setdefault(product_id, (owner, owner.products[product_id]))
    return list(seen.values())
