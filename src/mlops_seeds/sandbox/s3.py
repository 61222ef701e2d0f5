"""S3 objects record the ARN of the KMS key they are under, resolved as S3 resolves it: in
the writer's account (a key id or alias "resolves the key within the requester's account":
PutBucketEncryption's ServerSideEncryptionByDefault, PutObject's SSEKMSKeyId). A request for
SSE-KMS (`aws:kms`) that names no key is under the AWS managed key aws/s3, whatever the
bucket's default encryption (PutObject: "If you specify x-amz-server-side-encryption:aws:kms
... but do not provide x-amz-server-side-encryption-aws-kms-key-id, Amazon S3 uses the AWS
managed key (aws/s3)"), and so is a default `aws:kms` that names none; HeadObject names the
key's ARN. moto kept the name as given and gave an `aws:kms` request the bucket default's
key, so a write SageMaker makes under aws/s3 (model data with no OutputDataConfig.KmsKeyId)
looked readable from another account."""

from typing import Any

from moto.s3.models import FakeKey, S3Backend

from mlops_seeds.sandbox.iam.kms import AWS_MANAGED_S3, find_key

_MARK = "_mlops_seeds_s3_sse"


def _key_arn(name: str, account: str, region: str) -> str:
    """The ARN `name` (an ARN, key id or alias) resolves to in `account`, else `name` (an
    unknown key: IAM has refused the write already, iam/kms.py)."""
    if name.startswith("arn:"):
        return name
    key, _ = find_key(name, region, account)
    return str(key.arn) if key is not None else name


def _put_object(original: Any) -> Any:
    def put_object(self: S3Backend, *args: Any, **kwargs: Any) -> FakeKey:
        key = original(self, *args, **kwargs)
        if key.encryption != "aws:kms":
            return key  # type: ignore[no-any-return]
        named = kwargs.get("kms_key_id") or None
        if kwargs.get("encryption") == "aws:kms" and not named:
            key.kms_key_id = None  # not the bucket default's key: aws/s3
        region = self.get_bucket(key.bucket_name).region_name
        key.kms_key_id = _key_arn(key.kms_key_id or AWS_MANAGED_S3, self.account_id, region)
        return key  # type: ignore[no-any-return]

    return put_object


def install() -> None:
    """Patch S3's object writes (once)."""
    if getattr(S3Backend, _MARK, False):
        return
    S3Backend.put_object = _put_object(S3Backend.put_object)  # type: ignore[method-assign]
    setattr(S3Backend, _MARK, True)
