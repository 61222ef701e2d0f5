"""The organization the sandbox plays: its management account (the sandbox's root is
that account's root) and member accounts, each with the role AWS Organizations creates
in the accounts it makes (AWS Organizations User Guide, "Accessing member accounts"):
`OrganizationAccountAccessRole`, trusting the management account, with the AWS-managed
`AdministratorAccess` attached; the same for accounts made by Organizations' CreateAccount.
Remade after every reset, moto's /moto-api/reset included.
"""

import functools
import json
from collections.abc import Callable
from typing import Any

from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.iam.models import iam_backends
from moto.moto_api._internal.models import moto_api_backend
from moto.organizations.models import OrganizationsBackend

MANAGEMENT_ACCOUNT = DEFAULT_ACCOUNT_ID
MEMBER_ACCOUNTS = ("111111111111", "222222222222")
# Accounts that serve endpoints for another (staging, production): members too.
DEPLOY_ACCOUNTS = ("333333333333", "444444444444")
ACCESS_ROLE = "OrganizationAccountAccessRole"
ADMINISTRATOR_ACCESS = "arn:aws:iam::aws:policy/AdministratorAccess"
_MARK = "_mlops_seeds_organization"


def _trust(management: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{management}:root"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )


def _access_role(account: str, management: str, name: str = ACCESS_ROLE) -> None:
    """The member account's access role, with AdministratorAccess (moto's Organizations
    creates the role of the accounts it makes, with no policy)."""
    backend = iam_backends[account]["aws"]
    role = next((r for r in list(backend.roles.values()) if r.name == name), None)
    if role is None:
        backend.create_role(
            role_name=name,
            assume_role_policy_document=_trust(management),
            path="/",
            permissions_boundary=None,
            description="Made by AWS Organizations when the account was created",
            tags=[],
            max_session_duration=None,
        )
    elif role.managed_policies or role.policies:
        return  # as the account's admins left it
    backend.attach_role_policy(ADMINISTRATOR_ACCESS, name)


def bootstrap(
    management: str = MANAGEMENT_ACCOUNT,
    members: tuple[str, ...] = MEMBER_ACCOUNTS + DEPLOY_ACCOUNTS,
) -> None:
    """Make each member account's OrganizationAccountAccessRole (idempotent)."""
    for account in members:
        _access_role(account, management)


def _created(create_account: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    @functools.wraps(create_account)
    def wrapper(self: Any, **kwargs: Any) -> dict[str, Any]:
        status = create_account(self, **kwargs)
        account = str(status["CreateAccountStatus"]["AccountId"])
        role = str(kwargs.get("RoleName") or ACCESS_ROLE)
        _access_role(account, str(self.org.master_account_id), role)
        return status

    setattr(wrapper, _MARK, True)
    return wrapper


def _then_bootstrap(reset: Callable[[], None]) -> Callable[[], None]:
    @functools.wraps(reset)
    def wrapper() -> None:
        reset()
        bootstrap()

    setattr(wrapper, _MARK, True)
    return wrapper


def install() -> None:
    """Remake the member accounts' roles after every reset, and give the accounts
    Organizations creates their access role's AdministratorAccess (idempotent)."""
    if not getattr(OrganizationsBackend.create_account, _MARK, False):
        OrganizationsBackend.create_account = _created(  # type: ignore[method-assign]
            OrganizationsBackend.create_account
        )
    if not getattr(moto_api_backend.reset, _MARK, False):
        moto_api_backend.reset = _then_bootstrap(moto_api_backend.reset)  # type: ignore[method-assign]
