from __future__ import annotations

import uuid
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from app.core.external_refs import (
    DistinctRefs,
    ExternalRef,
    ExternalRefQuery,
    ExternalRefRead,
    external_refs_field,
    split_ref,
)
from app.core.i18n import (
    BASE_LANGUAGE,
    MAX_TRANSLATIONS,
    LanguageTag,
    translations_field,
)
from app.core.pagination import ChangesQuery
from app.core.schemas import (
    DEFAULT_PROVINCE,
    MAX_PRICE_VND,
    NFC,
    NOT_BLANK,
    HttpsUrl,
    InputModel,
    Latitude,
    Longitude,
    LongText,
    Name,
    NonNegativeQuantityIn,
    Omittable,
    Place,
    PlaceQuery,
    PositiveQuantityIn,
    PriceVnd,
    QuantityIn,
    QuantityOut,
    SearchText,
    Timestamp,
    in_utc,
    quantity_json,
    trim,
)
from app.geography.schemas import (
    CommuneCode,
    CommuneName,
    CommuneShortName,
    ProvinceCode,
    ProvinceName,
)
from app.models.product import Product, ProductGroup, ProductStatus, Unit
from app.owners.schemas import OwnerRef

Rated = tuple[Product, int | None]
"""A product with its current stars (computed in SQL for a given day)."""

PriceVndQuery = Annotated[int, Field(ge=0, le=MAX_PRICE_VND)]


class ProductSort(StrEnum):
    newest = "newest"
    name = "name"
    price = "price"
    price_desc = "-price"
    stars = "stars"


class ProductQuery(ChangesQuery):
    """`GET /v1/products`: the filters (all combine) and the sort, with the page; or, with
    `updated_since`, the change feed of every product, archived ones included."""

    q: SearchText | None = Field(
        default=None,
        description="Words in the name, a translation or the owner's name; accents optional.",
    )
    group: ProductGroup | None = Field(default=None, description="Only this OCOP group.")
    min_stars: int | None = Field(
        default=None, ge=1, le=5, description="Only products with at least these stars."
    )
    certified: bool | None = Field(
        default=None,
        description="true: only products with a valid 3+ star certificate; false: without.",
    )
    commune: PlaceQuery | None = Field(
        default=None,
        description="Only products of this commune: its code (`06385`) or its name, accents "
        "and `xã`/`phường` optional, looked up in `province` (default `Lạng Sơn`).",
    )
    province: PlaceQuery | None = Field(
        default=None,
        description="Only products of this province: its code (`20`) or its name, accents "
        "optional.",
    )
    owner_id: uuid.UUID | None = Field(default=None, description="Only this owner's.")
    event_id: uuid.UUID | None = Field(
        default=None, description="Only products entered in this event."
    )
    min_price_vnd: PriceVndQuery | None = None
    max_price_vnd: PriceVndQuery | None = None
    external_ref: ExternalRefQuery | None = Field(
        default=None,
        description="`system:id`: the product another system (a shop) knows by this id.",
    )
    sort: ProductSort = Field(
        default=ProductSort.newest,
        description="newest (default), name, price, -price (dearest first) or stars.",
    )

    @property
    def ref(self) -> tuple[str, str] | None:
        """`external_ref` as (system, id)."""
        return None if self.external_ref is None else split_ref(self.external_ref)


class ProductTranslation(InputModel):
    name: Name = Field(description="The product's name in this language.")
    description: LongText | None = Field(
        default=None, description="The description in this language."
    )


Translations = Annotated[
    dict[LanguageTag, ProductTranslation],
    translations_field(
        'By language tag (`en`, `zh`, `ko`, ...): `{"en": {"name", "description"}}`.'
    ),
]


MAX_IMAGES = 10
MAX_ALT_LENGTH = 300

AltText = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_ALT_LENGTH, pattern=NOT_BLANK),
    AfterValidator(trim),
    NFC,
]


def _has_vietnamese(alt: dict[str, str]) -> dict[str, str]:
    if BASE_LANGUAGE not in alt:
        raise ValueError(f"alt needs a `{BASE_LANGUAGE}` text")
    return alt


AltTexts = Annotated[
    dict[LanguageTag, AltText],
    Field(
        max_length=1 + MAX_TRANSLATIONS,
        description='What the image shows, by language tag: `{"vi": "...", "en": "..."}`; '
        f"`vi` is required, each text 1 to {MAX_ALT_LENGTH} characters.",
        # As `translations_field`: the key pattern as patternProperties admits no other key.
        json_schema_extra={
            "additionalProperties": False,
            "required": [BASE_LANGUAGE],
            "properties": {
                BASE_LANGUAGE: {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": MAX_ALT_LENGTH,
                    "pattern": NOT_BLANK,
                }
            },
        },
    ),
    AfterValidator(_has_vietnamese),
]


class ProductImage(InputModel):
    url: HttpsUrl = Field(
        description="The image: an https URL on a host name (no IP address, port or "
        "credentials), at most 2000 characters, e.g. `https://cdn.example.vn/quyt.jpg`."
    )
    alt: AltTexts


Images = Annotated[
    list[ProductImage],
    Field(
        max_length=MAX_IMAGES,
        description=f"Up to {MAX_IMAGES} images, in display order (the first is the main one).",
    ),
]
ExternalRefs = Annotated[
    list[ExternalRef],
    external_refs_field(
        "The ids of this product in other systems (a shop's SKU, say); a (system, id) pair "
        "names one product only."
    ),
    DistinctRefs,
]


class ProductFields(InputModel):
    description: LongText | None = Field(default=None, description="Description in Vietnamese.")
    translations: Translations = Field(default_factory=dict)
    subgroup: (
        Annotated[str, StringConstraints(max_length=100, pattern=r"^[^\x00]*(?![\s\S])"), NFC]
        | None
    ) = Field(default=None, description="Optional sub-group, e.g. `fresh fruit`, `herbal tea`.")
    stock: NonNegativeQuantityIn | None = Field(
        default=None, description="Stock in units (exact, <= 3 decimals); null: not tracked."
    )
    latitude: Latitude | None = Field(default=None, description="WGS 84 latitude.")
    longitude: Longitude | None = Field(default=None, description="WGS 84 longitude.")


class ProductCreate(ProductFields):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "owner_id": "3b0e6f2c-8d4a-4c1e-9f57-2a6d8e1b4c90",
                    "name": "Quýt vàng Bắc Sơn",
                    "description": "Quýt chín cây, vỏ mỏng, vị ngọt thanh, hái tại vườn Bắc Sơn.",
                    "translations": {
                        "en": {
                            "name": "Bac Son golden mandarin",
                            "description": "Tree-ripened mandarins from the Bac Son orchards.",
                        }
                    },
                    "group": "food",
                    "subgroup": "trái cây tươi",
                    "unit": "kg",
                    "unit_step": 0.5,
                    "price_vnd": 60000,
                    "stock": 500,
                    "commune": "Bắc Sơn",
                    "province": "Lạng Sơn",
                    "latitude": 21.8994,
                    "longitude": 106.3217,
                }
            ]
        }
    )

    owner_id: uuid.UUID = Field(description="The owner; an owner key may only name its own.")
    name: Name = Field(description="Name in Vietnamese, e.g. `Quýt vàng Bắc Sơn`.")
    group: ProductGroup = Field(description="One of the six OCOP groups (see /v1/taxonomy).")
    unit: Unit = Field(description="The unit the product is sold in.")
    unit_step: PositiveQuantityIn = Field(
        default=Decimal(1),
        description="Orders are multiples of this (0.5 for kg, 1 for box).",
        # The document's default is a JSON number, as the value is: pydantic writes a Decimal
        # default as the string "1", which a number schema does not admit.
        json_schema_extra={"default": 1},
    )
    price_vnd: PriceVnd = Field(description="Price per unit, whole VND.")
    commune: Place = Field(
        description="Commune where it is made or found: its code (`06385`) or its name, "
        "accents and `xã`/`phường` optional (`Bắc Sơn`), looked up in `province`; stored as "
        "its official name."
    )
    province: Place = Field(
        default=DEFAULT_PROVINCE,
        description="Province: its code (`20`) or its name; stored as its official name.",
    )
    images: Images = Field(default_factory=list)
    external_refs: ExternalRefs = Field(default_factory=list)


_REQUIRED = ("owner_id", "name", "group", "unit", "unit_step", "price_vnd", "commune", "province")


class ProductUpdate(ProductFields):
    """Fields to change; absent fields stay as they are, null clears an optional field.
    `translations`, `images` and `external_refs`, when given, replace the current ones."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"price_vnd": 65000, "stock": 320.5}]}
    )

    translations: Omittable[Translations] = Field(  # type: ignore[assignment]
        default=None, description="Replaces every translation."
    )
    owner_id: Omittable[uuid.UUID] = Field(
        default=None, description="Move to another owner (admin only)."
    )
    name: Omittable[Name] = Field(default=None, description="New name.")
    group: Omittable[ProductGroup] = Field(default=None, description="New group.")
    unit: Omittable[Unit] = Field(default=None, description="New unit.")
    unit_step: Omittable[PositiveQuantityIn] = Field(default=None, description="New unit step.")
    price_vnd: Omittable[PriceVnd] = Field(default=None, description="New price.")
    commune: Omittable[Place] = Field(default=None, description="New commune.")
    province: Omittable[Place] = Field(default=None, description="New province.")
    images: Omittable[Images] = None
    external_refs: Omittable[ExternalRefs] = None

    @model_validator(mode="after")
    def _required_stay_set(self) -> ProductUpdate:
        for field in (*_REQUIRED, "translations", "images", "external_refs"):
            if field in self.model_fields_set and getattr(self, field) is None:
                raise ValueError(f"{field} cannot be null")
        return self


class StockAdjustment(InputModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"delta": 120}, {"delta": -2.5}]})

    delta: QuantityIn = Field(
        description="Units to add (negative to remove), exact: 0.1 + 0.2 is 0.3."
    )


class TranslationRead(BaseModel):
    name: str
    description: str | None = None


class ProductImageRead(BaseModel):
    url: str = Field(description="The image's https URL.")
    alt: dict[str, str] = Field(description="What it shows, by language tag (`vi` always).")


class ProductRead(BaseModel):
    id: uuid.UUID
    owner_id: uuid.UUID
    owner: OwnerRef = Field(description="The owner, in brief.")
    name: str = Field(description="The name, in `language`.")
    description: str | None = Field(description="The description, in `description_language`.")
    language: str = Field(
        description="The language `name` is in: that of the translation `Accept-Language` "
        "chose, if it gives a name, else `vi`."
    )
    description_language: str | None = Field(
        description="The language `description` is in (null when there is none): that of the "
        "translation `Accept-Language` chose, if it gives a description, else `vi`."
    )
    translations: dict[str, TranslationRead] = Field(description="Every stored translation.")
    group: ProductGroup
    subgroup: str | None
    unit: Unit
    unit_step: QuantityOut = Field(description="Orders are multiples of this.")
    price_vnd: int = Field(description="Price per unit, whole VND.")
    stock: QuantityOut | None = Field(description="Units in stock; null: not tracked.")
    commune: CommuneShortName
    commune_code: CommuneCode
    commune_name: CommuneName
    province: ProvinceName
    province_code: ProvinceCode
    latitude: float | None
    longitude: float | None
    stars: int | None = Field(
        description="Stars of the latest certificate valid today (3..5), else null."
    )
    status: ProductStatus = Field(description="active, or archived (out of public lists).")
    images: list[ProductImageRead] = Field(description="Its images, in display order.")
    external_refs: list[ExternalRefRead] = Field(description="Its ids in other systems.")
    created_at: Timestamp
    updated_at: Timestamp

    @property
    def text_languages(self) -> tuple[str, ...]:
        """The languages `name` and `description` are in."""
        return tuple(filter(None, (self.language, self.description_language)))


def product_json(fields: dict[str, Any]) -> dict[str, Any]:
    """`ProductRead`'s fields (`app.products.service.fields`) made JSON-ready as the model
    writes them, for `app.core.jsontext.dumps`: a catalogue page is written from these without
    building twenty models to write them (tests/products/test_rendering.py holds the two to
    the same bytes). In place: quantities as numbers, timestamps in UTC, each translation as
    `name` then `description` (null when it has none, as stored translations may omit it),
    each image as `url` then `alt` (JSONB keeps keys in its own order)."""
    fields["unit_step"] = quantity_json(fields["unit_step"])
    if fields["stock"] is not None:
        fields["stock"] = quantity_json(fields["stock"])
    fields["translations"] = {
        tag: {"name": text["name"], "description": text.get("description")}
        for tag, text in fields["translations"].items()
    }
    fields["images"] = [{"url": image["url"], "alt": image["alt"]} for image in fields["images"]]
    fields["created_at"] = in_utc(fields["created_at"])
    fields["updated_at"] = in_utc(fields["updated_at"])
    return fields
