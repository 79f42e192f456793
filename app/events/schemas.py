from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import cache
from typing import Annotated, Any, ClassVar, Protocol
from zoneinfo import available_timezones

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
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
from app.core.i18n import LanguagePreference, LanguageTag, localize, translations_field
from app.core.pagination import ChangesQuery, PageQuery
from app.core.schemas import (
    DAY_RANGE,
    DAY_SCHEMA,
    DEFAULT_PROVINCE,
    EARLIEST,
    LATEST,
    LOCAL_TIMESTAMP_SCHEMA,
    NFC,
    NO_NUL,
    TIMESTAMP_SCHEMA,
    InputModel,
    Latitude,
    Longitude,
    LongText,
    Name,
    Omittable,
    Place,
    PlaceQuery,
    PriceVnd,
    SearchText,
    ShortText,
    Timestamp,
    TimestampIn,
    day_in_range,
    is_day,
    is_timestamp,
    trim,
)
from app.core.zones import day_start, zone
from app.geography.schemas import (
    CommuneCode,
    CommuneName,
    CommuneShortName,
    ProvinceCode,
    ProvinceName,
)
from app.models.event import Event, EventKind, EventStatus
from app.models.product import Unit
from app.owners.schemas import OwnerRef

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


EventTime = TimestampIn
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

ExternalRefs = Annotated[
    list[ExternalRef],
    external_refs_field(
        "The ids of this event in ticketing systems; a (system, id) pair names one event only."
    ),
    DistinctRefs,
]


class EventFields(InputModel):
    venue: ShortText | None = Field(default=None, description="Where, e.g. `Quảng trường ...`.")
    latitude: Latitude | None = Field(default=None, description="WGS84 latitude (with longitude).")
    longitude: Longitude | None = Field(
        default=None, description="WGS84 longitude (with latitude)."
    )
    description: LongText | None = Field(default=None, description="About the event, Vietnamese.")


class EventCreate(EventFields):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Lễ hội Mùa vàng Bắc Sơn 2026",
                    "kind": "festival",
                    "starts_at": "2026-11-05T08:00:00+07:00",
                    "ends_at": "2026-11-11T22:00:00+07:00",
                    "venue": "Quảng trường trung tâm xã Bắc Sơn",
                    "commune": "Bắc Sơn",
                    "province": "Lạng Sơn",
                    "latitude": 21.8994,
                    "longitude": 106.3217,
                    "description": "Bảy ngày thăm vườn, thưởng thức và mua quýt vàng Bắc Sơn.",
                    "translations": {
                        "en": {
                            "name": "Bac Son Golden Season Festival 2026",
                            "description": "Seven days of orchard visits and golden mandarins.",
                        }
                    },
                    "external_refs": [{"system": "ticketbox", "id": "EVT-2026-1105"}],
                }
            ]
        }
    )

    name: Name = Field(description="Name in Vietnamese, e.g. `Lễ hội Mùa vàng Bắc Sơn`.")
    kind: EventKind = Field(description="festival, trade_fair, exhibition, product_week or other.")
    starts_at: EventTime = Field(description="When it opens (RFC 3339 with offset).")
    ends_at: EventTime = Field(description="When it closes; after `starts_at`.")
    commune: Place = Field(
        description="Commune (xã/phường): its code (`06385`) or its name, accents and "
        "`xã`/`phường` optional (`Bắc Sơn`), looked up in `province`; stored as its official "
        "name."
    )
    province: Place = Field(
        default=DEFAULT_PROVINCE,
        description="Province: its code (`20`) or its name (`Lạng Sơn`); stored as its "
        "official name.",
    )
    translations: Translations = Field(default_factory=dict)
    external_refs: ExternalRefs = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> EventCreate:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("give latitude and longitude together, or neither")
        return self


class EventUpdate(EventFields):
    """Fields to change; absent fields stay as they are, null clears an optional field.
    `external_refs` and `translations`, when given, replace the current ones."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "venue": "Sân vận động xã Bắc Sơn",
                    "external_refs": [{"system": "ticketbox", "id": "EVT-2026-1105"}],
                }
            ]
        }
    )

    name: Omittable[Name] = Field(default=None, description="New name.")
    kind: Omittable[EventKind] = Field(default=None, description="New kind.")
    starts_at: Omittable[EventTime] = Field(default=None, description="New start.")
    ends_at: Omittable[EventTime] = Field(default=None, description="New end.")
    commune: Omittable[Place] = Field(default=None, description="New commune.")
    province: Omittable[Place] = Field(default=None, description="New province.")
    translations: Omittable[Translations] = None
    external_refs: Omittable[ExternalRefs] = None

    @model_validator(mode="after")
    def _required_stay_set(self) -> EventUpdate:
        required = ("name", "kind", "starts_at", "ends_at", "commune", "province")
        for field in (*required, "translations", "external_refs"):
            if field in self.model_fields_set and getattr(self, field) is None:
                raise ValueError(f"{field} cannot be null")
        return self


_LAT = r"-?(90(\.0{1,15})?|[1-8]?[0-9](\.[0-9]{1,15})?)"
_LON = r"-?(180(\.0{1,15})?|(1[0-7][0-9]|[1-9]?[0-9])(\.[0-9]{1,15})?)"
SHOW_TZ_DESCRIPTION = (
    "IANA time zone the answer names as `tz`, to show its times in locally; the timestamps "
    "themselves are always UTC (`Z`)."
)
TZ_DESCRIPTION = (
    "IANA time zone the dates and offset-less times of `from` and `to` are read in, and the "
    "answer names as `tz` to show its times in locally; the timestamps themselves are always "
    "UTC (`Z`)."
)


@dataclass(frozen=True)
class Near:
    latitude: float
    longitude: float
    radius_km: float


class EventQuery(ChangesQuery):
    """`GET /v1/events`: the filters, the zone the times are read and shown in, and the page;
    or, with `updated_since`, the change feed of every event, cancelled ones included."""

    feed_parameters: ClassVar[frozenset[str]] = frozenset({"tz"})

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
    commune: PlaceQuery | None = Field(
        default=None,
        description="Only events in this commune: its code (`06385`) or its name, accents and "
        "`xã`/`phường` optional, looked up in `province` (default `Lạng Sơn`).",
    )
    province: PlaceQuery | None = Field(
        default=None,
        description="Only events in this province: its code (`20`) or its name, accents optional.",
    )
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
        return None if self.external_ref is None else split_ref(self.external_ref)


class EventRead(BaseModel):
    id: uuid.UUID
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
    kind: EventKind
    starts_at: Timestamp = Field(description="Opens, in UTC; show it in `tz` for local time.")
    ends_at: Timestamp = Field(description="Closes, in UTC; show it in `tz` for local time.")
    tz: str = Field(
        description="The IANA zone to show the times in: the one asked for with `tz`, by default "
        "the province's `Asia/Ho_Chi_Minh`. Every timestamp itself is UTC (`Z`)."
    )
    status: EventStatus = Field(
        description="scheduled, ongoing or ended by the clock; cancelled once cancelled."
    )
    venue: str | None
    commune: CommuneShortName
    commune_code: CommuneCode
    commune_name: CommuneName
    province: ProvinceName
    province_code: ProvinceCode
    latitude: float | None
    longitude: float | None
    translations: dict[str, Any] = Field(description="The stored translations, by language.")
    external_refs: list[ExternalRefRead] = Field(description="Ids in ticketing systems.")
    distance_km: float | None = Field(
        description="Great-circle distance from `near`, in km; null without `near`."
    )
    cancelled_at: Timestamp | None
    created_at: Timestamp
    updated_at: Timestamp

    @property
    def text_languages(self) -> tuple[str, ...]:
        """The languages `name` and `description` are in."""
        return tuple(filter(None, (self.language, self.description_language)))

    @classmethod
    def of(
        cls,
        event: Event,
        *,
        now: datetime,
        tz: str,
        languages: LanguagePreference,
        distance_km: float | None = None,
    ) -> EventRead:
        translations = dict(event.translations or {})
        texts = localize(languages, event.name, event.description, translations)
        return cls(
            id=event.id,
            name=texts.name,
            description=texts.description,
            language=texts.language,
            description_language=texts.description_language,
            kind=event.kind,
            starts_at=event.starts_at,
            ends_at=event.ends_at,
            tz=tz,
            status=event.status_at(now),
            venue=event.venue,
            commune=event.commune,
            commune_code=event.commune_code,
            commune_name=event.commune_name,
            province=event.province,
            province_code=event.province_code,
            latitude=event.latitude,
            longitude=event.longitude,
            translations=translations,
            external_refs=[
                ExternalRefRead(system=ref.system, id=ref.external_id)
                for ref in event.external_refs
            ],
            distance_km=None if distance_km is None else round(distance_km, 3),
            cancelled_at=event.cancelled_at,
            created_at=event.created_at,
            updated_at=event.updated_at,
        )


@dataclass(frozen=True)
class EventView:
    """How a caller reads events: as of `now`, local times in the zone `tz`, texts in
    `languages`."""

    now: datetime
    tz: str
    languages: LanguagePreference

    def read(self, event: Event, distance_km: float | None = None) -> EventRead:
        return EventRead.of(
            event, now=self.now, tz=self.tz, languages=self.languages, distance_km=distance_km
        )

    def version(self, event: Event) -> EventRead:
        """The event in its version representation (Vietnamese, the province's zone, with
        every translation): what its ETag's version, and so `If-Match`, is about, however it
        is read."""
        return EventRead.of(event, now=self.now, tz=DEFAULT_TZ, languages=LanguagePreference())


# ---------------------------------------------------------------------------------------------
# Products at an event

Booth = Annotated[str, StringConstraints(max_length=50, pattern=NO_NUL), AfterValidator(trim), NFC]


class EventProductCreate(InputModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "product_id": "9d2f4b7e-1c3a-4e8f-b6d5-0a7c9e2f1b34",
                    "booth": "A12",
                    "event_price_vnd": 55000,
                }
            ]
        }
    )

    product_id: uuid.UUID = Field(description="The product to show and sell at the event.")
    booth: Booth | None = Field(default=None, description="Where, e.g. `A12`.")
    event_price_vnd: PriceVnd | None = Field(
        default=None, description="The price at this event, VND; null: the product's own price."
    )


class EventProductUpdate(InputModel):
    """Fields to change; absent fields stay as they are, null clears."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"booth": "B03", "event_price_vnd": 52000}]}
    )

    booth: Booth | None = Field(default=None, description="New booth.")
    event_price_vnd: PriceVnd | None = Field(default=None, description="New event price, VND.")


class EntryQuery(PageQuery):
    """`GET /v1/events/{id}/products`: an owner's products only, and the page."""

    owner_id: uuid.UUID | None = Field(default=None, description="Only this owner's products.")


class _OwnerShown(Protocol):
    @property
    def id(self) -> uuid.UUID: ...
    @property
    def name(self) -> str: ...


class _ProductShown(Protocol):
    @property
    def id(self) -> uuid.UUID: ...
    @property
    def name(self) -> str: ...
    @property
    def translations(self) -> dict[str, Any] | None: ...
    @property
    def unit(self) -> Unit: ...
    @property
    def price_vnd(self) -> int: ...
    @property
    def owner(self) -> _OwnerShown: ...


class EntryShown(Protocol):
    """What `EventProductRead` reads of an entry: an `EventProduct` with its product and
    owner loaded, or the row an event's page reads (`app.events.repository.EntryRow`)."""

    @property
    def event_id(self) -> uuid.UUID: ...
    @property
    def booth(self) -> str | None: ...
    @property
    def event_price_vnd(self) -> int | None: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def updated_at(self) -> datetime: ...
    @property
    def product(self) -> _ProductShown: ...


class EventProductRead(BaseModel):
    event_id: uuid.UUID
    product_id: uuid.UUID
    name: str = Field(description="The product's name, in `language`.")
    language: str = Field(
        description="The language `name` is in: the best one of `Accept-Language` the product "
        "has a translation for, else `vi`."
    )
    unit: Unit
    owner: OwnerRef = Field(description="Who makes and sells it.")
    booth: str | None
    event_price_vnd: int | None = Field(description="The price set for this event, if any.")
    regular_price_vnd: int = Field(description="The product's own price, VND.")
    price_vnd: int = Field(
        description="The price that applies at this event: `event_price_vnd` if set, else the "
        "product's own."
    )
    created_at: Timestamp
    updated_at: Timestamp

    @property
    def text_languages(self) -> tuple[str, ...]:
        """The language `name` is in."""
        return (self.language,)

    @classmethod
    def version(cls, entry: EntryShown) -> EventProductRead:
        """The entry in its version representation (the product's Vietnamese name)."""
        return cls.of(entry, languages=LanguagePreference())

    @classmethod
    def of(cls, entry: EntryShown, *, languages: LanguagePreference) -> EventProductRead:
        product = entry.product
        translations = dict(product.translations or {})
        texts = localize(languages, product.name, None, translations)
        return cls(
            event_id=entry.event_id,
            product_id=product.id,
            name=texts.name,
            language=texts.language,
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
