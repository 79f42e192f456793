"""Demo data, from a 2025 provincial report on OCOP and tourism in Lang Son (the demo's "report").
Sample records that are not in the report say so in their description. Owners have no
translations: their descriptions are in Vietnamese."""

from __future__ import annotations

from app.models.owner import OwnerKind
from app.owners.schemas import OwnerCreate

SAMPLE_NOTE = "Bản ghi mẫu để minh họa, không lấy từ báo cáo của tỉnh."

BAC_LE_COMMUNITY = OwnerCreate(
    name="Cộng đồng thôn Bắc Lệ",
    kind=OwnerKind.community,
    commune="Tân Thành",
    description=(
        "Cộng đồng thôn Bắc Lệ quản lý khu Di tích Đình Bắc Lệ, sản phẩm du lịch OCOP đầu tiên "
        "của tỉnh (4 sao, 2025)."
    ),
)
BAC_SON_GROWERS = OwnerCreate(
    name="Hợp tác xã Quýt vàng Bắc Sơn",
    kind=OwnerKind.cooperative,
    commune="Bắc Sơn",
    description="Các nhà vườn trồng quýt vàng Bắc Sơn (sản phẩm OCOP 4 sao).",
)
NGOC_QUE = OwnerCreate(
    name="Công ty TNHH MTV Ngọc Quế",
    kind=OwnerKind.company,
    commune="Hữu Lũng",
    representative="Ngọc Thị Quế",
    description=(
        "Công ty sản xuất trà Bổ Khai (túi lọc và hòa tan), cả hai đều là sản phẩm OCOP 4 sao, "
        "bán tại các hội chợ và lễ hội trên khắp Việt Nam."
    ),
)

SAMPLE_OWNERS = [
    OwnerCreate(
        name="Hợp tác xã Hồi Văn Quan",
        kind=OwnerKind.cooperative,
        commune="Văn Quan",
        description=SAMPLE_NOTE,
    ),
    OwnerCreate(
        name="Hợp tác xã Na Chi Lăng",
        kind=OwnerKind.cooperative,
        commune="Chi Lăng",
        description=SAMPLE_NOTE,
    ),
    OwnerCreate(
        name="Hộ kinh doanh Lương Thị Đào",
        kind=OwnerKind.household,
        commune="Đồng Đăng",
        representative="Lương Thị Đào",
        description=SAMPLE_NOTE,
    ),
    OwnerCreate(
        name="Công ty Cổ phần Thạch Đen Tràng Định",
        kind=OwnerKind.company,
        commune="Tràng Định",
        description=SAMPLE_NOTE,
    ),
    OwnerCreate(
        name="Hợp tác xã Thổ cẩm Bình Gia",
        kind=OwnerKind.cooperative,
        commune="Bình Gia",
        description=SAMPLE_NOTE,
    ),
    OwnerCreate(
        name="Hợp tác xã Nông sản Lộc Bình",
        kind=OwnerKind.cooperative,
        commune="Lộc Bình",
        description=SAMPLE_NOTE,
    ),
    OwnerCreate(
        name="Hợp tác xã Dược liệu Mẫu Sơn",
        kind=OwnerKind.cooperative,
        commune="Mẫu Sơn",
        description=SAMPLE_NOTE,
    ),
    OwnerCreate(
        name="Hợp tác xã Du lịch cộng đồng Quỳnh Sơn",
        kind=OwnerKind.cooperative,
        commune="Bắc Sơn",
        description=SAMPLE_NOTE,
    ),
]

OWNERS = [BAC_LE_COMMUNITY, BAC_SON_GROWERS, NGOC_QUE, *SAMPLE_OWNERS]
