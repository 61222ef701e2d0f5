"""The base of every resource type the extension adds to moto's CloudFormation.

A type is a subclass of `SandboxResource` naming its CloudFormation type, its name
property, its GetAtt attributes and the properties whose change replaces it, with three
operations over the resolved properties: `create`, `update` (in place) and `delete`, all
calling moto's service backends so the resource is visible through the service's API.

Replaced resources are deleted when the stack update that replaced them has finished, as
CloudFormation does in its clean-up phase (see `deferred_deletions`). A resource named by
its template cannot be replaced (the replacement would need its name), as in AWS.
"""

import contextvars
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar

from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
from moto.core.common_models import CloudFormationModel
from moto.moto_api._internal import mock_random


@dataclass(frozen=True)
class Context:
    """Where a resource lives: account, region, and its stack and logical id."""

    account_id: str
    region: str
    logical_id: str
    stack_id: str

    @property
    def partition(self) -> str:
        """The AWS partition of the region."""
        return "aws-cn" if self.region.startswith("cn-") else "aws"


class ReplacementRefused(Exception):
    """An update would replace a resource that keeps its template-given name."""

    @property
    def message(self) -> str:
        """CloudFormation's reason."""
        return str(self.args[0])


class SandboxResource(CloudFormationModel):
    """A resource created by moto's CloudFormation through a service backend."""

    TYPE: ClassVar[str] = ""
    NAME_PROPERTY: ClassVar[str] = ""
    ATTRIBUTES: ClassVar[frozenset[str]] = frozenset()
    REPLACE_ON: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, context: Context, name: str, properties: dict[str, Any]) -> None:
        self.context = context
        self.name = name
        self.properties = properties
        self.physical_id = name
        self.attributes: dict[str, Any] = {}

    # ---------------------------------------------------------------- what a type implements
    def create(self) -> None:
        """Create the resource in its service; set physical_id and attributes."""
        raise NotImplementedError

    def update(self, properties: dict[str, Any]) -> None:
        """Change the resource in place to `properties` (no replacing property changed)."""
        raise NotImplementedError

    def remove(self) -> None:
        """Delete the resource from its service."""
        raise NotImplementedError

    @classmethod
    def generated_name(cls, context: Context, moto_name: str) -> str:
        """The name used when the template gives none (moto's stack-logical-suffix)."""
        return moto_name

    # ---------------------------------------------------------------- moto's interface
    @property
    def physical_resource_id(self) -> str:
        """What Ref returns."""
        return self.physical_id

    @classmethod
    def cloudformation_type(cls) -> str:
        """The CloudFormation resource type."""
        return cls.TYPE

    @classmethod
    def cloudformation_name_type(cls) -> str:
        """The property that names the resource ('' when none)."""
        return cls.NAME_PROPERTY

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        """Whether GetAtt supports `attr`."""
        return attr in cls.ATTRIBUTES

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        """GetAtt."""
        if attribute_name not in self.attributes:
            raise UnformattedGetAttTemplateException()
        return self.attributes[attribute_name]

    def is_created(self) -> bool:
        """Resources are complete when create returns."""
        return True

    @classmethod
    def _name(cls, context: Context, moto_name: str, properties: dict[str, Any]) -> str:
        given = properties.get(cls.NAME_PROPERTY) if cls.NAME_PROPERTY else None
        return str(given) if given else cls.generated_name(context, moto_name)

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> "SandboxResource":
        """Create the resource of a template entry."""
        context = Context(account_id, region_name, kwargs["LogicalId"], kwargs["StackId"])
        properties = dict(cloudformation_json.get("Properties") or {})
        resource = cls(context, cls._name(context, resource_name, properties), properties)
        resource.create()
        return resource

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: "SandboxResource",
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> "SandboxResource":
        """Update in place, replace (the old one deleted after the update), or nothing."""
        properties = dict(cloudformation_json.get("Properties") or {})
        original = original_resource
        if properties == original.properties:
            return original
        changed = {k for k in properties.keys() | original.properties.keys()}
        changed = {k for k in changed if properties.get(k) != original.properties.get(k)}
        if not changed & (cls.REPLACE_ON | {cls.NAME_PROPERTY} - {""}):
            original.update(properties)
            original.properties = properties
            return original
        name = cls._name(original.context, new_resource_name, properties)
        if name == original.name:
            raise ReplacementRefused(
                "CloudFormation cannot update a stack when a custom-named resource requires "
                f"replacing. Rename {name} and update the stack again."
            )
        defer_deletion(original)
        replacement = cls(original.context, name, properties)
        replacement.create()
        return replacement

    def delete(self, account_id: str, region_name: str) -> None:
        """Delete on stack deletion (moto calls this first)."""
        try:
            self.remove()
        except (TypeError, AttributeError) as err:  # moto would take these for "no delete()"
            raise RuntimeError(f"{self.TYPE} {self.name}: {err}") from err

    @classmethod
    def delete_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> None:
        """Unused: moto deletes through the instance's delete()."""
        raise NotImplementedError(f"{cls.TYPE} {resource_name} is deleted through delete()")


def random_name(prefix: str, length: int = 12) -> str:
    """`prefix-<random letters and digits>`, as CloudFormation names unnamed resources."""
    return f"{prefix}-{mock_random.get_random_string(length=length)}"


_stack_tags: contextvars.ContextVar[tuple[tuple[str, str], ...]] = contextvars.ContextVar(
    "mlops_seeds_stack_tags", default=()
)


@contextmanager
def stack_tags(given: dict[str, str]) -> Iterator[None]:
    """While a stack's resources are made or changed: the stack's own tags, which
    CloudFormation propagates to the resources it creates (the `aws:` ones it adds are not
    reproduced here)."""
    token = _stack_tags.set(tuple((k, v) for k, v in given.items() if not k.startswith("aws:")))
    try:
        yield
    finally:
        _stack_tags.reset(token)


def tags(
    properties: dict[str, Any], key: str = "Key", value: str = "Value"
) -> list[dict[str, str]]:
    """The resource's tags as a list of `{key: .., value: ..}` (the service's casing): the
    stack's tags, then the template's Tags (a key in both takes the template's value)."""
    merged = dict(_stack_tags.get())
    merged.update({str(t["Key"]): str(t["Value"]) for t in properties.get("Tags") or []})
    return [{key: k, value: v} for k, v in merged.items()]


_pending = threading.local()


def defer_deletion(replaced: SandboxResource) -> None:
    """Delete a replaced resource once the running stack update finishes (now, outside one)."""
    queue: list[SandboxResource] | None = getattr(_pending, "queue", None)
    if queue is None:
        replaced.remove()
    else:
        queue.append(replaced)


@contextmanager
def deferred_deletions() -> Iterator[list[SandboxResource]]:
    """Collect the resources a stack update replaces, for its clean-up to delete once it
    has succeeded (a failed update keeps the old resources)."""
    outer = getattr(_pending, "queue", None)
    _pending.queue = []
    try:
        yield _pending.queue
    finally:
        _pending.queue = outer


class FailingResource(SandboxResource):
    """A resource the sandbox cannot create: creating or updating it raises `failure` of its
    type, so the resource fails with that reason and the stack rolls back (stacks.py)."""

    TYPE = "AWS::CloudFormation::Unsupported"

    @classmethod
    def failure(cls, resource_type: str) -> Exception:
        """The exception, naming why `resource_type` cannot be created here."""
        raise NotImplementedError

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        """Any attribute: the resource fails before any GetAtt is read."""
        return True

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> "SandboxResource":
        """Fail with the reason."""
        raise cls.failure(str(kwargs.get("ResourceType", cls.TYPE)))

    def create(self) -> None:
        """Never reached."""
        raise self.failure(self.TYPE)

    def update(self, properties: dict[str, Any]) -> None:
        """Never reached."""
        raise self.failure(self.TYPE)

    def remove(self) -> None:
        """Nothing was created."""
