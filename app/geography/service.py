"""Provinces and communes, and the one place a commune given by code or by name is resolved."""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import NotFound, Unprocessable
from app.core.schemas import DEFAULT_PROVINCE
from app.core.text import fold
from app.geography.repository import (
    PLACED,
    CommuneRepository,
    ProvinceRepository,
    places,
    set_place,
)
from app.geography.schemas import CommuneCandidate, CommuneQuery, PlaceFilter, ProvinceQuery
from app.models.geography import Commune, CommuneKind, Province

MAX_CANDIDATES = 20
"""The most candidates a 422 for a commune name lists."""

_CODE = re.compile(r"^[0-9]{1,5}\Z")
_KINDS = {fold(kind.value) + " ": kind for kind in CommuneKind}
_PROVINCE_PREFIXES = ("tinh ", "thanh pho ")


async def list_provinces(
    session: AsyncSession, query: ProvinceQuery
) -> tuple[list[Province], str | None]:
    return await ProvinceRepository(session).search(query)


async def get_province(session: AsyncSession, code: str) -> Province:
    province = await ProvinceRepository(session).by_code(code)
    if province is None:
        raise NotFound(f"No province {code}.", code="unknown_province")
    return province


async def list_communes(
    session: AsyncSession, province_code: str, query: CommuneQuery
) -> tuple[list[Commune], str | None]:
    province = await get_province(session, province_code)
    return await CommuneRepository(session).search(province.code, query)


def _invalid(
    loc: tuple[str, ...], message: str, kind: str, code: str, **extra: object
) -> Unprocessable:
    return Unprocessable(
        message,
        code=code,
        errors=[{"loc": list(loc), "msg": message, "type": kind}],
        **extra,
    )


async def resolve_province(
    session: AsyncSession, value: str, *, loc: tuple[str, ...] = ("body", "province")
) -> Province:
    """A province by its code ("20") or its name, accents, case and "tỉnh"/"thành phố"
    optional ("Lang Son", "tỉnh Lạng Sơn", "Ha Noi"); 422 `unknown_province` otherwise."""
    text = value.strip()
    repository = ProvinceRepository(session)
    if _CODE.match(text):
        found = await repository.by_code(text.zfill(2))
        if found is not None:
            return found
    else:
        key = fold(text)
        for prefix in _PROVINCE_PREFIXES:
            key = key.removeprefix(prefix)
        matches = await repository.by_name(key)
        if len(matches) == 1:
            return matches[0]
    message = f"No province {value!r}."
    raise _invalid(loc, message, "unknown_province", "unknown_province")


def _prefix_of(kind: CommuneKind | None) -> str:
    return "" if kind is None else fold(kind.value) + " "


def _spelled(name: str, cut: int) -> str:
    """`name` in lower case, whitespace collapsed, without its first `cut` characters (its
    kind): accents kept."""
    return " ".join(unicodedata.normalize("NFC", name).split()).casefold()[cut:].strip()


def _candidates(rows: list[tuple[Commune, str]]) -> list[dict[str, str]]:
    return [
        CommuneCandidate(
            code=c.code, name=c.name, province_code=c.province_code, province_name=p
        ).model_dump()
        for c, p in rows
    ]


async def resolve_commune(
    session: AsyncSession,
    value: str,
    *,
    province: str | Province | None = None,
    loc: tuple[str, ...] = ("body", "commune"),
) -> Commune:
    """The commune `value` names: its five-digit code ("06385"), or a name that only one
    commune has, accents, case and the kind ("xã", "phường", "đặc khu") optional: "Huu Lung",
    "xã Hữu Lũng" and "06385" are one commune. `province` (a code, a name or a resolved
    province) narrows the search to that province.

    422 `unknown_commune` when nothing matches, `ambiguous_commune` when several do; either
    lists the `candidates` (code, name, province) the caller may mean."""
    scope = await resolve_province(session, province) if isinstance(province, str) else province
    scope_code = scope.code if scope is not None else None
    repository = CommuneRepository(session)
    text = value.strip()
    if _CODE.match(text):
        commune = await repository.by_code(text.zfill(5))
        if commune is not None and scope_code in (None, commune.province_code):
            return commune
        where = f" in {scope.name}" if scope is not None else ""
        raise _invalid(
            loc,
            f"No commune {value!r}{where}.",
            "unknown_commune",
            "unknown_commune",
            candidates=[],
        )
    key = fold(text)
    kind = None
    for prefix, prefix_kind in _KINDS.items():
        if key.startswith(prefix):
            key, kind = key.removeprefix(prefix), prefix_kind
            break
    matches = await repository.named(key, province_code=scope_code, kind=kind)
    if len(matches) == 1:
        return matches[0][0]
    # Folding merges tones ("Tân Thành", "Tân Thanh"): a name typed with its accents picks the
    # one commune spelled so, if only one is.
    typed = _spelled(text, len(_prefix_of(kind)))
    spelled = [m for m in matches if _spelled(m[0].name, len(m[0].kind) + 1) == typed]
    if len(spelled) == 1:
        return spelled[0][0]
    where = f" in {scope.name}" if scope is not None else ""
    if matches:
        raise _invalid(
            loc,
            f"{len(matches)} communes are named {value!r}{where}: give the code, or the province.",
            "ambiguous_commune",
            "ambiguous_commune",
            candidates=_candidates(matches[:MAX_CANDIDATES]),
        )
    near = await repository.like(key, province_code=scope_code, limit=MAX_CANDIDATES) if key else []
    raise _invalid(
        loc,
        f"No commune {value!r}{where}.",
        "unknown_commune",
        "unknown_commune",
        candidates=_candidates(near),
    )


def short_name(commune: Commune) -> str:
    """The official name without its kind: "Xã Hữu Lũng" -> "Hữu Lũng"."""
    name, kind = commune.name, commune.kind.value
    if name.casefold().startswith(kind + " "):
        return name[len(kind) + 1 :].strip()
    return name


@dataclass(frozen=True)
class Placed:
    """Where an owner, product or event is, as it stores it (its columns of the same names)."""

    commune: str
    """The commune's official name without its kind: "Hữu Lũng"."""
    commune_code: str
    commune_name: str
    """The commune's official name: "Xã Hữu Lũng"."""
    province: str
    """The province's official name: "Lạng Sơn"."""
    province_code: str

    @classmethod
    def of(cls, commune: Commune, province: Province) -> Placed:
        return cls(
            commune=short_name(commune),
            commune_code=commune.code,
            commune_name=commune.name,
            province=province.name,
            province_code=province.code,
        )

    def columns(self) -> dict[str, str]:
        """The row's columns to set."""
        return {
            "commune": self.commune,
            "commune_code": self.commune_code,
            "commune_name": self.commune_name,
            "province": self.province,
            "province_code": self.province_code,
        }


async def place(session: AsyncSession, commune: str, province: str) -> Placed:
    """Where a row written with this `commune` and `province` is: the province by its code or
    name (`resolve_province`), the commune within it (`resolve_commune`); the 422 of either
    otherwise. Every write of an owner, product or event places it so."""
    scope = await resolve_province(session, province)
    found = await resolve_commune(session, commune, province=scope)
    return Placed.of(found, scope)


async def place_changes(
    session: AsyncSession, changes: dict[str, Any], commune: str, province: str
) -> None:
    """Add to an update's `changes` where the row then is, when they move it (give `commune`
    or `province`; the other stays the row's, `commune` and `province`); the 422 of `place`
    otherwise."""
    if {"commune", "province"} & changes.keys():
        where = await place(
            session, changes.get("commune", commune), changes.get("province", province)
        )
        changes.update(where.columns())


async def place_filter(
    session: AsyncSession, commune: str | None, province: str | None
) -> PlaceFilter:
    """The codes a list's `commune` and `province` filters name: the province by its code or
    name, the commune within it (within the default province when no `province` is given), as
    a write resolves them; 422 with candidates when one names none or several."""
    scope = (
        None
        if province is None
        else await resolve_province(session, province, loc=("query", "province"))
    )
    if commune is None:
        return PlaceFilter(province_code=None if scope is None else scope.code)
    within = scope if scope is not None else await resolve_province(session, DEFAULT_PROVINCE)
    found = await resolve_commune(session, commune, province=within, loc=("query", "commune"))
    return PlaceFilter(commune_code=found.code, province_code=None if scope is None else scope.code)


@dataclass(frozen=True)
class Unresolved:
    """A row whose free-text commune names no commune, or several."""

    table: str
    id: uuid.UUID
    commune: str
    province: str
    problem: str
    candidates: list[str]


async def unresolved_places(session: AsyncSession) -> list[Unresolved]:
    """Every owner, product and event whose `commune` (in its `province`) does not resolve to
    one commune, by table then id; a province that is not one is ignored (the commune is
    looked for everywhere)."""
    outcome: dict[tuple[str, str], tuple[str, list[str]] | None] = {}
    found: list[Unresolved] = []
    for table in PLACED:
        for row_id, commune, province in await places(session, table):
            pair = (commune, province)
            if pair not in outcome:
                outcome[pair] = await _resolution_problem(session, commune, province)
            problem = outcome[pair]
            if problem is not None:
                found.append(Unresolved(table, row_id, commune, province, *problem))
    return found


async def _resolve_place(
    session: AsyncSession, commune: str, province: str
) -> Commune | Unprocessable:
    """The commune a row's free text names, or why it names none: its province narrows the
    search when it is one, else the commune is looked for everywhere."""
    scope = None if await _province_or_none(session, province) is None else province
    try:
        return await resolve_commune(session, commune, province=scope)
    except Unprocessable as error:
        return error


async def _resolution_problem(
    session: AsyncSession, commune: str, province: str
) -> tuple[str, list[str]] | None:
    found = await _resolve_place(session, commune, province)
    if isinstance(found, Commune):
        return None
    candidates = found.extra.get("candidates", [])
    return found.instance_code, [
        f"{c['code']} {c['name']} ({c['province_name']})" for c in candidates
    ]


async def _province_or_none(session: AsyncSession, province: str) -> Province | None:
    try:
        return await resolve_province(session, province)
    except Unprocessable:
        return None


async def fill_commune_codes(session: AsyncSession) -> int:
    """Give every owner, product and event without a `commune_code` the code, official name
    and province code of the commune its free text names, where it names one, and the official
    names as its `commune` and `province` (`Placed`); how many rows it gave one. The
    migration that added the codes did it once; the rows left stay for `ocop geography
    report`."""
    filled = 0
    for table in PLACED:
        for row_id, commune, province in await places(session, table, without_code=True):
            found = await _resolve_place(session, commune, province)
            if isinstance(found, Commune):
                within = await get_province(session, found.province_code)
                await set_place(session, table, row_id, Placed.of(found, within).columns())
                filled += 1
    return filled
