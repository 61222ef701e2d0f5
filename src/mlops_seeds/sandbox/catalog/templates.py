"""Provisioning artifact templates: read from the sandbox's own S3, parsed like CloudFormation.

Service Catalog copies the template when an artifact is created (`Info.LoadTemplateFromURL`);
the sandbox does the same from its S3 backend, so later changes to the object do not leak in.
"""

import re
from typing import Any
from urllib.parse import unquote, urlparse

import yaml
from moto.s3.models import s3_backends

from mlops_seeds.bounded_parsing import BoundedLoader, DocumentError, load_json, load_yaml
from mlops_seeds.sandbox.catalog.errors import InvalidParameters

# <bucket>.s3.amazonaws.com, <bucket>.s3.<region>.amazonaws.com, <bucket>.s3-<region>...
_VIRTUAL_HOST = re.compile(r"^(?P<bucket>.+)\.s3(?:[.-][a-z0-9-]+)?\.amazonaws\.com$")
# s3.amazonaws.com, s3.<region>.amazonaws.com, s3-<region>.amazonaws.com
_PATH_HOST = re.compile(r"^s3(?:[.-][a-z0-9-]+)?\.amazonaws\.com$")


def parse_s3_url(url: str) -> tuple[str, str]:
    """(bucket, key) of an S3 object URL, virtual-hosted or path style."""
    parsed = urlparse(url)
    host = parsed.hostname or ""
    path = unquote(parsed.path.lstrip("/"))
    if parsed.scheme == "https" and _PATH_HOST.match(host):
        bucket, _, key = path.partition("/")
    elif parsed.scheme == "https" and (match := _VIRTUAL_HOST.match(host)):
        bucket, key = match["bucket"], path
    else:
        raise InvalidParameters(f"LoadTemplateFromURL {url!r} is not an S3 object URL")
    if not bucket or not key:
        raise InvalidParameters(f"LoadTemplateFromURL {url!r} names no bucket and key")
    return bucket, key


def read_template(url: str) -> str:
    """The template text at an S3 URL of the sandbox, else InvalidParametersException."""
    bucket, key = parse_s3_url(url)
    location = s3_backends.bucket_accounts.get(bucket)
    if location is None:
        raise InvalidParameters(f"Unable to read template from {url}: no bucket {bucket}")
    partition, account = location
    try:
        obj = s3_backends[account][partition].get_object(bucket, key)
    except Exception as err:  # moto's MissingKey and friends
        raise InvalidParameters(f"Unable to read template from {url}: {err}") from err
    if obj is None:
        raise InvalidParameters(f"Unable to read template from {url}: no object {key}")
    try:
        return bytes(obj.value).decode("utf-8")
    except UnicodeDecodeError as err:
        raise InvalidParameters(f"Template at {url} is not UTF-8 text") from err


class _TemplateLoader(BoundedLoader):
    """Bounded YAML loader (size, depth, aliases, duplicate keys) that accepts
    CloudFormation short-form tags (!Ref, !Sub, ...)."""


def _tagged(loader: BoundedLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return {suffix: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {suffix: loader.construct_sequence(node, deep=True)}
    return {suffix: loader.construct_mapping(node, deep=True)}  # type: ignore[arg-type]


_TemplateLoader.add_multi_constructor("!", _tagged)


def parse_template(body: str, source: str) -> dict[str, Any]:
    """The template as a mapping; InvalidParametersException unless it has Resources."""
    try:
        if body.lstrip().startswith("{"):
            document = load_json(body, f"Template at {source}")
        else:
            document = load_yaml(body, f"Template at {source}", _TemplateLoader)
    except DocumentError as err:
        raise InvalidParameters(f"{err}") from err
    if not isinstance(document, dict) or not isinstance(document.get("Resources"), dict):
        raise InvalidParameters(f"Template at {source} has no Resources section")
    return document


def template_parameters(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The ProvisioningArtifactParameter shapes of a parsed template."""
    result = []
    for key, spec in (document.get("Parameters") or {}).items():
        spec = spec if isinstance(spec, dict) else {}
        entry: dict[str, Any] = {
            "ParameterKey": key,
            "ParameterType": str(spec.get("Type", "String")),
            "IsNoEcho": str(spec.get("NoEcho", "false")).lower() == "true",
            "Description": str(spec.get("Description", "")),
        }
        if "Default" in spec:
            entry["DefaultValue"] = str(spec["Default"])
        if spec.get("AllowedValues"):
            entry["ParameterConstraints"] = {
                "AllowedValues": [str(v) for v in spec["AllowedValues"]]
            }
        result.append(entry)
    return result
