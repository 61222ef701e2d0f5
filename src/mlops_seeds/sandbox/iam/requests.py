"""From an API request to the IAM authorization requests AWS makes for it: the action,
the resources (ARNs from the request's members by the table in `actions.yaml`, with
their resource-based policies and tags from moto's state), the request's condition
context, and the iam:PassRole checks for role ARNs handed to a service."""

import datetime
import json
import re
import urllib.parse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources as package_files
from typing import Any

import yaml
from moto.iam.models import iam_backends
from moto.s3.models import s3_backends
from moto.sagemaker.models import sagemaker_backends

from mlops_seeds.sandbox.iam import kms
from mlops_seeds.sandbox.iam.documents import Policy, parse_policy
from mlops_seeds.sandbox.iam.errors import PolicyError
from mlops_seeds.sandbox.iam.evaluation import Request, Resource
from mlops_seeds.sandbox.iam.operations import Operation

_PLACEHOLDER = re.compile(r"\$\{([^}|:]+)(?::([^}|]*))?(?:\|(lower|relative))?\}")


@dataclass(frozen=True)
class Where:
    """Where a request is made: partition, region and the account it addresses."""

    partition: str
    region: str
    account: str


@dataclass(frozen=True)
class Checks:
    """The authorization requests of one API request: the main one first, then any
    iam:PassRole checks; `mapped` is False when the table has no resource for it (the
    request is evaluated on "*"); `open` when AWS authorizes nobody for it."""

    requests: tuple[Request, ...]
    mapped: bool
    open: bool = False


@lru_cache(maxsize=1)
def table() -> dict[str, Any]:
    """The operation table (`actions.yaml`)."""
    text = package_files.files(__package__).joinpath("actions.yaml").read_text()
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


def _walk(value: Any, path: list[str]) -> Iterator[Any]:
    if not path:
        if isinstance(value, list):
            yield from value
        elif value is not None and value != "":
            yield value
        return
    head, rest = path[0], path[1:]
    if isinstance(value, str) and value[:1] in "{[":
        try:
            value = json.loads(value)
        except ValueError:
            return
    if head == "*" and isinstance(value, list):
        for item in value:
            yield from _walk(item, rest)
    elif isinstance(value, Mapping) and head in value:
        yield from _walk(value[head], rest)


def member_values(params: Mapping[str, Any], path: str) -> list[str]:
    """The values of a dotted member path (`pipeline.roleArn`, `Targets.*.RoleArn`)."""
    return [str(v) for v in _walk(params, path.split(".")) if isinstance(v, str | int)]


# A name member given an ARN of one resource type that names a resource of another: a
# model package group's ARN names its packages (ListModelPackages).
_RELATED_TYPES = {("sagemaker", "model-package-group"): "model-package"}


def _arn_type(resource: str) -> str:
    """The resource type an ARN's resource part starts with ("" when it has none)."""
    cut = min((i for i in (resource.find("/"), resource.find(":")) if i >= 0), default=-1)
    return resource[:cut] if cut >= 0 else ""


def _expand(template: str, params: Mapping[str, Any], where: Where, lower: bool) -> list[str]:
    """Every ARN the template gives (one per value of a list member); [] when a member
    without default is absent. A template naming one member may be given an ARN there (many
    APIs take a name or an ARN): an ARN of the template's service and resource type is the
    resource itself (in whatever account it names); a related type's ARN names the
    template's resource by its name, in the ARN's account and region; any other ARN is
    taken as given, matching nothing written for this template's resources."""
    fixed = {"Partition": where.partition, "Region": where.region, "Account": where.account}
    found = [m for m in _PLACEHOLDER.finditer(template) if m.group(1) not in fixed]
    if len(found) != 1 or _PLACEHOLDER.fullmatch(template) or not template.startswith("arn:"):
        return _fill(template, params, fixed, lower, {})
    name, default, lowering = found[0].group(1), found[0].group(2), found[0].group(3)
    layout = template.split(":", 5)
    service = layout[2] if len(layout) == 6 else ""
    kind = _arn_type(layout[5]) if len(layout) == 6 else ""
    values = member_values(params, name) or ([default] if default is not None else [])
    expanded: list[str] = []
    for value in values:
        parts = value.split(":", 5)
        if not (value.startswith("arn:") and len(parts) == 6):
            expanded += _fill(template, params, fixed, lower, {name: value})
            continue
        arn_kind = _arn_type(parts[5])
        if parts[2] == service and _RELATED_TYPES.get((service, arn_kind)) == kind:
            scope = {**fixed, "Partition": parts[1], "Region": parts[3], "Account": parts[4]}
            resource_name = parts[5][len(arn_kind) + 1 :]
            expanded += _fill(template, params, scope, lower, {name: resource_name})
        else:
            expanded.append(value.lower() if lowering == "lower" and lower else value)
    return expanded


def _fill(
    template: str,
    params: Mapping[str, Any],
    fixed: Mapping[str, str],
    lower: bool,
    given: Mapping[str, str],
) -> list[str]:
    """The template with its placeholders replaced: `fixed` ones, `given` members, the
    request's members (every combination of list values)."""
    results = [""]
    position = 0
    for found in _PLACEHOLDER.finditer(template):
        literal = template[position : found.start()]
        name, default, lowering = found.group(1), found.group(2), found.group(3)
        if name in fixed:
            values = [fixed[name]]
        elif name in given:
            values = [given[name]]
        else:
            values = member_values(params, name)
        if not values and default is not None:
            values = [default]
        if not values:
            return []
        if lowering == "lower" and lower:
            values = [v.lower() for v in values]
        elif lowering == "relative":
            values = [v.lstrip("/") for v in values]
        results = [r + literal + v for r in results for v in values]
        position = found.end()
    return [r + template[position:] for r in results]


def _tags(params: Mapping[str, Any], member: str | None) -> dict[str, str]:
    """The request's tags: a list of {Key, Value} (any case; KMS's {TagKey, TagValue}), a
    map, query-flattened `Tags.member.N.Key`, or S3's URL-encoded `k=v&...` text."""
    names = [member] if member else ["Tags", "tags"]
    for name in names:
        value = params.get(name)
        if isinstance(value, str):
            return dict(urllib.parse.parse_qsl(value, keep_blank_values=True))
        if isinstance(value, Mapping):
            return {str(k): str(v) for k, v in value.items()}
        if isinstance(value, list):
            found = {}
            for item in value:
                if isinstance(item, Mapping):
                    key = item.get("Key", item.get("key", item.get("TagKey")))
                    if key is not None:
                        value = item.get("Value", item.get("value", item.get("TagValue", "")))
                        found[str(key)] = str(value)
            return found
        flat = {}
        for key, text in params.items():
            parts = str(key).split(".")
            if len(parts) == 4 and parts[0] == name and parts[3] == "Key":
                flat[text] = str(params.get(".".join([*parts[:3], "Value"]), ""))
        if flat:
            return {str(k): v for k, v in flat.items()}
    return {}


@lru_cache(maxsize=1024)
def parsed(document: str, name: str) -> Policy | None:
    """A policy document parsed once per text (None when it does not parse)."""
    try:
        return parse_policy(
            urllib.parse.unquote(document) if "%" in document[:3] else document, name=name
        )
    except (PolicyError, ValueError):
        return None


def role_of(arn: str) -> Any:
    """moto's role named by `arn` (found by name: role names are unique in an account),
    else None."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[2] != "iam" or not parts[5].startswith("role/"):
        return None
    account: Any = iam_backends.get(parts[4])
    backend = account.get(parts[1]) if account is not None else None
    if backend is None:
        return None
    name = parts[5].rsplit("/", 1)[-1]
    for role in list(backend.roles.values()):
        if role.name == name:
            return role
    return None


def trust_policy(role_arn: str) -> Policy | None:
    role = role_of(role_arn)
    if role is None:
        return None
    return parsed(str(role.assume_role_policy_document), f"{role_arn} trust policy")


def _s3_resource(arn: str, where: Where) -> Resource:
    bucket_name = arn.split(":::", 1)[-1].split("/", 1)[0]
    location = s3_backends.bucket_accounts.get(bucket_name)
    if location is None:
        return Resource(arn, account=where.account)
    partition, account = location
    backend = s3_backends[account][partition]
    bucket = backend.buckets.get(bucket_name)
    policy = None
    context: dict[str, str] = {}
    if bucket is not None:
        if bucket.policy:
            policy = parsed(bucket.policy.decode(), f"bucket policy of {bucket_name}")
        if "/" not in arn.split(":::", 1)[-1]:
            for tag in backend.tagger.list_tags_for_resource(bucket.arn).get("Tags", []):
                context[f"aws:ResourceTag/{tag['Key']}"] = tag["Value"]
    return Resource(arn, account=account, policy=policy, context=context)


def _sagemaker_resource(arn: str, raw: str, where: Where) -> Resource:
    """A SageMaker resource in the account and region its ARN names, with its tags; a model
    package group and its packages carry the group's resource policy."""
    from mlops_seeds.sandbox.sagemaker.group_policies import policy_of  # moto-heavy

    context: dict[str, str] = {}
    parts = raw.split(":", 5)
    owner, region = (parts[4], parts[3]) if len(parts) == 6 else (where.account, where.region)
    account: Any = sagemaker_backends.get(owner or where.account)
    backend = account.get(region or where.region) if account is not None else None
    if backend is not None:
        try:
            tags = backend._get_resource_from_arn(raw).tags
        except Exception:  # moto raises its own error per type: no tags
            tags = []
        for tag in tags:
            context[f"aws:ResourceTag/{tag['Key']}"] = tag["Value"]
    return Resource(arn, account=owner or None, policy=policy_of(raw), context=context)


def _sns_resource(arn: str) -> Resource:
    """A topic (or a subscription: its topic's) with its access policy and tags."""
    from moto.sns.models import sns_backends  # moto-heavy

    parts = arn.split(":")
    if len(parts) < 6:
        return Resource(arn)
    region, account = parts[3], parts[4]
    backend = sns_backends[account][region] if account in sns_backends else None
    topic = backend.topics.get(":".join(parts[:6])) if backend is not None else None
    if topic is None:
        return Resource(arn, account=account)
    context = {f"aws:ResourceTag/{k}": v for k, v in topic._tags.items()}
    policy = parsed(topic.policy, f"access policy of {topic.arn}")
    return Resource(arn, account=account, policy=policy, context=context)


def bus_resource(arn: str) -> Resource:
    """An event bus with its resource-based policy (who else may put events on it)."""
    from moto.events.models import events_backends  # moto-heavy

    parts = arn.split(":", 5)
    if len(parts) < 6:
        return Resource(arn)
    region, account, name = parts[3], parts[4], parts[5].split("/", 1)[-1]
    # (the account's backend made on first use, with its default bus, as for any account)
    bus = events_backends[account][region].event_buses.get(name) if account.isdigit() else None
    if bus is None or not bus.policy:
        return Resource(arn, account=account)
    return Resource(arn, account=account, policy=parsed(bus.policy, f"policy of {arn}"))


def _role_resource(arn: str) -> Resource:
    """A role by its real ARN (IAM APIs name a role without its path; its ARN has it),
    with the boundary it carries (iam:PermissionsBoundary, the key AWS sets for the
    actions that change a role's permissions)."""
    role = role_of(arn)
    if role is None:
        return Resource(arn)
    boundary = getattr(role, "permissions_boundary_arn", None)
    context = {"iam:PermissionsBoundary": boundary} if boundary else {}
    return Resource(str(role.arn), context=context)


def _resource(arn: str, raw: str, where: Where, trust: bool) -> Resource:
    if trust:
        return Resource(arn, policy=trust_policy(arn))
    if arn.startswith(f"arn:{where.partition}:iam::") and ":role/" in arn:
        return _role_resource(arn)
    if arn.startswith(f"arn:{where.partition}:s3:::"):
        return _s3_resource(arn, where)
    if ":sagemaker:" in arn:
        return _sagemaker_resource(arn, raw, where)
    if arn.startswith(f"arn:{where.partition}:sns:"):
        return _sns_resource(raw)
    if arn.startswith(f"arn:{where.partition}:events:") and ":event-bus/" in arn:
        return bus_resource(raw)
    return Resource(arn)


def _key_member(
    service: Mapping[str, Any], entry: Mapping[str, Any], params: Mapping[str, Any]
) -> str:
    """The member naming the KMS key an operation uses ("" when none): the entry's `key`,
    else the service's `key_member` when the request has it (every KMS operation on a key
    is then checked against the key and its policy, mapped or not)."""
    if entry.get("key"):
        return str(entry["key"])
    member = str(service.get("key_member") or "")
    return member if member and member in params else ""


def _keys(
    service: Mapping[str, Any], entry: Mapping[str, Any], params: Mapping[str, Any], where: Where
) -> list[Resource]:
    """The KMS key resources an operation names (a Decrypt may name none: its ciphertext
    does)."""
    member = _key_member(service, entry, params)
    values = member_values(params, member) if member else []
    if not values and entry.get("key_in_ciphertext"):
        found = kms.key_of_ciphertext(params.get(str(entry["key_in_ciphertext"])))
        values = [found] if found else []
    return [kms.key_resource(value, where.region, where.account) for value in values]


def _also(
    service: Mapping[str, Any],
    entry: Mapping[str, Any],
    params: Mapping[str, Any],
    where: Where,
    context: Mapping[str, Any],
) -> list[Request]:
    """The further authorizations an operation needs (its entry's `also`)."""
    arns: dict[str, str] = service.get("arns") or {}
    found: list[Request] = []
    for item in entry.get("also") or []:
        if item.get("when") and not _present(params, str(item["when"])):
            continue
        resources: list[Resource] = []
        for template in item.get("resources") or []:
            template = arns.get(template, template)
            for arn, raw in zip(
                _expand(template, params, where, lower=True),
                _expand(template, params, where, lower=False),
                strict=True,
            ):
                if item.get("other_accounts") and _account_of(raw) in ("", where.account):
                    continue
                resources.append(_resource(arn, raw, where, False))
        if item.get("key"):
            resources += [
                kms.key_resource(v, where.region, where.account)
                for v in member_values(params, str(item["key"]))
            ]
        if resources or (not item.get("resources") and not item.get("key")):
            found.append(
                Request(
                    str(item["action"]),
                    tuple(resources) or (Resource(),),
                    dict(context),
                    resource_policy_required=bool(item.get("key")),
                )
            )
    return found


def _tag_on_create(
    service: Mapping[str, Any], operation: Operation, main: Request, tagged: bool
) -> list[Request]:
    """The tagging authorization of a create call that carries tags (the service's
    `tag_on_create`): its action on the new resource, naming the call in its context key."""
    spec = service.get("tag_on_create") or {}
    if not tagged or operation.name not in spec.get("operations", ()):
        return []
    action = f"{service.get('prefix') or operation.service}:{spec['action']}"
    context = {**main.context, str(spec["context"]): operation.name}
    return [Request(action, main.resources[:1], context)]


def _present(params: Mapping[str, Any], member: str) -> bool:
    """Whether the request gives `member` (a list member of a query request arrives
    flattened, as `Tags.member.1.Key`)."""
    if params.get(member) or member_values(params, member):
        return True
    return any(str(key).startswith(f"{member}.") for key in params)


def _account_of(arn: str) -> str:
    parts = arn.split(":", 5)
    return parts[4] if len(parts) == 6 and arn.startswith("arn:") else ""


def checks(operation: Operation, where: Where, now: datetime.datetime) -> Checks:
    """The authorization requests AWS makes for `operation`."""
    service = table().get(operation.service) or {}
    prefix = str(service.get("prefix") or operation.service)
    entry: dict[str, Any] = (service.get("operations") or {}).get(operation.name) or {}
    arns: dict[str, str] = service.get("arns") or {}
    action = f"{prefix}:{entry.get('action', operation.name)}"
    params = operation.params
    trust = bool(entry.get("trust"))
    resources: list[Resource] = []
    for item in entry.get("resources", []):
        template = arns.get(item, item)
        lowered = _expand(template, params, where, lower=True)
        raw = _expand(template, params, where, lower=False)
        for arn, original in zip(lowered, raw, strict=True):
            resources.append(_resource(arn, original, where, trust))
    resources += _keys(service, entry, params, where)
    context: dict[str, Any] = {
        # The SDKs reach AWS over TLS; the loopback HTTP stands in for it (as for S3's
        # own bucket-policy check, cloudformation/s3.py).
        "aws:SecureTransport": True,
        "aws:CurrentTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "aws:EpochTime": str(int(now.replace(tzinfo=datetime.UTC).timestamp())),
        "aws:RequestedRegion": where.region,
    }
    tags = _tags(params, entry.get("tags"))
    if tags:
        context["aws:TagKeys"] = list(tags)
        for key, value in tags.items():
            context[f"aws:RequestTag/{key}"] = value
    for key, member in (entry.get("context") or {}).items():
        if str(member).startswith("="):
            context[key] = str(member)[1:]
            continue
        values = member_values(params, str(member))
        if values:
            context[key] = values
    main = Request(
        action,
        tuple(resources) or (Resource(),),
        context,
        resource_policy_required=trust
        or (bool(service.get("resource_policy_required")) and bool(resources)),
    )
    requests = [main, *_tag_on_create(service, operation, main, bool(tags))]
    if operation.service == "s3":
        requests += kms.s3_requests(
            operation.name, dict(params), where.region, where.account, context
        )
    if operation.service == "sns":
        requests += kms.sns_requests(operation.name, dict(params), where.account, context)
    requests += _also(service, entry, params, where, context)
    pass_role = entry.get("pass_role")
    if pass_role:
        member, principal = pass_role
        base = {k: v for k, v in context.items() if not k.startswith("aws:RequestTag")}
        base.pop("aws:TagKeys", None)
        for role_arn in member_values(params, member):
            requests.append(
                Request(
                    "iam:PassRole",
                    (Resource(role_arn),),
                    {**base, "iam:PassedToService": principal},
                )
            )
    return Checks(tuple(requests), mapped=bool(resources), open=bool(entry.get("open")))
