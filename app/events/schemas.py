from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import cache
from typing import Annotated, Any
from zoneinfo import available_timezones

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Field,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from app.core.i18n import LanguagePreference, LanguageTag, localize, translations_field
from app.core.pagination import PageQuery
from app.core.schemas import (
    DAY_RANGE,
    DAY_SCHEMA,
    DEFAULT_PROVINCE,
    EARLIEST,
    END,
    LATEST,
    LOCAL_TIMESTAMP_SCHEMA,
    NFC,
    NO_NUL,
    TIMESTAMP_SCHEMA,
    InputModel,
    Instant,
    Latitude,
    Longitude,
    LongText,
    Name,
    Place,
    PlaceQuery,
    PriceVnd,
    SearchText,
    ShortText,
    day_in_range,
    is_day,
    is_timestamp,
    trim,
)
from app.core.zones import day_start, zone
from app.models.event import Event, EventKind, EventProduct, EventStatus
from app.models.product import Unit

DEFAULT_TZ = "Asia/Ho_Chi_Minh"


# ---------------------------------------------------------------------------------------------
# Time zones and time windows


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def _known_zone(name: str) -> str:
    if name not in _zone_names():
        raise ValueError(f"unknown time zone {name!r}; use an IANA name such as {DEFAULT_TZ}")
    return name


TimeZoneName = Annotated[
    str,
    StringConstraints(max_length=64, pattern=r"^[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*$"),
    AfterValidator(_known_zone),
]


def _parse_moment(value: object) -> datetime | date:
    """An RFC 3339 timestamp (its offset may be left out: then it is local to `tz`) or a date,
    on a day from 1970-01-01 to 2199-12-31 (the shared range, `app.core.schemas.Day`).

    Parsed here rather than by pydantic, which would also take a bare number as a Unix time.
    """
    wrong = f"must be an RFC 3339 timestamp or a date (YYYY-MM-DD) {DAY_RANGE}"
    if not isinstance(value, str):
        raise ValueError(wrong)
    try:
        if is_timestamp(value, offset_optional=True):
            return day_in_range(datetime.fromisoformat(value))
        if is_day(value):
            return day_in_range(date.fromisoformat(value))
    except ValueError:
        pass
    raise ValueError(wrong)


Moment = Annotated[
    datetime | date,
    BeforeValidator(_parse_moment),
    WithJsonSchema({"anyOf": [TIMESTAMP_SCHEMA, LOCAL_TIMESTAMP_SCHEMA, DAY_SCHEMA]}),
]
"""A window bound: a day or a timestamp, on a day of the shared range (so its bounds in any
zone are computable)."""


def instant(value: datetime | date, tz: tzinfo, *, end_of_day: bool = False) -> datetime:
    """The UTC instant a window bound names: a date is the start of that local day (or, for
    `to`, the start of the next one, so dates are inclusive); a timestamp without an offset is
    local to `tz`. A `Moment` lies on a day of the shared range, so this never overflows; a
    bound a few hours beyond the range's instants (in a far zone) is clamped to them."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=tz)
        moment = moment.astimezone(UTC)
    else:
        moment = day_start(value + timedelta(days=1) if end_of_day else value, tz)
    return min(max(moment, EARLIEST), LATEST)


EventTime = Instant
"""When an event opens or closes."""


# ---------------------------------------------------------------------------------------------
# Languages


class EventTranslation(InputModel):
    name: Name | None = Field(default=None, description="The name in this language.")
    description: LongText | None = Field(
        default=None, description="The description in this language."
    )


Translations = Annotated[
    dict[LanguageTag, EventTranslation],
    translations_field(
        'Other languages than Vietnamese, e.g. `{"en": {"name": "...", "description": "..."}}`.'
    ),
]


# ---------------------------------------------------------------------------------------------
# Events

ExternalSystem = Annotated[
    str, StringConstraints(min_length=1, max_length=50, pattern=rf"^[a-z0-9][a-z0-9_.-]*{END}")
]
ExternalId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200, pattern=rf"^[^\x00-\x20\x7f]+{END}"),
    NFC,
]
EXTERNAL_REF_QUERY = r"^[a-z0-9][a-z0-9_.-]{0,49}:[^\x00-\x20\x7f]{1,200}$"
ExternalRefQuery = Annotated[
    str, StringConstraints(max_length=251, pattern=EXTERNAL_REF_QUERY), NFC
]


class ExternalRef(InputModel):
    system: ExternalSystem = Field(description="The ticketing system, e.g. `ticketbox`.")
    id: ExternalId = Field(description="The event's id in that system.")


ExternalRefs = Annotated[
    list[ExternalRef],
    Field(
        max_length=20,
        description="The ids of this event in ticketing systems; a (system, id) pair names one "
        "event only.",
    ),
]


def _unique_refs(refs: list[ExternalRef] | None) -> None:
    pairs = [(ref.system, ref.id) for ref in refs or []]
    if len(set(pairs)) != len(pairs):
        raise ValueError("external_refs names the same (system, id) twice")


class EventFields(InputModel):
    venue: ShortText | None = Field(default=None, description="Where, e.g. `Quảng trường ...`.")
    latitude: Latitude | None = Field(default=None, description="WGS84 latitude (with longitude).")
    longitude: Longitude | None = Field(
        default=None, description="WGS84 longitude (with latitude)."
    )
    description: LongText | None = Field(default=None, description="About the event, Vietnamese.")


class EventCreate(EventFields):
    name: Name = Field(description="Name in Vietnamese, e.g. `Lễ hội Mùa vàng Bắc Sơn`.")
    kind: EventKind = Field(description="festival, trade_fair, exhibition, product_week or other.")
    starts_at: EventTime = Field(description="When it opens (RFC 3339 with offset).")
    ends_at: EventTime = Field(description="When it closes; after `starts_at`.")
    commune: Place = Field(description="Commune (xã/phường), e.g. `Bắc Sơn`.")
    province: Place = Field(default=DEFAULT_PROVINCE, description="Province, e.g. `Lạng Sơn`.")
    translations: Translations = Field(default_factory=dict)
    external_refs: ExternalRefs = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> EventCreate:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("give latitude and longitude together, or neither")
        _unique_refs(self.external_refs)
        return self


class EventUpdate(EventFields):
    """Fields to change; absent fields stay as they are, null clears an optional field.
    `external_refs` and `translations`, when given, replace the current ones."""

    name: Name | SkipJsonSchema[None] = Field(default=None, description="New name.")
    kind: EventKind | SkipJsonSchema[None] = Field(default=None, description="New kind.")
    starts_at: EventTime | SkipJsonSchema[None] = Field(default=None, description="New start.")
    ends_at: EventTime | SkipJsonSchema[None] = Field(default=None, description="New end.")
    commune: Place | SkipJsonSchema[None] = Field(default=None, description="New commune.")
    province: Place | SkipJsonSchema[None] = Field(default=None, description="New province.")
    translations: Translations | SkipJsonSchema[None] = None
    external_refs: ExternalRefs | SkipJsonSchema[None] = None

    @model_validator(mode="after")
    def _required_stay_set(self) -> EventUpdate:
        required = ("name", "kind", "starts_at", "ends_at", "commune", "province")
        for field in (*required, "translations", "external_refs"):
            if field in self.model_fields_set and getattr(self, field) is None:
                raise ValueError(f"{field} cannot be null")
        _unique_refs(self.external_refs)
        return self


_LAT = r"-?(90(\.0{1,15})?|[1-8]?[0-9](\.[0-9]{1,15})?)"
_LON = r"-?(180(\.0{1,15})?|(1[0-7][0-9]|[1-9]?[0-9])(\.[0-9]{1,15})?)"
TZ_DESCRIPTION = "IANA time zone the times are shown in (and dates are read in)."


@dataclass(frozen=True)
class Near:
    latitude: float
    longitude: float
    radius_km: float


class EventQuery(PageQuery):
    """`GET /v1/events`: the filters, the zone the times are read and shown in, and the page."""

    window_from: Moment | None = Field(
        default=None,
        alias="from",
        description="Only events still running at or after this moment (`ends_at > from`). "
        "A date means the start of that day in `tz`.",
    )
    window_to: Moment | None = Field(
        default=None,
        alias="to",
        description="Only events that start before this moment (`starts_at < to`). A date "
        "includes that whole day in `tz`.",
    )
    kind: EventKind | None = Field(default=None, description="Only events of this kind.")
    commune: PlaceQuery | None = Field(default=None, description="Commune, accents optional.")
    status: EventStatus | None = Field(default=None, description="Only events in this status now.")
    q: SearchText | None = Field(
        default=None, description="Words in the name (any language) or venue; accents optional."
    )
    external_ref: ExternalRefQuery | None = Field(
        default=None, description="`system:id`: the event a ticketing system knows by this id."
    )
    near: str | None = Field(
        default=None,
        max_length=50,
        pattern=rf"^{_LAT},{_LON}$",
        description="`lat,lon`: only events within `radius_km` of this point, nearest "
        "first, each with `distance_km`.",
    )
    radius_km: float = Field(
        default=25.0, gt=0, le=20000, description="Radius for `near`, in km (great-circle)."
    )
    tz: TimeZoneName = Field(default=DEFAULT_TZ, description=TZ_DESCRIPTION)

    @property
    def zone_info(self) -> tzinfo:
        return zone(self.tz)

    @property
    def ends_after(self) -> datetime | None:
        """`from` as a UTC instant."""
        return None if self.window_from is None else instant(self.window_from, self.zone_info)

    @property
    def starts_before(self) -> datetime | None:
        """`to` as a UTC instant (a date counts whole)."""
        if self.window_to is None:
            return None
        return instant(self.window_to, self.zone_info, end_of_day=True)

    @property
    def point(self) -> Near | None:
        """`near` and `radius_km` as a circle."""
        if self.near is None:
            return None
        latitude, longitude = (float(part) for part in self.near.split(","))
        return Near(latitude=latitude, longitude=longitude, radius_km=self.radius_km)

    @property
    def ref(self) -> tuple[str, str] | None:
        """`external_ref` as (system, id)."""
        if self.external_ref is None:
            return None
        system, _, external_id = self.external_ref.partition(":")
        return system, external_id


class ExternalRefRead(BaseModel):
    system: str = Field(description="The ticketing system.")
    id: str = Field(description="The event's id in that system.")


class EventRead(BaseModel):
    id: uuid.UUID
    name: str = Field(description="The name, in `language`.")
    description: str | None = Field(description="The description, in `language`.")
    language: str = Field(
        description="The language of `name` and `description` (`vi` or one "
        "of `translations`), chosen by `Accept-Language`."
    )
    kind: EventKind
    starts_at: datetime = Field(description="Opens; shown in the zone asked for with `tz`.")
    ends_at: datetime = Field(description="Closes; shown in the zone asked for with `tz`.")
    status: EventStatus = Field(
        description="scheduled, ongoing or ended by the clock; cancelled once cancelled."
    )
    venue: str | None
    commune: str
    province: str
    latitude: float | None
    longitude: float | None
    translations: dict[str, Any] = Field(description="The stored translations, by language.")
    external_refs: list[ExternalRefRead] = Field(description="Ids in ticketing systems.")
    distance_km: float | None = Field(
        description="Great-circle distance from `near`, in km; null without `near`."
    )
    cancelled_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(
        cls,
        event: Event,
        *,
        now: datetime,
        tz: tzinfo,
        languages: LanguagePreference,
        distance_km: float | None = None,
    ) -> EventRead:
        translations = dict(event.translations or {})
        language, name, description = localize(
            languages, event.name, event.description, translations
        )
        return cls(
            id=event.id,
            name=name,
            description=description,
            language=language,
            kind=event.kind,
            starts_at=event.starts_at.astimezone(tz),
            ends_at=event.ends_at.astimezone(tz),
            status=event.status_at(now),
            venue=event.venue,
            commune=event.commune,
            province=event.province,
            latitude=event.latitude,
            longitude=event.longitude,
            translations=translations,
            external_refs=[
                ExternalRefRead(system=ref.system, id=ref.external_id)
                for ref in event.external_refs
            ],
            distance_km=None if distance_km is None else round(distance_km, 3),
            cancelled_at=None if event.cancelled_at is None else event.cancelled_at.astimezone(tz),
            created_at=event.created_at.astimezone(tz),
            updated_at=event.updated_at.astimezone(tz),
        )


@dataclass(frozen=True)
class EventView:
    """How a caller reads events: as of `now`, times in `zone`, texts in `languages`."""

    now: datetime
    zone: tzinfo
    languages: LanguagePreference

    def read(self, event: Event, distance_km: float | None = None) -> EventRead:
        return EventRead.of(
            event, now=self.now, tz=self.zone, languages=self.languages, distance_km=distance_km
        )

    def version(self, event: Event) -> EventRead:
        """The event in its version representation (Vietnamese, UTC, with every translation):
        what its ETag's version, and so `If-Match`, is about, however it is read."""
        return EventRead.of(event, now=self.now, tz=UTC, languages=LanguagePreference())


# ---------------------------------------------------------------------------------------------
# Products at an event

Booth = Annotated[str, StringConstraints(max_length=50, pattern=NO_NUL), AfterValidator(trim), NFC]


class EventProductCreate(InputModel):
    product_id: uuid.UUID = Field(description="The product to show and sell at the event.")
    booth: Booth | None = Field(default=None, description="Where, e.g. `A12`.")
    event_price_vnd: PriceVnd | None = Field(
        default=None, description="The price at this event, VND; null: the product's own price."
    )


class EventProductUpdate(InputModel):
    """Fields to change; absent fields stay as they are, null clears."""

    booth: Booth | None = Field(default=None, description="New booth.")
    event_price_vnd: PriceVnd | None = Field(default=None, description="New event price, VND.")


class EntryQuery(PageQuery):
    """`GET /v1/events/{id}/products`: an owner's products only, and the page."""

    owner_id: uuid.UUID | None = Field(default=None, description="Only this owner's products.")


class OwnerRef(BaseModel):
    id: uuid.UUID
    name: str


class EventProductRead(BaseModel):
    event_id: uuid.UUID
    product_id: uuid.UUID
    name: str = Field(description="The product's name, in `language`.")
    language: str = Field(description="The language of `name`, chosen by `Accept-Language`.")
    unit: Unit
    owner: OwnerRef = Field(description="Who makes and sells it.")
    booth: str | None
    event_price_vnd: int | None = Field(description="The price set for this event, if any.")
    regular_price_vnd: int = Field(description="The product's own price, VND.")
    price_vnd: int = Field(
        description="The price that applies at this event: `event_price_vnd` if set, else the "
        "product's own."
    )
    created_at: datetime
    updated_at: datetime

    @classmethod
    def version(cls, entry: EventProduct) -> EventProductRead:
        """The entry in its version representation (the product's Vietnamese name)."""
        return cls.of(entry, languages=LanguagePreference())

    @classmethod
    def of(cls, entry: EventProduct, *, languages: LanguagePreference) -> EventProductRead:
        product = entry.product
        translations = dict(product.translations or {})
        language, name, _ = localize(languages, product.name, None, translations)
        return cls(
            event_id=entry.event_id,
            product_id=product.id,
            name=name,
            language=language,
            unit=product.unit,
            owner=OwnerRef(id=product.owner.id, name=product.owner.name),
            booth=entry.booth,
            event_price_vnd=entry.event_price_vnd,
            regular_price_vnd=product.price_vnd,
            price_vnd=(
                entry.event_price_vnd if entry.event_price_vnd is not None else product.price_vnd
            ),
            created_at=entry.created_at,
            updated_at=entry.updated_at,
        )
