"""KMS's key policy lockout safety check (KMS API Reference, CreateKey and PutKeyPolicy,
`Policy`: "The key policy must allow the calling principal to make a subsequent
PutKeyPolicy request on the KMS key"; `BypassPolicyLockoutSafetyCheck` skips it). A
CreateKey or PutKeyPolicy whose new policy would leave its caller unable to change the
policy again is refused with MalformedPolicyDocumentException, LOCKOUT.

The check is kms:PutKeyPolicy on the key under the new policy, as the caller, with the
caller's IAM policies (a statement naming the account lets them decide), in the context of
the request being made: its tags are request tags (aws:RequestTag), and a key being made
has no tags yet (no aws:ResourceTag), as for any call that creates. AWS does not publish
which context it uses: a grant that holds only for keys already tagged does not count
here, though AWS might count it."""

import dataclasses
import datetime
import json
from typing import Any

from mlops_seeds.sandbox.iam import kms
from mlops_seeds.sandbox.iam.documents import parse_policy
from mlops_seeds.sandbox.iam.errors import PolicyError
from mlops_seeds.sandbox.iam.evaluation import Resource, evaluate
from mlops_seeds.sandbox.iam.operations import Operation
from mlops_seeds.sandbox.iam.principals import Identity
from mlops_seeds.sandbox.iam.requests import Where, checks

LOCKOUT = "The new key policy will not allow you to update the key policy in the future."


def default_key_policy(account: str, partition: str = "aws") -> str:
    """KMS's default key policy: the account's IAM policies decide (Developer Guide,
    "Default key policy")."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Id": "key-default-1",
            "Statement": [
                {
                    "Sid": "Enable IAM User Permissions",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                }
            ],
        }
    )


def locks_out(
    identity: Identity,
    policy: str | None,
    key_arn: str,
    region: str,
    request_tags: Any = None,
) -> bool:
    """Whether key policy `policy` (None: KMS's default) would leave `identity` unable to
    call PutKeyPolicy on `key_arn` (a key being made: `key/*` of its account), in a request
    carrying `request_tags` (any form a request's Tags take). A policy that does not parse
    is left to the checks that read it."""
    account = key_arn.split(":")[4]
    text = policy if policy is not None else default_key_policy(account, key_arn.split(":")[1])
    try:
        document = parse_policy(text, name=f"key policy of {key_arn}")
    except PolicyError:
        return False
    moment = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    params = {"KeyId": key_arn, "Policy": text, "Tags": request_tags or []}
    found = checks(
        Operation("kms", "PutKeyPolicy", params),
        Where(key_arn.split(":")[1], region, account),
        moment,
    )
    main = found.requests[0]  # with the request's tags as aws:RequestTag
    resource = Resource(key_arn, account=account, policy=document)
    if not key_arn.endswith("/*"):  # an existing key: its tags too
        resource = dataclasses.replace(kms.key_resource(key_arn, region, account), policy=document)
    request = dataclasses.replace(main, resources=(resource,))
    return evaluate(request, identity).denied
