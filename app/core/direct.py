"""Hot-path statements: SQLAlchemy Core compiled once, run on the driver's own connection.

The models and Alembic keep the schema, and every statement is still written in SQLAlchemy
Core; what a hot path skips is the per-request work around it. A `Prepared` statement is built
once (bind parameters named, `bindparam("product_id")`; an INSERT's values `bound_columns`),
compiled once per dialect, and run with `rows(session, statement, **values)`, or for many rows
of one INSERT with `many(session, statement, [values, ...])` (an executemany):

- on PostgreSQL (asyncpg) it goes straight to the driver connection of the session's own
  transaction (begun if it was not yet), with SQLAlchemy's own bind and result processors
  applied, so the values are exactly those `session.execute` would give; a driver error becomes
  the SQLAlchemy error `session.execute` would raise (a lost connection is invalidated and
  answered 503 by `app.core.errors.database_fault`, a constraint is an `IntegrityError`);
- on any other database (the embedded SQLite) it runs through the session's connection as any
  Core statement does: speed is PostgreSQL's concern, correctness is everyone's.

A one-statement read (`read`) outside any transaction of the session's does not even take the
session's connection: on PostgreSQL it borrows one from the engine's pool for that statement
alone and gives it back at once, which costs a fraction of a session's connection, its
transaction bookkeeping and its end.

Either way the engine's `before_cursor_execute` hooks see the statement, an executemany once
(the suite's statement counts, `OCOP_DATABASE_ECHO` aside). A write of timestamped rows tells
the change feeds' commit deadline itself (`app.core.changes.note_write`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BindParameter, bindparam
from sqlalchemy import exc as sa_exc
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.sql import Delete, Insert, Select, Update
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.type_api import TypeEngine

Row = tuple[Any, ...]
Statement = Select[*tuple[Any, ...]] | Insert | Update | Delete
Processor = Callable[[Any], Any]


@dataclass(slots=True)
class _Compiled:
    """A statement as one dialect runs it: SQL text, where each value goes, how to convert."""

    sql: str
    names: tuple[str, ...]
    """The bind parameters in positional order."""
    defaults: dict[str, Any]
    """Values bound in the statement itself (`Product.status == "active"`)."""
    binds: tuple[Processor | None, ...]
    columns: tuple[TypeEngine[Any], ...]
    results: tuple[tuple[int, Processor], ...] | None = None
    """The result columns that have a processor, by position: known once the server has
    described the columns (a numeric column's processor depends on its type there)."""


class Prepared:
    """A Core statement built once and compiled once per dialect (see the module)."""

    __slots__ = ("_compiled", "statement")

    def __init__(self, statement: Statement) -> None:
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}

    def compiled(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect.name)
        if found is None:
            found = self._compiled[dialect.name] = _compile(self.statement, dialect)
        return found


def bound_columns(table: Any, *names: str) -> dict[str, BindParameter[Any]]:
    """The columns of `table` named (all of them if none is), each bound by its own name and
    type: the values of a `Prepared` INSERT (every value is given: no Python-side default runs
    here)."""
    columns = [table.c[name] for name in names] if names else list(table.columns)
    return {column.name: bindparam(column.name, type_=column.type) for column in columns}


def columns_of(model: Any) -> tuple[tuple[str, str], ...]:
    """(column, attribute) of each column of `model`'s table: how a `Prepared` INSERT's values
    (`bound_columns`) are read off an object that has the model's attributes."""
    return tuple((column.name, key) for key, column in sa_inspect(model).columns.items())


def _compile(statement: Any, dialect: Dialect) -> _Compiled:
    compiled = statement.compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler)
    names = tuple(compiled.positiontup or ())
    binds = tuple(compiled.binds[name].type._cached_bind_processor(dialect) for name in names)
    return _Compiled(
        sql=compiled.string,
        names=names,
        defaults=dict(compiled.construct_params(_check=False) or {}),
        binds=binds,
        columns=tuple(column.type for column in compiled._result_columns),
    )


def _result_processors(
    dialect: Dialect, columns: Sequence[TypeEngine[Any]], described: Sequence[Any]
) -> tuple[tuple[int, Processor], ...]:
    """SQLAlchemy's result processor of each column, given its type on the server (asyncpg's
    attribute type oid, what SQLAlchemy's own cursor reports)."""
    processors = (
        column._cached_result_processor(dialect, attribute.type.oid)
        for column, attribute in zip(columns, described, strict=True)
    )
    return tuple((i, p) for i, p in enumerate(processors) if p is not None)


def _arguments(compiled: _Compiled, values: dict[str, Any]) -> list[Any]:
    arguments = []
    for name, process in zip(compiled.names, compiled.binds, strict=True):
        value = values[name] if name in values else compiled.defaults[name]
        arguments.append(value if process is None or value is None else process(value))
    return arguments


def _convert(compiled: _Compiled, rows: Sequence[Sequence[Any]]) -> list[Row]:
    if not compiled.results:
        return [tuple(row) for row in rows]
    converted = []
    for row in rows:
        values = list(row)
        for index, process in compiled.results:
            value = values[index]
            if value is not None:
                values[index] = process(value)
        converted.append(tuple(values))
    return converted


async def rows(
    session: AsyncSession, prepared: Prepared, *, begin: bool = True, **values: Any
) -> list[Row]:
    """The rows of `prepared` with these bind values (none for a statement without RETURNING),
    in the session's transaction. `begin=False` is for a read that needs no transaction of its
    own: it joins the session's if one is open, else runs alone (on PostgreSQL, no BEGIN and
    COMMIT round trips for a one-statement read)."""
    connection, adapted = await _connection(session)
    if adapted is None:
        result = await connection.execute(prepared.statement, values)
        return [tuple(row) for row in result] if result.returns_rows else []
    compiled = prepared.compiled(connection.dialect)
    arguments = _arguments(compiled, values)
    fetched = await _run(
        _Session(connection, adapted), compiled, tuple(arguments), begin=begin, many=False
    )
    return _convert(compiled, fetched)


async def read(session: AsyncSession, prepared: Prepared, **values: Any) -> list[Row]:
    """The rows of the read `prepared`: in the session's transaction if one is open (it sees
    what the transaction wrote), else, on PostgreSQL, on a connection borrowed from the pool
    for this statement alone, in no transaction (one statement reads one snapshot)."""
    if _open_transaction(session):
        return await rows(session, prepared, begin=False, **values)
    engine = session.bind
    assert isinstance(engine, AsyncEngine)
    if engine.dialect.driver != "asyncpg":
        return await rows(session, prepared, begin=False, **values)
    compiled = prepared.compiled(engine.dialect)
    arguments = tuple(_arguments(compiled, values))
    try:
        pooled = await engine.raw_connection()
    except Exception as error:
        # What connecting raises through a session: SQLAlchemy's error, a disconnect marked.
        Connection._handle_dbapi_exception_noconnection(error, engine.dialect, engine.sync_engine)
    try:
        fetched = await _run(
            _Borrowed(engine, pooled), compiled, arguments, begin=False, many=False
        )
    finally:
        pooled.close()  # back to the pool (a discarded one was invalidated first)
    return _convert(compiled, fetched)


async def many(session: AsyncSession, prepared: Prepared, values: Sequence[dict[str, Any]]) -> None:
    """`prepared` (a statement without RETURNING) once per item of `values`, as one
    executemany in the session's transaction: on PostgreSQL one round trip whatever their
    number, and one statement to the engine's hooks either way."""
    if not values:
        return
    connection, adapted = await _connection(session)
    if adapted is None:
        await connection.execute(prepared.statement, list(values))
        return
    compiled = prepared.compiled(connection.dialect)
    arguments = [tuple(_arguments(compiled, item)) for item in values]
    await _run(_Session(connection, adapted), compiled, arguments, begin=True, many=True)


_CONNECTION = "ocop_direct_connection"


def _open_transaction(session: AsyncSession) -> bool:
    current = session.sync_session.get_transaction()
    return current is not None and current.is_active


class _Session:
    """A statement's connection when it runs in the session's transaction."""

    __slots__ = ("adapted", "connection", "dialect")

    def __init__(self, connection: AsyncConnection, adapted: Any) -> None:
        self.connection = connection
        self.adapted = adapted
        self.dialect = connection.dialect

    def hooks(self) -> tuple[Any, list[Any]]:
        sync = _sync(self.connection)
        if sync._has_events or sync.engine._has_events:
            # A copy, as SQLAlchemy iterates them: a hook may remove itself as it runs.
            return sync, list(sync.dispatch.before_cursor_execute)
        return sync, []

    async def invalidate(self, error: BaseException | None) -> None:
        if not self.connection.invalidated:
            await self.connection.invalidate(error if isinstance(error, Exception) else None)


class _Borrowed:
    """A statement's connection when it is borrowed from the pool for that statement (`read`):
    the engine's hooks are told with no `Connection` (there is none)."""

    __slots__ = ("adapted", "dialect", "engine", "pooled")

    def __init__(self, engine: AsyncEngine, pooled: Any) -> None:
        self.engine = engine
        self.pooled = pooled
        self.adapted = pooled.dbapi_connection
        self.dialect = engine.dialect

    def hooks(self) -> tuple[Any, list[Any]]:
        sync = self.engine.sync_engine
        return None, list(sync.dispatch.before_cursor_execute) if sync._has_events else []

    async def invalidate(self, error: BaseException | None) -> None:
        self.pooled.invalidate(error if isinstance(error, Exception) else None)


def _sync(connection: AsyncConnection) -> Any:
    sync = connection.sync_connection
    assert sync is not None
    return sync


async def _connection(session: AsyncSession) -> tuple[AsyncConnection, Any]:
    """The session's connection and, on asyncpg, SQLAlchemy's adapter of the driver connection
    (else None); kept in the session for as long as its transaction lasts."""
    sync = session.sync_session
    kept = sync.info.get(_CONNECTION)
    current = sync.get_transaction()
    if kept is not None and current is not None and kept[0] is current and current.is_active:
        return kept[1], kept[2]
    connection = await session.connection()
    adapted = None
    if connection.dialect.driver == "asyncpg":
        adapted = (await connection.get_raw_connection()).dbapi_connection
    sync.info[_CONNECTION] = (sync.get_transaction(), connection, adapted)
    return connection, adapted


async def _run(
    on: _Session | _Borrowed, compiled: _Compiled, parameters: Any, *, begin: bool, many: bool
) -> Any:
    """`compiled` on the driver connection `on` holds, with `parameters` (one tuple, or a list
    of them for an executemany): the engine's hooks told, the driver's errors translated."""
    sql = compiled.sql
    connection, hooks = on.hooks()
    for hook in hooks:
        hook(connection, None, sql, parameters, None, many)
    adapted = on.adapted
    try:
        async with adapted._execute_mutex:
            if begin and adapted._transaction is None:
                await adapted._start_transaction()
            driver = adapted._connection
            if many:
                return await driver.executemany(sql, parameters)
            if compiled.results is None:
                statement = await driver.prepare(sql)
                compiled.results = _result_processors(
                    on.dialect, compiled.columns, statement.get_attributes()
                )
                return await statement.fetch(*parameters)
            return await driver.fetch(sql, *parameters)
    except Exception as error:
        raise await _translated(on, sql, parameters, error) from error
    except BaseException:
        # Cancelled mid-statement: the connection's state is unknown, so it is closed now and
        # discarded (SQLAlchemy does so when the session ends, as it does its own).
        adapted._connection.terminate()
        if isinstance(on, _Borrowed):
            await on.invalidate(None)
        raise


async def _translated(
    on: _Session | _Borrowed, sql: str, arguments: Any, error: Exception
) -> sa_exc.DBAPIError:
    """The error `session.execute` would raise for this driver error (app.core.db's rules: a
    network failure, or a disconnect the dialect recognises, invalidates the connection)."""
    dialect, adapted = on.dialect, on.adapted
    dbapi_error: Any = dialect.loaded_dbapi.Error
    original: BaseException = error
    try:
        adapted._handle_exception(error)
    except dbapi_error as converted:
        original = converted
    except Exception as other:
        original = other
    disconnect = isinstance(original, OSError) or (
        isinstance(original, dbapi_error) and dialect.is_disconnect(original, adapted, None)
    )
    if disconnect:
        adapted._connection.terminate()
        await on.invalidate(original)
    if isinstance(original, dbapi_error):
        translated: sa_exc.DBAPIError = sa_exc.DBAPIError.instance(
            sql,
            arguments,
            original,
            dbapi_error,
            connection_invalidated=disconnect,
            dialect=dialect,
        )
        return translated
    return sa_exc.OperationalError(sql, arguments, original, connection_invalidated=True)
