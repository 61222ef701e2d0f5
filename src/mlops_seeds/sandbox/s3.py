"""S3 objects under the key the request names: a request for SSE-KMS (`aws:kms`) that names
no key is under the AWS managed key aws/s3, whatever the bucket's default encryption (the
PutObject API reference: "If you specify x-amz-server-side-encryption:aws:kms ... but do not
provide x-amz-server-side-encryption-aws-kms-key-id, Amazon S3 uses the AWS managed key
(aws/s3)"): the writer's account's, in the bucket's region, and HeadObject names its ARN.
moto gave such an object the bucket default's key, so a write SageMaker makes under aws/s3
(model data with no OutputDataConfig.KmsKeyId) looked readable from another account. Only a
request that names no encryption takes the bucket's default."""

from typing import Any

from moto.kms.models import kms_backends
from moto.s3.models import FakeKey, S3Backend

AWS_MANAGED_S3 = "alias/aws/s3"

_MARK = "_mlops_seeds_s3_sse"


def _put_object(original: Any) -> Any:
    def put_object(self: S3Backend, *args: Any, **kwargs: Any) -> FakeKey:
        key = original(self, *args, **kwargs)
        if kwargs.get("encryption") == "aws:kms" and not kwargs.get("kms_key_id"):
            region = self.get_bucket(key.bucket_name).region_name
            kms = kms_backends[self.account_id][region]  # aws/s3 is made on first use, as AWS
            key.kms_key_id = kms.describe_key(AWS_MANAGED_S3).arn
        return key  # type: ignore[no-any-return]

    return put_object


def install() -> None:
    """Patch S3's object writes (once)."""
    if getattr(S3Backend, _MARK, False):
        return
    S3Backend.put_object = _put_object(S3Backend.put_object)  # type: ignore[method-assign]
    setattr(S3Backend, _MARK, True)
