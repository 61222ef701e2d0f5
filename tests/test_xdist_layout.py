"""The slowest tests are laid out evenly among pytest-xdist's workers (xdist_layout)."""

from xdist_layout import laid_out


def test_each_workers_first_share_starts_with_an_equal_part_of_the_slow_tests() -> None:
    known = {"a": 100.0, "b": 90.0, "c": 50.0, "d": 40.0}
    ids = ["x1", "a", "x2", "b", "x3", "c", "x4", "d", "x5"]
    order = laid_out(ids, known, 2)
    first, second = order[:4], order[4:]  # worksteal: 9 // 2 = 4, then the other 5
    assert sorted(order) == sorted(ids)
    assert first == ["a", "d", "x1", "x2"]  # 100 + 40
    assert second == ["b", "c", "x3", "x4", "x5"]  # 90 + 50, the others in their order


def test_without_slow_tests_the_order_is_kept() -> None:
    ids = ["x1", "x2", "x3"]
    assert laid_out(ids, {}, 2) == ids
