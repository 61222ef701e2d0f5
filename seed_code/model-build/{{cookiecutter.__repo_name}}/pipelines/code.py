"""The pipeline's code in S3: which scripts go where, and a content-addressed prefix.

The pipeline definition refers to its scripts only by s3:// URIs under a code prefix, so
building the definition never uploads anything. `run-pipeline` uploads the scripts to the
same URIs before it upserts the pipeline. The default prefix ends in a digest of the
scripts, so every change of code is a new prefix and running executions keep their code.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.settings import SCRIPTS_DIR

PREPROCESS_SCRIPT = "preprocess.py"
EVALUATE_SCRIPT = "evaluate.py"
TRAIN_SCRIPT = "train.py"
DATA_QUALITY_SCRIPT = "data_quality.py"
SOURCEDIR_ARCHIVE = "sourcedir.tar.gz"


@dataclass(frozen=True)
class CodeUris:
    """The S3 URIs the pipeline definition reads its code from."""

    preprocess: str
    evaluate: str
    data_quality: str
    train_sourcedir: str


def code_uris(code_uri_prefix: str) -> CodeUris:
    """The URIs of the processing scripts and the training source archive under a prefix."""
    prefix = code_uri_prefix.rstrip("/")
    return CodeUris(
        preprocess=f"{prefix}/{PREPROCESS_SCRIPT}",
        evaluate=f"{prefix}/{EVALUATE_SCRIPT}",
        data_quality=f"{prefix}/{DATA_QUALITY_SCRIPT}",
        train_sourcedir=f"{prefix}/{SOURCEDIR_ARCHIVE}",
    )


def training_files(scripts_dir: Path = SCRIPTS_DIR) -> list[Path]:
    """The files of the training source directory: every script but the processing ones."""
    skip = {PREPROCESS_SCRIPT, EVALUATE_SCRIPT, DATA_QUALITY_SCRIPT}
    return sorted(p for p in scripts_dir.glob("*.py") if p.name not in skip)


def scripts_digest(scripts_dir: Path = SCRIPTS_DIR) -> str:
    """A short digest of every script, to version the code prefix."""
    digest = hashlib.sha256()
    for path in sorted(scripts_dir.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:12]


def default_code_uri_prefix(bucket: str, base_prefix: str) -> str:
    """`s3://<bucket>/<base_prefix>/code/<digest of the scripts>`."""
    return f"s3://{bucket}/{base_prefix}/code/{scripts_digest()}"


def sourcedir_archive(scripts_dir: Path = SCRIPTS_DIR) -> bytes:
    """A reproducible tar.gz of the training source directory (same input, same bytes)."""
    tar_bytes = io.BytesIO()
    with tarfile.open(fileobj=tar_bytes, mode="w") as archive:
        for path in training_files(scripts_dir):
            data = path.read_bytes()
            info = tarfile.TarInfo(name=path.name)
            info.size = len(data)
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(data))
    return gzip.compress(tar_bytes.getvalue(), mtime=0)


def split_s3_uri(uri: str) -> tuple[str, str]:
    """`s3://bucket/key` -> (bucket, key)."""
    if not uri.startswith("s3://"):
        raise ValueError(f"not an s3:// URI: {uri!r}")
    bucket, _, key = uri[len("s3://") :].partition("/")
    if not bucket or not key:
        raise ValueError(f"s3 URI needs a bucket and a key: {uri!r}")
    return bucket, key


def upload_code(s3_client: Any, code_uri_prefix: str, scripts_dir: Path = SCRIPTS_DIR) -> CodeUris:
    """Upload the processing scripts and the training archive to their URIs."""
    uris = code_uris(code_uri_prefix)
    bodies = {
        uris.preprocess: (scripts_dir / PREPROCESS_SCRIPT).read_bytes(),
        uris.evaluate: (scripts_dir / EVALUATE_SCRIPT).read_bytes(),
        uris.data_quality: (scripts_dir / DATA_QUALITY_SCRIPT).read_bytes(),
        uris.train_sourcedir: sourcedir_archive(scripts_dir),
    }
    for uri, body in bodies.items():
        upload_bytes(s3_client, uri, body)
    return uris


def upload_bytes(s3_client: Any, uri: str, body: bytes) -> None:
    """Put one object."""
    bucket, key = split_s3_uri(uri)
    s3_client.put_object(Bucket=bucket, Key=key, Body=body)
