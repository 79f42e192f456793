"""JSON built in SQL, the same on PostgreSQL and SQLite: rows gathered into one value, so that a
page and what each of its rows holds (a product's external refs) come in one statement."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator


class _Tuples(TypeDecorator[list[tuple[Any, ...]]]):
    """A JSON array of arrays, read as a list of tuples in the database's order of them.

    PostgreSQL orders them in the aggregate itself; SQLite 3.40 cannot (an aggregate's ORDER BY
    came in 3.44), so they are sorted here, as its BINARY collation would (the order of UTF-8
    bytes is that of code points, Python's order of strings)."""

    impl = JSON
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Dialect) -> list[tuple[Any, ...]]:
        tuples = [tuple(item) for item in value or ()]
        return tuples if dialect.name == "postgresql" else sorted(tuples)


class json_tuples(FunctionElement[list[tuple[Any, ...]]]):
    """`json_tuples(a, b)`: an aggregate, the `(a, b)` of each row ordered by a, then b (an
    empty list over no row)."""

    type = _Tuples()
    inherit_cache = True
    name = "json_tuples"


@compiles(json_tuples, "postgresql")
def _json_tuples_postgresql(element: json_tuples, compiler: SQLCompiler, **kw: Any) -> str:
    columns = compiler.process(element.clauses, **kw)
    return f"json_agg(json_build_array({columns}) ORDER BY {columns})"


@compiles(json_tuples, "sqlite")
def _json_tuples_sqlite(element: json_tuples, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_group_array(json_array({compiler.process(element.clauses, **kw)}))"
