from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from app.core.db import TransactionRoute
from app.models.product import ProductGroup

router = APIRouter(prefix="/v1/taxonomy", tags=["taxonomy"], route_class=TransactionRoute)


class Group(BaseModel):
    code: ProductGroup = Field(description="The code used in a product's `group`.")
    name_vi: str = Field(description="The group's name in Decision 148/QĐ-TTg.")
    name_en: str = Field(description="The group's name in English.")


class Taxonomy(BaseModel):
    items: list[Group] = Field(description="The six OCOP product groups.")


# Decision 148/QĐ-TTg (24 February 2023) on the OCOP evaluation and classification criteria.
TAXONOMY = Taxonomy(
    items=[
        Group(code=ProductGroup.food, name_vi="Thực phẩm", name_en="Food"),
        Group(code=ProductGroup.beverage, name_vi="Đồ uống", name_en="Beverages"),
        Group(
            code=ProductGroup.herbal,
            name_vi="Thảo dược",
            name_en="Herbal and medicinal products",
        ),
        Group(
            code=ProductGroup.handicraft,
            name_vi="Thủ công mỹ nghệ",
            name_en="Handicrafts",
        ),
        Group(
            code=ProductGroup.flora_fauna,
            name_vi="Sinh vật cảnh",
            name_en="Ornamental flowers, plants and animals",
        ),
        Group(
            code=ProductGroup.tourism,
            name_vi="Dịch vụ du lịch cộng đồng, du lịch sinh thái và điểm du lịch",
            name_en="Community-based tourism, eco-tourism and tourist attractions",
        ),
    ]
)


@router.get("", response_model=Taxonomy)
async def taxonomy() -> Taxonomy:
    """The six OCOP product groups, with Vietnamese and English names."""
    return TAXONOMY
