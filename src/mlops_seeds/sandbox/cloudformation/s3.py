"""AWS::S3::BucketPolicy -> moto's S3 backend (PutBucketPolicy); Ref is the bucket name.

Deviation: moto enforces a bucket policy's statements but ignores their Conditions, so the
usual `DenyInsecureTransport` statement (Deny s3:* unless aws:SecureTransport) would deny
every request. While this extension is installed, statements with a Condition are not
enforced (the sandbox's loopback HTTP counts as secure transport); the policy is stored and
returned whole.
"""

import json
from typing import Any

from moto.iam.access_control import IAMPolicy, PermissionResult
from moto.s3.models import FakeBucket, S3Backend, s3_backends

from mlops_seeds.sandbox.cloudformation.resource import SandboxResource

_MARK = "_mlops_seeds_unconditional"


class BucketPolicy(SandboxResource):
    """A bucket's policy."""

    TYPE = "AWS::S3::BucketPolicy"
    REPLACE_ON = frozenset({"Bucket"})

    @property
    def _backend(self) -> S3Backend:
        return s3_backends[self.context.account_id][self.context.partition]

    def _put(self, properties: dict[str, Any]) -> None:
        document = properties["PolicyDocument"]
        text = document if isinstance(document, str) else json.dumps(document)
        self._backend.put_bucket_policy(str(properties["Bucket"]), text.encode())

    def create(self) -> None:
        """PutBucketPolicy."""
        self._put(self.properties)
        self.physical_id = str(self.properties["Bucket"])

    def update(self, properties: dict[str, Any]) -> None:
        """PutBucketPolicy with the new document."""
        self._put(properties)

    def remove(self) -> None:
        """DeleteBucketPolicy (nothing when the bucket is gone)."""
        if str(self.properties["Bucket"]) in self._backend.buckets:
            self._backend.delete_bucket_policy(str(self.properties["Bucket"]))


def _unconditional(document: bytes) -> bytes:
    policy = json.loads(document.decode())
    statements = policy.get("Statement") or []
    if isinstance(statements, dict):
        statements = [statements]
    policy["Statement"] = [s for s in statements if not s.get("Condition")]
    return json.dumps(policy).encode()


def get_permission(bucket: FakeBucket, action: str, resource: str) -> Any:
    """moto's FakeBucket.get_permission over the policy's unconditional statements."""
    if bucket.policy is None:
        return PermissionResult.NEUTRAL
    policy = IAMPolicy(_unconditional(bucket.policy).decode())
    return policy.is_action_permitted(action, resource)


def install() -> None:
    """Enforce only the unconditional statements of bucket policies (once)."""
    if getattr(FakeBucket, _MARK, False):
        return
    FakeBucket.get_permission = get_permission  # type: ignore[method-assign,assignment]
    setattr(FakeBucket, _MARK, True)
