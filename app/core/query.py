"""Query strings hold what the operation declares, each scalar once.

An undeclared parameter (`?page=2` where the list pages by `cursor`, a misspelt filter) would
otherwise be ignored, and the client would take an unfiltered answer for a filtered one; a
scalar given twice (`?limit=1&limit=2`) would silently be one of the two. Both are refused with
422, one error per parameter, naming it.

What an operation declares is read from its route's dependant (the endpoint's parameters and
its dependencies', query models expanded into their fields): nothing is listed by hand. Pages
outside the API's document (the docs pages, whose OAuth2 redirect takes what an authorization
server sends) are left alone.

A list's filters and page come as one model (`PageQuery` and its subclasses), read by
`query_model`: one Pydantic validation of the query string, where FastAPI's own reading of a
query model (`Annotated[XQuery, Query()]`) works each of the model's fields out in Python on
every request, which a catalogue page paid a tenth of its instructions for. The document still
shows the parameters exactly as FastAPI writes them (`document_query_models`, FastAPI's own
generator run on the model), and a bad value is the same 422.
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from copy import deepcopy
from dataclasses import dataclass
from functools import cache
from inspect import Parameter, Signature
from typing import Annotated, Any, Generic, TypeVar, Union, get_args, get_origin

from fastapi import Depends, FastAPI, Query, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

_SEQUENCES = (list, set, frozenset, tuple)

M = TypeVar("M", bound=BaseModel)


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


class QueryModel(Generic[M]):
    """A dependency: the query string read as `model` (see the module), in one validation."""

    def __init__(self, model: type[M]) -> None:
        self.model = model
        self.lists = frozenset(
            name for name, info in _model_fields(model) if _is_list(info.annotation)
        )

    async def __call__(self, request: Request) -> M:
        query = request.query_params
        # As FastAPI reads a query model: a scalar's last value, a list's every value, and
        # what the model does not declare too (the model's `extra` policy decides).
        values: dict[str, Any] = dict(query)
        for name in self.lists.intersection(values):
            values[name] = query.getlist(name)
        try:
            return self.model.model_validate(values)
        except ValidationError as error:
            raise RequestValidationError(
                [{**e, "loc": ("query", *e["loc"])} for e in error.errors(include_url=False)]
            ) from None


def query_model(model: type[BaseModel]) -> Any:
    """`Annotated[XQuery, query_model(XQuery)]`: a list's filters and page from the query
    string, documented as FastAPI documents `Annotated[XQuery, Query()]`."""
    return Depends(QueryModel(model))


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    """`dependant` and every dependency under it."""
    pending = [dependant]
    while pending:
        current = pending.pop()
        yield current
        pending.extend(current.dependencies)


def _query_models(dependant: Dependant) -> Iterator[type[BaseModel]]:
    for current in _dependants(dependant):
        if isinstance(current.call, QueryModel):
            yield current.call.model


@cache
def _documented(model: type[BaseModel]) -> tuple[list[dict[str, Any]], dict[str, Any], Any]:
    """The parameters FastAPI documents for `Annotated[model, Query()]`, the schemas they
    refer to, and the 422 response FastAPI declares for them: FastAPI's own generator, run on
    a route that takes just that."""

    async def probe() -> None:
        """Takes the query model alone."""

    probe.__signature__ = Signature(  # type: ignore[attr-defined]
        [Parameter("query", Parameter.KEYWORD_ONLY, annotation=Annotated[model, Query()])]
    )
    app = FastAPI()
    app.add_api_route("/", probe, methods=["GET"])
    document = get_openapi(title="probe", version="0", routes=app.routes)
    operation = document["paths"]["/"]["get"]
    schemas = document.get("components", {}).get("schemas", {})
    return operation.get("parameters", []), schemas, operation["responses"]["422"]


def document_query_models(app: FastAPI, document: dict[str, Any]) -> None:
    """Give each operation that reads a `query_model` the parameters FastAPI would have listed
    for it, where it would have listed them (after the path's), with the schemas they use."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        models = list(_query_models(route.dependant))
        if not models:
            continue
        path_item = document["paths"][context.path_format]
        for method in route.methods or ():
            operation = path_item[method.lower()]
            given: list[dict[str, Any]] = operation.get("parameters", [])
            path = [p for p in given if p["in"] == "path"]
            rest = [p for p in given if p["in"] != "path"]
            added = []
            for model in models:
                parameters, used, invalid = _documented(model)
                # Copies: the document's later steps change it in place.
                added.extend(deepcopy(parameters))
                for name, schema in used.items():
                    schemas.setdefault(name, deepcopy(schema))
                operation["responses"].setdefault("422", deepcopy(invalid))
            operation["parameters"] = path + added + rest


def _query_fields(dependant: Dependant) -> Iterator[tuple[str, Any]]:
    models = list(_query_models(dependant))
    for current in _dependants(dependant):
        for field in current.query_params:
            model = _model(field.field_info.annotation)
            if model is None:
                yield field.alias, field.field_info.annotation
            else:
                models.append(model)  # read by FastAPI (`Query()`)
    for model in models:
        yield from ((name, info.annotation) for name, info in _model_fields(model))


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
