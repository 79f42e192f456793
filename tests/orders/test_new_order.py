"""An order being placed is plain data (`app.orders.schemas.NewOrder`), written column by column:
its attributes must stay its tables' columns."""

from __future__ import annotations

import dataclasses

from sqlalchemy import inspect

from app.models.order import Order, OrderLine, OrderStatusChange
from app.orders.schemas import NewLine, NewOrder, NewStatusChange


def test_a_new_order_has_the_columns_of_its_rows() -> None:
    attributes = {field.name for field in dataclasses.fields(NewOrder)}
    assert attributes == set(inspect(Order).columns.keys()) | {"lines", "history"}


def test_its_lines_and_status_changes_have_their_columns_but_the_order_id() -> None:
    for plain, model in ((NewLine, OrderLine), (NewStatusChange, OrderStatusChange)):
        assert set(plain._fields) | {"order_id"} == set(model.__table__.c.keys())
