"""SQLite builds without math functions get them from register_math_functions."""

from __future__ import annotations

import math
import sqlite3

import pytest

from app.core.sqlite import register_math_functions

HAVERSINE = """
SELECT 2 * 6371.0088 * asin(sqrt(
    sin((radians(:lat2) - radians(:lat1)) / 2) * sin((radians(:lat2) - radians(:lat1)) / 2)
    + cos(radians(:lat1)) * cos(radians(:lat2))
      * sin(radians(:lon2 - :lon1) / 2) * sin(radians(:lon2 - :lon1) / 2)))
"""


def test_registered_functions_compute_the_great_circle_distance() -> None:
    connection = sqlite3.connect(":memory:")
    register_math_functions(connection)

    # Bắc Sơn to Lạng Sơn city.
    row = connection.execute(
        HAVERSINE, {"lat1": 21.90, "lon1": 106.32, "lat2": 21.85, "lon2": 106.76}
    ).fetchone()
    connection.close()

    assert row is not None
    assert row[0] == pytest.approx(45.742, abs=0.001)


def test_registered_functions_pass_null_through() -> None:
    connection = sqlite3.connect(":memory:")
    register_math_functions(connection)

    row = connection.execute("SELECT sin(NULL), radians(NULL), sqrt(4)").fetchone()
    connection.close()

    assert row == (None, None, math.sqrt(4))
