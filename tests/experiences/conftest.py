from __future__ import annotations

import pytest

from tests.helpers import FakeClock, vn


@pytest.fixture
def clock() -> FakeClock:
    """1 November 2025, 08:00 in the province: a week before the dates the tests book."""
    return FakeClock(vn(1, 8))
