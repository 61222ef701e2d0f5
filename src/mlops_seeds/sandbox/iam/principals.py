"""Who is asking: the principal behind a request, its policies, and how a resource-based
policy's Principal/NotPrincipal element names it.

Sources (IAM User Guide):
- "AWS JSON policy elements: Principal"
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html):
  an account (`"123456789012"` or `arn:aws:iam::123456789012:root`) delegates to the
  account ("all identities inside the account can access the resource if they have the
  appropriate IAM permissions attached to explicitly allow access"); a user, role,
  assumed-role session or service is named by its ARN or service name; `"*"` is everyone.
  A role's ARN names the sessions of that role.
- "AWS JSON policy elements: NotPrincipal"
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html):
  a session is spared by a Deny with NotPrincipal only when the session, its role and its
  account are all listed (a user: the user and its account); and per "Permissions
  boundaries for IAM entities" a NotPrincipal Deny "will always deny any IAM principal that
  has a permissions boundary policy attached".
- The principal keys of the request context ("AWS global condition context keys",
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html;
  "IAM policy elements: Variables and tags", table of principal key values):
  aws:PrincipalArn (a session's role ARN), aws:PrincipalAccount, aws:PrincipalType,
  aws:username (IAM users only), aws:userid, aws:PrincipalTag/<key>.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum, IntEnum

from mlops_seeds.sandbox.iam.context import Context
from mlops_seeds.sandbox.iam.documents import Policy, Principals

# The service principals the sandbox's services act as (IAM User Guide, "AWS service
# principals"): the name a role's trust policy gives in `Principal: {Service: ...}`.
CLOUDFORMATION = "cloudformation.amazonaws.com"
CODEBUILD = "codebuild.amazonaws.com"
CODEPIPELINE = "codepipeline.amazonaws.com"
EVENTS = "events.amazonaws.com"
SAGEMAKER = "sagemaker.amazonaws.com"
SERVICE_CATALOG = "servicecatalog.amazonaws.com"

_ARN = re.compile(
    r"^arn:(?P<partition>[^:]+):(?P<service>iam|sts)::(?P<account>\d{12}):(?P<rest>.+)$"
)


class Kind(Enum):
    """The kind of principal; the value is its aws:PrincipalType."""

    ROOT = "Account"
    USER = "User"
    ROLE = "Role"
    ASSUMED_ROLE = "AssumedRole"
    FEDERATED_USER = "FederatedUser"
    SERVICE = "Service"


class Grant(IntEnum):
    """How a resource-based policy's Principal names the caller, weakest first: its
    account (delegation to the account's own policies), its role (the session's role ARN),
    or the caller itself (its own ARN, its service name, or `*`)."""

    ACCOUNT = 1
    ROLE = 2
    DIRECT = 3


@dataclass(frozen=True)
class Identity:
    """The principal that signed a request, with the policies that speak for it.

    `arn` is the caller's ARN as GetCallerIdentity gives it (a user, an assumed-role
    session `arn:aws:sts::<acct>:assumed-role/<role>/<session>`, a federated user, the
    account root) or a service principal's name (`codebuild.amazonaws.com`). `policies`
    are its identity-based policies (inline, attached managed, and its groups'), `boundary`
    its permissions boundary, `session_policies` the policies passed when the session was
    made. `role_arn` gives a session's role ARN with its path (derived without path when
    None); `user_id` the aws:userid value; `tags` the principal's tags."""

    arn: str
    policies: tuple[Policy, ...] = ()
    boundary: Policy | None = None
    session_policies: tuple[Policy, ...] = ()
    role_arn: str | None = None
    user_id: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.kind  # noqa: B018 (validates the ARN)

    @property
    def _parts(self) -> tuple[str, str, str, str]:
        found = _ARN.match(self.arn)
        if not found:
            raise ValueError(f"not a principal ARN: {self.arn}")
        return (
            found.group("partition"),
            found.group("service"),
            found.group("account"),
            found.group("rest"),
        )

    @property
    def kind(self) -> Kind:
        if "." in self.arn and not self.arn.startswith("arn:"):
            return Kind.SERVICE
        _, service, _, rest = self._parts
        if service == "iam" and rest == "root":
            return Kind.ROOT
        if service == "iam" and rest.startswith("user/"):
            return Kind.USER
        if service == "iam" and rest.startswith("role/"):
            return Kind.ROLE
        if service == "sts" and rest.startswith("assumed-role/") and rest.count("/") == 2:
            return Kind.ASSUMED_ROLE
        if service == "sts" and rest.startswith("federated-user/"):
            return Kind.FEDERATED_USER
        raise ValueError(f"not a principal ARN: {self.arn}")

    @property
    def account(self) -> str | None:
        """The principal's account (None for a service principal)."""
        return None if self.kind is Kind.SERVICE else self._parts[2]

    @property
    def name(self) -> str:
        """A user's or role's name, a session's role name, or the service name."""
        if self.kind is Kind.SERVICE:
            return self.arn
        rest = self._parts[3]
        if self.kind is Kind.ASSUMED_ROLE:
            return rest.split("/")[1]
        return rest.rsplit("/", 1)[-1]

    @property
    def is_session(self) -> bool:
        return self.kind in (Kind.ASSUMED_ROLE, Kind.FEDERATED_USER)

    @property
    def root_arn(self) -> str | None:
        if self.kind is Kind.SERVICE:
            return None
        partition, _, account, _ = self._parts
        return f"arn:{partition}:iam::{account}:root"

    @property
    def session_role_arn(self) -> str | None:
        """The role behind an assumed-role session (or the role itself)."""
        if self.kind is Kind.ROLE:
            return self.arn
        if self.kind is not Kind.ASSUMED_ROLE:
            return None
        if self.role_arn:
            return self.role_arn
        partition, _, account, _ = self._parts
        return f"arn:{partition}:iam::{account}:role/{self.name}"

    @property
    def principal_arn(self) -> str:
        """The aws:PrincipalArn value: a session's role, else the caller's own ARN."""
        return self.session_role_arn or self.arn

    def context(self) -> Context:
        """The request context keys this principal contributes."""
        keys: dict[str, str | list[str]] = {}
        if self.kind is Kind.SERVICE:
            keys["aws:PrincipalServiceName"] = self.arn
            keys["aws:PrincipalIsAWSService"] = "true"
            return Context(keys)
        assert self.account is not None
        keys["aws:PrincipalArn"] = self.principal_arn
        keys["aws:PrincipalAccount"] = self.account
        keys["aws:PrincipalIsAWSService"] = "false"
        if self.kind is not Kind.ROLE:
            keys["aws:PrincipalType"] = self.kind.value
        if self.kind is Kind.USER:
            keys["aws:username"] = self.name
        if self.user_id:
            keys["aws:userid"] = self.user_id
        elif self.kind is Kind.ROOT:
            keys["aws:userid"] = self.account
        for tag, value in self.tags.items():
            keys[f"aws:PrincipalTag/{tag}"] = value
        return Context(keys)


def _names_account(entry: str, identity: Identity) -> bool:
    if identity.account is None:
        return False
    return entry == identity.account or (entry.endswith(":root") and entry == identity.root_arn)


def _names_role(entry: str, identity: Identity) -> bool:
    role = identity.session_role_arn
    if role is None:
        return False
    if entry == role:
        return True
    if identity.role_arn:
        return False
    # The session's ARN carries no role path: compare the account and the role name.
    found = _ARN.match(entry)
    return (
        found is not None
        and found.group("account") == identity.account
        and found.group("rest").startswith("role/")
        and found.group("rest").rsplit("/", 1)[-1] == identity.name
    )


def grant_of(principals: Principals, identity: Identity) -> Grant | None:
    """How a Principal element names `identity`, or None when it does not."""
    if principals.everyone:
        return Grant.DIRECT
    if identity.kind is Kind.SERVICE:
        return Grant.DIRECT if identity.arn in principals.of("Service") else None
    best: Grant | None = None
    for entry in principals.of("AWS"):
        found: Grant | None = None
        if entry == identity.arn and identity.kind is not Kind.ROLE:
            found = Grant.DIRECT
        elif _names_role(entry, identity):
            found = Grant.ROLE
        elif _names_account(entry, identity):
            found = Grant.DIRECT if identity.kind is Kind.ROOT else Grant.ACCOUNT
        if found is not None and (best is None or found > best):
            best = found
    return best


def spared_by(principals: Principals, identity: Identity) -> bool:
    """Whether a NotPrincipal element lists the caller completely: its account, its role
    (for a session) and itself; only then does the statement not apply to it."""
    if principals.everyone:
        return True
    if identity.kind is Kind.SERVICE:
        return identity.arn in principals.of("Service")
    listed = principals.of("AWS")
    chain_named = [any(_names_account(entry, identity) for entry in listed)]
    if identity.kind is Kind.ASSUMED_ROLE:
        chain_named.append(any(_names_role(entry, identity) for entry in listed))
    if identity.kind is not Kind.ROOT:
        chain_named.append(identity.arn in listed)
    return all(chain_named)
