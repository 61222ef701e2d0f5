"""Moving step inputs and outputs between S3 (or local paths) and the step's tree.

`s3://` URIs go through the execution's S3 client (made by `mlops_seeds.aws`, so
AWS_ENDPOINT_URL picks the sandbox or real S3); anything else is a local path (`file://`
allowed).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlops_seeds.containment import PathEscape, contained
from mlops_seeds.local.clients import Clients

S3 = "s3://"
FILE = "file://"


class TransferError(Exception):
    """An input is missing or an object cannot be moved."""


def split_s3_uri(uri: str) -> tuple[str, str]:
    """`s3://bucket/key` -> (bucket, key); the key may be empty."""
    bucket, _, key = uri[len(S3) :].partition("/")
    if not bucket:
        raise TransferError(f"{uri}: no bucket")
    return bucket, key


def sse_kms(key_id: str | None) -> dict[str, str]:
    """S3 upload arguments for an object SageMaker writes with SSE-KMS: under `key_id`, else
    under the AWS managed key aws/s3 of the role's account (the API reference's
    OutputDataConfig.KmsKeyId and TransformOutput.KmsKeyId)."""
    return {"ServerSideEncryption": "aws:kms", **({"SSEKMSKeyId": key_id} if key_id else {})}


def local_path(uri: str) -> Path:
    """The local path a non-S3 URI names."""
    return Path(uri.removeprefix(FILE)).expanduser()


class Storage:
    """Downloads and uploads for one execution."""

    def __init__(self, clients: Clients) -> None:
        self._clients = clients

    @property
    def s3(self) -> Any:
        """The execution's S3 client."""
        return self._clients.get("s3")

    def download(self, uri: str, destination: Path) -> int:
        """Copy the object(s) under `uri` (an S3 prefix, or a local file or folder) into the
        folder `destination`; returns how many files arrived (an empty source is an error)."""
        destination.mkdir(parents=True, exist_ok=True)
        count = (
            self._download_prefix(uri, destination)
            if uri.startswith(S3)
            else _copy_local(local_path(uri), destination)
        )
        if count == 0:
            raise TransferError(f"no object under {uri}")
        return count

    def _download_prefix(self, uri: str, destination: Path) -> int:
        bucket, prefix = split_s3_uri(uri)
        count = 0
        paginator = self.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                key = item["Key"]
                if key.endswith("/"):
                    continue
                relative = key[len(prefix) :].lstrip("/") or key.rsplit("/", 1)[-1]
                target = _inside(destination, relative, f"S3 key {key!r} under {uri}")
                target.parent.mkdir(parents=True, exist_ok=True)
                self.s3.download_file(bucket, key, str(target))
                count += 1
        return count

    def upload_folder(
        self, source: Path, uri: str, encryption: Mapping[str, str] | None = None
    ) -> list[str]:
        """Copy every file under `source` to `uri` + its relative path; returns the targets."""
        files = sorted(p for p in source.rglob("*") if p.is_file())
        for path in files:  # a symlink the step left pointing elsewhere is not its output
            _inside(source, path.relative_to(source), f"output file {path.relative_to(source)}")
        return [
            self.upload_file(p, join_uri(uri, p.relative_to(source).as_posix()), encryption)
            for p in files
        ]

    def upload_file(
        self, source: Path, uri: str, encryption: Mapping[str, str] | None = None
    ) -> str:
        """Copy one file to an S3 URI (with the `encryption` upload arguments, else the
        bucket's default) or a local path; returns `uri`."""
        if uri.startswith(S3):
            bucket, key = split_s3_uri(uri)
            self.s3.upload_file(str(source), bucket, key, ExtraArgs=dict(encryption or {}))
        else:
            target = local_path(uri)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
        return uri

    def read_json(self, uri: str) -> Any:
        """The JSON document at an S3 URI or local path."""
        try:
            if uri.startswith(S3):
                bucket, key = split_s3_uri(uri)
                body = self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            else:
                body = local_path(uri).read_bytes()
            return json.loads(body)
        except (OSError, ValueError) as err:
            raise TransferError(f"cannot read JSON from {uri}: {err}") from err


def _inside(folder: Path, relative: str | Path, what: str) -> Path:
    """`folder/relative`, or TransferError when it would lead outside `folder`."""
    try:
        target = contained(folder, relative, what=what)
    except PathEscape as err:
        raise TransferError(str(err)) from None
    if target == folder.resolve():
        raise TransferError(f"{what}: names no file inside {folder}")
    return target


def join_uri(base: str, relative: str) -> str:
    """`base/relative` with exactly one slash between them."""
    return f"{base.rstrip('/')}/{relative}"


def _copy_local(source: Path, destination: Path) -> int:
    if source.is_file():
        shutil.copyfile(source, destination / source.name)
        return 1
    if source.is_dir():
        shutil.copytree(source, destination, dirs_exist_ok=True)
        return sum(1 for p in source.rglob("*") if p.is_file())
    return 0
