"""KMS keys to IAM: a key named by id, ARN, alias or alias ARN is the key's resource with
its key policy, and S3's use of a KMS key on a caller's behalf.

From the AWS KMS Developer Guide ("Key policies in AWS KMS": "Every KMS key must have
exactly one key policy ... no AWS principal, including the account root user, has any
permissions to a KMS key unless explicitly allowed in the key policy", where a statement
naming the account lets its IAM policies decide; "Allowing users in other accounts to use
a KMS key": both the key policy and the other account's IAM policies must allow) and the
Amazon S3 User Guide ("Using server-side encryption with AWS KMS keys"): writing an object
with SSE-KMS needs `kms:GenerateDataKey` on the key, reading one `kms:Decrypt`, each as the
caller, with `kms:ViaService` s3.<region>.amazonaws.com and `kms:CallerAccount`. The AWS
managed key `aws/s3` is checked the same way: its key policy (sandbox/kms.py) admits any
principal of its own account through S3 and no other account, so an object written under it
cannot be read from another account ("you must use a customer managed key if you want to
grant cross-account access", S3 User Guide); an object written under it names its ARN
(sandbox/s3.py). Publishing to an SNS topic encrypted under a key needs the publisher's
`kms:GenerateDataKey` and `kms:Decrypt` on it, through SNS (SNS Developer Guide, "Managing
Amazon SNS encryption keys": "the publisher must have the kms:GenerateDataKey* and
kms:Decrypt permissions"); the AWS managed key `aws/sns` admits only its own account's
principals, so an AWS service (EventBridge, CloudWatch) cannot publish to such a topic.
"""

from __future__ import annotations

import base64
from typing import Any

from moto.kms.models import kms_backends
from moto.s3.models import FakeKey, s3_backends

from mlops_seeds.sandbox.iam.documents import Policy, parse_policy
from mlops_seeds.sandbox.iam.errors import PolicyError
from mlops_seeds.sandbox.iam.evaluation import Request, Resource

AWS_MANAGED_S3 = "alias/aws/s3"
AWS_MANAGED_SNS = "alias/aws/sns"
SNS_PUBLISHES = frozenset({"Publish", "PublishBatch"})
READS = frozenset({"GetObject"})  # HeadObject needs kms:Decrypt only with checksum mode
WRITES = frozenset({"PutObject", "CreateMultipartUpload", "CopyObject"})
KEY_ID_LENGTH = 36  # moto's ciphertext blobs start with the key id


def find_key(key_id: str, region: str, account: str) -> tuple[Any, Any]:
    """(moto's key `key_id` names, its account's KMS), in the ARN's account and region when
    it is an ARN; (None, None) when there is no such key."""
    parts = key_id.split(":", 5)
    if key_id.startswith("arn:") and len(parts) == 6:
        region, account = parts[3], parts[4]
    try:  # an account's KMS is made on first use, as moto makes it for a request
        backend = kms_backends[account][region]
        if key_id.startswith("alias/aws/"):
            backend.get_key_id_from_alias(key_id)  # an AWS managed key: made on first use
        return backend.describe_key(key_id), backend
    except Exception:  # moto raises KeyError or NotFoundException for an unknown key
        return None, None


def key_resource(key_id: str, region: str, account: str) -> Resource:
    """The key's resource: its ARN, account and key policy (an unknown key: the ARN its
    name gives, no policy, so only a key policy could allow: none does)."""
    key, backend = find_key(key_id, region, account)
    if key is None:
        name = key_id if key_id.startswith("alias/") else f"key/{key_id}"
        return Resource(
            key_id if key_id.startswith("arn:") else f"arn:aws:kms:{region}:{account}:{name}"
        )
    policy: Policy | None
    try:
        policy = parse_policy(str(key.policy), name=f"key policy of {key.arn}")
    except PolicyError:
        policy = None
    tags = backend.tagger.get_tag_dict_for_resource(key.id)
    context = {f"aws:ResourceTag/{k}": v for k, v in tags.items()}
    return Resource(str(key.arn), account=str(key.account_id), policy=policy, context=context)


def key_of_ciphertext(blob: Any) -> str | None:
    """The ARN of the key a ciphertext blob (base64 text, as sent) was made with, for a
    Decrypt that names no KeyId (the key is in the ciphertext's metadata)."""
    try:
        raw = base64.b64decode(str(blob), validate=True)[:KEY_ID_LENGTH].decode()
    except (ValueError, UnicodeDecodeError):
        return None
    for regions in list(kms_backends.values()):
        for backend in list(regions.values()):
            key = backend.keys.get(raw)
            if key is not None:
                return str(key.arn)
    return None


def _object_key(bucket: str, key: str) -> FakeKey | None:
    located = s3_backends.bucket_accounts.get(bucket)
    if located is None:
        return None
    partition, account = located
    try:
        found = s3_backends[account][partition].get_object(bucket, key)
    except Exception:  # a missing bucket or key: S3 answers that itself
        return None
    return found if isinstance(found, FakeKey) else None


def _bucket_default(bucket: str) -> str | None:
    located = s3_backends.bucket_accounts.get(bucket)
    if located is None:
        return None
    partition, account = located
    found = s3_backends[account][partition].buckets.get(bucket)
    rule = ((found.encryption or {}).get("Rule") or {}) if found is not None else {}
    default = rule.get("ApplyServerSideEncryptionByDefault") or {}
    if default.get("SSEAlgorithm") != "aws:kms":
        return None
    return str(default.get("KMSMasterKeyID") or AWS_MANAGED_S3)


def _read_key(bucket: str, name: str, account: str) -> tuple[str, str] | None:
    """(key id, the account to look it up in) of an object under SSE-KMS, else None."""
    found = _object_key(bucket, name)
    if found is None or found.encryption != "aws:kms":
        return None
    located = s3_backends.bucket_accounts.get(bucket)
    return str(found.kms_key_id or AWS_MANAGED_S3), located[1] if located else account


def _write_key(params: dict[str, Any]) -> str | None:
    """The key an object written with `params` goes under (the request's, or the bucket's
    default encryption's)."""
    if params.get("ServerSideEncryption") == "aws:kms":
        return str(params.get("SSEKMSKeyId") or AWS_MANAGED_S3)
    if not params.get("ServerSideEncryption"):
        return _bucket_default(str(params.get("Bucket", "")))
    return None


def s3_requests(
    operation: str, params: dict[str, Any], region: str, account: str, context: dict[str, Any]
) -> list[Request]:
    """The KMS authorizations an S3 call needs of its caller (none without SSE-KMS):
    kms:Decrypt to read an object (GetObject; CopyObject's source),
    kms:GenerateDataKey to write one (PutObject, CreateMultipartUpload, CopyObject)."""
    uses: list[tuple[str, str, str]] = []  # (action, key id, account to look it up in)
    if operation in READS:
        read = _read_key(str(params.get("Bucket", "")), str(params.get("Key", "")), account)
        if read:
            uses.append(("kms:Decrypt", *read))
    if operation == "CopyObject" and params.get("CopySource"):
        bucket, _, name = str(params["CopySource"]).lstrip("/").partition("/")
        read = _read_key(bucket, name.split("?versionId=", 1)[0], account)
        if read:
            uses.append(("kms:Decrypt", *read))
    if operation in WRITES:
        written = _write_key(params)
        if written:
            uses.append(("kms:GenerateDataKey", written, account))
    via = {**context, "kms:ViaService": f"s3.{region}.amazonaws.com", "kms:CallerAccount": account}
    return [
        Request(action, (key_resource(key_id, region, where),), via, resource_policy_required=True)
        for action, key_id, where in uses
    ]


def sns_requests(
    operation: str, params: dict[str, Any], account: str, context: dict[str, Any]
) -> list[Request]:
    """The KMS authorizations publishing to an encrypted topic needs of its publisher
    (none for another operation, an unknown topic or a topic without a key)."""
    from moto.sns.models import sns_backends  # moto-heavy

    arn = str(params.get("TopicArn") or "")
    parts = arn.split(":")
    if operation not in SNS_PUBLISHES or len(parts) != 6 or parts[4] not in sns_backends:
        return []
    region, owner = parts[3], parts[4]
    topic = sns_backends[owner][region].topics.get(arn)
    key_id = str(getattr(topic, "kms_master_key_id", "") or "")
    if not key_id:
        return []
    key = key_resource(key_id, region, owner)
    via = {**context, "kms:ViaService": f"sns.{region}.amazonaws.com"}
    if account:
        via["kms:CallerAccount"] = account
    return [
        Request(action, (key,), via, resource_policy_required=True)
        for action in ("kms:GenerateDataKey", "kms:Decrypt")
    ]
