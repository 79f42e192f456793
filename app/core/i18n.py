"""Languages: `Accept-Language` negotiation over stored translations.

Records are written in Vietnamese (`vi`) and may carry translations keyed by language tag
(`{"en": {"name": ..., "description": ...}}`). A reader asks with `Accept-Language`; the answer
uses the best translation available, each text falling back to Vietnamese where that translation
lacks it, and says which language each text is really in: per record (`language` for the name,
`description_language` for the description) and for the whole answer (`Content-Language`, every
language its texts are in).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Protocol

from fastapi import Depends, Header
from pydantic import Field, StringConstraints
from pydantic.fields import FieldInfo

BASE_LANGUAGE = "vi"
# A BCP 47 tag of the common shape: a 2-3 letter language, then optional subtags (zh-Hant, pt-BR).
LANGUAGE_TAG = r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*(?![\s\S])"
MAX_TRANSLATIONS = 20

LanguageTag = Annotated[str, StringConstraints(max_length=35, pattern=LANGUAGE_TAG)]


def translations_field(description: str) -> FieldInfo:
    """The constraints of a `translations` input, `{tag: {"name", "description"}}`."""
    field: FieldInfo = Field(
        max_length=MAX_TRANSLATIONS,
        description=description,
        # pydantic states the key pattern as patternProperties; without this, keys outside
        # the pattern would be allowed by the schema but refused by the validation.
        json_schema_extra={"additionalProperties": False},
    )
    return field


@dataclass(frozen=True)
class LanguagePreference:
    """The caller's languages, best first (from `Accept-Language`, q-values honoured)."""

    ranges: tuple[str, ...] = ()

    @classmethod
    def parse(cls, header: str | None) -> LanguagePreference:
        if not header:
            return cls()
        weighted: list[tuple[float, int, str]] = []
        for position, part in enumerate(header.split(",")):
            fields = [field.strip() for field in part.split(";")]
            tag = fields[0].lower()
            if not tag:
                continue
            quality = 1.0
            for param in fields[1:]:
                name, _, value = param.partition("=")
                if name.strip().lower() == "q":
                    try:
                        quality = float(value)
                    except ValueError:
                        quality = 0.0
            if 0 < quality <= 1:
                weighted.append((-quality, position, tag))
        return cls(tuple(tag for _, _, tag in sorted(weighted)))

    def choose(self, available: Iterable[str]) -> str:
        """The best of `available` (plus Vietnamese, always there) for this caller."""
        offered = {tag.lower(): tag for tag in available}
        offered.setdefault(BASE_LANGUAGE, BASE_LANGUAGE)
        for wanted in self.ranges:
            if wanted == "*":
                return BASE_LANGUAGE
            if wanted in offered:
                return offered[wanted]
            # "en-US" is served by "en"; "zh" by "zh-Hant" when that is all there is.
            primary = wanted.split("-")[0]
            if primary in offered:
                return offered[primary]
            for lowered, tag in sorted(offered.items()):
                if lowered.split("-")[0] == primary:
                    return tag
        return BASE_LANGUAGE


@dataclass(frozen=True)
class LocalizedText:
    """A record's name and description as one reader gets them, each with the language it is
    really in (a translation may give the name but not the description)."""

    name: str
    language: str
    """The language of `name`."""
    description: str | None
    description_language: str | None
    """The language of `description`; None when there is no description."""


def localize(
    preference: LanguagePreference,
    name: str,
    description: str | None,
    translations: Mapping[str, Any],
) -> LocalizedText:
    """The name and description for this reader: from the best language the record has a
    translation for, each field falling back to the Vietnamese one where that lacks it."""
    usable = (
        tag
        for tag, text in translations.items()
        if isinstance(text, dict) and (text.get("name") or text.get("description"))
    )
    chosen = preference.choose(usable)
    text: Mapping[str, Any] = translations[chosen] if chosen != BASE_LANGUAGE else {}
    translated_name, translated_description = text.get("name"), text.get("description")
    if translated_description:
        description_language: str | None = chosen
    else:
        description_language = None if description is None else BASE_LANGUAGE
    return LocalizedText(
        name=translated_name or name,
        language=chosen if translated_name else BASE_LANGUAGE,
        description=translated_description or description,
        description_language=description_language,
    )


class Localized(Protocol):
    """A read model with texts chosen by `Accept-Language`."""

    @property
    def text_languages(self) -> tuple[str, ...]:
        """The languages its texts are in."""
        ...


def text_languages(items: Iterable[Localized]) -> Iterable[str]:
    """The languages the texts of `items` are in."""
    return (language for item in items for language in item.text_languages)


def language_headers(languages: Iterable[str]) -> dict[str, str]:
    """`Content-Language` (every language the answer's texts are in, e.g. `en, vi` for a page
    of English and untranslated records) and `Vary`, the answer depending on
    `Accept-Language`."""
    return {
        "Content-Language": ", ".join(sorted(set(languages))) or BASE_LANGUAGE,
        "Vary": "Accept-Language",
    }


async def _preference(
    accept_language: Annotated[
        str | None,
        Header(
            max_length=500,
            pattern=r"^[^\x00]*$",
            description="Languages wanted, e.g. `en, zh;q=0.8`: names and descriptions come in "
            "the first one the record has a translation for, each text in Vietnamese where "
            "that translation lacks it. `language` and `description_language` say which each "
            "text is in; `Content-Language` lists every language the answer's texts are in.",
        ),
    ] = None,
) -> LanguagePreference:
    # async: FastAPI runs a sync dependency in its thread pool, a hop on every read.
    return LanguagePreference.parse(accept_language)


LanguageDep = Annotated[LanguagePreference, Depends(_preference)]
