"""Catalog fixtures: a valid manifest to break, a writer, and AWS call counting."""

import copy
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import botocore.session
import pytest
import yaml
from accounts import bootstrap_spoke, user_role
from botocore.exceptions import ClientError

from mlops_seeds.catalog.manifest import DEFAULT_MANIFEST
from mlops_seeds.sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def manifest_data() -> dict[str, Any]:
    """The repository's manifest, with spokes and an S3 route filled in."""
    data = yaml.safe_load((ROOT / DEFAULT_MANIFEST).read_text())
    data = copy.deepcopy(data)
    data["spokes"] = {
        "role_name": "MlopsSeedsSpokeRole",
        "accounts": ["111111111111", "222222222222"],
        "organization_nodes": ["ou-ab12-abcdefgh", "o-abcdefghij"],
    }
    data["s3_route"] = {
        "bucket": "templates-{account_id}",
        "prefix": "projects/",
        "domain_ids": ["d-abcdefghijkl"],
    }
    return data


@pytest.fixture
def write_manifest(tmp_path: Path) -> Callable[[Any], Path]:
    """Write data as a manifest file; return its path."""

    def write(data: Any) -> Path:
        path = tmp_path / "portfolio.yaml"
        path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False))
        return path

    return write


class CallLog:
    """Every botocore client made and every API call sent (by `before-call` hooks); with
    `fail_at = N`, the Nth mutating call raises a ClientError instead of being sent."""

    def __init__(self) -> None:
        self.clients: list[str] = []
        self.calls: list[tuple[str, str]] = []
        self.fail_at: int | None = None

    def reset(self) -> None:
        """Forget the calls seen so far (and any failure to inject)."""
        self.calls.clear()
        self.fail_at = None

    def mutating(self) -> list[tuple[str, str]]:
        from mlops_seeds.catalog.calls import is_mutating

        return [c for c in self.calls if is_mutating(c[1])]


@pytest.fixture
def call_log(monkeypatch: pytest.MonkeyPatch) -> Iterator[CallLog]:
    """Record every client created in any botocore session and every call it sends."""
    log = CallLog()
    original = botocore.session.Session.create_client

    def create_client(self: botocore.session.Session, service_name: str, *a: Any, **k: Any) -> Any:
        client = original(self, service_name, *a, **k)
        log.clients.append(service_name)

        def record(model: Any, **_: Any) -> None:
            log.calls.append((service_name, model.name))
            if log.fail_at is not None and len(log.mutating()) == log.fail_at:
                log.fail_at = None
                raise ClientError(
                    {"Error": {"Code": "InjectedFailure", "Message": "injected"}}, model.name
                )

        client.meta.events.register("before-call", record)
        return client

    monkeypatch.setattr(botocore.session.Session, "create_client", create_client)
    yield log


@pytest.fixture
def repo_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The seeds, templates and buildspecs of the repository, copied (to be changed, and
    safe from edits to the checkout while a test runs); the CLI's MLOPS_SEEDS_ROOT."""
    copy = tmp_path / "repo"
    for part in ("seed_code", "templates", "buildspecs"):
        shutil.copytree(ROOT / part, copy / part, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setenv("MLOPS_SEEDS_ROOT", str(copy))
    return copy


SPOKES = ["111111111111", "222222222222"]
SPOKE_ROLE = "MlopsSeedsSpokeRole"
STUDIO_ROLE = "AmazonSageMaker-ExecutionRole-20260101T000000"  # matches the manifest pattern


@pytest.fixture
def organizational_unit(sandbox: Sandbox) -> str:
    """An organization managed by the hub account, and the id of an OU in it."""
    from mlops_seeds import aws

    organizations = aws.client("organizations")
    organizations.create_organization(FeatureSet="ALL")
    root_id = organizations.list_roots()["Roots"][0]["Id"]
    unit = organizations.create_organizational_unit(ParentId=root_id, Name="ml-teams")
    return str(unit["OrganizationalUnit"]["Id"])


def prepare_spokes() -> None:
    """Bootstrap the spokes (the role publish assumes, the launch role); the Studio roles
    snapshot() searches as are made when first used."""
    template = (ROOT / "service_catalog" / "spoke-bootstrap.yaml").read_text()
    for account in SPOKES:
        bootstrap_spoke(account, template)


@pytest.fixture
def spoke_accounts(sandbox: Sandbox) -> Callable[[], None]:
    """The spokes, bootstrapped; the fixture's value bootstraps them again (after a reset)."""
    prepare_spokes()
    return prepare_spokes


@pytest.fixture
def catalog_manifest(
    manifest_data: dict[str, Any], organizational_unit: str, spoke_accounts: Callable[[], None]
) -> dict[str, Any]:
    """The repository's manifest with two spoke accounts, an OU and role principals, in
    the sandbox."""
    manifest_data["spokes"] = {
        "role_name": SPOKE_ROLE,
        "accounts": list(SPOKES),
        "organization_nodes": [organizational_unit],
    }
    manifest_data["principals"] = [
        *manifest_data["principals"],
        "arn:aws:iam::123456789012:role/StudioExecution",
        "arn:aws:iam::111111111111:role/SpokeStudioExecution",
    ]
    manifest_data.pop("s3_route", None)
    # The publish tests count the three products they were written for (publish treats
    # every product alike; the multi-account one is published by the rehearsal's tests).
    manifest_data["products"] = [
        p for p in manifest_data["products"] if p["key"] != "build-deploy-multi-account"
    ]
    return manifest_data


def _pages(call: Any, key: str, **kwargs: Any) -> list[dict[str, Any]]:
    from mlops_seeds.catalog.actions import pages

    return list(pages(call, key, **kwargs))


def snapshot(spokes: list[str] = SPOKES) -> dict[str, Any]:
    """The catalog state of the hub and the spokes, by names (ids differ between runs)."""
    from mlops_seeds import aws

    hub = aws.make_session()
    sc, s3 = aws.client("servicecatalog", hub), aws.client("s3", hub)
    portfolios = _pages(sc.list_portfolios, "PortfolioDetails")
    state: dict[str, Any] = {"portfolios": [], "products": [], "objects": []}
    names = {}
    for portfolio in portfolios:
        pid = portfolio["Id"]
        names[pid] = portfolio["DisplayName"]
        constraints = []
        for c in _pages(sc.list_constraints_for_portfolio, "ConstraintDetails", PortfolioId=pid):
            described = sc.describe_constraint(Id=c["ConstraintId"])
            constraints.append((c["Type"], c["ProductId"], described["ConstraintParameters"]))
        shares = []
        for kind in ("ACCOUNT", "ORGANIZATIONAL_UNIT", "ORGANIZATION"):
            for share in _pages(
                sc.describe_portfolio_shares, "PortfolioShareDetails", PortfolioId=pid, Type=kind
            ):
                shares.append((kind, share["PrincipalId"], share.get("SharePrincipals")))
        state["portfolios"].append(
            {
                "name": portfolio["DisplayName"],
                "tags": sorted(
                    (t["Key"], t["Value"]) for t in sc.describe_portfolio(Id=pid).get("Tags", [])
                ),
                "principals": sorted(
                    (p["PrincipalARN"], p["PrincipalType"])
                    for p in _pages(sc.list_principals_for_portfolio, "Principals", PortfolioId=pid)
                ),
                "shares": sorted(shares),
                "constraints": constraints,
            }
        )
    product_names = {}
    for view in _pages(sc.search_products_as_admin, "ProductViewDetails"):
        product_id = view["ProductViewSummary"]["ProductId"]
        product_names[product_id] = view["ProductViewSummary"]["Name"]
        described = sc.describe_product_as_admin(Id=product_id)
        artifacts = sc.list_provisioning_artifacts(ProductId=product_id)
        state["products"].append(
            {
                "name": view["ProductViewSummary"]["Name"],
                "tags": sorted((t["Key"], t["Value"]) for t in described.get("Tags", [])),
                "artifacts": sorted(
                    (a["Name"], a.get("Guidance", "DEFAULT"))
                    for a in artifacts["ProvisioningArtifactDetails"]
                ),
                "portfolios": sorted(
                    names.get(p["Id"], p["Id"])
                    for p in _pages(
                        sc.list_portfolios_for_product, "PortfolioDetails", ProductId=product_id
                    )
                ),
            }
        )
    state["products"].sort(key=lambda p: p["name"])
    for portfolio in state["portfolios"]:
        portfolio["constraints"] = sorted(
            (kind, product_names.get(product, product), parameters)
            for kind, product, parameters in portfolio["constraints"]
        )
    for bucket in s3.list_buckets().get("Buckets", []):
        for obj in s3.list_objects_v2(Bucket=bucket["Name"]).get("Contents", []):
            state["objects"].append(f"{bucket['Name']}/{obj['Key']}")
    state["objects"].sort()
    state["hub_studio_products"] = _studio_products(hub, hub_account(hub))
    state["spokes"] = {}
    for account in spokes:
        spoke = aws.assume_role(hub, f"arn:aws:iam::{account}:role/{SPOKE_ROLE}")
        spoke_sc = aws.client("servicecatalog", spoke)
        accepted = _pages(
            spoke_sc.list_accepted_portfolio_shares,
            "PortfolioDetails",
            PortfolioShareType="IMPORTED",
        )
        state["spokes"][account] = {
            "accepted": sorted(p["DisplayName"] for p in accepted),
            "principals": sorted(
                (p["PrincipalARN"], p["PrincipalType"])
                for a in accepted
                for p in _pages(
                    spoke_sc.list_principals_for_portfolio, "Principals", PortfolioId=a["Id"]
                )
            ),
            "products": _studio_products(hub, account),
        }
    return state


def hub_account(hub: Any) -> str:
    from mlops_seeds import aws

    return aws.account_id(hub)


def _studio_products(hub: Any, account: str) -> list[str]:
    """The products a Studio execution role of `account` sees (SearchProducts)."""
    from mlops_seeds import aws

    studio = user_role(account, STUDIO_ROLE, path="/service-role/")
    found = aws.client("servicecatalog", studio).search_products()["ProductViewSummaries"]
    return sorted(v["Name"] for v in found)


@pytest.fixture
def catalog_snapshot() -> Any:
    """snapshot() as a fixture."""
    return snapshot
