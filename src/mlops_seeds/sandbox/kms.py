"""KMS across accounts: a request naming a key of another account by its ARN (the only way
another account's key can be named, as the KMS Developer Guide says) is answered by that
account's KMS, once IAM (the key policy and the caller's policies, iam/kms.py) has allowed
it. moto looks for every key in the caller's account."""

from typing import Any

from moto.kms.models import KmsBackend, kms_backends
from moto.kms.responses import KmsResponse

_MARK = "_mlops_seeds_kms"
KEY_MEMBERS = ("KeyId", "DestinationKeyId", "SourceKeyId", "TargetKeyId")


def _backend(response: Any) -> KmsBackend:
    """The KMS of the account and region a key ARN in the request names, else the caller's."""
    for member in KEY_MEMBERS:
        value = response._get_param(member)
        if isinstance(value, str) and value.startswith("arn:"):
            parts = value.split(":", 5)
            regions = kms_backends.get(parts[4]) if len(parts) == 6 else None
            backend = regions.get(parts[3]) if regions is not None else None
            if backend is not None:
                return backend
    return kms_backends[response.current_account][response.region]


def install() -> None:
    """Route cross-account key ARNs (once)."""
    if getattr(KmsResponse, _MARK, False):
        return
    KmsResponse.kms_backend = property(_backend)  # type: ignore[assignment,method-assign]
    setattr(KmsResponse, _MARK, True)
