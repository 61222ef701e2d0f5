"""The scheduler: dependency order, independent steps at the same time, failures and gates.
Order is checked through events, concurrency through a rendezvous (no timing asserts)."""

import threading
from collections.abc import Callable

from mlops_seeds.local.graph import topological_order
from mlops_seeds.local.record import FAILED, NOT_STARTED, SKIPPED, SUCCEEDED
from mlops_seeds.local.scheduler import schedule


class Events:
    """Start and end events of the steps, in the order they happened."""

    def __init__(self) -> None:
        self.log: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self.settled: dict[str, tuple[str, str]] = {}

    def add(self, kind: str, name: str) -> None:
        with self.lock:
            self.log.append((kind, name))

    def position(self, kind: str, name: str) -> int:
        return self.log.index((kind, name))

    def settle(self, name: str, status: str, reason: str) -> None:
        self.settled[name] = (status, reason)


def runner(events: Events, body: Callable[[str], str] | None = None) -> Callable[[str], str]:
    def run(name: str) -> str:
        events.add("start", name)
        status = body(name) if body else SUCCEEDED
        events.add("end", name)
        return status

    return run


def no_gate(_: str) -> None:
    return None


def test_every_step_starts_after_the_steps_it_waits_for_end() -> None:
    graph = {
        "a": set(),
        "b": set(),
        "c": {"a"},
        "d": {"a", "b"},
        "e": {"c", "d"},
        "f": set(),
    }
    events = Events()
    results = schedule(
        topological_order(graph), graph, runner(events), no_gate, events.settle, max_workers=3
    )
    assert results == dict.fromkeys(graph, SUCCEEDED)
    for name, needs in graph.items():
        for need in needs:
            assert events.position("end", need) < events.position("start", name)


def test_independent_steps_run_at_the_same_time() -> None:
    # Each of a, b, c waits until all three are running: a sequential run would break
    # the barrier (timeout) and fail the steps.
    barrier = threading.Barrier(3, timeout=30)

    def meet(name: str) -> str:
        if name in "abc":
            try:
                barrier.wait()
            except threading.BrokenBarrierError:
                return FAILED
        return SUCCEEDED

    graph = {"a": set(), "b": set(), "c": set(), "d": {"a", "b", "c"}}
    events = Events()
    results = schedule(
        topological_order(graph), graph, runner(events, meet), no_gate, events.settle, 4
    )
    assert results == dict.fromkeys(graph, SUCCEEDED)


def test_after_a_failure_dependents_and_unstarted_steps_do_not_run() -> None:
    graph = {"a": set(), "bad": {"a"}, "after_bad": {"bad"}, "late": {"a", "bad"}}
    events = Events()
    results = schedule(
        topological_order(graph),
        graph,
        runner(events, lambda name: FAILED if name == "bad" else SUCCEEDED),
        no_gate,
        events.settle,
        2,
    )
    assert results == {
        "a": SUCCEEDED,
        "bad": FAILED,
        "after_bad": NOT_STARTED,
        "late": NOT_STARTED,
    }
    assert ("start", "after_bad") not in events.log
    assert events.settled["after_bad"] == (NOT_STARTED, "step bad failed")


def test_a_step_that_is_already_running_finishes_after_a_failure() -> None:
    started = threading.Event()
    failed = threading.Event()

    def body(name: str) -> str:
        if name == "slow":
            started.set()
            failed.wait(timeout=30)
            return SUCCEEDED
        started.wait(timeout=30)
        failed.set()
        return FAILED

    graph = {"slow": set(), "bad": set(), "after_slow": {"slow"}}
    events = Events()
    results = schedule(
        topological_order(graph), graph, runner(events, body), no_gate, events.settle, 2
    )
    assert results == {"slow": SUCCEEDED, "bad": FAILED, "after_slow": NOT_STARTED}


def test_gated_steps_and_their_dependents_are_skipped() -> None:
    graph = {"check": set(), "yes": {"check"}, "no": {"check"}, "after_no": {"no"}}
    events = Events()
    results = schedule(
        topological_order(graph),
        graph,
        runner(events),
        lambda name: "condition check was True" if name == "no" else None,
        events.settle,
        2,
    )
    assert results == {
        "check": SUCCEEDED,
        "yes": SUCCEEDED,
        "no": SKIPPED,
        "after_no": SKIPPED,
    }
    assert events.settled == {
        "no": (SKIPPED, "condition check was True"),
        "after_no": (SKIPPED, "step no did not succeed"),
    }
    assert [name for kind, name in events.log if kind == "start"] == ["check", "yes"]
