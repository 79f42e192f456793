"""Stock: the one module that changes a product's stock, for orders and for adjustments alike.

Stock is exact (`Quantity`) and never negative: every take is one conditional UPDATE
(`stock = stock - q WHERE stock >= q`), atomic whatever the number of API processes, and
row-locks the product until the transaction ends. Callers take several products' stock in
product id order, so that concurrent orders and cancels never deadlock.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Conflict
from app.core.schemas import QUANTITY_MAX
from app.models.product import Product
from app.products.repository import ProductRepository


async def take(session: AsyncSession, product_id: uuid.UUID, quantity: Decimal) -> Decimal | None:
    """Take `quantity` from an active product's tracked stock: what is left, or None (and
    nothing taken) if there is too little or the product is no longer active."""
    return await ProductRepository(session).take_stock(product_id, quantity)


async def give_back(session: AsyncSession, product_id: uuid.UUID, quantity: Decimal) -> None:
    """Return `quantity`, what an order line took (`OrderLine.stock_taken`), to a product's
    stock; nothing if its stock is no longer tracked."""
    await ProductRepository(session).return_stock(product_id, quantity)


async def levels(
    session: AsyncSession, product_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Decimal | None]:
    """The stock of each product now (None: not tracked)."""
    return await ProductRepository(session).stock_levels(product_ids)


def adjust(product: Product, delta: Decimal) -> None:
    """Add (or remove) exact units on a product row locked for update; never below zero, nor
    above the largest quantity the API takes (QUANTITY_MAX)."""
    if product.stock is None:
        raise Conflict("This product's stock is not tracked.", code="stock_not_tracked")
    new_stock = product.stock + delta
    if new_stock < 0:
        raise Conflict(
            f"Only {product.stock} {product.unit} in stock; cannot remove {-delta}.",
            code="insufficient_stock",
        )
    if new_stock > QUANTITY_MAX:
        raise Conflict(
            f"Stock is at most {QUANTITY_MAX} {product.unit}; "
            f"{product.stock} {product.unit} and {delta} more is over.",
            code="stock_limit",
        )
    product.stock = new_stock
