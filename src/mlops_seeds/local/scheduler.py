"""Run a graph of steps on a thread pool: a step starts once everything it waits for has
succeeded; steps with nothing between them run at the same time.

After a failure no new step starts (the steps already running finish), as in SageMaker.
A step whose dependency did not succeed, or whose gate says no (a condition branch not
taken), is Skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from mlops_seeds.local.record import FAILED, NOT_STARTED, SKIPPED, SUCCEEDED

Run = Callable[[str], str]
Gate = Callable[[str], str | None]
Settle = Callable[[str, str, str], None]


def schedule(
    order: Sequence[str],
    graph: Mapping[str, set[str]],
    run: Run,
    gate: Gate,
    settle: Settle,
    max_workers: int,
) -> dict[str, str]:
    """Run every step of `order` (topologically sorted) and return name -> final status.

    `run(name)` executes a step and returns Succeeded or Failed (it must not raise);
    `gate(name)` returns a reason to skip a ready step, or None; `settle(name, status,
    reason)` is told about every step that does not run.
    """
    results: dict[str, str] = {}
    pending = list(order)
    running: dict[Future[str], str] = {}
    with ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="step") as pool:
        while pending or running:
            ready = _ready(pending, graph, results)
            for name in ready:
                pending.remove(name)
                outcome = _not_run(name, graph[name], results, gate)
                if outcome:
                    results[name] = outcome[0]
                    settle(name, *outcome)
                else:
                    running[pool.submit(run, name)] = name
            if not running:
                if not ready:
                    raise ValueError(f"steps wait for steps outside the graph: {pending}")
                continue
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                results[running.pop(future)] = future.result()
    return results


def _ready(pending: list[str], graph: Mapping[str, set[str]], results: dict[str, str]) -> list[str]:
    """Pending steps whose dependencies have all ended, in order; settling one can make the
    next ready, so the caller loops until nothing is pending or running."""
    return [name for name in pending if graph[name] <= results.keys()]


def _not_run(
    name: str, needs: set[str], results: dict[str, str], gate: Gate
) -> tuple[str, str] | None:
    failed = sorted(n for n, status in results.items() if status == FAILED)
    if failed:
        return NOT_STARTED, f"step {failed[0]} failed"
    blocked = sorted(n for n in needs if results[n] != SUCCEEDED)
    if blocked:
        return SKIPPED, f"step {blocked[0]} did not succeed"
    reason = gate(name)
    return (SKIPPED, reason) if reason else None
