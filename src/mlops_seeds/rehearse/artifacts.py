"""Pipeline artifacts as CodePipeline keeps them: a zip per artifact and execution in the
pipeline's artifact store bucket, at `<pipeline[:20]>/<artifact[:10]>/<7 random chars>`,
and an unpacked copy on disk for the actions that read it."""

import secrets
import string
from dataclasses import dataclass
from pathlib import Path

import boto3

from mlops_seeds import aws
from mlops_seeds.archives import unzip_directory, zip_directory

_KEY_CHARS = string.ascii_letters + string.digits


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


def artifact_key(pipeline: str, artifact: str) -> str:
    """A new object key for `artifact` of `pipeline`, as CodePipeline names them."""
    suffix = "".join(secrets.choice(_KEY_CHARS) for _ in range(7))
    return f"{pipeline[:20]}/{artifact[:10]}/{suffix}"


class ArtifactStore:
    """The S3 artifact store of one pipeline, reached with `session`; artifacts are written
    under `kms_key_id` (SSE-KMS) when given, as CodePipeline writes them with the store's
    encryption key."""

    def __init__(
        self, session: boto3.Session, bucket: str, pipeline: str, kms_key_id: str | None = None
    ) -> None:
        self.bucket = bucket
        self.pipeline = pipeline
        self.kms_key_id = kms_key_id
        self._s3 = aws.client("s3", session)

    def put(self, name: str, directory: Path) -> Artifact:
        """Zip `directory` into the store as artifact `name`."""
        key = artifact_key(self.pipeline, name)
        encryption = (
            {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self.kms_key_id}
            if self.kms_key_id
            else {}
        )
        self._s3.put_object(
            Bucket=self.bucket, Key=key, Body=zip_directory(directory), **encryption
        )
        return Artifact(name, self.bucket, key, directory)

    def get(self, artifact: Artifact, directory: Path) -> Artifact:
        """Fetch `artifact`'s zip from the store and unpack it into `directory`."""
        body = self._s3.get_object(Bucket=artifact.bucket, Key=artifact.key)["Body"].read()
        unzip_directory(body, directory)
        return Artifact(artifact.name, artifact.bucket, artifact.key, directory)
