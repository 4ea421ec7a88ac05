"""Fixtures shared by the unit tests of several packages."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from bench.capacity import Recorded


@pytest.fixture(scope="session")
def recorded_life() -> tuple[Recorded, ...]:
    """The DynamoDB requests of one small image's life (``bench.capacity.record_life``), recorded once per
    session: the bench's tests and ``imgmgr cost``'s drift test read the same life (moto and Pillow take
    a few seconds)."""
    from bench.capacity import _photo, record_life

    return tuple(record_life(_photo(0.3)))
