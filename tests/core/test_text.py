from __future__ import annotations

import pytest

from app.core.text import fold, like_pattern, search_terms


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Ngọc Quế", "ngoc que"),
        ("Quýt vàng Bắc Sơn", "quyt vang bac son"),
        ("Đình Bắc Lệ", "dinh bac le"),
        ("ĐỒNG ĐĂNG", "dong dang"),
        ("  Trà   Bổ\tKhai ", "tra bo khai"),
        ("Hữu Lũng", "huu lung"),
    ],
)
def test_fold_strips_marks_and_folds_d(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_search_terms_are_folded_words() -> None:
    assert search_terms("  Trà bổ  KHAI ") == ["tra", "bo", "khai"]


def test_like_pattern_escapes_wildcards() -> None:
    assert like_pattern("50%_off\\") == "%50\\%\\_off\\\\%"
