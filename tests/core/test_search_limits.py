"""A search's cost is bounded: at most `MAX_SEARCH_TERMS` words, checked by the query type
(`SearchText`) and again by `search_terms` itself, whoever calls it."""

from __future__ import annotations

import random
import re

import httpx
import pytest
from pydantic import TypeAdapter, ValidationError

from app.core.errors import Unprocessable
from app.core.schemas import SEARCH_TEXT, SearchText
from app.core.text import MAX_SEARCH_TERMS, TooManySearchTerms, search_terms
from tests.helpers import problem

search_text = TypeAdapter(SearchText)
# The spaces Python's `\s` matches, a few letters, a combining mark, and NUL.
ALPHABET = [
    *"\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u200a\u2028\u2029\u202f\u205f\u3000",
    *"aĐế茶",
    "\u0301",
    "\x00",
]


def test_eight_words_pass_and_nine_do_not() -> None:
    eight = " ".join(["quyt"] * MAX_SEARCH_TERMS)

    assert search_text.validate_python(f"  {eight}\u3000") == f"  {eight}\u3000"
    with pytest.raises(ValidationError) as raised:
        search_text.validate_python(eight + "\u2003vang")
    assert raised.value.errors()[0]["type"] == "too_many_words"
    assert raised.value.errors()[0]["msg"] == f"at most {MAX_SEARCH_TERMS} words"


@pytest.mark.parametrize(
    ("text", "error"), [("tra\x00", "nul_character"), ("x" * 201, "string_too_long")]
)
def test_nul_and_length_are_refused(text: str, error: str) -> None:
    with pytest.raises(ValidationError) as raised:
        search_text.validate_python(text)
    assert raised.value.errors()[0]["type"] == error


def test_the_schema_pattern_says_what_the_type_accepts() -> None:
    """The OpenAPI pattern, read by Python's engine as a schema-driven client would, agrees
    with the validator on random text made of spaces of every kind, letters, marks and NUL."""
    rng = random.Random(20251103)
    pattern = re.compile(SEARCH_TEXT)
    for _ in range(5000):
        text = "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(0, 40)))
        try:
            search_text.validate_python(text)
            accepted = True
        except ValidationError:
            accepted = False
        assert accepted is (pattern.search(text) is not None), repr(text)
        if accepted:  # folding never makes more terms than there are words
            assert len(search_terms(text)) <= MAX_SEARCH_TERMS


def test_search_terms_refuses_more_than_the_maximum() -> None:
    assert len(search_terms(" ".join(["tra"] * MAX_SEARCH_TERMS))) == MAX_SEARCH_TERMS
    with pytest.raises(TooManySearchTerms) as raised:
        search_terms(" ".join(["tra"] * 100), field="name")
    assert isinstance(raised.value, Unprocessable)
    assert raised.value.extra["errors"] == [
        {"loc": ["query", "name"], "msg": "at most 8 words", "type": "too_many_words"}
    ]


@pytest.mark.anyio
@pytest.mark.parametrize("path", ["/v1/products", "/v1/owners", "/v1/events"])
async def test_a_hundred_word_search_is_422_naming_q(client: httpx.AsyncClient, path: str) -> None:
    hundred_words = " ".join("abcdefghij"[i % 10] for i in range(100))  # 199 characters

    response = await client.get(path, params={"q": hundred_words})

    assert response.status_code == 422
    body = problem(response)
    assert body["code"] == "validation_error"
    assert body["errors"] == [
        {"loc": ["query", "q"], "msg": "at most 8 words", "type": "too_many_words"}
    ]


@pytest.mark.anyio
async def test_an_eight_word_search_is_answered(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/products", params={"q": "tra bo khai ngoc que tui loc hop"})

    assert response.status_code == 200
    assert response.json()["items"] == []
