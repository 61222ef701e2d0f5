"""Model data from the sandbox's S3 onto disk, read straight from moto's S3 backends
(the bucket may belong to any account, as a model's data may in AWS with the right
bucket policy), then extracted as SageMaker extracts it into /opt/ml/model. With IAM
enforced, SageMaker reads it as the model's execution role (`check_access`)."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path
from urllib.parse import unquote, urlparse

from moto.s3.models import FakeKey, s3_backends

from mlops_seeds.containment import PathEscape, contained
from mlops_seeds.sandbox import runtime
from mlops_seeds.sandbox.iam import acting
from mlops_seeds.sandbox.iam.principals import SAGEMAKER


class ModelDataError(Exception):
    """Model data that cannot be fetched or extracted; the message is a FailureReason."""


def split_s3_uri(uri: str) -> tuple[str, str]:
    """s3://bucket/key -> (bucket, key); ModelDataError for anything else."""
    parsed = urlparse(uri)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise ModelDataError(f"Model data URL {uri!r} is not an s3:// URL.")
    return parsed.netloc, unquote(parsed.path.lstrip("/"))


def _bucket_backend(bucket: str, uri: str) -> object:
    located = s3_backends.bucket_accounts.get(bucket)
    if located is None:
        raise ModelDataError(f"Could not find model data at {uri}: bucket {bucket} does not exist.")
    partition, account = located
    return s3_backends[account][partition]


def check_access(role_arn: str, uri: str, compressed: bool) -> None:
    """ModelDataError, in SageMaker's words, unless the model's execution role may be
    assumed by SageMaker and read `uri` (GetObject; ListBucket too for a prefix); nothing
    when IAM is not enforced."""
    sandbox = runtime.current()
    if not sandbox.enforcing:
        return
    bucket, key = split_s3_uri(uri)
    try:
        identity = acting.identity_as_service(SAGEMAKER, role_arn, "SageMaker", sandbox.region)
        if not compressed:
            listing = {"Bucket": bucket, "Prefix": key}
            acting.authorize(identity, "s3", "ListObjectsV2", listing, sandbox.region)
            key = f"{key.rstrip('/')}/*"
        acting.authorize(
            identity, "s3", "GetObject", {"Bucket": bucket, "Key": key}, sandbox.region
        )
    except acting.AccessDenied as err:
        raise ModelDataError(
            f"Could not access model data at {uri}. Please ensure that the role "
            f'"{role_arn}" exists and that its trust relationship policy allows the action '
            f'"sts:AssumeRole" for the service principal "{SAGEMAKER}". Also ensure that '
            f'the role has "s3:GetObject" permissions and that the object is located in '
            f"{sandbox.region}. ({err.message})"
        ) from err


def read_object(uri: str) -> bytes:
    """The bytes of the S3 object at `uri`."""
    bucket, key = split_s3_uri(uri)
    backend = _bucket_backend(bucket, uri)
    found = backend.get_object(bucket, key)  # type: ignore[attr-defined]
    if not isinstance(found, FakeKey):
        raise ModelDataError(f"Could not find model data at {uri}.")
    return bytes(found.value)


def list_prefix(uri: str) -> dict[str, bytes]:
    """{relative key: bytes} of every object under the S3 prefix `uri`."""
    bucket, prefix = split_s3_uri(uri)
    backend = _bucket_backend(bucket, uri)
    keys = backend.get_bucket(bucket).keys  # type: ignore[attr-defined]
    found = {
        name[len(prefix) :].lstrip("/"): bytes(keys[name].value)
        for name in list(keys.keys())
        if name.startswith(prefix) and not name.endswith("/")
    }
    if not found:
        raise ModelDataError(f"Could not find model data at {uri}: no object under the prefix.")
    return found


def extract_archive(data: bytes, uri: str, destination: Path) -> None:
    """Extract a tar.gz archive into `destination`, refusing members that leave it."""
    destination.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
            archive.extractall(destination, filter="data")
    except (tarfile.TarError, OSError, EOFError) as err:
        raise ModelDataError(
            f'Failed to extract model data archive from URL "{uri}". Please ensure that '
            f"the object located at the URL is a valid tar.gz archive ({err})."
        ) from err


def fetch_model_data(uri: str, destination: Path, compressed: bool = True) -> None:
    """Put the model data at `uri` into `destination`: a tar.gz archive extracted, or
    (compressed=False) every object under the prefix copied."""
    if compressed:
        extract_archive(read_object(uri), uri, destination)
        return
    for relative, data in list_prefix(uri).items():
        try:
            target = contained(destination, relative, what=f"Model data key {relative!r}")
        except PathEscape:
            raise ModelDataError(
                f"Model data key {relative!r} under {uri} leaves the model dir."
            ) from None
        if target == destination.resolve():
            raise ModelDataError(f"Model data key {relative!r} under {uri} names no file.")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
