"""Vietnamese-aware text folding for diacritic-insensitive search."""

from __future__ import annotations

import re
import unicodedata

from app.core.errors import Unprocessable

MAX_SEARCH_TERMS = 8
"""The most words a search may have. Each word is one more condition that must match (on
PostgreSQL a trigram index condition), and the planner's time grows faster than the word
count: 100 words took 0.75 s to plan on 70 products (when each word was a sub-select). Eight
covers every product name of the demo data (seven words at most) and any real search, which
names the distinctive part: "bac son", not the nine words of
"Hợp tác xã Du lịch cộng đồng Quỳnh Sơn"."""

FOLD_GROWTH = 3
"""How many characters `fold` can make of one: case folding writes "ﬄ" as "ffl" and "ß" as
"ss". A column holding a folded text of at most n characters needs room for n * FOLD_GROWTH
(tests/core/test_text.py checks the figure against every code point)."""

# NFD splits "ế" into "e" + marks, but "đ" is a letter of its own, not "d" + a mark.
_LETTERS = str.maketrans({"đ": "d", "Đ": "D"})
_SPACES = re.compile(r"\s+")


def nfc(value: object) -> object:
    """Text in Unicode NFC (precomposed: "ắ" is one character, however it was typed); anything
    else unchanged (for a validator to refuse). Every text a client sends is stored this way, so
    one name typed two ways is one name."""
    return unicodedata.normalize("NFC", value) if isinstance(value, str) else value


def without_marks(text: str) -> str:
    """The text without its diacritics (đ -> d), case kept: "Đặc sản" -> "Dac san"."""
    decomposed = unicodedata.normalize("NFD", text.translate(_LETTERS))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def fold(text: str) -> str:
    """Lower-case, strip diacritics (đ -> d) and collapse whitespace: "Ngọc Quế" -> "ngoc que"."""
    return _SPACES.sub(" ", without_marks(text).casefold()).strip()


class TooManySearchTerms(Unprocessable):
    """A search of more than `MAX_SEARCH_TERMS` words, refused as `SearchText` refuses it."""

    def __init__(self, field: str) -> None:
        super().__init__(
            "1 field(s) failed validation.",
            code="validation_error",
            errors=[
                {
                    "loc": ["query", field],
                    "msg": f"at most {MAX_SEARCH_TERMS} words",
                    "type": "too_many_words",
                }
            ],
        )


def search_terms(query: str, *, field: str = "q") -> list[str]:
    """The folded words of a search query (the query parameter `field`); every one must match.

    Never more than `MAX_SEARCH_TERMS`: `TooManySearchTerms` (422) beyond, whoever calls."""
    terms = [term for term in fold(query).split(" ") if term]
    if len(terms) > MAX_SEARCH_TERMS:
        raise TooManySearchTerms(field)
    return terms


def like_pattern(term: str) -> str:
    """A `LIKE ... ESCAPE '\\'` pattern matching `term` anywhere."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
