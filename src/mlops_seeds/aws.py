"""The only place the tool makes AWS clients.

Real AWS and the sandbox differ only by endpoint URL and credentials: boto3 reads
`AWS_ENDPOINT_URL` (and `AWS_ENDPOINT_URL_<SERVICE>`) itself, so no code path here knows
which one it talks to. Other accounts are reached by STS AssumeRole, as in AWS.
"""

import os
from functools import cache
from ipaddress import ip_address
from typing import Any
from urllib.parse import urlparse

import boto3
import botocore.loaders
import botocore.session
from botocore.config import Config

from mlops_seeds.errors import SeedsError

DEFAULT_REGION = "us-east-1"
SESSION_NAME = "mlops-seeds"


def region_of(session: boto3.Session | None = None) -> str:
    """The session's region, else $AWS_REGION / $AWS_DEFAULT_REGION, else us-east-1."""
    if session is not None and session.region_name:
        return str(session.region_name)
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION


@cache
def _data_loader() -> botocore.loaders.Loader:
    """One loader of botocore's service models for every session: a new session would
    otherwise read them from disk again for each client."""
    return botocore.loaders.create_loader()


class _EndpointSession(boto3.Session):  # type: ignore[misc]
    """A session bound to one endpoint URL, whatever the environment says."""

    endpoint_url: str | None = None


def _new_session(endpoint_url: str | None = None, **kwargs: Any) -> boto3.Session:
    core = botocore.session.Session()
    core.register_component("data_loader", _data_loader())
    session = _EndpointSession(botocore_session=core, **kwargs)
    session.endpoint_url = endpoint_url
    return session


def endpoint_of(session: boto3.Session) -> str | None:
    """The endpoint a session was made for by endpoint_session() (None: the environment's)."""
    return getattr(session, "endpoint_url", None)


def make_session(profile: str | None = None, region: str | None = None) -> boto3.Session:
    """A boto3 session for `profile` (default chain when None) in `region`."""
    session = _new_session(profile_name=profile)
    if region or not session.region_name:
        session = _new_session(profile_name=profile, region_name=region or region_of(session))
    return session


def endpoint_session(
    endpoint_url: str, access_key_id: str, secret_access_key: str, region: str
) -> boto3.Session:
    """A session whose clients all reach `endpoint_url` with the given static credentials,
    whatever the environment says (code running inside the sandbox calls it this way)."""
    return _new_session(
        endpoint_url=endpoint_url,
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        region_name=region,
    )


def targets_loopback(session: boto3.Session | None = None) -> bool:
    """True when the session's endpoint, else the global endpoint override, is this machine."""
    url = (endpoint_of(session) if session is not None else None) or os.environ.get(
        "AWS_ENDPOINT_URL", ""
    )
    host = urlparse(url).hostname
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def client_config(session: boto3.Session | None = None) -> Config:
    """Standard retries against AWS; a single attempt against the sandbox, where an
    unimplemented call fails at once instead of being retried."""
    attempts = 1 if targets_loopback(session) else 5
    return Config(retries={"mode": "standard", "total_max_attempts": attempts})


def client(service: str, session: boto3.Session | None = None, region: str | None = None) -> Any:
    """A boto3 client for `service` from `session` (default: a new default session)."""
    session = session or make_session(region=region)
    return session.client(
        service,
        region_name=region or region_of(session),
        config=client_config(session),
        endpoint_url=endpoint_of(session),
    )


def account_id(session: boto3.Session) -> str:
    """The account the session's credentials belong to."""
    return str(client("sts", session).get_caller_identity()["Account"])


def assume_role(
    session: boto3.Session, role_arn: str, session_name: str = SESSION_NAME
) -> boto3.Session:
    """A session in another account: the credentials of `role_arn`, same region."""
    try:
        credentials = client("sts", session).assume_role(
            RoleArn=role_arn, RoleSessionName=session_name
        )["Credentials"]
    except Exception as err:  # botocore's ClientError, EndpointConnectionError, ...
        raise SeedsError(f"cannot assume role {role_arn}: {err}") from err
    return _new_session(
        endpoint_url=endpoint_of(session),
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=region_of(session),
    )
