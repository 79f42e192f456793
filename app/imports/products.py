"""Bulk import of products and certificates from the department's CSV spreadsheets.

Shared by `ocop import products FILE.csv` and `POST /v1/products/import`. All or nothing: every
row is checked first, and one bad row means nothing is written and every bad row is reported.
Owners are matched by name (accents and case ignored); a missing owner is created only when the
row gives its `owner_kind`. Products are matched on owner + name, certificates on product +
decision number, so importing the same file again changes nothing. A row's `external_refs`
(`system:id` pairs apart by spaces), when given, replace its product's; a pair another product
holds, or that two rows name, makes the row invalid.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic_core import ErrorDetails
from sqlalchemy.ext.asyncio import AsyncSession

from app.certificates import service as certificates
from app.core.changes import restamp
from app.core.errors import Unprocessable
from app.core.external_refs import MAX_EXTERNAL_REFS, DistinctRefs, ExternalRef
from app.core.locking import take_turns
from app.core.schemas import (
    DEFAULT_PROVINCE,
    MAX_PRICE_VND,
    NFC,
    QUANTITY_MAX,
    Day,
    LongText,
    Name,
    Place,
)
from app.core.text import fold
from app.geography import service as geography
from app.geography.service import Placed
from app.imports.schemas import ImportResult
from app.models.owner import Owner, OwnerKind
from app.models.product import Product, ProductGroup, Unit
from app.owners import service as owners
from app.owners.schemas import OwnerCreate
from app.products import service as products

REQUIRED_COLUMNS = ("owner_name", "product_name", "group", "unit", "price_vnd")
OPTIONAL_COLUMNS = (
    "commune",
    "owner_kind",
    "unit_step",
    "stock",
    "stars",
    "score",
    "decision_no",
    "issued_on",
    "name_en",
    "description_en",
    "description",
    "external_refs",
)
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
CERTIFICATE_COLUMNS = ("stars", "decision_no", "issued_on")
REFS = "external_refs"


def _blank_is_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


Cell = BeforeValidator(_blank_is_none)
_Step = Annotated[Decimal, Field(gt=0, le=QUANTITY_MAX, decimal_places=3)]
_Stock = Annotated[Decimal, Field(ge=0, le=QUANTITY_MAX, decimal_places=3)]
_Stars = Annotated[int, Field(ge=1, le=5)]
_Score = Annotated[int, Field(ge=0, le=100)]
_Decision = Annotated[str, Field(max_length=100), NFC]


def _ref_pairs(value: object) -> object:
    """`system:id system:id ...` (pairs apart by spaces) as the API's list of refs."""
    if not isinstance(value, str):
        return value
    refs = []
    for pair in filter(None, value.split(" ")):
        system, colon, external_id = pair.partition(":")
        if not colon:
            raise ValueError(f"{pair!r} is not system:id")
        refs.append({"system": system, "id": external_id})
    return refs


_Refs = Annotated[
    list[ExternalRef],
    Field(max_length=MAX_EXTERNAL_REFS),
    DistinctRefs,
    BeforeValidator(_ref_pairs),
]


class ImportRow(BaseModel):
    """One data row, as text cells; blank optional cells are absent."""

    model_config = ConfigDict(extra="forbid", regex_engine="python-re", str_strip_whitespace=True)

    owner_name: Name
    product_name: Name
    group: ProductGroup
    unit: Unit
    price_vnd: Annotated[int, Field(ge=0, le=MAX_PRICE_VND)]
    commune: Annotated[Place | None, Cell] = None
    owner_kind: Annotated[OwnerKind | None, Cell] = None
    unit_step: Annotated[_Step | None, Cell] = None
    stock: Annotated[_Stock | None, Cell] = None
    stars: Annotated[_Stars | None, Cell] = None
    score: Annotated[_Score | None, Cell] = None
    decision_no: Annotated[_Decision | None, Cell] = None
    issued_on: Annotated[Day | None, Cell] = None
    name_en: Annotated[Name | None, Cell] = None
    description_en: Annotated[LongText | None, Cell] = None
    description: Annotated[LongText | None, Cell] = None
    external_refs: Annotated[_Refs | None, Cell] = None


@dataclass
class RowError:
    line: int
    msg: str
    column: str | None = None

    def as_error(self) -> dict[str, Any]:
        loc: list[str | int] = ["body", self.line]
        if self.column:
            loc.append(self.column)
        return {"loc": loc, "msg": f"line {self.line}: {self.msg}", "type": "invalid_row"}


@dataclass
class _Plan:
    rows: list[tuple[int, ImportRow]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def decode(raw: bytes) -> str:
    """The file's text; 422 `invalid_encoding` naming the line if it is not UTF-8."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise Unprocessable(
            f"The file is not UTF-8 (line {line}, byte {exc.start}); nothing was written.",
            code="invalid_encoding",
            errors=[RowError(line, f"not UTF-8 (byte {exc.start} of the file)").as_error()],
        ) from exc


def _refuse(errors: list[RowError]) -> Unprocessable:
    lines = sorted({e.line for e in errors})
    return Unprocessable(
        f"{len(lines)} line(s) are invalid ({', '.join(map(str, lines))}); nothing was written.",
        code="invalid_rows",
        errors=[e.as_error() for e in errors],
    )


_UNCLOSED = "a quoted cell is not closed (its closing quote is missing)"


def _malformed(text: str, line: int, error: csv.Error) -> RowError:
    """What the CSV reader found wrong in the row starting at `line`, said plainly."""
    message = str(error)
    if message.startswith("field larger than field limit"):
        # A quote left open makes the rest of the file one cell: say so rather than its size.
        lines = text.split("\n", line)
        first_line = lines[line - 1] if len(lines) >= line else ""
        too_long = f"a cell is longer than {csv.field_size_limit()} characters"
        message = _UNCLOSED if first_line.count('"') % 2 else too_long
    elif message == "unexpected end of data":
        message = _UNCLOSED
    elif message.endswith("expected after '\"'"):
        message = 'a quote inside a quoted cell must be doubled ("")'
    else:
        message = f"not valid CSV: {message}"
    return RowError(line, message)


def _parse(text: str) -> _Plan:
    """Every data row checked on its own; a bad header, or CSV that cannot be read (a quote
    left open, a cell over the reader's limit), refuses the whole file at once."""
    if (nul := text.find("\x00")) >= 0:
        raise _refuse([RowError(text.count("\n", 0, nul) + 1, "the file contains a NUL character")])
    # strict: a quote left open or followed by text is an error, not silently part of a cell.
    reader = csv.DictReader(io.StringIO(text, newline=""), restkey="_extra", strict=True)
    try:
        header = reader.fieldnames or []
    except csv.Error as exc:
        raise _refuse([_malformed(text, 1, exc)]) from exc
    reader.fieldnames = _checked_header(header)
    plan = _Plan()
    line = reader.line_num
    records = iter(reader)
    while True:
        # A quoted cell may span lines: a row starts on the line after the previous one ended.
        start = line + 1
        try:
            record = next(records)
        except StopIteration:
            break
        except csv.Error as exc:
            raise _refuse([*plan.errors, _malformed(text, start, exc)]) from exc
        line = reader.line_num
        parsed = _parse_row(start, record)
        if isinstance(parsed, ImportRow):
            plan.rows.append((start, parsed))
        else:
            plan.errors.extend(parsed)
    if not plan.rows and not plan.errors:
        plan.errors.append(RowError(1, "the file has no data rows"))
    return plan


def _checked_header(fieldnames: Sequence[str]) -> list[str]:
    """The header's column names, or the whole file refused naming what is wrong with it."""
    header = [name.strip() for name in fieldnames]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    unknown = [c for c in header if c not in COLUMNS]
    repeated = len(set(header)) != len(header)
    problems = [
        f"missing {', '.join(missing)}" if missing else "",
        f"unknown {', '.join(unknown)}" if unknown else "",
        "a column appears twice" if repeated else "",
    ]
    if any(problems):
        msg = "header: " + "; ".join(filter(None, problems))
        raise _refuse([RowError(1, msg + f" (columns: {', '.join(COLUMNS)})")])
    return header


def _parse_row(line: int, record: dict[str, Any]) -> ImportRow | list[RowError]:
    """The row, or what is wrong with it (nothing for a blank line)."""
    if "_extra" in record:
        return [RowError(line, "more cells than header columns")]
    if not any((value or "").strip() for value in record.values()):
        return []  # a blank line
    try:
        row = ImportRow.model_validate({k: v for k, v in record.items() if v is not None})
    except ValidationError as exc:
        return [_cell_error(line, error) for error in exc.errors()]
    error = _certificate_error(line, row)
    return row if error is None else [error]


def _cell_error(line: int, error: ErrorDetails) -> RowError:
    column = str(error["loc"][0]) if error["loc"] else None
    return RowError(line, f"{column}: {error['msg']}", column)


def _certificate_error(line: int, row: ImportRow) -> RowError | None:
    """A certificate's cells come together, and its score within its stars' band."""
    given = [c for c in CERTIFICATE_COLUMNS if getattr(row, c) is not None]
    if given and len(given) != len(CERTIFICATE_COLUMNS):
        return RowError(line, "a certificate needs stars, decision_no and issued_on together")
    if row.score is None:
        return None
    if row.stars is None:
        return RowError(line, "score without stars", "score")
    if not certificates.score_fits(row.stars, row.score):
        return RowError(line, f"score {row.score} does not give {row.stars} stars", "score")
    return None


async def _places(
    session: AsyncSession, plan: _Plan, resolved: dict[str, Owner | None]
) -> dict[int, Placed]:
    """Where each row naming a commune is, in its owner's province (the default province for
    an owner the file creates), as the API places a product it is sent; a commune that names
    none, or several, is the row's error, with the candidates."""
    found: dict[int, Placed] = {}
    for line, row in plan.rows:
        if row.commune is None:
            continue
        owner = resolved.get(fold(row.owner_name))
        try:
            found[line] = await geography.place(
                session, row.commune, DEFAULT_PROVINCE if owner is None else owner.province
            )
        except Unprocessable as error:
            candidates = error.extra.get("candidates") or []
            names = ", ".join(f"{c['code']} {c['name']} ({c['province_name']})" for c in candidates)
            plan.errors.append(
                RowError(
                    line, f"{error.detail}{' Candidates: ' + names if names else ''}", "commune"
                )
            )
    return found


async def _resolve_owners(session: AsyncSession, plan: _Plan) -> dict[str, Owner | None]:
    """Existing owners by folded name; None for names the file will create."""
    keys = {fold(row.owner_name) for _, row in plan.rows}
    found: dict[str, list[Owner]] = {}
    for owner in await owners.owners_named(session, keys):
        found.setdefault(owner.sort_name, []).append(owner)
    resolved: dict[str, Owner | None] = {}
    for line, row in plan.rows:
        key = fold(row.owner_name)
        matches = found.get(key, [])
        if len(matches) > 1:
            plan.errors.append(
                RowError(line, f"{len(matches)} owners are named {row.owner_name!r}", "owner_name")
            )
        elif matches:
            resolved[key] = matches[0]
        elif row.owner_kind is None or row.commune is None:
            plan.errors.append(
                RowError(
                    line,
                    f"no owner named {row.owner_name!r}; give owner_kind and commune to create it",
                    "owner_name",
                )
            )
        else:
            resolved.setdefault(key, None)
    return resolved


def _repeated_products(plan: _Plan) -> list[RowError]:
    """Rows naming the same owner and product as an earlier row."""
    first_lines: dict[tuple[str, str], int] = {}
    errors = []
    for line, row in plan.rows:
        first = first_lines.setdefault((fold(row.owner_name), fold(row.product_name)), line)
        if first != line:
            errors.append(RowError(line, f"same owner and product as line {first}"))
    return errors


def _repeated_refs(plan: _Plan) -> list[RowError]:
    """Rows naming an external ref an earlier row names."""
    first_lines: dict[tuple[str, str], int] = {}
    errors = []
    for line, row in plan.rows:
        for ref in row.external_refs or []:
            first = first_lines.setdefault((ref.system, ref.id), line)
            if first != line:
                errors.append(
                    RowError(line, f"{ref.system}:{ref.id} is also on line {first}", REFS)
                )
    return errors


async def _taken_refs(
    session: AsyncSession, plan: _Plan, resolved: dict[str, Owner | None]
) -> list[RowError]:
    """Rows naming an external ref that another product holds (not the row's own product)."""
    rows = [(line, row) for line, row in plan.rows if row.external_refs]
    pairs = sorted({(ref.system, ref.id) for _, row in rows for ref in row.external_refs or []})
    holders = await products.ref_holders(session, pairs)
    errors: list[RowError] = []
    for line, row in rows:
        held = [
            (ref, holders[ref.system, ref.id])
            for ref in row.external_refs or []
            if (ref.system, ref.id) in holders
        ]
        if not held:
            continue
        owner = resolved.get(fold(row.owner_name))
        own = (
            None
            if owner is None
            else await products.find_by_owner_and_name(session, owner.id, row.product_name)
        )
        errors.extend(
            RowError(line, f"{ref.system}:{ref.id} already names product {holder}", REFS)
            for ref, holder in held
            if own is None or holder != own.id
        )
    return errors


def _english(row: ImportRow) -> dict[str, str] | None:
    """The row's English translation, if it gives one."""
    if row.name_en is None:
        return None
    english = {"name": row.name_en}
    if row.description_en is not None:
        english["description"] = row.description_en
    return english


def _changes(product: Product, row: ImportRow, where: Placed | None) -> dict[str, Any]:
    wanted: dict[str, Any] = {"group": row.group, "unit": row.unit, "price_vnd": row.price_vnd}
    if row.unit_step is not None:
        wanted["unit_step"] = row.unit_step
    if where is not None:
        wanted.update(where.columns())
    if row.description is not None:
        wanted["description"] = row.description
    if (english := _english(row)) is not None:
        wanted["translations"] = {**(product.translations or {}), "en": english}
    return {k: v for k, v in wanted.items() if getattr(product, k) != v}


def _new_product(row: ImportRow, owner: Owner, where: Placed | None) -> Product:
    """The row's product; in the row's commune, or else in its owner's."""
    english = _english(row)
    place = (
        where.columns()
        if where is not None
        else {
            "commune": owner.commune,
            "commune_code": owner.commune_code,
            "commune_name": owner.commune_name,
            "province": owner.province,
            "province_code": owner.province_code,
        }
    )
    return Product(
        id=uuid.uuid4(),
        owner_id=owner.id,
        name=row.product_name,
        description=row.description,
        translations={} if english is None else {"en": english},
        group=row.group,
        unit=row.unit,
        unit_step=row.unit_step or Decimal(1),
        price_vnd=row.price_vnd,
        stock=row.stock,
        **place,
        external_refs=products.new_refs(row.external_refs or []),
    )


@dataclass
class _Writer:
    """Writes a checked plan's rows, counting what it does in `result`."""

    session: AsyncSession
    resolved: dict[str, Owner | None]
    places: dict[int, Placed]
    result: ImportResult
    update_existing: bool
    today: date

    async def write(self, plan: _Plan) -> None:
        for line, row in plan.rows:
            where = self.places.get(line)
            product = await self._product(row, await self._owner(row), where)
            await self._certificate(product, row)
        # A large file takes longer than a commit may after its first write: what it wrote
        # is stamped changed again, now, just before the commit (app.core.changes).
        await restamp(self.session)

    async def _owner(self, row: ImportRow) -> Owner:
        """The row's owner, created the first time the file names a missing one."""
        key = fold(row.owner_name)
        owner = self.resolved[key]
        if owner is None:
            assert row.owner_kind is not None
            assert row.commune is not None
            owner = await owners.create_owner(
                self.session,
                OwnerCreate(name=row.owner_name, kind=row.owner_kind, commune=row.commune),
            )
            self.resolved[key] = owner
            self.result.owners_created += 1
        return owner

    async def _product(self, row: ImportRow, owner: Owner, where: Placed | None) -> Product:
        """The owner's product of this name, created or brought up to date with the row."""
        product = await products.find_by_owner_and_name(self.session, owner.id, row.product_name)
        refs = row.external_refs or []
        if product is None:
            created = product = _new_product(row, owner, where)
            # A ref the checks found free may be taken meanwhile by the API: 409 then.
            await products.write(self.session, product, refs, lambda: self.session.add(created))
            self.result.products_created += 1
            return product
        changes = _changes(product, row, where) if self.update_existing else {}
        changed = bool(changes)

        def change() -> None:
            nonlocal changed
            for name, value in changes.items():
                setattr(product, name, value)
            if row.external_refs is not None and self.update_existing:
                changed = products.replace_refs(product, row.external_refs) or changed

        await products.write(self.session, product, refs, change)
        if changed:
            self.result.products_updated += 1
        else:
            self.result.products_unchanged += 1
        return product

    async def _certificate(self, product: Product, row: ImportRow) -> None:
        """The row's certificate, unless the product already has one under its decision."""
        if row.stars is None or row.decision_no is None or row.issued_on is None:
            return
        if await certificates.has_decision(self.session, product.id, row.decision_no):
            return
        await certificates.add_certificate(
            self.session,
            product,
            stars=row.stars,
            score=row.score,
            decision_no=row.decision_no,
            issued_on=row.issued_on,
            today=self.today,
        )
        self.result.certificates_created += 1


async def import_csv(
    session: AsyncSession,
    text: str,
    *,
    today: date,
    dry_run: bool = False,
    update_existing: bool = True,
) -> ImportResult:
    """Check every row, then write them all (or, with `dry_run`, only say what would change).

    A product already there is brought up to date with its row, unless `update_existing` is
    off (the demo seed: it adds what is missing and leaves edited records alone).
    """
    plan = _parse(text)
    # Owners and products are matched by folded name: imports must not interleave.
    await take_turns(session, "products.import")
    resolved = await _resolve_owners(session, plan) if plan.rows else {}
    plan.errors.extend(_repeated_products(plan))
    plan.errors.extend(_repeated_refs(plan))
    plan.errors.extend(await _taken_refs(session, plan, resolved))
    places = await _places(session, plan, resolved)
    if plan.errors:
        raise _refuse(sorted(plan.errors, key=lambda e: e.line))
    result = ImportResult(
        dry_run=dry_run,
        rows=len(plan.rows),
        owners_created=0,
        products_created=0,
        products_updated=0,
        products_unchanged=0,
        certificates_created=0,
    )
    writer = _Writer(session, resolved, places, result, update_existing, today)
    if dry_run:
        # Do the very same work inside a savepoint and roll it back: the counts are exact.
        savepoint = await session.begin_nested()
        try:
            await writer.write(plan)
        finally:
            await savepoint.rollback()
    else:
        await writer.write(plan)
    return result
