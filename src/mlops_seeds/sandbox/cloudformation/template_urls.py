"""A template given by URL is read with the caller's own permissions. CloudFormation fetches
TemplateURL (CreateStack, UpdateStack, CreateChangeSet, GetTemplateSummary,
ValidateTemplate) as the caller, so the caller must be allowed s3:GetObject on the object:
by its own policies and, for a bucket of another account, by the bucket's policy too. A
caller that may not read it, or an object that is not there, gets AWS's ValidationError
"TemplateURL must reference a valid S3 object to which you have access." (moto read the
object unchecked.)
"""

from urllib.parse import unquote, urlparse

from moto.cloudformation.exceptions import ValidationError
from moto.cloudformation.responses import CloudFormationResponse
from moto.s3.models import s3_backends

from mlops_seeds.sandbox.iam import acting

MESSAGE = "TemplateURL must reference a valid S3 object to which you have access."
_MARK = "_mlops_seeds_template_urls"


def bucket_and_key(url: str) -> tuple[str, str]:
    """The bucket and key an S3 template URL names (virtual-hosted or path style, as moto
    reads them); ValidationError when it names none."""
    parts = urlparse(url)
    host, path = parts.netloc.split(":")[0], unquote(parts.path.lstrip("/"))
    virtual_hosted = ".s3." in host or ".s3-" in host  # <bucket>.s3[.-]<region>...
    if virtual_hosted:
        bucket, key = host.split(".s3", 1)[0], path
    else:  # s3[.-<region>].amazonaws.com/<bucket>/<key>, or a local endpoint
        bucket, _, key = path.partition("/")
    if not bucket or not key:
        raise ValidationError(message=MESSAGE)
    return bucket, key


def check(url: str, region: str) -> None:
    """ValidationError unless the request's caller may s3:GetObject the template (nothing
    to check when IAM is not enforced)."""
    identity = acting.caller()
    if identity is None:
        return
    bucket, key = bucket_and_key(url)
    try:
        acting.authorize(identity, "s3", "GetObject", {"Bucket": bucket, "Key": key}, region)
    except acting.AccessDenied as denied:
        raise ValidationError(message=MESSAGE) from denied


def read(url: str, region: str) -> str:
    """The template at `url`, read as the request's caller, from whichever account holds
    the bucket; ValidationError (AWS's words) when the caller may not or it is not there."""
    check(url, region)
    bucket, key = bucket_and_key(url)
    location = s3_backends.bucket_accounts.get(bucket)
    found = None
    if location is not None:
        partition, account = location
        found = s3_backends[account][partition].get_object(bucket, key)
    if found is None:
        raise ValidationError(message=MESSAGE)
    return str(found.value.decode("utf-8"))


def _get_stack_from_s3_url(self: CloudFormationResponse, template_url: str) -> str:
    return read(template_url, self.region)


def install() -> None:
    """Read every TemplateURL as its caller (once)."""
    if getattr(CloudFormationResponse, _MARK, False):
        return
    CloudFormationResponse._get_stack_from_s3_url = _get_stack_from_s3_url  # type: ignore[method-assign]
    setattr(CloudFormationResponse, _MARK, True)
