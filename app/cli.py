"""The `ocop` command: serve, migrate, seed the demo data, manage API keys, import products."""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings, get_settings
from app.core.db import begin_write, create_engine, create_sessionmaker
from app.core.errors import DomainError, database_fault
from app.models.api_key import Role

T = TypeVar("T")


def _out(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _err(line: str) -> None:
    sys.stderr.write(line + "\n")


async def _in_transaction(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    engine = create_engine(get_settings())
    try:
        async with create_sessionmaker(engine)() as session:
            await begin_write(session)
            result = await work(session)
            await session.commit()
            return result
    finally:
        await engine.dispose()


def cmd_migrate(args: argparse.Namespace) -> int:
    from alembic import command
    from alembic.config import Config

    from app.core.migrations import alembic_ini

    # The source tree's alembic.ini, or the working directory's (an installed package, e.g. Docker).
    ini = alembic_ini()
    if ini is None:
        _err("alembic.ini not found; run from the project directory")
        return 2
    command.upgrade(Config(str(ini)), args.revision)
    return 0


def serve_options(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    """The options `ocop serve` gives uvicorn."""
    from app.core.logging import log_config

    options: dict[str, Any] = {
        "factory": True,
        "host": args.host or settings.host,
        "port": args.port or settings.port,
        "workers": args.workers or settings.workers,
        "log_level": settings.log_level,
        "log_config": log_config(settings.log_level),
        # One JSON line per request comes from the app's own access log (logger `app.access`).
        "access_log": False,
    }
    # X-Forwarded-For names the client only when a proxy we know wrote it. uvicorn's default
    # trusts 127.0.0.1, so anyone on the same host could name any address and walk past the
    # anonymous rate limit: trust no one unless OCOP_FORWARDED_ALLOW_IPS says whom.
    if settings.forwarded_allow_ips.strip():
        options.update(proxy_headers=True, forwarded_allow_ips=settings.forwarded_allow_ips)
    else:
        options.update(proxy_headers=False)
    return options


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    uvicorn.run("app.main:create_served_app", **serve_options(get_settings(), args))
    return 0


def cmd_worker(_args: argparse.Namespace) -> int:
    import logging
    import logging.config
    import signal

    from app.bookings.expiry import HoldSweeper
    from app.core.logging import log_config
    from app.idempotency.housekeeping import Housekeeper
    from app.products.upkeep import StarsKeeper
    from app.webhooks.worker import DeliveryWorker

    settings = get_settings()
    logging.config.dictConfig(log_config(settings.log_level))

    async def work() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        engine = create_engine(settings)
        sessionmaker = create_sessionmaker(engine)
        worker = DeliveryWorker(sessionmaker, settings)
        logging.getLogger("app.worker").info("webhook worker started")
        try:
            await asyncio.gather(
                worker.run(stop),
                Housekeeper(sessionmaker, settings).run(stop),
                HoldSweeper(sessionmaker, settings).run(stop),
                StarsKeeper(sessionmaker, settings).run(stop),
            )
        finally:
            await worker.aclose()
            await engine.dispose()

    asyncio.run(work())
    return 0


def cmd_seed_demo(_args: argparse.Namespace) -> int:
    from app.demo.seed import seed_demo

    report = asyncio.run(_in_transaction(seed_demo))
    if report.created:
        _out("demo data loaded: " + ", ".join(f"{n} {kind}" for kind, n in report.created.items()))
    else:
        _out("demo data already present; nothing added")
    return 0


def cmd_keys_create(args: argparse.Namespace) -> int:
    from app.api_keys import service

    async def work(session: AsyncSession) -> tuple[str, str, str]:
        key, token = await service.create_key(
            session, name=args.name, role=Role(args.role), owner_id=args.owner_id
        )
        return str(key.id), key.prefix, token

    if (args.role == Role.owner) != (args.owner_id is not None):
        _err("--owner-id is required for --role owner and not allowed otherwise")
        return 2
    key_id, prefix, token = asyncio.run(_in_transaction(work))
    _err(f"created {args.role} key {prefix} (id {key_id}); it is shown once, store it now:")
    _out(token)
    return 0


def cmd_keys_revoke(args: argparse.Namespace) -> int:
    from app.api_keys import service

    async def work(session: AsyncSession) -> str:
        key = await service.revoke_by_prefix(session, args.prefix, datetime.now(UTC))
        return key.name

    name = asyncio.run(_in_transaction(work))
    _out(f"revoked key {args.prefix} ({name})")
    return 0


def cmd_keys_grant(args: argparse.Namespace) -> int:
    from app.api_keys import service

    async def work(session: AsyncSession) -> tuple[str, bool]:
        key = await service.get_key_by_prefix(session, args.prefix)
        _grant, created = await service.grant_event(
            session, key.id, args.event_id, granted_by=None, now=datetime.now(UTC)
        )
        return key.name, created

    name, created = asyncio.run(_in_transaction(work))
    done = "granted" if created else "already granted"
    _out(f"{done}: key {args.prefix} ({name}) on event {args.event_id}")
    return 0


def cmd_keys_revoke_grant(args: argparse.Namespace) -> int:
    from app.api_keys import service

    async def work(session: AsyncSession) -> str:
        key = await service.get_key_by_prefix(session, args.prefix)
        await service.revoke_grant(session, key.id, args.event_id)
        return key.name

    name = asyncio.run(_in_transaction(work))
    _out(f"revoked the grant of key {args.prefix} ({name}) on event {args.event_id}")
    return 0


def cmd_idempotency_purge(args: argparse.Namespace) -> int:
    from app.idempotency import service as idempotency

    settings = get_settings()
    hours = args.older_than_hours or settings.idempotency_retention_h
    if hours < 24:
        _err("stored answers are kept at least 24 hours")
        return 2
    cutoff = datetime.now(UTC) - timedelta(hours=hours)

    async def work(session: AsyncSession) -> int:
        return await idempotency.purge(session, older_than=cutoff)

    removed = asyncio.run(_in_transaction(work))
    _out(f"removed {removed} stored idempotent answers older than {hours} hours")
    return 0


def cmd_import_products(args: argparse.Namespace) -> int:
    from app.core.clock import SystemClock
    from app.core.errors import Unprocessable
    from app.core.zones import local_today
    from app.imports import products as importer

    today = local_today(SystemClock(), get_settings().timezone)

    async def work(session: AsyncSession) -> str:
        result = await importer.import_csv(
            session, importer.decode(args.file.read_bytes()), today=today, dry_run=args.dry_run
        )
        return ", ".join(
            f"{name.replace('_', ' ')}: {value}"
            for name, value in result.model_dump().items()
            if name != "dry_run"
        )

    try:
        summary = asyncio.run(_in_transaction(work))
    except Unprocessable as exc:
        _err(f"error: {exc.detail}")
        for error in exc.extra.get("errors", []):
            _err(f"  {error['msg']}")
        return 1
    _out(("dry run, nothing written: " if args.dry_run else "imported: ") + summary)
    return 0


def cmd_geography_report(_args: argparse.Namespace) -> int:
    from app.geography.service import unresolved_places

    rows = asyncio.run(_in_transaction(unresolved_places))
    for row in rows:
        candidates = "; ".join(row.candidates) or "none"
        _out(
            f"{row.table} {row.id} commune={row.commune!r} province={row.province!r}: "
            f"{row.problem} (candidates: {candidates})"
        )
    _out(f"{len(rows)} row(s) whose commune does not resolve")
    return 1 if rows else 0


def cmd_geography_fill(_args: argparse.Namespace) -> int:
    from app.geography.service import fill_commune_codes

    filled = asyncio.run(_in_transaction(fill_commune_codes))
    _out(f"{filled} row(s) given their commune's code")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ocop", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the API (uvicorn)")
    serve.add_argument("--host", help="default: OCOP_HOST (127.0.0.1)")
    serve.add_argument("--port", type=int, help="default: OCOP_PORT (8000)")
    serve.add_argument("--workers", type=int, help="default: OCOP_WORKERS (1)")
    serve.set_defaults(func=cmd_serve)

    worker = commands.add_parser(
        "worker",
        help="deliver webhooks, purge old idempotent answers, sweep holds and keep stars current "
        "until stopped (SIGTERM)",
    )
    worker.set_defaults(func=cmd_worker)

    migrate = commands.add_parser("migrate", help="upgrade the database schema")
    migrate.add_argument("revision", nargs="?", default="head")
    migrate.set_defaults(func=cmd_migrate)

    seed = commands.add_parser("seed-demo", help="load the demo data (safe to run again)")
    seed.set_defaults(func=cmd_seed_demo)

    keys = commands.add_parser("keys", help="manage API keys").add_subparsers(
        dest="keys_command", required=True
    )
    create = keys.add_parser("create", help="issue a key; prints it as the last line")
    create.add_argument("--role", required=True, choices=[r.value for r in Role])
    create.add_argument("--name", required=True)
    create.add_argument("--owner-id", type=uuid.UUID, help="for --role owner")
    create.set_defaults(func=cmd_keys_create)
    revoke = keys.add_parser("revoke", help="revoke a key by its prefix")
    revoke.add_argument("prefix")
    revoke.set_defaults(func=cmd_keys_revoke)
    grant = keys.add_parser(
        "grant",
        help="grant a partner key an event: link its external ids, read its sales, hear its "
        "changes",
    )
    grant.add_argument("prefix", help="the partner key's prefix")
    grant.add_argument("event_id", type=uuid.UUID)
    grant.set_defaults(func=cmd_keys_grant)
    revoke_grant = keys.add_parser("revoke-grant", help="take back a partner key's grant")
    revoke_grant.add_argument("prefix", help="the partner key's prefix")
    revoke_grant.add_argument("event_id", type=uuid.UUID)
    revoke_grant.set_defaults(func=cmd_keys_revoke_grant)

    idempotency = commands.add_parser(
        "idempotency", help="stored answers to Idempotency-Key requests"
    ).add_subparsers(dest="idempotency_command", required=True)
    purge = idempotency.add_parser("purge", help="delete stored answers older than the retention")
    purge.add_argument(
        "--older-than-hours",
        type=int,
        help="default: OCOP_IDEMPOTENCY_RETENTION_H (48); at least 24",
    )
    purge.set_defaults(func=cmd_idempotency_purge)

    imports = commands.add_parser("import", help="bulk imports").add_subparsers(
        dest="import_command", required=True
    )
    products = imports.add_parser(
        "products", help="import products and certificates from CSV (all rows or none)"
    )
    products.add_argument("file", type=Path, help="UTF-8 CSV; columns in the README")
    products.add_argument("--dry-run", action="store_true", help="check and report; write nothing")
    products.set_defaults(func=cmd_import_products)

    geography = commands.add_parser(
        "geography", help="provinces and communes since the 2025 reform"
    ).add_subparsers(dest="geography_command", required=True)
    report = geography.add_parser(
        "report",
        help="list the owners, products and events whose commune does not resolve, with ids "
        "(exit status 1 if any)",
    )
    report.set_defaults(func=cmd_geography_report)
    fill = geography.add_parser(
        "fill",
        help="give the owners, products and events written before commune codes existed "
        "the code of the commune they name (safe to run again)",
    )
    fill.set_defaults(func=cmd_geography_fill)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except DomainError as exc:
        _err(f"error: {exc.detail}")
        return 1
    except Exception as exc:
        # A database that is down, busy, too slow or not migrated is the operator's to fix,
        # not a bug: one line saying so, as the API answers it (503), rather than a traceback.
        fault = database_fault(exc)
        if fault is None:
            raise
        _err(f"error: {fault.detail}")
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
