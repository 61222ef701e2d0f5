"""Benchmark the rehearsal: total and per-stage wall time of each scenario asked for, on
the embedded sandbox (goal: the happy path under 120 s on a 2-core machine).

Run: python benchmarks/rehearse.py [--scenario happy] [--scenario rejected ...] [--all]
"""

import argparse
import resource
import tempfile
import time
from pathlib import Path

from mlops_seeds.rehearse import flow
from mlops_seeds.rehearse.scenarios import SCENARIOS
from mlops_seeds.sandbox import Sandbox


def quiet(_: str) -> None:
    """Swallow the rehearsal's progress lines."""


def rehearse(scenario: str) -> None:
    """One rehearsal in a fresh sandbox; print its stages and total."""
    options = flow.Options(scenario=SCENARIOS[scenario])
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
    stages = "  ".join(f"{s.name} {s.seconds:.1f}" for s in report.timeline.stages)
    verdict = "passed" if report.outcome and report.outcome.passed else "FAILED"
    print(f"rehearse {scenario:<19} {wall:6.1f} s total ({verdict})  {stages}")


def main() -> None:
    """Parse arguments and rehearse each scenario once."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenario", action="append", choices=sorted(SCENARIOS))
    parser.add_argument("--all", action="store_true", help="every scenario")
    args = parser.parse_args()
    scenarios = sorted(SCENARIOS) if args.all else (args.scenario or ["happy"])
    for scenario in scenarios:
        rehearse(scenario)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak RSS: this process {peak:.0f} MB, largest child {children:.0f} MB")


if __name__ == "__main__":
    main()
