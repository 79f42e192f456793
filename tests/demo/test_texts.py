"""The demo data's texts are in the language they claim: Vietnamese records in Vietnamese (with
their diacritics, in NFC), English translations wherever the demo gives them, in English."""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.demo import data, events, experiences, products
from tests.helpers import FakeClock, seed_demo_data, vn

pytestmark = pytest.mark.anyio

NOW = vn(29)
# Letters only Vietnamese uses among the Latin-script languages the demo has (its diacritics).
VIETNAMESE_LETTERS = set("àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ")
# Common English words that are no Vietnamese words (unlike "to", "an", "in" or "a").
ENGLISH_WORDS = {
    "the", "and", "of", "for", "with", "from", "is", "are", "not", "by", "its", "this", "that",
    "sample", "demo", "made", "taken", "report",
}  # fmt: skip
DEMO_EVENTS = [*events.FIXED_EVENTS, *events.upcoming_samples(NOW)]
DEMO_SETTINGS = {
    experiences.BAC_LE_TEMPLE: experiences.BAC_LE_VISITS,
    experiences.MANDARIN_PICKING: experiences.mandarin_picking(uuid.uuid4()),
    experiences.TEA_WORKSHOP: experiences.TEA_WORKSHOP_VISITS,
}
COUNTS = {
    "/v1/products": len(products.PRODUCTS),
    "/v1/events": len(DEMO_EVENTS),
    "/v1/owners": len(data.OWNERS),
}


def words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower()))


def is_vietnamese(text: str) -> bool:
    """Written in Vietnamese: with its letters and without English words."""
    return bool(VIETNAMESE_LETTERS & set(text.lower())) and not words(text) & ENGLISH_WORDS


def is_english(text: str) -> bool:
    """Written in English (place names without their diacritics, as the report gives them)."""
    return not VIETNAMESE_LETTERS & set(text.lower())


def vietnamese_texts() -> Iterator[tuple[str, str]]:
    """(where, text) for every demo text meant to be Vietnamese."""
    for owner in data.OWNERS:
        yield f"owner {owner.name}", owner.name
        yield f"owner {owner.name}: description", owner.description or ""
    for product in products.PRODUCTS:
        yield f"product {product.product_name}", product.product_name
        yield f"product {product.product_name}: description", product.description
    for demo in DEMO_EVENTS:
        event = demo.event
        yield f"event {event.name}", event.name
        yield f"event {event.name}: description", event.description or ""
        yield f"event {event.name}: venue", event.venue or ""
    for name, settings in DEMO_SETTINGS.items():
        for ticket_type in settings.ticket_types:
            yield f"experience {name}: ticket type {ticket_type.code}", ticket_type.name
        for closure in settings.closures:
            yield f"experience {name}: closed {closure.date}", closure.reason or ""


def english_texts() -> Iterator[tuple[str, str]]:
    """(where, text) for every English translation the demo gives: each product's and event's
    name and description, each ticket type's name."""
    for product in products.PRODUCTS:
        yield f"product {product.product_name}: name_en", product.name_en
        yield f"product {product.product_name}: description_en", product.description_en
    for demo in DEMO_EVENTS:
        english = demo.event.translations["en"]
        yield f"event {demo.event.name}: en name", english.name or ""
        yield f"event {demo.event.name}: en description", english.description or ""
    for name, settings in DEMO_SETTINGS.items():
        for ticket_type in settings.ticket_types:
            english_name = ticket_type.translations["en"].name
            yield f"experience {name}: ticket type {ticket_type.code}: en", english_name


def test_every_vietnamese_text_of_the_demo_is_vietnamese() -> None:
    wrong = [where for where, text in vietnamese_texts() if not is_vietnamese(text)]

    assert wrong == []


def test_every_vietnamese_text_of_the_demo_is_nfc() -> None:
    wrong = [
        where for where, text in vietnamese_texts() if unicodedata.normalize("NFC", text) != text
    ]

    assert wrong == []


def test_every_product_event_and_ticket_type_of_the_demo_has_its_english_translation() -> None:
    missing = [where for where, text in english_texts() if not text or not is_english(text)]

    assert missing == []


def test_the_language_checks_tell_english_from_vietnamese() -> None:
    english = "Sample product for the demo; not taken from the provincial report."

    assert (is_vietnamese(english), is_english(english)) == (False, True)
    assert is_vietnamese("Quả na tươi từ các vườn Chi Lăng, ngọt và thơm.")
    assert not is_vietnamese("Fresh custard apples from Chi Lăng.")


async def read_all(
    client: httpx.AsyncClient, path: str, language: str
) -> tuple[list[dict[str, Any]], set[str | None]]:
    """Every item of a list (events past ones too), read in `language`, and the
    `Content-Language` of its pages."""
    items: list[dict[str, Any]] = []
    labels: set[str | None] = set()
    params: dict[str, Any] = {"limit": 100}
    if path == "/v1/events":
        params["from"] = "2025-01-01"
    while True:
        response = await client.get(path, params=params, headers={"Accept-Language": language})
        assert response.status_code == 200, response.text
        items += response.json()["items"]
        labels.add(response.headers.get("content-language"))
        if response.json()["next_cursor"] is None:
            return items, labels
        params["cursor"] = response.json()["next_cursor"]


@pytest.mark.parametrize("path", ["/v1/products", "/v1/events"])
async def test_the_seeded_catalogue_reads_in_english_when_asked(
    app: FastAPI, client: httpx.AsyncClient, clock: FakeClock, path: str
) -> None:
    clock.set(NOW)
    await seed_demo_data(app, NOW)

    items, labels = await read_all(client, path, "en")

    assert len(items) == COUNTS[path]
    assert [
        item["name"]
        for item in items
        if (item["language"], item["description_language"]) != ("en", "en")
        or not is_english(item["name"] + item["description"])
    ] == []
    assert labels == {"en"}


@pytest.mark.parametrize("path", ["/v1/products", "/v1/events", "/v1/owners"])
async def test_the_seeded_catalogue_reads_in_vietnamese_by_default(
    app: FastAPI, client: httpx.AsyncClient, clock: FakeClock, path: str
) -> None:
    clock.set(NOW)
    await seed_demo_data(app, NOW)

    items, _ = await read_all(client, path, "vi")

    assert len(items) == COUNTS[path]
    assert [item["name"] for item in items if not is_vietnamese(item["description"])] == []
