"""Helpers shared by the benchmarks."""

from __future__ import annotations


def percentile(values: list[float], p: float) -> float:
    """The `p` (0..1) percentile of `values`, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]
