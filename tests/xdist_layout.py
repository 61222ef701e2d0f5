"""Where the slowest tests go among pytest-xdist's workers (tests/conftest.py orders the
collection with it)."""

from pathlib import Path

# Seconds the slowest tests took (pytest --durations=0 -n 2 in the tests session, call, setup
# and teardown summed; those of 8 s and more), for laying them out among the workers.
DURATIONS = Path(__file__).with_name("durations.json")


def _share_sizes(count: int, workers: int) -> list[int]:
    """How many tests pytest-xdist's worksteal scheduler first hands each worker: the pending
    ones divided evenly among the workers still to serve, in turn."""
    sizes = []
    for remaining in range(workers, 0, -1):
        sizes.append((count - sum(sizes)) // remaining)
    return sizes


def laid_out(ids: list[str], known: dict[str, float], workers: int) -> list[str]:
    """`ids` ordered so that each worker's first share starts with an equal part of the
    `known` slow tests: each, slowest first, goes to the share with the least time so far;
    the others follow in their order."""
    sizes = _share_sizes(len(ids), workers)
    shares: list[list[str]] = [[] for _ in sizes]
    load = [0.0] * workers
    for test in sorted((i for i in ids if i in known), key=lambda i: (-known[i], i)):
        chosen = min(
            (n for n in range(workers) if len(shares[n]) < sizes[n]), key=lambda n: (load[n], n)
        )
        shares[chosen].append(test)
        load[chosen] += known[test]
    rest = [i for i in ids if i not in known]
    taken = 0
    for share, size in zip(shares, sizes, strict=True):
        wanted = size - len(share)
        share += rest[taken : taken + wanted]
        taken += wanted
    return [test for share in shares for test in share]
