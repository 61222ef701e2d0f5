"""Hub -> spoke portfolio shares: pending until accepted, organization shares, reject, delete."""

from collections.abc import Callable
from typing import Any

import boto3
import pytest

from mlops_seeds import aws

SPOKE = "111111111111"
OTHER = "222222222222"
Spoke = Callable[..., boto3.Session]


def _ids(details: list[dict[str, Any]]) -> list[str]:
    return [d["Id"] for d in details]


def test_a_spoke_sees_the_portfolio_only_after_accepting(
    sc: Any, spoke: Spoke, make_portfolio: Callable[..., str]
) -> None:
    portfolio_id = make_portfolio("seeds")
    assert sc.create_portfolio_share(PortfolioId=portfolio_id, AccountId=SPOKE)
    shares = sc.describe_portfolio_shares(PortfolioId=portfolio_id, Type="ACCOUNT")
    assert shares["PortfolioShareDetails"] == [
        {
            "PrincipalId": SPOKE,
            "Type": "ACCOUNT",
            "Accepted": False,
            "ShareTagOptions": False,
            "SharePrincipals": False,
        }
    ]
    spoke_sc = aws.client("servicecatalog", spoke(SPOKE))
    own = make_spoke_portfolio(spoke_sc)
    assert spoke_sc.list_accepted_portfolio_shares()["PortfolioDetails"] == []
    with pytest.raises(spoke_sc.exceptions.ResourceNotFoundException):
        spoke_sc.describe_portfolio(Id=portfolio_id)

    spoke_sc.accept_portfolio_share(PortfolioId=portfolio_id)

    assert _ids(spoke_sc.list_accepted_portfolio_shares()["PortfolioDetails"]) == [portfolio_id]
    assert spoke_sc.describe_portfolio(Id=portfolio_id)["PortfolioDetail"]["DisplayName"] == "seeds"
    assert _ids(spoke_sc.list_portfolios()["PortfolioDetails"]) == [own]
    accepted = sc.describe_portfolio_shares(PortfolioId=portfolio_id, Type="ACCOUNT")
    assert accepted["PortfolioShareDetails"][0]["Accepted"] is True
    assert sc.list_portfolio_access(PortfolioId=portfolio_id)["AccountIds"] == [SPOKE]
    other_sc = aws.client("servicecatalog", spoke(OTHER))
    assert other_sc.list_accepted_portfolio_shares()["PortfolioDetails"] == []


def test_principal_sharing_is_refused_on_a_share_to_an_account(
    sc: Any, hub: boto3.Session, make_portfolio: Callable[..., str]
) -> None:
    # CreatePortfolioShare: SharePrincipals "is only supported for portfolios with an
    # OrganizationalNode Type of ORGANIZATION or ORGANIZATIONAL_UNIT".
    portfolio_id = make_portfolio()
    _, _, member, _ = _organization(hub)
    for where in (
        {"AccountId": SPOKE},
        {"OrganizationNode": {"Type": "ACCOUNT", "Value": member}},
    ):
        with pytest.raises(
            sc.exceptions.InvalidParametersException,
            match="only supported for portfolios with an OrganizationalNode Type of "
            "ORGANIZATION or ORGANIZATIONAL_UNIT",
        ):
            sc.create_portfolio_share(PortfolioId=portfolio_id, SharePrincipals=True, **where)
    for kind in ("ACCOUNT", "ORGANIZATION_MEMBER_ACCOUNT"):
        shares = sc.describe_portfolio_shares(PortfolioId=portfolio_id, Type=kind)
        assert shares["PortfolioShareDetails"] == []
    sc.create_portfolio_share(PortfolioId=portfolio_id, AccountId=SPOKE, SharePrincipals=False)


def make_spoke_portfolio(spoke_sc: Any) -> str:
    """A portfolio of the spoke's own."""
    created = spoke_sc.create_portfolio(DisplayName="local", ProviderName="spoke")
    return str(created["PortfolioDetail"]["Id"])


def test_sharing_twice_changes_nothing(sc: Any, make_portfolio: Callable[..., str]) -> None:
    portfolio_id = make_portfolio()
    sc.create_portfolio_share(PortfolioId=portfolio_id, AccountId=SPOKE)
    sc.create_portfolio_share(PortfolioId=portfolio_id, AccountId=SPOKE)
    shares = sc.describe_portfolio_shares(PortfolioId=portfolio_id, Type="ACCOUNT")
    assert len(shares["PortfolioShareDetails"]) == 1


def test_share_errors(sc: Any, spoke: Spoke, make_portfolio: Callable[..., str]) -> None:
    portfolio_id = make_portfolio()
    errors = sc.exceptions
    hub_account = aws.account_id(aws.make_session())
    with pytest.raises(errors.ResourceNotFoundException):
        sc.create_portfolio_share(PortfolioId="port-nope", AccountId=SPOKE)
    with pytest.raises(errors.InvalidParametersException, match="exactly one"):
        sc.create_portfolio_share(PortfolioId=portfolio_id)
    with pytest.raises(errors.InvalidParametersException, match="12-digit"):
        sc.create_portfolio_share(PortfolioId=portfolio_id, AccountId="123")
    with pytest.raises(errors.InvalidParametersException, match="its own account"):
        sc.create_portfolio_share(PortfolioId=portfolio_id, AccountId=hub_account)
    with pytest.raises(errors.InvalidStateException, match="management account"):
        sc.create_portfolio_share(
            PortfolioId=portfolio_id, OrganizationNode={"Type": "ORGANIZATION", "Value": "o-x"}
        )
    with pytest.raises(errors.InvalidParametersException, match="Type must be"):
        sc.describe_portfolio_shares(PortfolioId=portfolio_id, Type="FRIENDS")
    with pytest.raises(errors.ResourceNotFoundException):
        sc.delete_portfolio_share(PortfolioId=portfolio_id, AccountId=SPOKE)
    spoke_sc = aws.client("servicecatalog", spoke(SPOKE))
    with pytest.raises(spoke_sc.exceptions.ResourceNotFoundException):
        spoke_sc.accept_portfolio_share(PortfolioId=portfolio_id)
    sc.create_portfolio_share(PortfolioId=portfolio_id, AccountId=SPOKE)
    with pytest.raises(spoke_sc.exceptions.ResourceNotFoundException):
        spoke_sc.accept_portfolio_share(
            PortfolioId=portfolio_id, PortfolioShareType="AWS_SERVICECATALOG"
        )
    with pytest.raises(spoke_sc.exceptions.ResourceNotFoundException):
        spoke_sc.accept_portfolio_share(
            PortfolioId=portfolio_id, PortfolioShareType="AWS_ORGANIZATIONS"
        )
    with pytest.raises(spoke_sc.exceptions.ResourceNotFoundException):
        spoke_sc.create_portfolio_share(PortfolioId=portfolio_id, AccountId=OTHER)
    with pytest.raises(sc.exceptions.ResourceInUseException, match="shares"):
        sc.delete_portfolio(Id=portfolio_id)


def test_reject_withdraws_the_offer(
    sc: Any, spoke: Spoke, make_portfolio: Callable[..., str]
) -> None:
    portfolio_id = make_portfolio()
    sc.create_portfolio_share(PortfolioId=portfolio_id, AccountId=SPOKE)
    spoke_sc = aws.client("servicecatalog", spoke(SPOKE))
    spoke_sc.reject_portfolio_share(PortfolioId=portfolio_id)
    assert (
        sc.describe_portfolio_shares(PortfolioId=portfolio_id, Type="ACCOUNT")[
            "PortfolioShareDetails"
        ]
        == []
    )
    with pytest.raises(spoke_sc.exceptions.ResourceNotFoundException):
        spoke_sc.accept_portfolio_share(PortfolioId=portfolio_id)


def test_deleting_the_share_removes_the_import(
    sc: Any, spoke: Spoke, make_portfolio: Callable[..., str]
) -> None:
    portfolio_id = make_portfolio()
    sc.create_portfolio_share(PortfolioId=portfolio_id, AccountId=SPOKE)
    spoke_sc = aws.client("servicecatalog", spoke(SPOKE))
    spoke_sc.accept_portfolio_share(PortfolioId=portfolio_id)
    sc.delete_portfolio_share(PortfolioId=portfolio_id, AccountId=SPOKE)
    assert spoke_sc.list_accepted_portfolio_shares()["PortfolioDetails"] == []
    assert sc.list_portfolio_access(PortfolioId=portfolio_id)["AccountIds"] == []


def test_accepted_shares_are_paged(
    sc: Any, spoke: Spoke, make_portfolio: Callable[..., str]
) -> None:
    spoke_sc = aws.client("servicecatalog", spoke(SPOKE))
    portfolios = [make_portfolio(f"p{i}") for i in range(3)]
    for portfolio_id in portfolios:
        sc.create_portfolio_share(PortfolioId=portfolio_id, AccountId=SPOKE)
        spoke_sc.accept_portfolio_share(PortfolioId=portfolio_id, PortfolioShareType="IMPORTED")
    first = spoke_sc.list_accepted_portfolio_shares(PageSize=2)
    rest = spoke_sc.list_accepted_portfolio_shares(PageSize=2, PageToken=first["NextPageToken"])
    assert _ids(first["PortfolioDetails"] + rest["PortfolioDetails"]) == portfolios
    assert (
        spoke_sc.list_accepted_portfolio_shares(PortfolioShareType="AWS_ORGANIZATIONS")[
            "PortfolioDetails"
        ]
        == []
    )


def _organization(hub: boto3.Session) -> tuple[str, str, str, str]:
    """(organization id, OU id, member account in the OU, member account outside it)."""
    organizations = aws.client("organizations", hub)
    organization = organizations.create_organization(FeatureSet="ALL")["Organization"]["Id"]
    root = organizations.list_roots()["Roots"][0]["Id"]
    unit = organizations.create_organizational_unit(ParentId=root, Name="ml")
    unit_id = unit["OrganizationalUnit"]["Id"]
    accounts = []
    for name in ("in-ou", "at-root"):
        status = organizations.create_account(AccountName=name, Email=f"{name}@example.com")
        accounts.append(status["CreateAccountStatus"]["AccountId"])
    organizations.move_account(
        AccountId=accounts[0], SourceParentId=root, DestinationParentId=unit_id
    )
    return organization, unit_id, accounts[0], accounts[1]


def test_an_organizational_unit_share_is_accepted_for_its_members(
    sc: Any, hub: boto3.Session, spoke: Spoke, make_portfolio: Callable[..., str]
) -> None:
    _, unit_id, member, outsider = _organization(hub)
    portfolio_id = make_portfolio()
    token = sc.create_portfolio_share(
        PortfolioId=portfolio_id,
        OrganizationNode={"Type": "ORGANIZATIONAL_UNIT", "Value": unit_id},
        SharePrincipals=True,
    )["PortfolioShareToken"]
    status = sc.describe_portfolio_share_status(PortfolioShareToken=token)
    assert (status["Status"], status["PortfolioId"], status["OrganizationNodeValue"]) == (
        "COMPLETED",
        portfolio_id,
        unit_id,
    )
    assert status["ShareDetails"]["SuccessfulShares"] == [member]
    shares = sc.describe_portfolio_shares(PortfolioId=portfolio_id, Type="ORGANIZATIONAL_UNIT")
    assert shares["PortfolioShareDetails"][0]["Accepted"] is True

    member_sc = aws.client("servicecatalog", spoke(member))
    organizational = member_sc.list_accepted_portfolio_shares(
        PortfolioShareType="AWS_ORGANIZATIONS"
    )
    assert _ids(organizational["PortfolioDetails"]) == [portfolio_id]
    assert member_sc.list_accepted_portfolio_shares()["PortfolioDetails"] == []
    outsider_sc = aws.client("servicecatalog", spoke(outsider))
    with pytest.raises(outsider_sc.exceptions.ResourceNotFoundException):
        outsider_sc.describe_portfolio(Id=portfolio_id)

    member_sc.reject_portfolio_share(
        PortfolioId=portfolio_id, PortfolioShareType="AWS_ORGANIZATIONS"
    )
    with pytest.raises(member_sc.exceptions.ResourceNotFoundException):
        member_sc.describe_portfolio(Id=portfolio_id)
    member_sc.accept_portfolio_share(
        PortfolioId=portfolio_id, PortfolioShareType="AWS_ORGANIZATIONS"
    )
    assert member_sc.describe_portfolio(Id=portfolio_id)["PortfolioDetail"]["Id"] == portfolio_id


def test_an_organization_share(
    sc: Any, hub: boto3.Session, spoke: Spoke, make_portfolio: Callable[..., str]
) -> None:
    organization, _, member, outsider = _organization(hub)
    portfolio_id = make_portfolio()
    sc.create_portfolio_share(
        PortfolioId=portfolio_id, OrganizationNode={"Type": "ORGANIZATION", "Value": organization}
    )
    for account in (member, outsider):
        client = aws.client("servicecatalog", spoke(account))
        found = client.list_accepted_portfolio_shares(PortfolioShareType="AWS_ORGANIZATIONS")
        assert _ids(found["PortfolioDetails"]) == [portfolio_id]
    assert sorted(sc.list_portfolio_access(PortfolioId=portfolio_id)["AccountIds"]) == sorted(
        [member, outsider]
    )
    with pytest.raises(sc.exceptions.InvalidParametersException, match="not in the organization"):
        sc.create_portfolio_share(
            PortfolioId=portfolio_id,
            OrganizationNode={"Type": "ORGANIZATIONAL_UNIT", "Value": "ou-x"},
        )
    sc.delete_portfolio_share(
        PortfolioId=portfolio_id, OrganizationNode={"Type": "ORGANIZATION", "Value": organization}
    )
    client = aws.client("servicecatalog", spoke(member))
    assert (
        client.list_accepted_portfolio_shares(PortfolioShareType="AWS_ORGANIZATIONS")[
            "PortfolioDetails"
        ]
        == []
    )


def test_an_organizational_unit_share_carries_the_principal_patterns(
    sc: Any,
    hub: boto3.Session,
    spoke: Spoke,
    make_portfolio: Callable[..., str],
    make_product: Callable[..., tuple[str, str]],
) -> None:
    _, unit_id, member, _ = _organization(hub)
    portfolio_id = make_portfolio()
    product_id, _ = make_product("build")
    sc.associate_product_with_portfolio(ProductId=product_id, PortfolioId=portfolio_id)
    sc.associate_principal_with_portfolio(
        PortfolioId=portfolio_id,
        PrincipalARN="arn:aws:iam:::role/Studio*",
        PrincipalType="IAM_PATTERN",
    )
    sc.create_portfolio_share(
        PortfolioId=portfolio_id,
        OrganizationNode={"Type": "ORGANIZATIONAL_UNIT", "Value": unit_id},
        SharePrincipals=True,
    )
    studio = aws.client("servicecatalog", spoke(member, "StudioExecutionRole"))
    found = studio.search_products()["ProductViewSummaries"]
    assert [s["ProductId"] for s in found] == [product_id]
    other = aws.client("servicecatalog", spoke(member, "DataEngineer"))
    assert other.search_products()["ProductViewSummaries"] == []
