"""Content negotiation over `Accept` (app.core.negotiation), as the reports use it."""

from __future__ import annotations

import pytest

from app.core.errors import NotAcceptable
from app.core.negotiation import negotiate

OFFERED = ("application/json", "text/csv")


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        (None, "application/json"),
        ("", "application/json"),
        ("*/*", "application/json"),
        ("text/csv", "text/csv"),
        ("text/*", "text/csv"),
        ("application/*", "application/json"),
        ("text/csv, application/json", "application/json"),  # a tie: the operation's order
        ("application/json;q=0.5, text/csv", "text/csv"),
        ("text/csv;q=0.9, */*;q=0.1", "text/csv"),
        ("text/csv;q=0, */*", "application/json"),
        ("application/json;q=0, */*;q=0.2", "text/csv"),
        ("text/html, text/csv;q=0.8", "text/csv"),
        ("TEXT/CSV", "text/csv"),
        ("text/csv; charset=utf-8", "text/csv"),
        ("*", "application/json"),  # some old clients' way of saying */*
    ],
)
def test_the_best_acceptable_type_is_chosen(accept: str | None, chosen: str) -> None:
    assert negotiate(accept, OFFERED) == chosen


@pytest.mark.parametrize(
    "accept",
    [
        "application/xml",
        "text/html, image/*",
        "application/json;q=0, text/csv;q=0",
        "*/*;q=0",
        "text/*;q=0, application/json;q=0",
        "not a media type",
    ],
)
def test_nothing_acceptable_is_406_listing_what_is_offered(accept: str) -> None:
    with pytest.raises(NotAcceptable) as raised:
        negotiate(accept, OFFERED)

    assert raised.value.status == 406
    assert raised.value.extra == {"available": ["application/json", "text/csv"]}
