"""Benchmark the rehearsal: total and per-stage wall time of each scenario asked for, on
the embedded sandbox, beside the figures measured before IAM was enforced and builds were
isolated (rehearse_baseline.json; goal: the happy path's stages under 30 s on a 2-core
machine).

Run: python benchmarks/rehearse.py [--scenario happy] [--scenario rejected ...] [--all]
[--product KEY] (the multi-account product: goal under 60 s of stages)
"""

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

from mlops_seeds.rehearse import flow
from mlops_seeds.rehearse.scenarios import SCENARIOS
from mlops_seeds.sandbox import Sandbox

BASELINE = Path(__file__).with_name("rehearse_baseline.json")


def baseline() -> dict[str, dict[str, float]]:
    """Per-stage seconds of each scenario before (scenario -> stage -> seconds)."""
    data = json.loads(BASELINE.read_text())
    stages: dict[str, dict[str, float]] = data["scenarios"]
    return stages


def quiet(_: str) -> None:
    """Swallow the rehearsal's progress lines."""


def rehearse(scenario: str, product: str | None = None) -> None:
    """One rehearsal in a fresh sandbox; print its stages and total."""
    options = flow.Options(scenario=SCENARIOS[scenario], product_key=product)
    plan = flow.prepare(options)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="mlops-seeds-bench-") as scratch:
        directory = Path(scratch)
        with (
            Sandbox(workdir=directory / "sandbox") as sandbox,
            sandbox.environment(),
        ):
            report = flow.run(options, plan, quiet, sandbox, directory)
    wall = time.perf_counter() - started
    verdict = "passed" if report.outcome and report.outcome.passed else "FAILED"
    before = baseline().get(scenario, {}) if product is None else {}
    stages = sum(s.seconds for s in report.timeline.stages)
    label = scenario + (f" --product {product}" if product else "")
    print(f"rehearse {label}: {wall:.1f} s wall, stages {stages:.1f} s ({verdict})")
    print(f"  {'stage':<10} {'now':>6} {'before':>7} {'ratio':>6}")
    for stage in report.timeline.stages:
        old = before.get(stage.name)
        ratio = f"{stage.seconds / old:5.2f}x" if old else "     -"
        shown = f"{old:6.1f}" if old is not None else "      -"
        print(f"  {stage.name:<10} {stage.seconds:6.1f} {shown} {ratio}")
    if before:
        total = sum(before.values())
        print(f"  {'stages':<10} {stages:6.1f} {total:6.1f} {stages / total:5.2f}x")


def main() -> None:
    """Parse arguments and rehearse each scenario once."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenario", action="append", choices=sorted(SCENARIOS))
    parser.add_argument("--all", action="store_true", help="every scenario")
    parser.add_argument("--product", help="catalog product (default: the scenario's)")
    args = parser.parse_args()
    scenarios = sorted(SCENARIOS) if args.all else (args.scenario or ["happy"])
    for scenario in scenarios:
        rehearse(scenario, args.product)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak RSS: this process {peak:.0f} MB, largest child {children:.0f} MB")


if __name__ == "__main__":
    main()
