"""`localize`: each text comes with the language it is really in."""

from __future__ import annotations

import pytest

from app.core.i18n import LanguagePreference, LocalizedText, localize

NAME, DESCRIPTION = "Quýt vàng Bắc Sơn", "Quýt ngọt, vỏ mỏng."


@pytest.mark.parametrize(
    ("translations", "expected"),
    [
        (
            {"en": {"name": "Golden mandarin", "description": "Sweet."}},
            LocalizedText("Golden mandarin", "en", "Sweet.", "en"),
        ),
        (
            {"en": {"name": "Golden mandarin"}},
            LocalizedText("Golden mandarin", "en", DESCRIPTION, "vi"),
        ),
        ({"en": {"description": "Sweet."}}, LocalizedText(NAME, "vi", "Sweet.", "en")),
        ({"zh": {"name": "北山金橘"}}, LocalizedText(NAME, "vi", DESCRIPTION, "vi")),
        ({}, LocalizedText(NAME, "vi", DESCRIPTION, "vi")),
    ],
    ids=["full", "name-only", "description-only", "other-language", "none"],
)
def test_each_text_is_labelled_with_its_own_language(
    translations: dict[str, dict[str, str]], expected: LocalizedText
) -> None:
    assert localize(LanguagePreference.parse("en"), NAME, DESCRIPTION, translations) == expected


def test_no_description_has_no_language() -> None:
    texts = localize(LanguagePreference.parse("en"), NAME, None, {"en": {"name": "Mandarin"}})

    assert (texts.description, texts.description_language) == (None, None)
