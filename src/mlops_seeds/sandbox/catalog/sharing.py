"""Portfolio shares: offered by the owner, accepted (or rejected) by the recipient.

A share to an account (AccountId) waits until the recipient calls AcceptPortfolioShare. A
share through AWS Organizations (OrganizationNode) needs the sharing account to manage an
organization in the sandbox's Organizations; it counts as accepted in every member account
under the node (Accepted=true, as AWS reports organizational shares) unless a member rejects
it, and recipients list it with PortfolioShareType AWS_ORGANIZATIONS.

SharePrincipals "is only supported for portfolios with an OrganizationalNode Type of
ORGANIZATION or ORGANIZATIONAL_UNIT" (CreatePortfolioShare API reference): on a share to an
account (AccountId, or an OrganizationNode of Type ACCOUNT) it is InvalidParametersException,
and the recipient account associates its own principals.
"""

import re
from typing import Any

from mlops_seeds.sandbox.catalog.context import (
    ACCOUNT_SHARE_TYPES,
    Caller,
    imported_portfolios,
    local_portfolio,
    organization_of,
    owner_of_portfolio,
    share_covers,
    share_type,
    shares_to,
)
from mlops_seeds.sandbox.catalog.errors import InvalidParameters, InvalidState, ResourceNotFound
from mlops_seeds.sandbox.catalog.model import Share, new_id, state_of
from mlops_seeds.sandbox.catalog.paging import page, with_token

NODE_TYPES = {
    "ORGANIZATION": "ORGANIZATION",
    "ORGANIZATIONAL_UNIT": "ORGANIZATIONAL_UNIT",
    "ACCOUNT": "ORGANIZATION_MEMBER_ACCOUNT",
}
SHARE_TYPES = ("ACCOUNT", "ORGANIZATION", "ORGANIZATIONAL_UNIT", "ORGANIZATION_MEMBER_ACCOUNT")
PORTFOLIO_SHARE_TYPES = ("IMPORTED", "AWS_SERVICECATALOG", "AWS_ORGANIZATIONS")
_ACCOUNT_ID = re.compile(r"^\d{12}$")
PRINCIPAL_SHARE_TYPES = ("ORGANIZATION", "ORGANIZATIONAL_UNIT")
SHARE_PRINCIPALS_REFUSED = (
    "SharePrincipals is only supported for portfolios with an OrganizationalNode Type of "
    "ORGANIZATION or ORGANIZATIONAL_UNIT."
)


def _target(caller: Caller, params: dict[str, Any]) -> tuple[str, str]:
    """(share type, principal id) of the AccountId or OrganizationNode of a request."""
    account_id, node = params.get("AccountId"), params.get("OrganizationNode") or {}
    if bool(account_id) == bool(node):
        raise InvalidParameters("Specify exactly one of AccountId or OrganizationNode")
    if account_id:
        if not _ACCOUNT_ID.match(account_id):
            raise InvalidParameters(f"AccountId {account_id} is not a 12-digit account id")
        if account_id == caller.account:
            raise InvalidParameters("AccountId: a portfolio cannot be shared with its own account")
        return "ACCOUNT", str(account_id)
    node_type, value = node.get("Type"), node.get("Value")
    if node_type not in NODE_TYPES or not value:
        raise InvalidParameters(f"OrganizationNode needs Type in {tuple(NODE_TYPES)} and a Value")
    return NODE_TYPES[node_type], str(value)


def _check_node(caller: Caller, share_type_: str, value: str) -> None:
    organizations = organization_of(caller.account)
    if organizations is None or organizations.org.master_account_id != caller.account:
        raise InvalidState(
            "OrganizationNode: the account is not the management account of an organization"
        )
    known = {
        "ORGANIZATION": {organizations.org.id},
        "ORGANIZATIONAL_UNIT": {unit.id for unit in organizations.ou},
        "ORGANIZATION_MEMBER_ACCOUNT": {account.id for account in organizations.accounts},
    }[share_type_]
    if value not in known:
        raise InvalidParameters(f"OrganizationNode.Value {value} is not in the organization")


def _find(shares: list[Share], share_type_: str, principal_id: str) -> Share | None:
    return next(
        (s for s in shares if s.type == share_type_ and s.principal_id == principal_id), None
    )


def create_portfolio_share(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """CreatePortfolioShare: a pending account share, or an organization share (with token).
    Sharing again to the same target changes nothing."""
    portfolio = local_portfolio(caller, params["PortfolioId"])
    share_type_, principal_id = _target(caller, params)
    if params.get("SharePrincipals") and share_type_ not in PRINCIPAL_SHARE_TYPES:
        raise InvalidParameters(SHARE_PRINCIPALS_REFUSED)
    via_organizations = share_type_ != "ACCOUNT"
    if via_organizations:
        _check_node(caller, share_type_, principal_id)
    shares = caller.state.shares.setdefault(portfolio.id, [])
    share = _find(shares, share_type_, principal_id)
    if share is None:
        share = Share(
            portfolio_id=portfolio.id,
            type=share_type_,
            principal_id=principal_id,
            via_organizations=via_organizations,
            accepted=via_organizations,
            share_principals=bool(params.get("SharePrincipals")),
            share_tag_options=bool(params.get("ShareTagOptions")),
            token=new_id("share") if via_organizations else None,
        )
        shares.append(share)
    return {"PortfolioShareToken": share.token} if share.token else {}


def delete_portfolio_share(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """DeletePortfolioShare: recipients lose the portfolio at once."""
    portfolio = local_portfolio(caller, params["PortfolioId"])
    share_type_, principal_id = _target(caller, params)
    shares = caller.state.shares.get(portfolio.id, [])
    share = _find(shares, share_type_, principal_id)
    if share is None:
        raise ResourceNotFound(f"Portfolio {portfolio.id} is not shared with {principal_id}.")
    shares.remove(share)
    if not shares:
        caller.state.shares.pop(portfolio.id)
    return {"PortfolioShareToken": share.token} if share.token else {}


def describe_portfolio_shares(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """DescribePortfolioShares: the owner's shares of one Type, with their Accepted state."""
    portfolio = local_portfolio(caller, params["PortfolioId"])
    if params.get("Type") not in SHARE_TYPES:
        raise InvalidParameters(f"Type must be one of {SHARE_TYPES}")
    shares = [s for s in caller.state.shares.get(portfolio.id, []) if s.type == params["Type"]]
    found, token = page(shares, params)
    return with_token({"PortfolioShareDetails": [s.detail() for s in found]}, token)


def describe_portfolio_share_status(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """DescribePortfolioShareStatus: organization shares complete at once."""
    token = params["PortfolioShareToken"]
    for shares in caller.state.shares.values():
        for share in shares:
            if share.token == token:
                return {
                    "PortfolioShareToken": token,
                    "PortfolioId": share.portfolio_id,
                    "OrganizationNodeValue": share.principal_id,
                    "Status": "COMPLETED",
                    "ShareDetails": {
                        "SuccessfulShares": _members(caller, share),
                        "ShareErrors": [],
                    },
                }
    raise ResourceNotFound(f"Portfolio share {token} not found.")


def _members(caller: Caller, share: Share) -> list[str]:
    """The accounts a share reaches."""
    if share.type in ACCOUNT_SHARE_TYPES:
        return [share.principal_id]
    organizations = organization_of(caller.account)
    accounts = [] if organizations is None else [a.id for a in organizations.accounts]
    return [a for a in accounts if a != caller.account and share_covers(caller.backend, share, a)]


def list_portfolio_access(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """ListPortfolioAccess: the accounts the portfolio is shared with (or those under
    OrganizationParentId)."""
    portfolio = local_portfolio(caller, params["PortfolioId"])
    shares = caller.state.shares.get(portfolio.id, [])
    parent = params.get("OrganizationParentId")
    if parent:
        shares = [s for s in shares if s.principal_id == parent]
    accounts = sorted({account for share in shares for account in _members(caller, share)})
    found, token = page(accounts, params)
    return with_token({"AccountIds": found}, token)


def _share_type_param(params: dict[str, Any]) -> str:
    share_type_ = params.get("PortfolioShareType") or "IMPORTED"
    if share_type_ not in PORTFOLIO_SHARE_TYPES:
        raise InvalidParameters(f"PortfolioShareType must be one of {PORTFOLIO_SHARE_TYPES}")
    return str(share_type_)


def _offered(caller: Caller, params: dict[str, Any]) -> tuple[str, list[Share]]:
    """(portfolio share type, the offers of that type) for the portfolio of the request."""
    share_type_ = _share_type_param(params)
    portfolio_id = params["PortfolioId"]
    owner = owner_of_portfolio(caller.region, portfolio_id)
    offers = [] if owner is None else shares_to(caller, portfolio_id, owner)
    offers = [s for s in offers if share_type(s) == share_type_]
    if share_type_ == "AWS_SERVICECATALOG" or not offers:
        raise ResourceNotFound(f"No {share_type_} share of portfolio {portfolio_id} to accept.")
    return share_type_, offers


def accept_portfolio_share(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """AcceptPortfolioShare: the recipient accepts an offer (IMPORTED by default)."""
    share_type_, offers = _offered(caller, params)
    for share in offers:
        share.accepted = True
    if share_type_ == "AWS_ORGANIZATIONS":
        caller.state.rejected.discard(params["PortfolioId"])
    return {}


def reject_portfolio_share(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """RejectPortfolioShare: an account share offer is withdrawn from the owner's shares;
    an organization share stays, but the rejecting account no longer sees the portfolio."""
    share_type_, offers = _offered(caller, params)
    if share_type_ == "AWS_ORGANIZATIONS":
        caller.state.rejected.add(params["PortfolioId"])
        return {}
    owner = owner_of_portfolio(caller.region, params["PortfolioId"])
    owner_shares = state_of(owner).shares[params["PortfolioId"]]
    for share in offers:
        owner_shares.remove(share)
    return {}


def list_accepted_portfolio_shares(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """ListAcceptedPortfolioShares: imported portfolios of one PortfolioShareType."""
    share_type_ = _share_type_param(params)
    portfolios = [
        portfolio
        for _, portfolio, share in imported_portfolios(caller)
        if share_type(share) == share_type_
    ]
    found, token = page(portfolios, params)
    return with_token({"PortfolioDetails": [p.to_dict() for p in found]}, token)


OPERATIONS = {
    "CreatePortfolioShare": create_portfolio_share,
    "DeletePortfolioShare": delete_portfolio_share,
    "DescribePortfolioShares": describe_portfolio_shares,
    "DescribePortfolioShareStatus": describe_portfolio_share_status,
    "ListPortfolioAccess": list_portfolio_access,
    "AcceptPortfolioShare": accept_portfolio_share,
    "RejectPortfolioShare": reject_portfolio_share,
    "ListAcceptedPortfolioShares": list_accepted_portfolio_shares,
}
