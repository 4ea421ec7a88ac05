"""The hostile classes of input at the limits of the image core: each ends as expected, and no step of
any of them goes over the memory budget of a worker or past its deadline (``bench.hostile``)."""

from __future__ import annotations

import pytest

from bench import hostile

pytestmark = pytest.mark.resources


@pytest.fixture(scope="module")
def measured() -> dict[str, hostile.Measured]:
    # Every case generated and every step run in its own process: ~1.5 minutes on two cores.
    return {m.case.name: m for m in hostile.measure_all()}


@pytest.mark.parametrize("case", hostile.CASES, ids=lambda case: case.name)
def test_each_hostile_class_ends_as_expected_within_memory_and_time(
    case: hostile.Case, measured: dict[str, hostile.Measured]
) -> None:
    result = measured[case.name]
    assert result.outcome == case.expected, result
    for step in result.steps:
        assert step.peak_rss_mb < hostile.MEMORY_BUDGET_MB, step
        assert step.seconds < hostile.WALL_BUDGET_S, step
    if case.expected == "ready":
        assert [step.step for step in result.steps] == ["compress", "derive"]
    else:
        # Refused from the header: nothing was decoded, so the step stayed near the interpreter's size
        assert result.steps[0].peak_rss_mb < 100, result
