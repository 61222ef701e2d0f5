"""KMS across accounts: a request naming a key of another account by its ARN (the only way
another account's key can be named, as the KMS Developer Guide says) is answered by that
account's KMS, once IAM (the key policy and the caller's policies, iam/kms.py) has allowed
it, for the operations the Guide lets other accounts use ("Allowing users in other
accounts to use a KMS key": the cryptographic operations, DescribeKey, GetPublicKey,
GetKeyRotationStatus and the grant operations). Any other operation looks in the caller's
account only, where the key is not (NotFoundException), as moto does for every key."""

from typing import Any

from moto.kms.models import KmsBackend, kms_backends
from moto.kms.responses import KmsResponse

_MARK = "_mlops_seeds_kms"
KEY_MEMBERS = ("KeyId", "DestinationKeyId", "SourceKeyId")
CROSS_ACCOUNT = frozenset(
    {
        "Encrypt", "Decrypt", "ReEncrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext",
        "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext", "GenerateMac",
        "VerifyMac", "Sign", "Verify", "DescribeKey", "GetPublicKey", "GetKeyRotationStatus",
        "CreateGrant", "ListGrants", "RetireGrant", "RevokeGrant",
    }
)  # fmt: skip


def _backend(response: Any) -> KmsBackend:
    """The KMS of the account and region a key ARN in the request names (for an operation
    other accounts may use), else the caller's."""
    caller = kms_backends[response.current_account][response.region]
    if response._get_action() not in CROSS_ACCOUNT:
        return caller
    for member in KEY_MEMBERS:
        value = response._get_param(member)
        if isinstance(value, str) and value.startswith("arn:"):
            parts = value.split(":", 5)
            regions = kms_backends.get(parts[4]) if len(parts) == 6 else None
            backend = regions.get(parts[3]) if regions is not None else None
            if backend is not None:
                return backend
    return caller


def install() -> None:
    """Route cross-account key ARNs (once)."""
    if getattr(KmsResponse, _MARK, False):
        return
    KmsResponse.kms_backend = property(_backend)  # type: ignore[assignment,method-assign]
    setattr(KmsResponse, _MARK, True)
