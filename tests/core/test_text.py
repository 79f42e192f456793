from __future__ import annotations

import sys

import pytest

from app.core.text import FOLD_GROWTH, fold, like_pattern, search_terms, without_marks


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


def test_fold_grows_no_character_past_fold_growth() -> None:
    """Columns of folded text are sized by FOLD_GROWTH; no code point may fold longer."""
    longest = max(
        len(fold(chr(point)))
        for point in range(sys.maxunicode + 1)
        if not 0xD800 <= point <= 0xDFFF  # surrogates are not text
    )

    assert longest == FOLD_GROWTH


def test_without_marks_keeps_case() -> None:
    assert without_marks("Đặc sản Lạng Sơn: Quýt vàng") == "Dac san Lang Son: Quyt vang"
