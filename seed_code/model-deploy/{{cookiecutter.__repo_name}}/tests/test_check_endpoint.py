"""test/test.py: the staging endpoint test, against moto's SageMaker and SageMaker Runtime."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests

from model_deploy import check_endpoint
from tests.support import PROJECT_ID, PROJECT_NAME, REGION, REPO, ROLE_ARN, read_json

ENDPOINT = f"{PROJECT_NAME}-staging"
MOTO_RESULTS_API = "http://motoapi.amazonaws.com/moto-api/static/sagemaker/endpoint-results"
PAYLOAD_WIDTHS = {"regression": 10, "classification": 30}


def deploy_endpoint(
    sagemaker: Any, name: str = ENDPOINT, capture: bool = True, modes: tuple[str, ...] = ()
) -> None:
    """Create a model, an endpoint config with data capture and an endpoint in moto."""
    sagemaker.create_model(
        ModelName=f"{name}-model",
        ExecutionRoleArn=ROLE_ARN,
        PrimaryContainer={"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/xgb:1"},
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName=f"{name}-config",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": f"{name}-model",
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": 1,
            }
        ],
        DataCaptureConfig={
            "EnableCapture": capture,
            "InitialSamplingPercentage": 100,
            "DestinationS3Uri": "s3://bucket/datacapture/staging",
            "CaptureOptions": [{"CaptureMode": mode} for mode in modes or ("Input", "Output")],
        },
    )
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=f"{name}-config")


def queue_response(body: str, content_type: str = "text/csv", account: str = "") -> None:
    """Set the next invoke_endpoint response through moto's documented results API."""
    result = {
        "Body": body,
        "ContentType": content_type,
        "InvokedProductionVariant": "AllTraffic",
        "CustomAttributes": "",
    }
    request = {
        "region": REGION,
        "results": [result],
        **({"account_id": account} if account else {}),
    }
    response = requests.post(MOTO_RESULTS_API, json=request, timeout=10)
    assert response.status_code == 201


@pytest.fixture
def build_config(tmp_path: Path) -> Path:
    """The staging TemplateConfiguration as the build stage exports it."""
    path = tmp_path / "BuildArtifact" / "staging-config-export.json"
    path.parent.mkdir()
    document = {
        "Parameters": {
            "SageMakerProjectName": PROJECT_NAME,
            "StageName": "staging",
            "EnableDataCapture": "true",
        },
        "Tags": {"sagemaker:project-name": PROJECT_NAME, "sagemaker:project-id": PROJECT_ID},
    }
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def run_test(build_config: Path, tmp_path: Path, *extra: str) -> tuple[int, dict[str, Any] | None]:
    """Run test/test.py's main; return exit code and the results JSON (if written)."""
    results = tmp_path / "test-results.json"
    argv = ["--import-build-config", str(build_config), "--export-test-results", str(results)]
    code = check_endpoint.main([*argv, "--payload", str(payload_path("regression")), *extra])
    return code, read_json(results) if results.exists() else None


def payload_path(problem_type: str) -> Path:
    """The sample payload shipped for a problem type."""
    return REPO / "test" / f"sample-payload-{problem_type}.csv"


def outcome(results: dict[str, Any] | None) -> dict[str, bool]:
    """Map check name to passed."""
    assert results is not None
    return {check["name"]: check["passed"] for check in results["checks"]}


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("151.2\n75.1\n141.9\n", "text/csv"),
        ("151.2,75.1,141.9", "text/csv; charset=utf-8"),
        ('{"predictions": [151.2, 75.1, 141.9]}', "application/json"),
        ("[[0.2, 0.8], [0.9, 0.1], [0.4, 0.6]]", "application/json"),
    ],
)
def test_healthy_endpoint_passes(
    body: str, content_type: str, sagemaker: Any, build_config: Path, tmp_path: Path
) -> None:
    deploy_endpoint(sagemaker)
    queue_response(body, content_type)
    code, results = run_test(build_config, tmp_path)
    assert code == 0
    assert results is not None
    assert results["passed"] is True
    assert results["endpoint_name"] == ENDPOINT
    assert outcome(results) == {
        "endpoint_in_service": True,
        "data_capture": True,
        "invocation": True,
    }


def test_non_numeric_response_fails(
    sagemaker: Any, build_config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deploy_endpoint(sagemaker)  # nothing queued: moto answers with the canned body "body"
    code, results = run_test(build_config, tmp_path)
    assert code == 1
    assert outcome(results)["invocation"] is False
    assert "FAIL invocation: response b'body' is not numeric" in capsys.readouterr().err


@pytest.mark.parametrize("body", ["151.2\n75.1\n", "1\n2\n3\n4\n", "1.0\nnan\n2.0\n", ""])
def test_wrong_or_bad_predictions_fail(
    body: str, sagemaker: Any, build_config: Path, tmp_path: Path
) -> None:
    deploy_endpoint(sagemaker)
    queue_response(body)
    code, results = run_test(build_config, tmp_path)
    assert code == 1
    assert outcome(results) == {
        "endpoint_in_service": True,
        "data_capture": True,
        "invocation": False,
    }


def test_missing_endpoint_fails_every_check(
    aws: None, build_config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, results = run_test(build_config, tmp_path)
    assert code == 1
    assert set(outcome(results).values()) == {False}
    err = capsys.readouterr().err
    assert f"FAIL endpoint_in_service: {ENDPOINT}:" in err
    assert "Traceback" not in err


def test_disabled_data_capture_fails(sagemaker: Any, build_config: Path, tmp_path: Path) -> None:
    deploy_endpoint(sagemaker, capture=False)
    queue_response("1\n2\n3\n")
    code, results = run_test(build_config, tmp_path)
    assert code == 1
    assert outcome(results) == {
        "endpoint_in_service": True,
        "data_capture": False,
        "invocation": True,
    }


def test_capture_of_input_only_fails(sagemaker: Any, build_config: Path, tmp_path: Path) -> None:
    deploy_endpoint(sagemaker, modes=("Input",))
    queue_response("1\n2\n3\n")
    code, results = run_test(build_config, tmp_path)
    assert code == 1
    assert outcome(results)["data_capture"] is False


def test_capture_off_is_accepted_when_the_stage_disables_it(
    sagemaker: Any, build_config: Path, tmp_path: Path
) -> None:
    build_config.write_text(
        build_config.read_text().replace(
            '"EnableDataCapture": "true"', '"EnableDataCapture": "false"'
        )
    )
    deploy_endpoint(sagemaker, capture=False)
    queue_response("1\n2\n3\n")
    assert run_test(build_config, tmp_path)[0] == 0


def test_endpoint_name_can_be_overridden(
    sagemaker: Any, build_config: Path, tmp_path: Path
) -> None:
    deploy_endpoint(sagemaker, name="generated-endpoint-name")
    queue_response("1\n2\n3\n")
    code, results = run_test(build_config, tmp_path, "--endpoint-name", "generated-endpoint-name")
    assert code == 0
    assert results is not None
    assert results["endpoint_name"] == "generated-endpoint-name"


@pytest.mark.parametrize(
    ("status", "reason", "passed"),
    [
        ("InService", None, True),
        ("Creating", None, False),
        ("Updating", None, False),
        ("Failed", "image not found", False),
    ],
)
def test_only_in_service_endpoints_pass(status: str, reason: str | None, passed: bool) -> None:
    endpoint = {"EndpointName": ENDPOINT, "EndpointStatus": status}
    if reason:
        endpoint["FailureReason"] = reason
    check = check_endpoint.status_check(endpoint)
    assert check.passed is passed
    assert status in check.detail
    assert reason is None or reason in check.detail


@pytest.mark.parametrize("problem_type", sorted(PAYLOAD_WIDTHS))
def test_sample_payloads_match_the_model_build_features(problem_type: str) -> None:
    payload = check_endpoint.read_payload(payload_path(problem_type))
    rows = payload.body.decode().splitlines()
    assert payload.rows == len(rows) >= 1
    assert {len(row.split(",")) for row in rows} == {PAYLOAD_WIDTHS[problem_type]}


def test_default_payload_is_shipped() -> None:
    assert (REPO / check_endpoint.DEFAULT_PAYLOAD).is_file()


def test_classification_payload_is_configurable(
    sagemaker: Any, build_config: Path, tmp_path: Path
) -> None:
    deploy_endpoint(sagemaker)
    queue_response("0.97\n0.02\n0.99\n")
    payload = str(payload_path("classification"))
    assert run_test(build_config, tmp_path, "--payload", payload)[0] == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("a,b\n", "only numbers"),
        ("1,2\n1,2,3\n", "equal width"),
        ("\n", "equal width"),
    ],
)
def test_bad_payload_is_reported(
    content: str,
    message: str,
    aws: None,
    build_config: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(content, encoding="utf-8")
    code, results = run_test(build_config, tmp_path, "--payload", str(bad))
    assert code == 1
    assert results is None
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("check-endpoint: error: ") and message in line


def test_bad_build_config_is_reported(
    build_config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    build_config.write_text('{"Parameters": {"StageName": "staging"}}', encoding="utf-8")
    assert run_test(build_config, tmp_path)[0] == 1
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "Parameters.SageMakerProjectName" in line


def test_test_script_runs_from_repo_root(tmp_path: Path) -> None:
    """`python test/test.py` as the staging buildspec runs it."""
    result = subprocess.run(
        [
            sys.executable,
            "test/test.py",
            *("--import-build-config", str(tmp_path / "missing.json")),
            *("--export-test-results", str(tmp_path / "results.json")),
        ],
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"check-endpoint: error: {tmp_path / 'missing.json'}: build config not found"
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('{"predictions": [{"score": 0.25}, {"score": 1.5}]}', [[0.25], [1.5]]),
        (
            '{"predictions": [{"score": [0.1, 0.9]}, {"score": [0.7, 0.3]}]}',
            [[0.1, 0.9], [0.7, 0.3]],
        ),
        ("[0.5, 2]", [[0.5], [2.0]]),
    ],
)
def test_json_answers_of_the_xgboost_container_are_parsed(
    body: str, expected: list[list[float]]
) -> None:
    parsed = check_endpoint.parse_predictions(body.encode(), "application/json", 2)
    assert parsed == expected


@pytest.mark.parametrize(
    "body", ['{"predictions": [{"label": 1}]}', '{"predictions": [{"score": {"a": 1}}]}']
)
def test_json_predictions_without_scores_are_not_numeric(body: str) -> None:
    with pytest.raises(ValueError):
        check_endpoint.parse_predictions(body.encode(), "application/json", 1)


def test_an_endpoint_in_another_account_is_tested_through_its_role(
    aws: None, build_config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    role = "arn:aws:iam::333333333333:role/MlopsSeedsTargetTestRole"
    there = check_endpoint.endpoint_session(role)
    deploy_endpoint(there.client("sagemaker", region_name=REGION))
    queue_response("1\n2\n3\n", account="333333333333")
    code, results = run_test(build_config, tmp_path, "--role-arn", role)
    assert code == 0, results
    monkeypatch.setenv("ENDPOINT_TEST_ROLE_ARN", "")
    code, results = run_test(build_config, tmp_path)  # this account has no such endpoint
    assert code == 1
    assert not outcome(results)["endpoint_in_service"]
