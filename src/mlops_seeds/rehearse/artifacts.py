"""Pipeline artifacts as CodePipeline keeps them: a zip per artifact and execution in the
pipeline's artifact store bucket, at `<pipeline[:20]>/<artifact[:10]>/<7 random chars>`,
and an unpacked copy on disk for the actions that read it."""

import io
import secrets
import string
import zipfile
from dataclasses import dataclass
from pathlib import Path

import boto3

from mlops_seeds import aws

_KEY_CHARS = string.ascii_letters + string.digits
_EPOCH = (1980, 1, 1, 0, 0, 0)  # zip's earliest date: the same tree gives the same bytes


@dataclass(frozen=True)
class Artifact:
    """One artifact of an execution: its name, the zip in S3 and its unpacked directory."""

    name: str
    bucket: str
    key: str
    directory: Path

    @property
    def uri(self) -> str:
        """s3://bucket/key of the zip."""
        return f"s3://{self.bucket}/{self.key}"


def zip_tree(directory: Path) -> bytes:
    """The files under `directory` as a zip (paths relative to it, sorted, fixed dates,
    executable bits kept)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(path.relative_to(directory).as_posix(), _EPOCH)
            info.external_attr = (0o755 if path.stat().st_mode & 0o111 else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            bundle.writestr(info, path.read_bytes())
    return buffer.getvalue()


def unzip_tree(data: bytes, directory: Path) -> Path:
    """Unpack the zip `data` into `directory` (made); members may not leave it."""
    directory.mkdir(parents=True, exist_ok=True)
    root = directory.resolve()
    with zipfile.ZipFile(io.BytesIO(data)) as bundle:
        for member in bundle.infolist():
            target = (root / member.filename).resolve()
            if not target.is_relative_to(root):
                raise ValueError(f"artifact zip: {member.filename} leaves its directory")
            if member.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(bundle.read(member))
            if (member.external_attr >> 16) & 0o111:
                target.chmod(0o755)
    return directory


def artifact_key(pipeline: str, artifact: str) -> str:
    """A new object key for `artifact` of `pipeline`, as CodePipeline names them."""
    suffix = "".join(secrets.choice(_KEY_CHARS) for _ in range(7))
    return f"{pipeline[:20]}/{artifact[:10]}/{suffix}"


class ArtifactStore:
    """The S3 artifact store of one pipeline, reached with `session`."""

    def __init__(self, session: boto3.Session, bucket: str, pipeline: str) -> None:
        self.bucket = bucket
        self.pipeline = pipeline
        self._s3 = aws.client("s3", session)

    def put(self, name: str, directory: Path) -> Artifact:
        """Zip `directory` into the store as artifact `name`."""
        key = artifact_key(self.pipeline, name)
        self._s3.put_object(Bucket=self.bucket, Key=key, Body=zip_tree(directory))
        return Artifact(name, self.bucket, key, directory)

    def get(self, artifact: Artifact, directory: Path) -> Artifact:
        """Fetch `artifact`'s zip from the store and unpack it into `directory`."""
        body = self._s3.get_object(Bucket=artifact.bucket, Key=artifact.key)["Body"].read()
        unzip_tree(body, directory)
        return Artifact(artifact.name, artifact.bucket, artifact.key, directory)
