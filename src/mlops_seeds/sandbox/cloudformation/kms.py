"""`AWS::KMS::Key` with its KeyPolicy as CloudFormation passes it: the template's JSON object
becomes the key policy document (moto keeps the object as it is, which no policy reader can
parse, so every use of the key would be refused), and a key without KeyPolicy gets KMS's
default policy (moto fails on the missing property). Its Tags, written {Key, Value} as in
every template, are KMS's {TagKey, TagValue}."""

import functools
import json
from collections.abc import Callable
from typing import Any

from moto.kms.models import Key

_MARK = "_mlops_seeds_kms_key"


def _with_policy_text(create: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(create)
    def create_from_cloudformation_json(
        resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Any:
        properties = dict(cloudformation_json.get("Properties") or {})
        policy = properties.get("KeyPolicy")
        properties["KeyPolicy"] = json.dumps(policy) if isinstance(policy, dict) else policy
        properties["Tags"] = [
            {"TagKey": tag.get("Key"), "TagValue": tag.get("Value")}
            for tag in properties.get("Tags") or []
        ]
        given = {**cloudformation_json, "Properties": properties}
        return create(resource_name, given, account_id, region_name, **kwargs)

    return create_from_cloudformation_json


def install() -> None:
    """Patch moto's key resource (once)."""
    if getattr(Key, _MARK, False):
        return
    create = Key.create_from_cloudformation_json
    Key.create_from_cloudformation_json = _with_policy_text(create)  # type: ignore[method-assign]
    setattr(Key, _MARK, True)
