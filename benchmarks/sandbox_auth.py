"""Benchmark what authentication costs the sandbox: the signature check of one request on
its own, and a sandbox round trip (STS GetCallerIdentity, SageMaker ListPipelines, an S3
PutObject of 1 MiB) with the check in front, as a share of the round trip.

Run: python benchmarks/sandbox_auth.py [--calls N]
"""

import argparse
import datetime
import time
from collections.abc import Callable
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials

from mlops_seeds import aws
from mlops_seeds.sandbox import Sandbox
from mlops_seeds.sandbox.auth import issued_credentials, sigv4
from mlops_seeds.sandbox.auth.keys import Credentials

BODY = b"x" * (1024 * 1024)


def _per_call(calls: int, call: Callable[[], Any]) -> float:
    call()  # warm
    began = time.perf_counter()
    for _ in range(calls):
        call()
    return (time.perf_counter() - began) / calls


def _signed_request(root: Credentials, body: bytes) -> sigv4.Request:
    request = AWSRequest(method="PUT", url="http://127.0.0.1:4566/bucket/key", data=body)
    auth = SigV4Auth(BotoCredentials(root.access_key_id, root.secret_access_key), "s3", "us-east-1")
    auth.add_auth(request)
    headers = {k.lower(): v for k, v in request.headers.items()}
    headers["host"] = "127.0.0.1:4566"
    return sigv4.Request("PUT", "/bucket/key", "", headers, body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    with Sandbox() as sandbox, sandbox.environment():
        env = sandbox.env()
        root = Credentials(str(env["AWS_ACCESS_KEY_ID"]), str(env["AWS_SECRET_ACCESS_KEY"]))
        lookup = issued_credentials(root)
        session = aws.make_session()
        spoke = aws.assume_role(session, "arn:aws:iam::111111111111:role/Admin")
        sts, sagemaker, s3 = (aws.client(s, session) for s in ("sts", "sagemaker", "s3"))
        s3.create_bucket(Bucket="bench-auth")
        now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
        small, large = _signed_request(root, b"{}"), _signed_request(root, BODY)
        print(f"sandbox authentication, {args.calls} calls each")
        print(f"  {'':34} {'per call':>10} {'share':>7}")
        check_small = _per_call(args.calls, lambda: sigv4.verify(small, lookup, now))
        check_large = _per_call(args.calls, lambda: sigv4.verify(large, lookup, now))
        spoke_key = spoke.get_credentials().access_key
        check_spoke = _per_call(args.calls, lambda: lookup(spoke_key))
        rows = [
            ("check, 2-byte body (root key)", check_small, None),
            ("check, 1 MiB body (root key)", check_large, None),
            ("key lookup, an STS session key", check_spoke, None),
            (
                "GetCallerIdentity round trip",
                _per_call(args.calls, sts.get_caller_identity),
                check_small,
            ),
            (
                "ListPipelines round trip",
                _per_call(args.calls, sagemaker.list_pipelines),
                check_small,
            ),
            (
                "PutObject 1 MiB round trip",
                _per_call(
                    max(args.calls // 10, 5),
                    lambda: s3.put_object(Bucket="bench-auth", Key="k", Body=BODY),
                ),
                check_large,
            ),
        ]
        for label, seconds, check in rows:
            share = f"{check / seconds:7.1%}" if check is not None else ""
            print(f"  {label:34} {seconds * 1e6:8.0f} us {share}")


if __name__ == "__main__":
    main()
