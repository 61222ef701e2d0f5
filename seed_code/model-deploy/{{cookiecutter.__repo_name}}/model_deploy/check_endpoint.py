"""Test a deployed stage endpoint: InService, data capture on, real predictions.

Reads the stage's TemplateConfiguration written by the build
(``staging-config-export.json``), checks the endpoint ``<project>-<stage>``, invokes
it with a sample CSV payload and writes the results as JSON.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

PROG = "check-endpoint"
DEFAULT_PAYLOAD = "test/sample-payload-{{ cookiecutter.problem_type }}.csv"
REQUIRED_CAPTURE_MODES = {"Input", "Output"}


class EndpointTestError(Exception):
    """An expected failure before any check could run, reported as one line."""


@dataclass(frozen=True)
class Check:
    """The outcome of one check."""

    name: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class Payload:
    """A CSV request body and its row count."""

    body: bytes
    rows: int


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse command-line arguments."""
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("--import-build-config", required=True, help="stage config export")
    parser.add_argument("--export-test-results", required=True, help="results JSON to write")
    parser.add_argument("--payload", default=DEFAULT_PAYLOAD, help="CSV rows without label")
    parser.add_argument("--content-type", default="text/csv", help="request content type")
    parser.add_argument("--accept", default="text/csv", help="response type to ask for")
    parser.add_argument("--endpoint-name", help="override <SageMakerProjectName>-<StageName>")
    parser.add_argument(
        "--role-arn",
        default=os.environ.get("ENDPOINT_TEST_ROLE_ARN", ""),
        help="role to assume for an endpoint in another account (env ENDPOINT_TEST_ROLE_ARN)",
    )
    return parser.parse_args(argv)


def endpoint_name_from_config(path: Path) -> tuple[str, bool]:
    """Return the endpoint name and whether data capture is expected, from a build config."""
    try:
        parameters = json.loads(path.read_text(encoding="utf-8"))["Parameters"]
        name = f"{parameters['SageMakerProjectName']}-{parameters['StageName']}"
    except FileNotFoundError as error:
        raise EndpointTestError(f"{path}: build config not found") from error
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise EndpointTestError(
            f"{path}: not a TemplateConfiguration with Parameters.SageMakerProjectName "
            "and Parameters.StageName"
        ) from error
    return name, str(parameters.get("EnableDataCapture", "true")).lower() == "true"


def read_payload(path: Path) -> Payload:
    """Read a CSV payload: one or more rows of numbers, all of the same width."""
    try:
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    except FileNotFoundError as error:
        raise EndpointTestError(f"{path}: payload file not found") from error
    rows = [line for line in lines if line]
    widths = {len(row.split(",")) for row in rows}
    if not rows or len(widths) != 1:
        raise EndpointTestError(f"{path}: payload must be CSV rows of equal width")
    try:
        for row in rows:
            [float(value) for value in row.split(",")]
    except ValueError as error:
        raise EndpointTestError(f"{path}: payload must hold only numbers ({error})") from error
    return Payload(body=("\n".join(rows) + "\n").encode(), rows=len(rows))


def status_check(endpoint: dict[str, Any]) -> Check:
    """Pass when the endpoint is InService."""
    status = endpoint.get("EndpointStatus", "Unknown")
    detail = f"{endpoint.get('EndpointName')} is {status}"
    if endpoint.get("FailureReason"):
        detail += f": {endpoint['FailureReason']}"
    return Check("endpoint_in_service", status == "InService", detail)


def data_capture_check(endpoint_config: dict[str, Any], expected: bool) -> Check:
    """Pass when data capture of input and output is on (or off, if the stage disables it)."""
    capture = endpoint_config.get("DataCaptureConfig") or {}
    enabled = str(capture.get("EnableCapture", False)).lower() == "true"
    modes = {option.get("CaptureMode") for option in capture.get("CaptureOptions", [])}
    name = endpoint_config.get("EndpointConfigName")
    if not expected:
        return Check("data_capture", True, f"{name}: disabled by stage config (enabled={enabled})")
    if not enabled:
        return Check("data_capture", False, f"{name}: data capture is not enabled")
    if not REQUIRED_CAPTURE_MODES.issubset(modes):
        return Check("data_capture", False, f"{name}: captures {sorted(modes)}, not Input+Output")
    return Check("data_capture", True, f"{name}: capturing to {capture.get('DestinationS3Uri')}")


def numbers(values: Any) -> list[float]:
    """Return a prediction as a list of finite floats, or raise ValueError. A JSON object
    is the XGBoost container's form ({"score": 0.4}, or a list of class scores)."""
    if isinstance(values, dict):
        if "score" not in values:
            raise ValueError(f"a prediction object without 'score': {values!r}")
        values = values["score"]
    items = values if isinstance(values, list) else [values]
    try:
        result = [float(item) for item in items]
    except (TypeError, ValueError) as error:
        raise ValueError(f"not numbers: {values!r}") from error
    if not result or not all(math.isfinite(item) for item in result):
        raise ValueError(f"not finite numbers: {values!r}")
    return result


def parse_predictions(body: bytes, content_type: str, rows: int) -> list[list[float]]:
    """Parse a CSV, newline or JSON response into one list of numbers per prediction."""
    text = body.decode("utf-8", errors="replace").strip()
    if "json" in content_type:
        document = json.loads(text)
        items = document.get("predictions") if isinstance(document, dict) else document
        if not isinstance(items, list):
            raise ValueError("JSON response is neither a list nor {'predictions': [...]}")
        return [numbers(item) for item in items]
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) == 1 and rows > 1:
        return [numbers(token) for token in lines[0].split(",")]
    return [numbers(line.split(",")) for line in lines]


def invocation_check(runtime: Any, endpoint_name: str, payload: Payload, args: Any) -> Check:
    """Invoke the endpoint and pass when it returns one numeric prediction per row."""
    try:
        response = runtime.invoke_endpoint(
            EndpointName=endpoint_name,
            Body=payload.body,
            ContentType=args.content_type,
            Accept=args.accept,
        )
    except ClientError as error:
        return Check("invocation", False, f"invoke_endpoint failed: {error}")
    body = response["Body"].read()
    try:
        predictions = parse_predictions(body, response.get("ContentType", ""), payload.rows)
    except ValueError as error:
        return Check("invocation", False, f"response {body[:80]!r} is not numeric: {error}")
    if len(predictions) != payload.rows:
        detail = f"expected {payload.rows} predictions, got {len(predictions)}"
        return Check("invocation", False, detail)
    shown = ", ".join(f"{row[0]:g}" for row in predictions[:5])
    return Check("invocation", True, f"{payload.rows} predictions: {shown}")


def run_checks(
    sagemaker: Any, runtime: Any, endpoint_name: str, capture: bool, payload: Payload, args: Any
) -> list[Check]:
    """Run the checks in order; later checks are skipped when the endpoint is unusable."""
    try:
        endpoint = sagemaker.describe_endpoint(EndpointName=endpoint_name)
    except ClientError as error:
        missing = Check("endpoint_in_service", False, f"{endpoint_name}: {error}")
        return [missing, *skipped(("data_capture", "invocation"))]
    checks = [status_check(endpoint)]
    if not checks[0].passed:
        return [*checks, *skipped(("data_capture", "invocation"))]
    config = sagemaker.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    checks.append(data_capture_check(config, capture))
    checks.append(invocation_check(runtime, endpoint_name, payload, args))
    return checks


def skipped(names: Sequence[str]) -> list[Check]:
    """Return failed checks for the checks that could not run."""
    return [Check(name, False, "skipped: endpoint is not InService") for name in names]


def write_results(path: Path, endpoint_name: str, checks: list[Check]) -> bool:
    """Write the results JSON and return whether every check passed."""
    passed = all(check.passed for check in checks)
    document = {
        "endpoint_name": endpoint_name,
        "passed": passed,
        "checks": [asdict(check) for check in checks],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return passed


def endpoint_session(role_arn: str) -> boto3.Session:
    """The session the endpoint is reached with: the build's own, or `role_arn`'s (the
    staging account's test role) assumed from it."""
    if not role_arn:
        return boto3.Session()
    credentials = boto3.client("sts").assume_role(
        RoleArn=role_arn, RoleSessionName="staging-endpoint-test"
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: exit 1 with one line per failed check."""
    args = parse_args(argv)
    try:
        derived_name, capture = endpoint_name_from_config(Path(args.import_build_config))
        endpoint_name = args.endpoint_name or derived_name
        payload = read_payload(Path(args.payload))
        session = endpoint_session(args.role_arn)
        checks = run_checks(
            session.client("sagemaker"),
            session.client("sagemaker-runtime"),
            endpoint_name,
            capture,
            payload,
            args,
        )
    except EndpointTestError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 1
    except (ClientError, BotoCoreError) as error:
        print(f"{PROG}: error: AWS call failed: {error}", file=sys.stderr)
        return 1
    passed = write_results(Path(args.export_test_results), endpoint_name, checks)
    for check in checks:
        stream = sys.stdout if check.passed else sys.stderr
        print(
            f"{PROG}: {'PASS' if check.passed else 'FAIL'} {check.name}: {check.detail}",
            file=stream,
        )
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
