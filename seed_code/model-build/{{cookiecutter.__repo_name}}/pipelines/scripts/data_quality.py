"""Data quality in SageMaker Model Monitor's file formats: a baseline of the training data,
and a check of what the endpoint received against it.

    python data_quality.py baseline --input-dir train/ --output-dir baseline/ [--skip-first-column]
    python data_quality.py check --input-dir capture/ --baseline-dir baseline/ --output-dir out/ \
        [--endpoint-name NAME --schedule-name NAME]

`baseline` writes `statistics.json` and `constraints.json`; `check` writes the current data's
`statistics.json` and `constraint_violations.json`, and exits 0 whether or not it finds
violations (a violation is a finding, not a failure; a refused publish is one). With
`--endpoint-name`, `check` also publishes the CloudWatch metrics Model Monitor publishes (namespace
`aws/sagemaker/Endpoints/data-metrics`, dimensions `Endpoint` and `MonitoringSchedule`; values
CloudWatch refuses, NaN and infinite, are left out) and `baseline_drift_violations`, the
number of drifting features (ours: one metric for one alarm), unless the constraints'
`emit_metrics` is "Disabled"; the job's role needs cloudwatch:PutMetricData.

The formats are the ones the Model Monitor container writes (SageMaker Developer Guide:
"Schema for Statistics", "Schema for Constraints", "Schema for Violations"), so the files
read the same in Studio and in the model registry; the script itself needs only numpy and
pandas (and boto3 to publish), as in the SageMaker scikit-learn container, and runs as
an ordinary processing job (Model Monitor is closed to new customers).

Inputs are headerless CSV files, columns named `_c0`, `_c1`, ... as Model Monitor names
them, or SageMaker data-capture files (`*.jsonl`: one record per request, whose
`captureData.endpointInput` holds the CSV rows sent to the endpoint).

Checks (Model Monitor's `constraint_check_type`s), each against `monitoring_config`:
- `missing_column_check`, `extra_column_check`: the current data has fewer or more columns.
- `data_type_check`: the share of a feature's present values of its baseline type (an
  Integral value is also Fractional; anything is a String) is below
  `datatype_check_threshold`.
- `completeness_check`: the share of present values is below the baseline's `completeness`.
- `categorical_values_check`: the share of a String feature's present values inside the
  baseline's `domains` is below `domain_content_threshold`.
- `baseline_drift_check`: the distance between the baseline and current distributions
  exceeds `comparison_threshold` (numerical: the greatest distance between the two empirical
  CDFs) or `categorical_comparison_threshold` (String: the greatest difference of a value's
  share, `categorical_drift_method` "LInfinity"). With `comparison_method` "Robust" (the
  default), a numerical distance must also be significant by the two-sample
  Kolmogorov-Smirnov test at 5% (greater than 1.358 * sqrt((n + m) / (n * m)) for n baseline
  and m current values), so that a small sample's noise is not drift; "Simple" compares the
  distance with the threshold alone. The Developer Guide says only that the robust distance
  "is based on the Two-sample Kolmogorov-Smirnov test": this is our reading of it.
"ChiSquared" and per-feature overrides are refused, by name.
"""

from __future__ import annotations

import argparse
import base64
import copy
import csv
import io
import json
import math
import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

INTEGRAL, FRACTIONAL, STRING, UNKNOWN = "Integral", "Fractional", "String", "Unknown"
_INTEGRAL = re.compile(r"[+-]?\d+")
_FRACTIONAL = re.compile(r"[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?")
BUCKETS = 10  # Model Monitor materializes distributions in 10 buckets (not configurable)
SKETCH_K, SKETCH_C = 2048, 0.64  # the KLL parameters the container records
DOMAIN_LIMIT = 20  # String features with at most this many values get a domain constraint
MONITORING_CONFIG: dict[str, Any] = {  # what `baseline` suggests
    "evaluate_constraints": "Enabled",
    "emit_metrics": "Enabled",
    "datatype_check_threshold": 1.0,
    "domain_content_threshold": 1.0,
    "distribution_constraints": {
        "perform_comparison": "Enabled",
        "comparison_threshold": 0.1,
        "comparison_method": "Robust",
        "categorical_comparison_threshold": 0.1,
        "categorical_drift_method": "LInfinity",
    },
}
SUPPORTED_METHODS = {
    "comparison_method": ("Robust", "Simple"),
    "categorical_drift_method": ("LInfinity",),
}
METRICS_NAMESPACE = "aws/sagemaker/Endpoints/data-metrics"
DRIFT_VIOLATIONS_METRIC = "baseline_drift_violations"  # ours: not a Model Monitor metric
METRICS_PER_REQUEST = 1000  # PutMetricData's limit on MetricData items
KS_COEFFICIENT = math.sqrt(-math.log(0.05 / 2) / 2)  # c(alpha) of the two-sample KS test, 5%


class DataQualityError(Exception):
    """Input or baseline files this script cannot use; the message names the file or field."""


# ------------------------------------------------------------------------------- reading
def value_type(value: str) -> str:
    """The type Model Monitor infers for one CSV value ("" is missing: Unknown)."""
    text = value.strip()
    if not text:
        return UNKNOWN
    if _INTEGRAL.fullmatch(text):
        return INTEGRAL
    if _FRACTIONAL.fullmatch(text) or text.lower() in ("nan", "inf", "-inf", "+inf"):
        return FRACTIONAL
    return STRING


def _csv_rows(text: str) -> Iterator[list[str]]:
    yield from (row for row in csv.reader(io.StringIO(text)) if row)


def _capture_rows(path: Path) -> Iterator[list[str]]:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            captured = json.loads(line)["captureData"]["endpointInput"]
            data, encoding = str(captured["data"]), str(captured.get("encoding", "CSV"))
        except (ValueError, KeyError, TypeError) as err:
            raise DataQualityError(
                f"{path}:{number}: not a data-capture record with captureData.endpointInput ({err})"
            ) from None
        if encoding == "BASE64":
            data = base64.b64decode(data).decode("utf-8")
        elif encoding != "CSV":
            raise DataQualityError(
                f"{path}:{number}: endpointInput encoding {encoding!r}: "
                "only CSV (or BASE64 of CSV) is read"
            )
        yield from _csv_rows(data)


def read_rows(input_dir: Path, skip_first_column: bool = False) -> pd.DataFrame:
    """Every row under `input_dir` (CSV and data-capture files), as strings, columns `_cN`."""
    files = sorted(p for p in input_dir.rglob("*") if p.suffix in (".csv", ".jsonl"))
    if not files:
        raise DataQualityError(f"no .csv or .jsonl file under {input_dir}")
    rows: list[list[str]] = []
    for path in files:
        found = _capture_rows(path) if path.suffix == ".jsonl" else _csv_rows(path.read_text())
        rows.extend(row[1:] if skip_first_column else row for row in found)
    width = max((len(row) for row in rows), default=0)
    padded = [row + [""] * (width - len(row)) for row in rows]
    return pd.DataFrame(padded, columns=[f"_c{i}" for i in range(width)], dtype=object)


# ---------------------------------------------------------------------------- statistics
def inferred_type(types: Iterable[str]) -> str:
    """A column's type: Integral if every present value is, Fractional if every one is a
    number, String if any is not, Unknown if none is present."""
    present = {t for t in types if t != UNKNOWN}
    if not present:
        return UNKNOWN
    if present == {INTEGRAL}:
        return INTEGRAL
    if present <= {INTEGRAL, FRACTIONAL}:
        return FRACTIONAL
    return STRING


def _sketch(values: np.ndarray) -> list[float]:
    """The sorted values, or SKETCH_K evenly spaced quantiles of them when there are more."""
    ordered = np.sort(values)
    if len(ordered) > SKETCH_K:
        ordered = np.quantile(ordered, np.linspace(0.0, 1.0, SKETCH_K))
    return [float(v) for v in ordered]


def _buckets(values: np.ndarray) -> list[dict[str, float]]:
    low, high = float(values.min()), float(values.max())
    edges = np.linspace(low, high, BUCKETS + 1) if high > low else np.array([low, high])
    counts, _ = np.histogram(values, bins=edges)
    return [
        {"lower_bound": float(edges[i]), "upper_bound": float(edges[i + 1]), "count": float(c)}
        for i, c in enumerate(counts)
    ]


def feature_statistics(name: str, column: pd.Series) -> dict[str, Any]:
    """One feature's entry of statistics.json."""
    types = [value_type(str(v)) for v in column]
    kind = inferred_type(types)
    present = [str(v).strip() for v, t in zip(column, types, strict=True) if t != UNKNOWN]
    common = {"num_present": len(present), "num_missing": len(column) - len(present)}
    if kind in (INTEGRAL, FRACTIONAL):
        values = np.array([float(v) for v in present])
        return {
            "name": name,
            "inferred_type": kind,
            "numerical_statistics": {
                "common": common,
                "mean": float(values.mean()),
                "sum": float(values.sum()),
                "std_dev": float(values.std()),  # population, as Deequ computes it
                "min": float(values.min()),
                "max": float(values.max()),
                "distribution": {
                    "kll": {
                        "buckets": _buckets(values),
                        "sketch": {
                            "parameters": {"c": SKETCH_C, "k": float(SKETCH_K)},
                            "data": [_sketch(values)],
                        },
                    }
                },
            },
        }
    counts = pd.Series(present, dtype=object).value_counts(sort=False)
    return {
        "name": name,
        "inferred_type": kind,
        "string_statistics": {
            "common": common,
            "distinct_count": float(len(counts)),
            "distribution": {
                "categorical": {
                    "buckets": [
                        {"value": str(v), "count": float(c)} for v, c in sorted(counts.items())
                    ]
                }
            },
        },
    }


def statistics(frame: pd.DataFrame) -> dict[str, Any]:
    """statistics.json of a data set."""
    return {
        "version": 0.0,
        "dataset": {"item_count": float(len(frame))},
        "features": [feature_statistics(str(c), frame[c]) for c in frame.columns],
    }


def _common(feature: dict[str, Any]) -> dict[str, Any]:
    body = feature.get("numerical_statistics") or feature.get("string_statistics") or {}
    return dict(body.get("common") or {})


def suggest_constraints(stats: dict[str, Any]) -> dict[str, Any]:
    """constraints.json suggested by a baseline's statistics."""
    features = []
    for feature in stats["features"]:
        common = _common(feature)
        total = common.get("num_present", 0) + common.get("num_missing", 0)
        entry: dict[str, Any] = {
            "name": feature["name"],
            "inferred_type": feature["inferred_type"],
            "completeness": common.get("num_present", 0) / total if total else 0.0,
        }
        numbers = feature.get("numerical_statistics")
        if numbers:
            entry["num_constraints"] = {"is_non_negative": numbers["min"] >= 0}
        strings = feature.get("string_statistics")
        if strings and strings["distinct_count"] <= DOMAIN_LIMIT:
            buckets = strings["distribution"]["categorical"]["buckets"]
            entry["string_constraints"] = {"domains": [b["value"] for b in buckets]}
        features.append(entry)
    return {
        "version": 0.0,
        "features": features,
        "monitoring_config": copy.deepcopy(MONITORING_CONFIG),
    }


# ------------------------------------------------------------------------------- checks
def _cdf_distance(baseline: list[float], current: np.ndarray) -> float:
    """The greatest distance between the two empirical CDFs (Kolmogorov-Smirnov statistic)."""
    base, now = np.sort(np.asarray(baseline, dtype=float)), np.sort(current)
    points = np.union1d(base, now)
    base_cdf = np.searchsorted(base, points, side="right") / len(base)
    now_cdf = np.searchsorted(now, points, side="right") / len(now)
    return float(np.max(np.abs(base_cdf - now_cdf)))


def _share_distance(baseline: dict[str, float], current: dict[str, float]) -> float:
    """The greatest difference of one value's share between the two data sets."""
    base_total, now_total = sum(baseline.values()), sum(current.values())
    values = set(baseline) | set(current)
    return max(
        abs(baseline.get(v, 0.0) / base_total - current.get(v, 0.0) / now_total) for v in values
    )


def _matches(kind: str, expected: str) -> bool:
    return kind == expected or expected == STRING or (kind, expected) == (INTEGRAL, FRACTIONAL)


def _violation(name: str, check: str, description: str) -> dict[str, str]:
    return {"feature_name": name, "constraint_check_type": check, "description": description}


def _config(constraints: dict[str, Any]) -> dict[str, Any]:
    config = dict(constraints.get("monitoring_config") or {})
    drift = dict(config.get("distribution_constraints") or {})
    for field, supported in SUPPORTED_METHODS.items():
        if drift.get(field, supported[0]) not in supported:
            raise DataQualityError(
                f"constraints.json: monitoring_config.distribution_constraints.{field} "
                f"{drift[field]!r} is not supported (only {' or '.join(map(repr, supported))})"
            )
    for feature in constraints.get("features", []):
        if feature.get("monitoringConfigOverrides"):
            raise DataQualityError(
                f"constraints.json: feature {feature.get('name')!r}: monitoringConfigOverrides "
                "are not supported"
            )
    return {
        **MONITORING_CONFIG,
        **config,
        "distribution_constraints": {**MONITORING_CONFIG["distribution_constraints"], **drift},
    }


def distances(frame: pd.DataFrame, baseline: dict[str, Any]) -> dict[str, float]:
    """Each feature's drift distance from the baseline's distribution (numerical: the greatest
    distance between the two empirical CDFs; String: the greatest difference of one value's
    share), for the features both have present values of."""
    found = {}
    for feature in baseline.get("features", []):
        name = feature["name"]
        if name not in frame.columns:
            continue
        present = [str(v).strip() for v in frame[name] if value_type(str(v)) != UNKNOWN]
        distance = drift_distance(feature, present)
        if distance is not None:
            found[name] = distance
    return found


def drift_distance(feature: dict[str, Any], present: list[str]) -> float | None:
    """The distance between a baseline feature's distribution and present values (None:
    nothing to compare, or values of another kind, which the data type check reports)."""
    if not present:
        return None
    numbers = feature.get("numerical_statistics")
    if numbers:
        try:
            current = np.array([float(v) for v in present])
        except ValueError:
            return None
        sketch = numbers["distribution"]["kll"]["sketch"]["data"]
        return _cdf_distance([v for level in sketch for v in level], current)
    buckets = feature["string_statistics"]["distribution"]["categorical"]["buckets"]
    base = {str(b["value"]): float(b["count"]) for b in buckets}
    now = pd.Series(present, dtype=object).value_counts().to_dict()
    return _share_distance(base, {str(k): float(v) for k, v in now.items()})


def ks_critical_distance(baseline_count: float, current_count: float) -> float:
    """The distance above which two samples of these sizes differ at 5% (two-sample KS)."""
    n, m = baseline_count, current_count
    return KS_COEFFICIENT * math.sqrt((n + m) / (n * m))


def check(
    frame: pd.DataFrame,
    baseline: dict[str, Any],
    constraints: dict[str, Any],
    drift: dict[str, float],
) -> list[dict[str, str]]:
    """The violations of `constraints` by `frame`, given the baseline's statistics and the
    drift `distances`."""
    config = _config(constraints)
    if config["evaluate_constraints"] != "Enabled":
        return []
    comparison = config["distribution_constraints"]
    expected = {f["name"]: f for f in constraints.get("features", [])}
    base_features = {f["name"]: f for f in baseline.get("features", [])}
    violations = []
    columns, wanted = len(frame.columns), len(expected)
    if columns != wanted:
        kind = "missing" if columns < wanted else "extra"
        violations.append(
            _violation(
                "",
                f"{kind}_column_check",
                f"There are {kind} columns in current dataset. Number of columns in current "
                f"dataset: {columns}, Number of columns in baseline constraints: {wanted}",
            )
        )
    for name, constraint in expected.items():
        if name not in frame.columns:
            continue
        types = [value_type(str(v)) for v in frame[name]]
        present = [str(v).strip() for v, t in zip(frame[name], types, strict=True) if t != UNKNOWN]
        kinds = [t for t in types if t != UNKNOWN]
        want = str(constraint.get("inferred_type", UNKNOWN))
        if kinds and want != UNKNOWN:
            share = sum(_matches(k, want) for k in kinds) / len(kinds)
            threshold = float(config["datatype_check_threshold"])
            if share < threshold:
                violations.append(
                    _violation(
                        name,
                        "data_type_check",
                        f"Data type match requirement is not met. Expected data type: {want}, "
                        f"Expected match: {threshold:.1%}. Observed: Only {share:.1%} of data is "
                        f"{want}.",
                    )
                )
        completeness = len(present) / len(types) if types else 0.0
        if "completeness" in constraint and completeness < float(constraint["completeness"]):
            violations.append(
                _violation(
                    name,
                    "completeness_check",
                    "Data completeness requirement is not met. Expected: "
                    f"{float(constraint['completeness']):.1%}. Observed: Only "
                    f"{completeness:.1%} of data is present.",
                )
            )
        domains = (constraint.get("string_constraints") or {}).get("domains")
        if domains is not None and present:
            inside = sum(v in set(domains) for v in present) / len(present)
            threshold = float(config["domain_content_threshold"])
            if inside < threshold:
                violations.append(
                    _violation(
                        name,
                        "categorical_values_check",
                        f"Data content requirement is not met. Expected: {threshold:.1%} of values "
                        f"in the baseline's domain. Observed: {inside:.1%}.",
                    )
                )
        if name in drift and comparison["perform_comparison"] == "Enabled":
            numerical = want in (INTEGRAL, FRACTIONAL)
            field = "comparison_threshold" if numerical else "categorical_comparison_threshold"
            limit = float(comparison[field])
            if numerical and comparison["comparison_method"] == "Robust":
                counted = _common(base_features[name])["num_present"]
                limit = max(limit, ks_critical_distance(counted, len(present)))
            if drift[name] > limit:
                violations.append(
                    _violation(
                        name,
                        "baseline_drift_check",
                        f"Baseline drift distance: {drift[name]:.6g} exceeds threshold: "
                        f"{limit:.6g}",
                    )
                )
    return violations


def metrics(
    stats: dict[str, Any], drift: dict[str, float], violations: list[dict[str, str]]
) -> list[dict[str, Any]]:
    """The CloudWatch metrics Model Monitor publishes for the current data (the publisher
    adds namespace, dimensions and time): feature_data_<name> (numerical features),
    feature_non_null_<name> (completeness) and feature_baseline_drift_<name>; and one of
    ours, DRIFT_VIOLATIONS_METRIC: how many features' drift violates the constraints, so that
    one alarm watches every feature."""
    drifting = sum(v["constraint_check_type"] == "baseline_drift_check" for v in violations)
    out: list[dict[str, Any]] = [{"MetricName": DRIFT_VIOLATIONS_METRIC, "Value": float(drifting)}]
    for feature in stats["features"]:
        name, common = feature["name"], _common(feature)
        numbers = feature.get("numerical_statistics")
        if numbers:
            statistic = {
                "SampleCount": float(common["num_present"]),
                "Sum": numbers["sum"],
                "Minimum": numbers["min"],
                "Maximum": numbers["max"],
            }
            out.append({"MetricName": f"feature_data_{name}", "StatisticValues": statistic})
        total = common["num_present"] + common["num_missing"]
        completeness = common["num_present"] / total if total else 0.0
        out.append({"MetricName": f"feature_non_null_{name}", "Value": completeness})
        if name in drift:
            out.append({"MetricName": f"feature_baseline_drift_{name}", "Value": drift[name]})
    return [item for item in out if _finite(item)]


def _finite(item: dict[str, Any]) -> bool:
    """Whether CloudWatch takes the metric: it refuses NaN and infinite values (a feature
    whose values include "nan" or "inf" has no publishable sum or distance)."""
    values = [item["Value"]] if "Value" in item else list(item["StatisticValues"].values())
    return all(math.isfinite(float(v)) for v in values)


def publish(cloudwatch: Any, items: list[dict[str, Any]], endpoint: str, schedule: str) -> int:
    """PutMetricData of `items` (from `metrics`) with Model Monitor's dimensions, in as
    few requests as the API allows; the number of requests. The samples carry no
    timestamp: CloudWatch stamps them with the time it receives them."""
    dimensions = [
        {"Name": "Endpoint", "Value": endpoint},
        {"Name": "MonitoringSchedule", "Value": schedule},
    ]
    data = [{**item, "Dimensions": dimensions} for item in items]
    requests = 0
    for start in range(0, len(data), METRICS_PER_REQUEST):
        chunk = data[start : start + METRICS_PER_REQUEST]
        cloudwatch.put_metric_data(Namespace=METRICS_NAMESPACE, MetricData=chunk)
        requests += 1
    return requests


# ---------------------------------------------------------------------------------- main
def _read_json(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise DataQualityError(f"{path}: {err}") from None
    if not isinstance(document, dict) or not isinstance(document.get("features"), list):
        raise DataQualityError(f"{path}: not a Model Monitor file (no features list)")
    return document


def _write(folder: Path, name: str, document: Any) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options; paths default to the processing container's."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    modes = parser.add_subparsers(dest="mode", required=True)
    base = modes.add_parser("baseline", help="statistics.json and constraints.json of a data set")
    base.add_argument("--input-dir", type=Path, default=Path("/opt/ml/processing/input/baseline"))
    base.add_argument("--output-dir", type=Path, default=Path("/opt/ml/processing/output"))
    base.add_argument(
        "--skip-first-column",
        action="store_true",
        help="drop each row's first column (the target of the training CSVs)",
    )
    run = modes.add_parser("check", help="the current data against a baseline")
    run.add_argument("--input-dir", type=Path, default=Path("/opt/ml/processing/input/endpoint"))
    run.add_argument("--baseline-dir", type=Path, default=Path("/opt/ml/processing/input/baseline"))
    run.add_argument("--output-dir", type=Path, default=Path("/opt/ml/processing/output"))
    run.add_argument("--endpoint-name", help="publish the metrics for this endpoint")
    run.add_argument(
        "--schedule-name",
        default="data-quality",
        help="the metrics' MonitoringSchedule dimension (default: data-quality)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run one mode; a bad input is one line on stderr and exit status 2."""
    args = parse_args(argv)
    try:
        if args.mode == "baseline":
            stats = statistics(read_rows(args.input_dir, args.skip_first_column))
            _write(args.output_dir, "statistics.json", stats)
            _write(args.output_dir, "constraints.json", suggest_constraints(stats))
            return 0
        baseline = _read_json(args.baseline_dir / "statistics.json")
        constraints = _read_json(args.baseline_dir / "constraints.json")
        frame = read_rows(args.input_dir)
        stats = statistics(frame)
        drift = distances(frame, baseline)
        violations = check(frame, baseline, constraints, drift)
        _write(args.output_dir, "statistics.json", stats)
        _write(args.output_dir, "constraint_violations.json", {"violations": violations})
        published = metrics(stats, drift, violations)
        _write(args.output_dir, "metrics.json", published)
        print(f"{len(frame)} rows, {len(violations)} violation(s)")
        emit = (constraints.get("monitoring_config") or {}).get("emit_metrics", "Enabled")
        if args.endpoint_name and emit != "Disabled":
            import boto3  # only to publish: the SageMaker containers have it

            cloudwatch = boto3.client("cloudwatch")
            publish(cloudwatch, published, args.endpoint_name, args.schedule_name)
            print(f"published {len(published)} metrics to {METRICS_NAMESPACE}")
        return 0
    except DataQualityError as err:
        print(f"data_quality: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
