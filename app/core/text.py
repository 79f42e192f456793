"""Vietnamese-aware text folding for diacritic-insensitive search."""

from __future__ import annotations

import re
import unicodedata

# NFD splits "ế" into "e" + marks, but "đ" is a letter of its own, not "d" + a mark.
_LETTERS = str.maketrans({"đ": "d", "Đ": "d"})
_SPACES = re.compile(r"\s+")


def nfc(value: object) -> object:
    """Text in Unicode NFC (precomposed: "ắ" is one character, however it was typed); anything
    else unchanged (for a validator to refuse). Every text a client sends is stored this way, so
    one name typed two ways is one name."""
    return unicodedata.normalize("NFC", value) if isinstance(value, str) else value


def fold(text: str) -> str:
    """Lower-case, strip diacritics (đ -> d) and collapse whitespace: "Ngọc Quế" -> "ngoc que"."""
    decomposed = unicodedata.normalize("NFD", text.translate(_LETTERS))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", stripped.casefold()).strip()


def search_terms(query: str) -> list[str]:
    """The folded words of a search query; every one must match."""
    return [term for term in fold(query).split(" ") if term]


def like_pattern(term: str) -> str:
    """A `LIKE ... ESCAPE '\\'` pattern matching `term` anywhere."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
