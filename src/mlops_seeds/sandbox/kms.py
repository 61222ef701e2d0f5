"""KMS across accounts: a request naming a key of another account by its ARN (the only way
another account's key can be named, as the KMS Developer Guide says) is answered by that
account's KMS, once IAM (the key policy and the caller's policies, iam/kms.py) has allowed
it, for the operations the Guide lets other accounts use ("Allowing users in other
accounts to use a KMS key": the cryptographic operations, DescribeKey, GetPublicKey,
GetKeyRotationStatus and the grant operations). Any other operation looks in the caller's
account only, where the key is not (NotFoundException), as moto does for every key.

The AWS managed keys `aws/s3` and `aws/sns` (made on first use) have the key policy AWS
gives them, not moto's account-root policy: any principal of their own account may use them
through their service (`kms:ViaService`, `kms:CallerAccount`), and the account may read their
metadata. No other account, and no AWS service acting as itself, can use them: what S3
writes under aws/s3 only its own account can read, and EventBridge cannot publish to a topic
under aws/sns. (Other AWS managed keys keep moto's policy: theirs add grant operations, per
service, that nothing here uses.)"""

import functools
import json
from collections.abc import Callable
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.kms.models import KmsBackend, kms_backends
from moto.kms.responses import KmsResponse
from moto.kms.utils import RESERVED_ALIASES

from mlops_seeds.sandbox.iam import acting
from mlops_seeds.sandbox.iam.key_lockout import LOCKOUT, locks_out
from mlops_seeds.sandbox.iam.kms import AWS_MANAGED_S3, AWS_MANAGED_SNS, find_key

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


# The AWS managed keys given AWS's policy: alias -> (service, its label in the policy, the
# policy's Id, what the account's principals may do through the service).
MANAGED = {
    AWS_MANAGED_S3: (
        "s3",
        "S3",
        "auto-s3-2",
        ("kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"),
    ),
    AWS_MANAGED_SNS: (
        "sns",
        "SNS",
        "auto-sns-1",
        (
            "kms:Decrypt",
            "kms:GenerateDataKey*",
            "kms:CreateGrant",
            "kms:ListGrants",
            "kms:DescribeKey",
        ),
    ),
}


def aws_managed_key_policy(alias: str, account: str, region: str) -> str:
    """The key policy of the AWS managed key `alias` (one of MANAGED) in `account`."""
    service, label, policy_id, actions = MANAGED[alias]
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Id": policy_id,
            "Statement": [
                {
                    "Sid": f"Allow access through {label} for all principals in the account"
                    f" that are authorized to use {label}",
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": list(actions),
                    "Resource": "*",
                    "Condition": {
                        "StringEquals": {
                            "kms:CallerAccount": account,
                            "kms:ViaService": f"{service}.{region}.amazonaws.com",
                        }
                    },
                },
                {
                    "Sid": "Allow direct access to key metadata to the account",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                    "Action": ["kms:Describe*", "kms:Get*", "kms:List*"],
                    "Resource": "*",
                },
            ],
        }
    )


def _generate_default_keys(original: Any) -> Any:
    def generate(self: KmsBackend, alias_name: str) -> str | None:
        key_id = original(self, alias_name)
        if key_id is not None and alias_name in MANAGED:
            policy = aws_managed_key_policy(alias_name, self.account_id, self.region_name)
            self.keys[key_id].policy = policy
        return key_id  # type: ignore[no-any-return]

    return generate


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


class MalformedPolicyDocumentException(JsonRESTError):
    code = 400

    def __init__(self, message: str) -> None:
        super().__init__("MalformedPolicyDocumentException", message)


def _safe_from_lockout(handler: Callable[[KmsResponse], str]) -> Callable[[KmsResponse], str]:
    """CreateKey or PutKeyPolicy, refused as KMS refuses a policy that would lock its caller
    out (iam/key_lockout.py) unless the request bypasses the check; unchecked when IAM is
    not enforced."""

    @functools.wraps(handler)
    def checked(self: KmsResponse) -> str:
        identity = acting.caller()
        if identity is not None and not self._get_param("BypassPolicyLockoutSafetyCheck"):
            creating = self._get_action() == "CreateKey"
            key_arn = (
                f"arn:aws:kms:{self.region}:{self.current_account}:key/*"
                if creating
                else _key_arn(self)
            )
            tags = self._get_param("Tags") if creating else None
            policy = self._get_param("Policy")
            if key_arn and locks_out(identity, policy, key_arn, self.region, tags):
                raise MalformedPolicyDocumentException(LOCKOUT)
        return handler(self)

    return checked


def _key_arn(response: KmsResponse) -> str | None:
    """The ARN of the key a PutKeyPolicy names (None: no such key; moto says so)."""
    key, _ = find_key(
        str(response._get_param("KeyId") or ""), response.region, response.current_account
    )
    return str(key.arn) if key is not None else None


def install() -> None:
    """Route cross-account key ARNs, give aws/s3 and aws/sns their key policies, and check
    new key policies for lockout (once)."""
    if getattr(KmsResponse, _MARK, False):
        return
    KmsResponse.create_key = _safe_from_lockout(KmsResponse.create_key)  # type: ignore[method-assign,assignment]
    KmsResponse.put_key_policy = _safe_from_lockout(  # type: ignore[method-assign,assignment]
        KmsResponse.put_key_policy
    )
    # moto makes the AWS managed keys it knows on first use; aws/sns is not among them.
    for alias in MANAGED:
        if alias not in RESERVED_ALIASES:
            RESERVED_ALIASES.append(alias)
    KmsResponse.kms_backend = property(_backend)  # type: ignore[assignment,method-assign]
    KmsBackend._generate_default_keys = _generate_default_keys(  # type: ignore[method-assign]
        KmsBackend._generate_default_keys
    )
    setattr(KmsResponse, _MARK, True)
