"""Query strings hold what the operation declares, each scalar once.

An undeclared parameter (`?page=2` where the list pages by `cursor`, a misspelt filter) would
otherwise be ignored, and the client would take an unfiltered answer for a filtered one; a
scalar given twice (`?limit=1&limit=2`) would silently be one of the two. Both are refused with
422, one error per parameter, naming it.

What an operation declares is read from its route's dependant (the endpoint's parameters and
its dependencies', query models expanded into their fields): nothing is listed by hand. Pages
outside the API's document (the docs pages, whose OAuth2 redirect takes what an authorization
server sends) are left alone.

FastAPI itself reads the parameters; `remember_sequence_checks` spares it re-deriving, for
every parameter of every request, whether the parameter's annotation takes a list.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Any, Union, get_args, get_origin

from fastapi import Request
from fastapi.dependencies import utils as dependency_utils
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel
from pydantic.fields import FieldInfo

_SEQUENCES = (list, set, frozenset, tuple)


@dataclass(frozen=True)
class DeclaredQuery:
    """The query parameters an operation takes, and those of them that take a list."""

    names: frozenset[str]
    lists: frozenset[str]


def _unwrap(annotation: Any) -> list[Any]:
    """The types an annotation allows (`X | None` and `Annotated[X, ...]` seen through)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _unwrap(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return [inner for arg in get_args(annotation) for inner in _unwrap(arg)]
    return [annotation]


def _model(annotation: Any) -> type[BaseModel] | None:
    for candidate in _unwrap(annotation):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _is_list(annotation: Any) -> bool:
    return any(get_origin(arg) in _SEQUENCES or arg in _SEQUENCES for arg in _unwrap(annotation))


def _model_fields(model: type[BaseModel]) -> Iterator[tuple[str, FieldInfo]]:
    by_name = model.model_config.get("populate_by_name") or model.model_config.get(
        "validate_by_name"
    )
    for name, info in model.model_fields.items():
        alias = info.validation_alias if isinstance(info.validation_alias, str) else info.alias
        yield alias or name, info
        if by_name and alias:
            yield name, info


def _query_fields(dependant: Dependant) -> Iterator[tuple[str, Any]]:
    pending = [dependant]
    while pending:
        current = pending.pop()
        for field in current.query_params:
            model = _model(field.field_info.annotation)
            if model is None:
                yield field.alias, field.field_info.annotation
            else:
                yield from ((name, info.annotation) for name, info in _model_fields(model))
        pending.extend(current.dependencies)


_SEQUENCE_CHECK = "field_annotation_is_sequence"


class _Remembered:
    """A check of an annotation, answered once per (hashable) annotation."""

    def __init__(self, check: Callable[[Any], bool]) -> None:
        self.__wrapped__ = check
        self._answers = lru_cache(maxsize=1024)(check)

    def __call__(self, annotation: Any) -> bool:
        try:
            return self._answers(annotation)
        except TypeError:  # an annotation holding an unhashable value
            return self.__wrapped__(annotation)

    def cache_info(self) -> Any:
        return self._answers.cache_info()


def remember_sequence_checks() -> None:
    """Have FastAPI work out once per annotation, not once per parameter of every request,
    whether a query or header parameter takes a list.

    FastAPI reads each parameter of each request with `field_annotation_is_sequence`, a walk
    through the annotation with `typing`'s introspection, twice; a query model (`ProductQuery`
    and its sixteen fields) spends about a twelfth of a catalogue page's instructions there
    (callgrind, `make bench`'s catalogue page). Its answer depends on the annotation alone.
    Idempotent; tests/core/test_query.py holds the answers to FastAPI's own and fails if
    FastAPI no longer reads parameters through this function."""
    check = getattr(dependency_utils, _SEQUENCE_CHECK)
    if not hasattr(check, "__wrapped__"):
        setattr(dependency_utils, _SEQUENCE_CHECK, _Remembered(check))


_DECLARED = "ocop_declared_query"


def declared_query(route: APIRoute) -> DeclaredQuery:
    """What `route` takes in its query string (worked out once per route, kept on it)."""
    declared: DeclaredQuery | None = getattr(route, _DECLARED, None)
    if declared is None:
        fields = list(_query_fields(route.dependant))
        declared = DeclaredQuery(
            names=frozenset(name for name, _ in fields),
            lists=frozenset(name for name, annotation in fields if _is_list(annotation)),
        )
        setattr(route, _DECLARED, declared)
    return declared


def _error(name: str, message: str, kind: str) -> dict[str, Any]:
    return {"loc": ("query", name), "msg": message, "type": kind}


async def refuse_undeclared_query(request: Request) -> None:
    """An app-wide dependency: 422 for each undeclared query parameter and each scalar one
    given more than once."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not route.include_in_schema:
        return
    declared = declared_query(route)
    query = request.query_params
    errors = []
    for name in query:
        if name not in declared.names:
            takes = ", ".join(sorted(declared.names)) or "none"
            message = f"Unknown query parameter; this operation takes: {takes}."
            errors.append(_error(name, message, "unknown_parameter"))
        elif name not in declared.lists and len(values := query.getlist(name)) > 1:
            message = f"Given {len(values)} times; give it once."
            errors.append(_error(name, message, "repeated_parameter"))
    if errors:
        raise RequestValidationError(errors)
