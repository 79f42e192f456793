"""Languages: `Accept-Language` negotiation over stored translations.

Records are written in Vietnamese (`vi`) and may carry translations keyed by language tag
(`{"en": {"name": ..., "description": ...}}`). A reader asks with `Accept-Language`; the answer
uses the best language available, falling back to Vietnamese, and says which in
`Content-Language`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

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


def localize(
    preference: LanguagePreference,
    name: str,
    description: str | None,
    translations: Mapping[str, Any],
) -> tuple[str, str, str | None]:
    """(language, name, description) for this reader: the best language the record has a
    translation for, each field falling back to the Vietnamese one where that lacks it."""
    usable = (
        tag
        for tag, text in translations.items()
        if isinstance(text, dict) and (text.get("name") or text.get("description"))
    )
    language = preference.choose(usable)
    if language == BASE_LANGUAGE:
        return language, name, description
    text = translations[language]
    return language, text.get("name") or name, text.get("description") or description


def language_headers(languages: Iterable[str]) -> dict[str, str]:
    """`Content-Language` (every language the answer's texts are in) and `Vary`."""
    return {
        "Content-Language": ", ".join(sorted(set(languages))) or BASE_LANGUAGE,
        "Vary": "Accept-Language",
    }


def _preference(
    accept_language: Annotated[
        str | None,
        Header(
            max_length=500,
            pattern=r"^[^\x00]*$",
            description="Languages wanted, e.g. `en, zh;q=0.8`: names and descriptions come in "
            "the first one the record has a translation for, else in Vietnamese (see "
            "`Content-Language`).",
        ),
    ] = None,
) -> LanguagePreference:
    return LanguagePreference.parse(accept_language)


LanguageDep = Annotated[LanguagePreference, Depends(_preference)]
