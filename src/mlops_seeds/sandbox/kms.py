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

import json
from typing import Any

from moto.kms.models import KmsBackend, kms_backends
from moto.kms.responses import KmsResponse
from moto.kms.utils import RESERVED_ALIASES

from mlops_seeds.sandbox.iam.kms import AWS_MANAGED_S3, AWS_MANAGED_SNS

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


def install() -> None:
    """Route cross-account key ARNs and give aws/s3 and aws/sns their key policies (once)."""
    if getattr(KmsResponse, _MARK, False):
        return
    # moto makes the AWS managed keys it knows on first use; aws/sns is not among them.
    for alias in MANAGED:
        if alias not in RESERVED_ALIASES:
            RESERVED_ALIASES.append(alias)
    KmsResponse.kms_backend = property(_backend)  # type: ignore[assignment,method-assign]
    KmsBackend._generate_default_keys = _generate_default_keys(  # type: ignore[method-assign]
        KmsBackend._generate_default_keys
    )
    setattr(KmsResponse, _MARK, True)
