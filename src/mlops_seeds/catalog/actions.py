"""What publish does, one action at a time, and the context the actions run in.

Planning reads the accounts and returns actions; publishing runs them in order. An action
refers to what it needs by name (product key, spoke account), and finds ids in the
context at run time, so a plan made before the portfolio exists still runs.
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3

from mlops_seeds import aws
from mlops_seeds.errors import SeedsError


@dataclass
class Context:
    """Sessions, clients and the ids learned while planning and publishing."""

    hub: boto3.Session
    hub_account: str
    region: str
    partition: str
    spokes: dict[str, boto3.Session] = field(default_factory=dict)
    portfolio_id: str | None = None
    product_ids: dict[str, str] = field(default_factory=dict)
    _clients: dict[tuple[str, str], Any] = field(default_factory=dict)

    def client(self, service: str, account: str | None = None) -> Any:
        """A cached client of `service` in the hub (default) or a spoke account."""
        account = account or self.hub_account
        if (account, service) not in self._clients:
            session = self.hub if account == self.hub_account else self.spokes[account]
            self._clients[account, service] = aws.client(service, session)
        return self._clients[account, service]

    def require_portfolio(self) -> str:
        """The hub portfolio's id (set once it exists)."""
        if self.portfolio_id is None:
            raise SeedsError("internal: the portfolio id is not known yet")
        return self.portfolio_id

    def require_product(self, key: str) -> str:
        """The product id of manifest product `key` (set once it exists)."""
        if key not in self.product_ids:
            raise SeedsError(f"internal: the id of product {key!r} is not known yet")
        return self.product_ids[key]


@dataclass(frozen=True)
class Action:
    """One change: `verb` on `resource` in `account`; `run` applies it."""

    verb: str
    account: str
    resource: str
    detail: str
    run: Callable[[Context], None] = field(compare=False, repr=False)

    def as_dict(self) -> dict[str, str]:
        """The action for JSON output."""
        return {
            "verb": self.verb,
            "account": self.account,
            "resource": self.resource,
            "detail": self.detail,
        }

    def __str__(self) -> str:
        return f"{self.verb} {self.resource} ({self.account}): {self.detail}"


def pages(
    call: Callable[..., dict[str, Any]], items: str, **kwargs: Any
) -> Iterator[dict[str, Any]]:
    """Every item of a Service Catalog list call, following NextPageToken."""
    token: str | None = None
    while True:
        response = call(**kwargs, **({"PageToken": token} if token else {}))
        yield from response.get(items, [])
        token = response.get("NextPageToken")
        if not token:
            return


def tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    """{k: v} -> [{"Key": k, "Value": v}], sorted by key."""
    return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]


def tag_dict(tags: Iterable[dict[str, str]]) -> dict[str, str]:
    """[{"Key": k, "Value": v}] -> {k: v}."""
    return {t["Key"]: t["Value"] for t in tags}


def missing_tags(wanted: dict[str, str], present: dict[str, str]) -> dict[str, str]:
    """The wanted tags absent from, or different in, `present`."""
    return {k: v for k, v in wanted.items() if present.get(k) != v}
