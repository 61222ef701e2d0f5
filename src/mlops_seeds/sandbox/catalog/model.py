"""What the extension keeps beside moto's portfolios and products, per account and region.

The state hangs off moto's own ServiceCatalog backend object, so moto's reset clears it too.
"""

import secrets
import string
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

_STATE_ATTRIBUTE = "_mlops_seeds_catalog"
_ID_ALPHABET = string.ascii_lowercase + string.digits


def new_id(prefix: str) -> str:
    """An id shaped like AWS's: `<prefix>-` and 13 lowercase letters or digits."""
    return prefix + "-" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(13))


def now() -> datetime:
    """The current time, timezone-aware."""
    return datetime.now(UTC)


@dataclass
class Artifact:
    """A provisioning artifact (a product version) with the template it was created from."""

    id: str
    name: str
    description: str
    type: str
    template_url: str
    template_body: str
    created: datetime = field(default_factory=now)
    active: bool = True
    guidance: str = "DEFAULT"

    def detail(self) -> dict[str, Any]:
        """The ProvisioningArtifactDetail shape."""
        return {
            "Id": self.id,
            "Name": self.name,
            "Description": self.description,
            "Type": self.type,
            "CreatedTime": self.created,
            "Active": self.active,
            "Guidance": self.guidance,
        }

    def summary(self) -> dict[str, Any]:
        """The ProvisioningArtifactSummary shape (DescribeProductAsAdmin)."""
        return {
            "Id": self.id,
            "Name": self.name,
            "Description": self.description,
            "CreatedTime": self.created,
        }

    def end_user_view(self) -> dict[str, Any]:
        """The ProvisioningArtifact shape (DescribeProduct)."""
        return {
            "Id": self.id,
            "Name": self.name,
            "Description": self.description,
            "CreatedTime": self.created,
            "Guidance": self.guidance,
        }


@dataclass
class Constraint:
    """A constraint on a product in a portfolio."""

    id: str
    type: str
    description: str
    owner: str
    product_id: str
    portfolio_id: str
    parameters: str

    def detail(self) -> dict[str, Any]:
        """The ConstraintDetail shape."""
        return {
            "ConstraintId": self.id,
            "Type": self.type,
            "Description": self.description,
            "Owner": self.owner,
            "ProductId": self.product_id,
            "PortfolioId": self.portfolio_id,
        }


@dataclass(frozen=True)
class Principal:
    """A principal association of a portfolio."""

    arn: str
    type: str

    def detail(self) -> dict[str, str]:
        """The Principal shape."""
        return {"PrincipalARN": self.arn, "PrincipalType": self.type}


@dataclass
class Share:
    """An outgoing portfolio share, kept in the sharing account."""

    portfolio_id: str
    type: str  # ACCOUNT | ORGANIZATION | ORGANIZATIONAL_UNIT
    principal_id: str  # account id, organization id or OU id
    via_organizations: bool
    accepted: bool
    share_principals: bool
    share_tag_options: bool
    token: str | None

    def detail(self) -> dict[str, Any]:
        """The PortfolioShareDetail shape."""
        return {
            "PrincipalId": self.principal_id,
            "Type": self.type,
            "Accepted": self.accepted,
            "ShareTagOptions": self.share_tag_options,
            "SharePrincipals": self.share_principals,
        }


@dataclass
class Record:
    """A request record (provision, update or terminate)."""

    id: str
    type: str
    provisioned_product_id: str
    provisioned_product_name: str
    product_id: str
    artifact_id: str
    path_id: str
    stack_id: str
    launch_role_arn: str
    tags: list[dict[str, str]]
    errors: list[dict[str, str]] = field(default_factory=list)
    created: datetime = field(default_factory=now)
    # The status it ended with, once a later record changed the stack ('' while it is the
    # last: its status follows the stack).
    final_status: str = ""


@dataclass
class ProvisionedProduct:
    """A provisioned product: one CloudFormation stack in the caller's account."""

    id: str
    name: str
    arn: str
    product_id: str
    product_name: str
    artifact_id: str
    artifact_name: str
    stack_id: str
    stack_name: str
    launch_role_arn: str
    user_arn: str
    idempotency_token: str
    tags: list[dict[str, str]]
    last_record_id: str
    created: datetime = field(default_factory=now)
    last_successful_record_id: str = ""


@dataclass
class CatalogState:
    """The extension's state in one account and region."""

    artifacts: dict[str, dict[str, Artifact]] = field(default_factory=dict)  # by product id
    portfolio_products: dict[str, list[str]] = field(default_factory=dict)  # by portfolio id
    constraints: dict[str, Constraint] = field(default_factory=dict)
    principals: dict[str, list[Principal]] = field(default_factory=dict)  # by portfolio id
    shares: dict[str, list[Share]] = field(default_factory=dict)  # outgoing, by portfolio id
    imported: dict[str, str] = field(default_factory=dict)  # accepted: portfolio id -> share type
    rejected: set[str] = field(default_factory=set)  # organization shares rejected here
    records: dict[str, Record] = field(default_factory=dict)
    provisioned: dict[str, ProvisionedProduct] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)  # idempotency token -> resource id


def state_of(backend: Any) -> CatalogState:
    """The extension state attached to a moto ServiceCatalog backend (created on first use)."""
    state = backend.__dict__.get(_STATE_ATTRIBUTE)
    if state is None:
        state = CatalogState()
        setattr(backend, _STATE_ATTRIBUTE, state)
    assert isinstance(state, CatalogState)
    return state
