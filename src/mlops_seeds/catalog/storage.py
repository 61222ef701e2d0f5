"""The hub's buckets: the seed bucket, the uploads under content-hash keys, and Studio's
S3 route (tagged templates, CORS, domain tags)."""

import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from botocore.exceptions import ClientError

from mlops_seeds.aws import error_code
from mlops_seeds.catalog.actions import Action, Context, missing_tags, tag_dict, tag_list
from mlops_seeds.catalog.artifacts import Blob
from mlops_seeds.errors import SeedsError

VISIBILITY = {"sagemaker:studio-visibility": "true"}
TEMPLATES_LOCATION_TAG = "sagemaker:projectS3TemplatesLocation"
STUDIO_ORIGIN = "https://*.sagemaker.aws"
STUDIO_CORS_RULE = {
    "AllowedOrigins": [STUDIO_ORIGIN],
    "AllowedMethods": ["GET", "HEAD"],
    "AllowedHeaders": ["*"],
    "ExposeHeaders": ["ETag"],
}
ENCRYPTION = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}
BLOCK_PUBLIC = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}
DIGEST_METADATA = "sha256"


def _absent(read: Any, *missing_codes: str) -> bool:
    """Run `read`; True when it fails with one of `missing_codes`."""
    try:
        read()
    except ClientError as err:
        if error_code(err) in missing_codes:
            return True
        raise
    return False


def bucket_url(ctx: Context, bucket: str, key: str) -> str:
    """The https URL of an object (virtual-hosted style, regional endpoint)."""
    suffix = "amazonaws.com.cn" if ctx.partition == "aws-cn" else "amazonaws.com"
    return f"https://{bucket}.s3.{ctx.region}.{suffix}/{key}"


def bucket_actions(ctx: Context, bucket: str, cors: bool = False) -> tuple[list[Action], bool]:
    """Actions that make `bucket` versioned, encrypted, private (and Studio-readable when
    `cors`); and whether the bucket exists already."""
    s3 = ctx.client("s3")
    hub = ctx.hub_account
    try:
        s3.head_bucket(Bucket=bucket, ExpectedBucketOwner=hub)
        exists = True
    except ClientError as err:
        if error_code(err) in {"403", "AccessDenied"}:
            raise SeedsError(
                f"bucket {bucket} exists but not in account {hub}: choose another name"
            ) from err
        if error_code(err) not in {"404", "NoSuchBucket", "NotFound"}:
            raise
        exists = False
    actions = []
    if not exists:
        actions.append(Action("create", hub, f"s3://{bucket}", "bucket", _create_bucket(bucket)))
    versioned = exists and s3.get_bucket_versioning(Bucket=bucket).get("Status") == "Enabled"
    if not versioned:
        actions.append(Action("configure", hub, f"s3://{bucket}", "versioning", _version(bucket)))
    encrypted = exists and not _absent(
        lambda: s3.get_bucket_encryption(Bucket=bucket),
        "ServerSideEncryptionConfigurationNotFoundError",
    )
    if not encrypted:
        actions.append(Action("configure", hub, f"s3://{bucket}", "encryption", _encrypt(bucket)))
    if not exists or _public_access_open(s3, bucket):
        actions.append(
            Action("configure", hub, f"s3://{bucket}", "block public access", _block(bucket))
        )
    if cors and (not exists or not _has_studio_cors(s3, bucket)):
        actions.append(
            Action("configure", hub, f"s3://{bucket}", f"CORS for {STUDIO_ORIGIN}", _cors(bucket))
        )
    return actions, exists


def _public_access_open(s3: Any, bucket: str) -> bool:
    try:
        config = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    except ClientError as err:
        if error_code(err) == "NoSuchPublicAccessBlockConfiguration":
            return True
        raise
    return not all(config.get(k) for k in BLOCK_PUBLIC)


def _cors_rules(s3: Any, bucket: str) -> list[dict[str, Any]]:
    try:
        return list(s3.get_bucket_cors(Bucket=bucket).get("CORSRules", []))
    except ClientError as err:
        if error_code(err) == "NoSuchCORSConfiguration":
            return []
        raise


def _has_studio_cors(s3: Any, bucket: str) -> bool:
    return any(
        STUDIO_ORIGIN in r.get("AllowedOrigins", []) and "GET" in r.get("AllowedMethods", [])
        for r in _cors_rules(s3, bucket)
    )


def _create_bucket(bucket: str) -> Any:
    def run(ctx: Context) -> None:
        extra = {}
        if ctx.region != "us-east-1":
            extra = {"CreateBucketConfiguration": {"LocationConstraint": ctx.region}}
        ctx.client("s3").create_bucket(Bucket=bucket, **extra)

    return run


def _version(bucket: str) -> Any:
    def run(ctx: Context) -> None:
        ctx.client("s3").put_bucket_versioning(
            Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}
        )

    return run


def _encrypt(bucket: str) -> Any:
    def run(ctx: Context) -> None:
        ctx.client("s3").put_bucket_encryption(
            Bucket=bucket, ServerSideEncryptionConfiguration=ENCRYPTION
        )

    return run


def _block(bucket: str) -> Any:
    def run(ctx: Context) -> None:
        ctx.client("s3").put_public_access_block(
            Bucket=bucket, PublicAccessBlockConfiguration=BLOCK_PUBLIC
        )

    return run


def _cors(bucket: str) -> Any:
    def run(ctx: Context) -> None:
        s3 = ctx.client("s3")
        rules = [r for r in _cors_rules(s3, bucket) if STUDIO_ORIGIN not in r["AllowedOrigins"]]
        s3.put_bucket_cors(
            Bucket=bucket, CORSConfiguration={"CORSRules": [*rules, STUDIO_CORS_RULE]}
        )

    return run


def _object_exists(s3: Any, bucket: str, key: str) -> dict[str, Any] | None:
    try:
        return dict(s3.head_object(Bucket=bucket, Key=key))
    except ClientError as err:
        if error_code(err) in {"404", "NoSuchKey", "NotFound"}:
            return None
        raise


def upload_actions(ctx: Context, bucket: str, blobs: Iterable[Blob], exists: bool) -> list[Action]:
    """An upload for each content-hash key not in the bucket yet."""
    s3 = ctx.client("s3")
    return [
        Action(
            "upload",
            ctx.hub_account,
            f"s3://{bucket}/{b.key}",
            b.summary,
            _put(bucket, b.key, b),
        )
        for b in blobs
        if not exists or _object_exists(s3, bucket, b.key) is None
    ]


def _put(bucket: str, key: str, blob: Blob, tags: dict[str, str] | None = None) -> Any:
    def run(ctx: Context) -> None:
        extra = {"Tagging": urlencode(tags)} if tags else {}
        ctx.client("s3").put_object(
            Bucket=bucket,
            Key=key,
            Body=blob.body,
            ContentType=blob.content_type,
            Metadata={DIGEST_METADATA: blob.digest},
            **extra,
        )

    return run


def route_template_actions(
    ctx: Context, bucket: str, templates: dict[str, Blob], exists: bool
) -> list[Action]:
    """Each template at `key` with the Studio visibility tag (key -> blob)."""
    s3 = ctx.client("s3")
    actions = []
    for key, blob in sorted(templates.items()):
        resource = f"s3://{bucket}/{key}"
        head = _object_exists(s3, bucket, key) if exists else None
        if head is None or head.get("Metadata", {}).get(DIGEST_METADATA) != blob.digest:
            detail = "new template" if head is None else f"template changed ({blob.digest[:12]})"
            actions.append(
                Action(
                    "upload", ctx.hub_account, resource, detail, _put(bucket, key, blob, VISIBILITY)
                )
            )
            continue
        tags = tag_dict(s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"])
        if missing_tags(VISIBILITY, tags):
            actions.append(
                Action(
                    "tag",
                    ctx.hub_account,
                    resource,
                    "sagemaker:studio-visibility=true",
                    _tag_object(bucket, key),
                )
            )
    return actions


def _tag_object(bucket: str, key: str) -> Any:
    def run(ctx: Context) -> None:
        s3 = ctx.client("s3")
        tags = tag_dict(s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"])
        s3.put_object_tagging(
            Bucket=bucket, Key=key, Tagging={"TagSet": tag_list({**tags, **VISIBILITY})}
        )

    return run


def domain_actions(ctx: Context, domain_ids: Iterable[str], location: str) -> list[Action]:
    """Tag each Studio domain with the S3 templates location."""
    sagemaker = ctx.client("sagemaker")
    wanted = {TEMPLATES_LOCATION_TAG: location}
    actions = []
    for domain_id in domain_ids:
        try:
            arn = sagemaker.describe_domain(DomainId=domain_id)["DomainArn"]
        except ClientError as err:
            if error_code(err) in {"ResourceNotFound", "ValidationException"}:
                raise SeedsError(
                    f"s3_route.domain_ids: no SageMaker domain {domain_id} in account "
                    f"{ctx.hub_account} ({ctx.region})"
                ) from err
            raise
        tags = tag_dict(sagemaker.list_tags(ResourceArn=arn).get("Tags", []))
        if missing_tags(wanted, tags):
            actions.append(
                Action(
                    "tag",
                    ctx.hub_account,
                    f"domain {domain_id}",
                    f"{TEMPLATES_LOCATION_TAG}={location}",
                    _tag_domain(arn, wanted),
                )
            )
    return actions


def _tag_domain(arn: str, tags: dict[str, str]) -> Any:
    def run(ctx: Context) -> None:
        ctx.client("sagemaker").add_tags(ResourceArn=arn, Tags=tag_list(tags))

    return run


READ_ACTIONS = ["s3:GetObject", "s3:GetObjectVersion"]
OWN_SIDS = ("SpokeAccountsRead", "OrganizationRead", "OrgUnitsRead")


def bucket_policy(
    ctx: Context, bucket: str, accounts: Iterable[str], nodes: Iterable[str]
) -> list[dict[str, Any]]:
    """The statements the tool owns: reads of the seeds by the spokes (their project stacks
    fetch the seed zips from the hub)."""
    arn = f"arn:{ctx.partition}:s3:::{bucket}"
    statements: list[dict[str, Any]] = []
    read = {"Effect": "Allow", "Action": READ_ACTIONS, "Resource": f"{arn}/*"}
    principals = [f"arn:{ctx.partition}:iam::{a}:root" for a in sorted(accounts)]
    if principals:
        statements.append({"Sid": "SpokeAccountsRead", **read, "Principal": {"AWS": principals}})
    orgs = sorted(n for n in nodes if n.startswith("o-"))
    units = sorted(n for n in nodes if n.startswith("ou-"))
    if orgs:
        condition = {"StringEquals": {"aws:PrincipalOrgID": orgs}}
        statements.append(
            {"Sid": "OrganizationRead", **read, "Principal": "*", "Condition": condition}
        )
    if units:
        paths = [f"o-*/*/{unit}/*" for unit in units]
        condition = {"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": paths}}
        statements.append({"Sid": "OrgUnitsRead", **read, "Principal": "*", "Condition": condition})
    return statements


def _current_policy(s3: Any, bucket: str) -> dict[str, Any]:
    try:
        return dict(json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]))
    except ClientError as err:
        if error_code(err) == "NoSuchBucketPolicy":
            return {}
        raise


def _merged(current: dict[str, Any], own: list[dict[str, Any]]) -> dict[str, Any]:
    others = [s for s in current.get("Statement", []) if s.get("Sid") not in OWN_SIDS]
    return {"Version": "2012-10-17", "Statement": [*others, *own]}


def policy_actions(
    ctx: Context, bucket: str, exists: bool, accounts: Iterable[str], nodes: Iterable[str]
) -> list[Action]:
    """Put the bucket policy when the tool's statements are missing or differ."""
    own = bucket_policy(ctx, bucket, accounts, nodes)
    current = _current_policy(ctx.client("s3"), bucket) if exists else {}
    if _merged(current, own).get("Statement") == current.get("Statement", []):
        return []
    detail = f"{len(own)} read statement(s) for the spokes"
    return [Action("configure", ctx.hub_account, f"s3://{bucket}", detail, _policy(bucket, own))]


def _policy(bucket: str, own: list[dict[str, Any]]) -> Any:
    def run(ctx: Context) -> None:
        s3 = ctx.client("s3")
        policy = _merged(_current_policy(s3, bucket), own)
        if policy["Statement"]:
            s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
        else:
            s3.delete_bucket_policy(Bucket=bucket)

    return run
