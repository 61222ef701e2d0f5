"""Data capture: what an endpoint with a `DataCaptureConfig` writes to S3 for each request
its model answered, in SageMaker's capture format (SageMaker Developer Guide, "Capture data
from real-time endpoint" and "View captured data"; API reference, "DataCaptureConfig").

- Only an endpoint config whose `EnableCapture` is not false captures, and only the share
  `InitialSamplingPercentage` of the requests, drawn at random.
- `CaptureOptions` chooses the request (`Input`), the answer (`Output`) or both
  (`InputAndOutput`, or both modes listed).
- A body whose content type (without parameters) is listed in `CaptureContentTypeHeader`'s
  `CsvContentTypes` or `JsonContentTypes` is kept as text with encoding `CSV` or `JSON`;
  any other body is base64-encoded (`BASE64`), as SageMaker does when no header is listed.
- One JSON line per request: `captureData.endpointInput` / `endpointOutput` with
  `observedContentType`, `mode`, `data` and `encoding`; `eventMetadata` with `eventId` and
  `inferenceTime`; `eventVersion` "0". The object's key is
  `<DestinationS3Uri>/<endpoint>/<variant>/yyyy/mm/dd/hh/<mm-ss-mmm>-<uuid>.jsonl`, in the
  sandbox clock's hour. SageMaker gathers several requests per file; the sandbox writes a
  file per request, which readers of the prefix cannot tell apart.
- SageMaker writes as the model's execution role, under `KmsKeyId` when given (else the
  bucket's default encryption). The sandbox's assumption, from the execution role guide:
  the role needs s3:PutObject on the destination (and the key's permissions). A write that
  is refused is not an error of the request, as on AWS, where the capture is just missing:
  the sandbox says why in the variant's server log.
"""

from __future__ import annotations

import base64
import json
import random
import threading
import time
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlparse

from botocore.exceptions import BotoCoreError, ClientError
from moto.sagemaker.models import sagemaker_backends

from mlops_seeds import aws
from mlops_seeds.sandbox import runtime
from mlops_seeds.sandbox.iam import acting
from mlops_seeds.sandbox.iam.principals import SAGEMAKER

EVENT_VERSION = "0"
ROLE_SESSION_SECONDS = 900  # how long a model role's session is reused for writes

_random = random.Random()
_clients: dict[str, tuple[float, Any]] = {}
_clients_lock = threading.Lock()


def encoding(content_type: str, header: Mapping[str, Any]) -> str:
    """CSV, JSON or BASE64: how a body of `content_type` is captured."""
    media = content_type.split(";", 1)[0].strip().lower()

    def listed(key: str) -> bool:
        return media in {str(t).split(";", 1)[0].strip().lower() for t in header.get(key) or []}

    if listed("CsvContentTypes"):
        return "CSV"
    if listed("JsonContentTypes"):
        return "JSON"
    return "BASE64"


def _payload(
    body: bytes, content_type: str, mode: str, header: Mapping[str, Any]
) -> dict[str, str]:
    kind = encoding(content_type, header)
    if kind == "BASE64":
        data = base64.b64encode(body).decode("ascii")
    else:
        data = body.decode("utf-8", errors="replace")
    return {"observedContentType": content_type, "mode": mode, "data": data, "encoding": kind}


def modes(config: Mapping[str, Any]) -> set[str]:
    """INPUT and/or OUTPUT, from CaptureOptions."""
    found: set[str] = set()
    for option in config.get("CaptureOptions") or []:
        mode = str(option.get("CaptureMode", ""))
        if mode in ("Input", "InputAndOutput"):
            found.add("INPUT")
        if mode in ("Output", "InputAndOutput"):
            found.add("OUTPUT")
    return found


def capture_record(
    config: Mapping[str, Any],
    request: tuple[bytes, str],
    answer: tuple[bytes, str],
    event_id: str,
    inference_time: str,
) -> dict[str, Any]:
    """The JSON line of one request: `request` and `answer` are (body, content type)."""
    header = config.get("CaptureContentTypeHeader") or {}
    wanted = modes(config)
    data: dict[str, Any] = {}
    if "INPUT" in wanted:
        data["endpointInput"] = _payload(request[0], request[1], "INPUT", header)
    if "OUTPUT" in wanted:
        data["endpointOutput"] = _payload(answer[0], answer[1], "OUTPUT", header)
    return {
        "captureData": data,
        "eventMetadata": {"eventId": event_id, "inferenceTime": inference_time},
        "eventVersion": EVENT_VERSION,
    }


def capture_key(prefix: str, endpoint: str, variant: str, when: Any, event_id: str) -> str:
    """`<prefix>/<endpoint>/<variant>/yyyy/mm/dd/hh/<mm-ss-mmm>-<event id>.jsonl`."""
    hour = when.strftime("%Y/%m/%d/%H")
    stamp = f"{when:%M-%S}-{when.microsecond // 1000:03d}"
    parts = [p for p in (prefix.strip("/"), endpoint, variant, hour) if p]
    return "/".join(parts) + f"/{stamp}-{event_id}.jsonl"


def sampled(config: Mapping[str, Any]) -> bool:
    """Whether this request is captured: enabled, and drawn within the sampling share."""
    if config.get("EnableCapture") is False or not modes(config):
        return False
    share = float(config.get("InitialSamplingPercentage") or 0)
    return share >= 100 or _random.random() * 100 < share


def _s3_as(role_arn: str) -> Any:
    """An S3 client of the model's role as SageMaker holds it (reused for a while)."""
    now = time.monotonic()
    with _clients_lock:
        cached = _clients.get(role_arn)
        if cached and now - cached[0] < ROLE_SESSION_SECONDS:
            return cached[1]
    session = runtime.current().session_as(SAGEMAKER, role_arn, "SageMaker")
    client = aws.client("s3", session)
    with _clients_lock:
        _clients[role_arn] = (now, client)
    return client


def forget_sessions() -> None:
    """Drop the reused sessions (a sandbox stopped, or a test changed a trust policy)."""
    with _clients_lock:
        _clients.clear()


def model_role(account: str, region: str, config_name: str, variant: str) -> str:
    """The execution role of the model behind `variant` of the endpoint config ('' if none)."""
    backend = sagemaker_backends[account][region]
    config = backend.endpoint_configs.get(config_name)
    for production in getattr(config, "production_variants", None) or []:
        if production.get("VariantName") == variant:
            model = backend._models.get(str(production.get("ModelName")))
            return str(getattr(model, "execution_role_arn", "") or "")
    return ""


def data_capture_config(account: str, region: str, config_name: str) -> dict[str, Any]:
    """The endpoint config's DataCaptureConfig ({} when it has none)."""
    config = sagemaker_backends[account][region].endpoint_configs.get(config_name)
    return dict(getattr(config, "data_capture_config", None) or {})


def record(
    where: tuple[str, str, str, str, str],
    request: tuple[bytes, str],
    answer: tuple[bytes, str],
) -> str | None:
    """Capture one answered request of `where` = (account, region, endpoint, variant,
    endpoint config), when its config says so; the reason when the write was refused
    (None when written or not captured)."""
    account, region, endpoint, variant, config_name = where
    config = data_capture_config(account, region, config_name)
    if not config or not sampled(config):
        return None
    when = runtime.clock().now()
    event_id = str(uuid.uuid4())
    line = capture_record(config, request, answer, event_id, when.strftime("%Y-%m-%dT%H:%M:%SZ"))
    destination = urlparse(str(config.get("DestinationS3Uri", "")))
    bucket = destination.netloc
    key = capture_key(destination.path, endpoint, variant, when, event_id)
    params: dict[str, Any] = {"Bucket": bucket, "Key": key, "Body": json.dumps(line) + "\n"}
    if config.get("KmsKeyId"):
        params |= {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": str(config["KmsKeyId"])}
    role = model_role(account, region, config_name, variant)
    try:
        _s3_as(role).put_object(**params)
    except acting.AccessDenied as err:
        return f"data capture to s3://{bucket}/{key} failed: {err.message}"
    except (ClientError, BotoCoreError, RuntimeError) as err:
        return f"data capture to s3://{bucket}/{key} failed: {err}"
    return None
