"""The decision: may this principal perform this action on these resources?

Follows the IAM User Guide, "Policy evaluation logic"
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html),
its pages "How AWS enforcement code logic evaluates requests to allow or deny access"
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html)
and "Cross-account policy evaluation logic"
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html):

1. An explicit Deny in any applicable policy (identity-based, resource-based, permissions
   boundary, session policy) is final.
2. Same account: an Allow in either the identity-based policies or the resource-based
   policy suffices, with the principal-type nuance: a resource-based policy that names the
   IAM user or the session itself (its ARN, or `*`) allows "even if an implicit deny in an
   identity-based policy, permissions boundary, or session policy is present" (for a user:
   "not limited by an implicit deny in an identity-based policy or permissions boundary");
   one that names the role ARN stands in for the identity-based Allow but stays "limited
   by an implicit deny in a permissions boundary or session policy"; one that names the
   account only delegates to the account's identity-based policies. Then the boundary must
   allow, and for a session principal the session policies, if any, must allow (an IAM
   federated user session without a session policy is denied). The account root user has
   full access but for explicit denies.
3. Role trust policies and KMS key policies "must explicitly allow access for principals"
   even in the same account: `Request.resource_policy_required`.
4. Cross-account: "The request is allowed only if both evaluations return a decision of
   Allow": the caller's account (identity-based policies, boundary, session policies) and
   the resource's account (its resource-based policy, which may name the account).

Not evaluated: AWS Organizations SCPs and RCPs, VPC endpoint policies, ACLs, and the
service-specific rules some services add (S3 object ownership, KMS grants).

The denial messages follow "Troubleshoot access denied error messages"
(https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html):
"User: <arn> is not authorized to perform: <action> on resource: <arn> because no
identity-based policy allows the <action> action", "... with an explicit deny in an
identity-based policy"; likewise "permissions boundary", "session policy" and
"resource-based policy". When several policy types deny, AWS names only one; here the first
found in the order identity-based, resource-based, permissions boundary, session policy.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum

from mlops_seeds.sandbox.iam.context import Context, ContextInput
from mlops_seeds.sandbox.iam.documents import Effect, Policy, Statement
from mlops_seeds.sandbox.iam.matching import Resolver, Unresolved, match_action, match_arn
from mlops_seeds.sandbox.iam.principals import Grant, Identity, Kind, grant_of, spared_by


class PolicyType(Enum):
    """The policy types the messages name, as AWS words them."""

    IDENTITY = "identity-based policy"
    RESOURCE = "resource-based policy"
    BOUNDARY = "permissions boundary"
    SESSION = "session policy"

    @property
    def with_article(self) -> str:
        return ("an " if self is PolicyType.IDENTITY else "a ") + self.value


AWS_MANAGED_ACCOUNT = "aws"


@dataclass(frozen=True)
class Resource:
    """A resource a request touches: its ARN (`*` for actions without resource-level
    permissions), the account that owns it (None: the ARN's account, or the caller's when
    the ARN names none, as S3's do), its resource-based policy, and the context keys it
    adds (e.g. `aws:ResourceTag/<key>`)."""

    arn: str = "*"
    account: str | None = None
    policy: Policy | None = None
    context: ContextInput = field(default_factory=dict)

    def owner(self, identity: Identity) -> str | None:
        if self.account:
            return self.account
        parts = self.arn.split(":", 5)
        # AWS-managed policies (arn:aws:iam::aws:policy/...) are in every account.
        if len(parts) == 6 and parts[4] and parts[4] != AWS_MANAGED_ACCOUNT:
            return parts[4]
        return identity.account


@dataclass(frozen=True)
class Request:
    """An authorization request: the action (`service:Action`), the resources it touches
    (each evaluated; all must be allowed), the request's condition context (keys such as
    `aws:SecureTransport`, `aws:RequestTag/<key>`, `iam:PassedToService`), and whether
    the resource-based policy must allow even within the account (role trust policies on
    sts:AssumeRole, KMS key policies)."""

    action: str
    resources: tuple[Resource, ...] = (Resource(),)
    context: ContextInput = field(default_factory=dict)
    resource_policy_required: bool = False


@dataclass(frozen=True)
class Decision:
    """The outcome for one request. `statement` is the statement that decided: the Deny
    that matched, or the Allow that granted (None for an implicit deny); `policy_type`
    the policy type that decided or, for an implicit deny, the one that failed to allow."""

    allowed: bool
    principal: str
    action: str
    resource: str
    explicit: bool = False
    policy_type: PolicyType | None = None
    statement: Statement | None = None

    @property
    def denied(self) -> bool:
        return not self.allowed

    @property
    def implicit(self) -> bool:
        return not self.allowed and not self.explicit

    def message(self) -> str:
        """AWS's AccessDenied message for this decision ("" when allowed)."""
        if self.allowed:
            return ""
        target = "" if self.resource == "*" else f" on resource: {self.resource}"
        head = f"User: {self.principal} is not authorized to perform: {self.action}{target}"
        assert self.policy_type is not None
        if self.explicit:
            return f"{head} with an explicit deny in {self.policy_type.with_article}"
        return f"{head} because no {self.policy_type.value} allows the {self.action} action"


def _resolver(policy: Policy, context: Context) -> Resolver | None:
    if not policy.variables:
        return None

    def resolve(key: str) -> str | None:
        values = context.values_of(key)
        return values[0] if len(values) == 1 else None

    return resolve


def _applies(
    statement: Statement,
    policy: Policy,
    action: str,
    resource: str,
    context: Context,
    identity: Identity | None,
) -> Grant | None:
    """Whether `statement` applies to the request: a Grant (DIRECT for identity-based
    policies, which need no Principal) or None. `identity` is given for resource-based
    policies, whose Principal element must name the caller."""
    if any(match_action(p, action) for p in statement.actions) == statement.not_action:
        return None
    resolve = _resolver(policy, context)
    try:
        if statement.resources is not None:
            hit = any(match_arn(p, resource, resolve) for p in statement.resources)
            if hit == statement.not_resource:
                return None
        if not all(condition.holds(context, resolve) for condition in statement.conditions):
            return None
    except Unresolved:
        return None  # "causes the statement to be invalid"
    if identity is None:
        return Grant.DIRECT
    if statement.principals is None:
        # A resource-based policy's Allow must name its principals; a Deny without one
        # is read as applying to everyone.
        return Grant.DIRECT if statement.effect is Effect.DENY else None
    if statement.not_principal:
        boundary_rule = statement.effect is Effect.DENY and identity.boundary is not None
        if spared_by(statement.principals, identity) and not boundary_rule:
            return None
        return Grant.DIRECT
    return grant_of(statement.principals, identity)


@dataclass(frozen=True)
class _Found:
    statement: Statement
    grant: Grant


def _find(
    policies: Iterable[Policy],
    effect: Effect,
    action: str,
    resource: str,
    context: Context,
    identity: Identity | None = None,
) -> _Found | None:
    """The applicable statement of `effect` with the strongest grant, if any."""
    best: _Found | None = None
    for policy in policies:
        for statement in policy.statements:
            if statement.effect is not effect:
                continue
            grant = _applies(statement, policy, action, resource, context, identity)
            if grant is not None and (best is None or grant > best.grant):
                best = _Found(statement, grant)
    return best


def _evaluate_one(request: Request, resource: Resource, identity: Identity) -> Decision:
    action, arn = request.action, resource.arn
    context = identity.context().merged(request.context, resource.context)

    def decide(
        allowed: bool,
        policy_type: PolicyType | None,
        statement: Statement | None = None,
        explicit: bool = False,
    ) -> Decision:
        return Decision(allowed, identity.arn, action, arn, explicit, policy_type, statement)

    identity_side = [
        (PolicyType.IDENTITY, identity.policies),
        (PolicyType.BOUNDARY, (identity.boundary,) if identity.boundary else ()),
        (PolicyType.SESSION, identity.session_policies),
    ]
    resource_policies = (resource.policy,) if resource.policy else ()

    # 1. Explicit denies, everywhere.
    for policy_type, policies in [identity_side[0], (PolicyType.RESOURCE, resource_policies)]:
        who = identity if policy_type is PolicyType.RESOURCE else None
        denied = _find(policies, Effect.DENY, action, arn, context, who)
        if denied:
            return decide(False, policy_type, denied.statement, explicit=True)
    for policy_type, policies in identity_side[1:]:
        denied = _find(policies, Effect.DENY, action, arn, context)
        if denied:
            return decide(False, policy_type, denied.statement, explicit=True)

    granted = _find(resource_policies, Effect.ALLOW, action, arn, context, identity)
    kind = identity.kind

    # Service principals have no identity-based policies: the resource policy decides.
    if kind is Kind.SERVICE:
        if granted is None:
            return decide(False, PolicyType.RESOURCE)
        return decide(True, PolicyType.RESOURCE, granted.statement)

    same_account = resource.owner(identity) == identity.account
    # 3. Trust and key policies must allow, whatever the identity-based policies say.
    if same_account and request.resource_policy_required and granted is None:
        return decide(False, PolicyType.RESOURCE)

    if kind is Kind.ROOT:
        if same_account or granted is not None:
            return decide(True, PolicyType.RESOURCE if granted else None, _statement(granted))
        return decide(False, PolicyType.RESOURCE)

    # 2. Same account: a resource policy naming the user or session itself is enough.
    direct_kinds = (Kind.USER, Kind.ASSUMED_ROLE, Kind.FEDERATED_USER)
    if same_account and granted and granted.grant is Grant.DIRECT and kind in direct_kinds:
        return decide(True, PolicyType.RESOURCE, granted.statement)

    # The caller's side: identity-based policies (or a same-account grant to its role),
    # then the boundary, then the session policies.
    allowed = _find(identity.policies, Effect.ALLOW, action, arn, context)
    role_grant = same_account and granted is not None and granted.grant is Grant.ROLE
    if allowed is None and not role_grant:
        return decide(False, PolicyType.IDENTITY)
    boundary = (identity.boundary,) if identity.boundary else ()
    if boundary and _find(boundary, Effect.ALLOW, action, arn, context) is None:
        return decide(False, PolicyType.BOUNDARY)
    if identity.is_session:
        sessions = identity.session_policies
        if sessions and _find(sessions, Effect.ALLOW, action, arn, context) is None:
            return decide(False, PolicyType.SESSION)
        if not sessions and kind is Kind.FEDERATED_USER:
            return decide(False, PolicyType.SESSION)

    # 4. Cross-account: the resource's account must allow too.
    if not same_account and granted is None:
        return decide(False, PolicyType.RESOURCE)
    if allowed is not None:
        return decide(True, PolicyType.IDENTITY, allowed.statement)
    return decide(True, PolicyType.RESOURCE, _statement(granted))


def _statement(found: _Found | None) -> Statement | None:
    return found.statement if found else None


def evaluate(request: Request, identity: Identity) -> Decision:
    """The decision for `request` made by `identity`: the first denied resource's
    decision, else the last resource's Allow."""
    decision: Decision | None = None
    for resource in request.resources or (Resource(),):
        decision = _evaluate_one(request, resource, identity)
        if decision.denied:
            return decision
    assert decision is not None
    return decision
