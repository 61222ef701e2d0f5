"""The data-quality script against hand-computed values: statistics, suggested constraints,
each violation kind and drift distance, the files' documented fields, and bad input."""

from __future__ import annotations

import base64
import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from pipelines.settings import SCRIPTS_DIR
from tests.support import load_script

dq = load_script("data_quality.py")
CHECK_TYPES = {
    "data_type_check",
    "completeness_check",
    "baseline_drift_check",
    "missing_column_check",
    "extra_column_check",
    "categorical_values_check",
}


def frame(*columns: list[str]) -> pd.DataFrame:
    """Columns of CSV text values, named as Model Monitor names headerless columns."""
    return pd.DataFrame({f"_c{i}": c for i, c in enumerate(columns)}, dtype=object)


def baseline_of(*columns: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    stats = dq.statistics(frame(*columns))
    return stats, dq.suggest_constraints(stats)


def violations(
    current: pd.DataFrame, stats: dict[str, Any], constraints: dict[str, Any]
) -> dict[tuple[str, str], str]:
    found = dq.check(current, stats, constraints, dq.distances(current, stats))
    return {(v["feature_name"], v["constraint_check_type"]): v["description"] for v in found}


@pytest.mark.parametrize(
    ("value", "kind"),
    [("3", "Integral"), ("-12", "Integral"), ("-3.5", "Fractional"), (".5", "Fractional"),
     ("1e3", "Fractional"), ("abc", "String"), ("1,2", "String"), ("", "Unknown"),
     ("  ", "Unknown")],
)  # fmt: skip
def test_value_types(value: str, kind: str) -> None:
    assert dq.value_type(value) == kind


def test_numerical_statistics() -> None:
    stats = dq.statistics(frame(["1", "2", "3", "4", ""]))
    assert stats["dataset"] == {"item_count": 5.0}
    feature = stats["features"][0]
    assert (feature["name"], feature["inferred_type"]) == ("_c0", "Integral")
    numbers = feature["numerical_statistics"]
    assert numbers["common"] == {"num_present": 4, "num_missing": 1}
    assert (numbers["mean"], numbers["sum"], numbers["min"], numbers["max"]) == (2.5, 10, 1, 4)
    assert numbers["std_dev"] == pytest.approx(math.sqrt(1.25))  # population: mean of (x-2.5)^2
    kll = numbers["distribution"]["kll"]
    assert [b["count"] for b in kll["buckets"]] == [1, 0, 0, 1, 0, 0, 1, 0, 0, 1]
    assert kll["buckets"][0]["lower_bound"] == 1 and kll["buckets"][-1]["upper_bound"] == 4
    assert kll["sketch"]["data"] == [[1.0, 2.0, 3.0, 4.0]]
    mixed = dq.statistics(frame(["1", "2.5"]))["features"][0]
    assert mixed["inferred_type"] == "Fractional"


def test_string_statistics_and_suggested_constraints() -> None:
    stats, constraints = baseline_of(["1", "2", "3", "4", ""], ["b", "a", "a", "x1", ""])
    strings = stats["features"][1]["string_statistics"]
    assert stats["features"][1]["inferred_type"] == "String"
    assert strings["common"] == {"num_present": 4, "num_missing": 1}
    assert strings["distinct_count"] == 3
    assert strings["distribution"]["categorical"]["buckets"] == [
        {"value": "a", "count": 2.0},
        {"value": "b", "count": 1.0},
        {"value": "x1", "count": 1.0},
    ]
    numeric, text = constraints["features"]
    assert numeric == {
        "name": "_c0",
        "inferred_type": "Integral",
        "completeness": 0.8,
        "num_constraints": {"is_non_negative": True},
    }
    assert text["completeness"] == 0.8 and text["string_constraints"] == {
        "domains": ["a", "b", "x1"]
    }
    drift = constraints["monitoring_config"]["distribution_constraints"]
    assert (drift["comparison_threshold"], drift["comparison_method"]) == (0.1, "Robust")


def test_the_same_data_violates_nothing() -> None:
    columns = (["1", "2", "3", "4"], ["a", "b", "a", "b"])
    stats, constraints = baseline_of(*columns)
    current = frame(*columns)
    assert dq.distances(current, stats) == {"_c0": 0.0, "_c1": 0.0}
    assert violations(current, stats, constraints) == {}


def simple(constraints: dict[str, Any]) -> dict[str, Any]:
    constraints["monitoring_config"]["distribution_constraints"]["comparison_method"] = "Simple"
    return constraints


def test_numerical_drift_is_the_greatest_distance_between_the_cdfs() -> None:
    # Baseline 1..4, current 3..6: at 2, 3 and 4 the baseline's CDF is 0.5, 0.75 and 1.0,
    # the current one's 0.0, 0.25 and 0.5: a distance of 0.5.
    stats, constraints = baseline_of(["1", "2", "3", "4"])
    constraints = simple(constraints)
    current = frame(["3", "4", "5", "6"])
    assert dq.distances(current, stats) == {"_c0": 0.5}
    found = violations(current, stats, constraints)
    assert found == {
        ("_c0", "baseline_drift_check"): "Baseline drift distance: 0.5 exceeds threshold: 0.1"
    }
    # 1..4 against 1..3 and 5: the CDFs differ by 0.25 at most, within a threshold of 0.3.
    constraints["monitoring_config"]["distribution_constraints"]["comparison_threshold"] = 0.3
    assert dq.distances(frame(["1", "2", "3", "5"]), stats) == {"_c0": 0.25}
    assert violations(frame(["1", "2", "3", "5"]), stats, constraints) == {}


def test_robust_drift_must_also_be_significant() -> None:
    """ "Robust": the distance must exceed the two-sample KS critical distance at 5%,
    c = sqrt(-ln(0.025) / 2) = 1.3581, times sqrt((n + m) / (n * m))."""
    assert dq.ks_critical_distance(4, 4) == pytest.approx(1.3581 * math.sqrt(8 / 16), abs=1e-4)
    # 4 values against 4: a distance of 0.5 is below 0.9603, noise.
    stats, constraints = baseline_of(["1", "2", "3", "4"])
    assert violations(frame(["3", "4", "5", "6"]), stats, constraints) == {}
    # 100 against 100, shifted by half the range: 0.5 is above 0.1921, drift.
    stats, constraints = baseline_of([str(v) for v in range(1, 101)])
    found = violations(frame([str(v) for v in range(51, 151)]), stats, constraints)
    assert found == {
        ("_c0", "baseline_drift_check"): "Baseline drift distance: 0.5 exceeds threshold: 0.192065"
    }
    # Below the threshold it is no drift, however significant.
    constraints["monitoring_config"]["distribution_constraints"]["comparison_threshold"] = 0.6
    assert violations(frame([str(v) for v in range(51, 151)]), stats, constraints) == {}


def test_categorical_drift_and_values_outside_the_domain() -> None:
    # Baseline a 2/3, b 1/3; current a 1/4, b 1/4, c 2/4: the shares differ by 0.4167,
    # 0.0833 and 0.5, so the distance is 0.5; half the current values are outside {a, b}.
    stats, constraints = baseline_of(["a", "a", "b"])
    current = frame(["a", "b", "c", "c"])
    assert dq.distances(current, stats) == {"_c0": pytest.approx(0.5)}
    found = violations(current, stats, constraints)
    assert set(found) == {("_c0", "baseline_drift_check"), ("_c0", "categorical_values_check")}
    assert found[("_c0", "categorical_values_check")] == (
        "Data content requirement is not met. Expected: 100.0% of values in the baseline's "
        "domain. Observed: 50.0%."
    )


def test_data_type_and_completeness() -> None:
    stats, constraints = baseline_of(["1", "2", "3", "4"], ["0.5", "1.5", "2", "3"])
    constraints["monitoring_config"]["distribution_constraints"]["perform_comparison"] = "Disabled"
    # Integral column: 1 and 4 of 4 values are Integral (2.5 Fractional, x String); the
    # Fractional column takes an Integral value; one value of each column is missing.
    current = frame(["1", "2.5", "x", "4", ""], ["1", "2.25", "", "3", "4"])
    found = violations(current, stats, constraints)
    assert found == {
        ("_c0", "data_type_check"): "Data type match requirement is not met. Expected data "
        "type: Integral, Expected match: 100.0%. Observed: Only 50.0% of data is Integral.",
        ("_c0", "completeness_check"): "Data completeness requirement is not met. Expected: "
        "100.0%. Observed: Only 80.0% of data is present.",
        ("_c1", "completeness_check"): "Data completeness requirement is not met. Expected: "
        "100.0%. Observed: Only 80.0% of data is present.",
    }
    constraints["monitoring_config"]["datatype_check_threshold"] = 0.5
    assert ("_c0", "data_type_check") not in violations(current, stats, constraints)


def test_missing_and_extra_columns() -> None:
    stats, constraints = baseline_of(["1", "2"], ["3", "4"])
    missing = violations(frame(["1", "2"]), stats, constraints)
    assert missing == {
        ("", "missing_column_check"): "There are missing columns in current dataset. Number of "
        "columns in current dataset: 1, Number of columns in baseline constraints: 2"
    }
    extra = violations(frame(["1", "2"], ["3", "4"], ["5", "6"]), stats, constraints)
    assert set(extra) == {("", "extra_column_check")}


def test_capture_files_are_read_as_the_csv_rows_the_endpoint_received(tmp_path: Path) -> None:
    def record(data: str, encoding: str) -> str:
        body = {"observedContentType": "text/csv", "mode": "INPUT", "data": data,
                "encoding": encoding}  # fmt: skip
        output = {"observedContentType": "text/csv", "mode": "OUTPUT", "data": "0.5",
                  "encoding": "CSV"}  # fmt: skip
        return json.dumps(
            {
                "captureData": {"endpointInput": body, "endpointOutput": output},
                "eventMetadata": {"eventId": "e", "inferenceTime": "2026-12-02T00:00:00Z"},
                "eventVersion": "0",
            }
        )

    hour = tmp_path / "capture" / "AllTraffic" / "2026" / "12" / "02" / "10"
    hour.mkdir(parents=True)
    encoded = base64.b64encode(b"5,6\n7,8").decode()
    (hour / "a.jsonl").write_text(record("1,2\n3,4", "CSV") + "\n" + record(encoded, "BASE64"))
    rows = dq.read_rows(tmp_path / "capture")
    assert rows.to_dict("list") == {"_c0": ["1", "3", "5", "7"], "_c1": ["2", "4", "6", "8"]}
    (hour / "b.jsonl").write_text('{"captureData": {}}\n')
    with pytest.raises(dq.DataQualityError, match=r"b\.jsonl:1: not a data-capture record"):
        dq.read_rows(tmp_path / "capture")


def test_the_files_have_the_documented_fields(tmp_path: Path) -> None:
    data = tmp_path / "train"
    data.mkdir()
    # The training layout: the target first, then the features.
    (data / "train.csv").write_text("0,1.5,a\n1,2.5,b\n0,3.5,a\n")
    baseline_dir, out = tmp_path / "baseline", tmp_path / "out"
    assert dq.main(["baseline", "--input-dir", str(data), "--output-dir", str(baseline_dir),
                    "--skip-first-column"]) == 0  # fmt: skip
    stats = json.loads((baseline_dir / "statistics.json").read_text())
    constraints = json.loads((baseline_dir / "constraints.json").read_text())
    assert set(stats) == {"version", "dataset", "features"}
    assert [f["name"] for f in stats["features"]] == ["_c0", "_c1"]
    number, text = stats["features"]
    assert set(number["numerical_statistics"]) == {
        "common", "mean", "sum", "std_dev", "min", "max", "distribution"}  # fmt: skip
    assert set(number["numerical_statistics"]["distribution"]["kll"]) == {"buckets", "sketch"}
    assert set(text["string_statistics"]) == {"common", "distinct_count", "distribution"}
    assert set(constraints) == {"version", "features", "monitoring_config"}
    assert set(constraints["monitoring_config"]) == {
        "evaluate_constraints", "emit_metrics", "datatype_check_threshold",
        "domain_content_threshold", "distribution_constraints"}  # fmt: skip

    current = tmp_path / "current"
    current.mkdir()
    (current / "rows.csv").write_text("9.5,c\n9.5,c\n")
    assert dq.main(["check", "--input-dir", str(current), "--baseline-dir", str(baseline_dir),
                    "--output-dir", str(out)]) == 0  # fmt: skip
    report = json.loads((out / "constraint_violations.json").read_text())
    assert {v["constraint_check_type"] for v in report["violations"]} <= CHECK_TYPES
    assert all(set(v) == {"feature_name", "constraint_check_type", "description"}
               for v in report["violations"])  # fmt: skip
    metrics = {m["MetricName"]: m for m in json.loads((out / "metrics.json").read_text())}
    assert metrics["feature_baseline_drift__c0"]["Value"] == 1.0  # 9.5 is above every value
    drifting = [
        v for v in report["violations"] if v["constraint_check_type"] == "baseline_drift_check"
    ]
    assert metrics["baseline_drift_violations"]["Value"] == float(len(drifting)) > 0
    assert metrics["feature_non_null__c1"]["Value"] == 1.0
    assert metrics["feature_data__c0"]["StatisticValues"] == {
        "SampleCount": 2.0, "Sum": 19.0, "Minimum": 9.5, "Maximum": 9.5}  # fmt: skip


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    baseline_dir = tmp_path / "baseline"
    baseline_dir.mkdir()
    stats, constraints = baseline_of(["1", "2"])
    constraints["monitoring_config"]["distribution_constraints"]["comparison_method"] = "Exact"
    (baseline_dir / "statistics.json").write_text(json.dumps(stats))
    (baseline_dir / "constraints.json").write_text(json.dumps(constraints))
    (tmp_path / "rows.csv").write_text("1\n")
    result = subprocess.run(
        [sys.executable, str(SCRIPTS_DIR / "data_quality.py"), "check", "--input-dir",
         str(tmp_path), "--baseline-dir", str(baseline_dir), "--output-dir",
         str(tmp_path / "out")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr == (
        "data_quality: constraints.json: monitoring_config.distribution_constraints."
        "comparison_method 'Exact' is not supported (only 'Robust' or 'Simple')\n"
    )
    assert not (tmp_path / "out").exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert dq.main(["baseline", "--input-dir", str(empty), "--output-dir", str(tmp_path)]) == 2


def _check_with_metrics(tmp_path: Path, emit: str, *extra: str) -> list[str]:
    """Baseline of 1..4, check of 9,9 with --endpoint-name; the metrics' names published."""
    import boto3
    from moto import mock_aws

    baseline_dir, current = tmp_path / "baseline", tmp_path / "current"
    current.mkdir()
    stats, constraints = baseline_of(["1", "2", "3", "4"])
    constraints["monitoring_config"]["emit_metrics"] = emit
    baseline_dir.mkdir()
    (baseline_dir / "statistics.json").write_text(json.dumps(stats))
    (baseline_dir / "constraints.json").write_text(json.dumps(constraints))
    (current / "rows.csv").write_text("9\n9\n")
    with mock_aws():
        assert dq.main(["check", "--input-dir", str(current), "--baseline-dir",
                        str(baseline_dir), "--output-dir", str(tmp_path / "out"),
                        "--endpoint-name", "churn-prod", *extra]) == 0  # fmt: skip
        cloudwatch = boto3.client("cloudwatch")
        found = cloudwatch.list_metrics(Namespace=dq.METRICS_NAMESPACE)["Metrics"]
        for metric in found:
            assert metric["Dimensions"] == [
                {"Name": "Endpoint", "Value": "churn-prod"},
                {"Name": "MonitoringSchedule", "Value": extra[-1] if extra else "data-quality"},
            ]
        if found:
            drift = cloudwatch.get_metric_statistics(
                Namespace=dq.METRICS_NAMESPACE,
                MetricName="feature_baseline_drift__c0",
                Dimensions=found[0]["Dimensions"],
                StartTime="2000-01-01T00:00:00Z",
                EndTime="2100-01-01T00:00:00Z",
                Period=60,
                Statistics=["Maximum"],
            )["Datapoints"]
            assert [d["Maximum"] for d in drift] == [1.0]  # 9 is above every baseline value
    return sorted(m["MetricName"] for m in found)


def test_check_publishes_model_monitors_metrics_for_the_endpoint(
    tmp_path: Path, aws_env: None
) -> None:
    assert _check_with_metrics(tmp_path, "Enabled", "--schedule-name", "hourly") == [
        "baseline_drift_violations", "feature_baseline_drift__c0", "feature_data__c0",
        "feature_non_null__c0"]  # fmt: skip


def test_check_publishes_nothing_when_the_constraints_disable_metrics(
    tmp_path: Path, aws_env: None
) -> None:
    assert _check_with_metrics(tmp_path, "Disabled") == []


def test_metrics_are_published_in_requests_of_at_most_1000() -> None:
    class Recorder:
        def __init__(self) -> None:
            self.sizes: list[int] = []

        def put_metric_data(self, Namespace: str, MetricData: list[Any]) -> None:
            assert Namespace == "aws/sagemaker/Endpoints/data-metrics"
            self.sizes.append(len(MetricData))

    recorder = Recorder()
    items = [{"MetricName": f"m{i}", "Value": 1.0} for i in range(2001)]
    assert dq.publish(recorder, items, "ep", "s") == 3
    assert recorder.sizes == [1000, 1000, 1]


def test_metrics_cloudwatch_would_refuse_are_left_out() -> None:
    stats = dq.statistics(frame(["1", "inf", "2"], ["1", "2", "3"]))
    published = {m["MetricName"] for m in dq.metrics(stats, {"_c0": 0.5, "_c1": 0.2}, [])}
    assert "feature_data__c0" not in published  # its sum is infinite
    assert {"feature_data__c1", "feature_baseline_drift__c0", "feature_non_null__c0"} <= published
