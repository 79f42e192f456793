"""Demo products and their certificates, in the bulk-import format.

The four products of the provincial report (`app.demo.data`) come first (their star classes are
from the report; the decision numbers and dates are illustrative, and the report gives no
scores, so none are set). About thirty sample products follow, each saying so in its
description. Every product has its description in Vietnamese and an English translation
(`name_en`, `description_en`). The same rows are shipped as `examples/products.csv`
(tests/products/test_import.py keeps the two equal), and `ocop seed-demo` loads them through
the importer, so seeding twice adds nothing.
"""

from __future__ import annotations

import csv
import io
from dataclasses import astuple, dataclass, fields

from app.demo.data import BAC_LE_COMMUNITY, BAC_SON_GROWERS, NGOC_QUE

SAMPLE = "Sample product for the demo; not taken from the provincial report."
SAMPLE_VI = "Sản phẩm mẫu để minh họa, không lấy từ báo cáo của tỉnh."
# The 2025 provincial evaluation (the conference was held in September 2025).
DECISION_2025 = "2468/QĐ-UBND"
ISSUED_2025 = "2025-10-20"


@dataclass(frozen=True)
class DemoProduct:
    """One row of examples/products.csv (see the README for the columns)."""

    owner_name: str
    product_name: str
    group: str
    unit: str
    price_vnd: int
    commune: str = ""
    owner_kind: str = ""
    unit_step: str = ""
    stock: str = ""
    stars: str = ""
    score: str = ""
    decision_no: str = ""
    issued_on: str = ""
    name_en: str = ""
    description_en: str = ""
    description: str = ""


def _rated(
    stars: int, score: int | str = "", decision: str = DECISION_2025, issued: str = ISSUED_2025
) -> dict[str, str]:
    return {"stars": str(stars), "score": str(score), "decision_no": decision, "issued_on": issued}


_COOP, _HOUSEHOLD, _COMPANY = "cooperative", "household", "company"
_HOI = ("Hợp tác xã Hồi Văn Quan", "Văn Quan", _COOP)
_NA = ("Hợp tác xã Na Chi Lăng", "Chi Lăng", _COOP)
_DAO = ("Hộ kinh doanh Lương Thị Đào", "Đồng Đăng", _HOUSEHOLD)
_THACH = ("Công ty Cổ phần Thạch Đen Tràng Định", "Tràng Định", _COMPANY)
_THO_CAM = ("Hợp tác xã Thổ cẩm Bình Gia", "Bình Gia", _COOP)
_LOC_BINH = ("Hợp tác xã Nông sản Lộc Bình", "Lộc Bình", _COOP)
_MAU_SON = ("Hợp tác xã Dược liệu Mẫu Sơn", "Mẫu Sơn", _COOP)
_QUYNH_SON = ("Hợp tác xã Du lịch cộng đồng Quỳnh Sơn", "Bắc Sơn", _COOP)
_NGOC_QUE = (NGOC_QUE.name, "Hữu Lũng", NGOC_QUE.kind.value)


def _sample(
    owner: tuple[str, str, str],
    name: str,
    group: str,
    unit: str,
    price: int,
    name_en: str,
    *,
    description: str,
    description_en: str,
    step: str = "1",
    stock: str = "",
    rating: dict[str, str] | None = None,
) -> DemoProduct:
    """A sample product; its descriptions (Vietnamese and English) end saying it is one."""
    owner_name, commune, kind = owner
    return DemoProduct(
        owner_name=owner_name,
        product_name=name,
        group=group,
        unit=unit,
        price_vnd=price,
        commune=commune,
        owner_kind=kind,
        unit_step=step,
        stock=stock,
        name_en=name_en,
        description_en=f"{description_en} {SAMPLE}",
        description=f"{description} {SAMPLE_VI}",
        **(rating or {}),
    )


REPORTED = [
    DemoProduct(
        owner_name=BAC_SON_GROWERS.name,
        product_name="Quýt vàng Bắc Sơn",
        group="food",
        unit="kg",
        price_vnd=35000,
        commune="Bắc Sơn",
        owner_kind=BAC_SON_GROWERS.kind,
        unit_step="0.5",
        stock="2500",
        name_en="Bac Son golden mandarin",
        description_en="Fresh golden mandarins from the orchards of Bac Son; 4-star OCOP.",
        description="Quýt vàng tươi từ các vườn Bắc Sơn, sản phẩm OCOP 4 sao.",
        **_rated(4),
    ),
    DemoProduct(
        owner_name=NGOC_QUE.name,
        product_name="Trà Bổ Khai Ngọc Quế, túi lọc",
        group="beverage",
        unit="box",
        price_vnd=85000,
        commune="Hữu Lũng",
        owner_kind=NGOC_QUE.kind,
        unit_step="1",
        stock="400",
        name_en="Ngoc Que Bo Khai tea, filter bags",
        description_en="Bo Khai herbal tea in filter bags; 4-star OCOP.",
        description="Trà Bổ Khai dạng túi lọc, sản phẩm OCOP 4 sao.",
        **_rated(4),
    ),
    DemoProduct(
        owner_name=NGOC_QUE.name,
        product_name="Trà Bổ Khai Ngọc Quế, hòa tan",
        group="beverage",
        unit="bag",
        price_vnd=65000,
        commune="Hữu Lũng",
        owner_kind=NGOC_QUE.kind,
        unit_step="1",
        stock="600",
        name_en="Ngoc Que Bo Khai tea, instant",
        description_en="Instant Bo Khai herbal tea; 4-star OCOP.",
        description="Trà Bổ Khai hòa tan, sản phẩm OCOP 4 sao.",
        **_rated(4),
    ),
    DemoProduct(
        owner_name=BAC_LE_COMMUNITY.name,
        product_name="Di tích Đình Bắc Lệ",
        group="tourism",
        unit="visit",
        price_vnd=20000,
        commune="Tân Thành",
        owner_kind=BAC_LE_COMMUNITY.kind,
        unit_step="1",
        name_en="Bac Le communal temple relic site",
        description_en="The province's first OCOP tourism product (4 stars, 2025).",
        description="Sản phẩm du lịch OCOP đầu tiên của tỉnh (4 sao, 2025).",
        **_rated(4),
    ),
]

SAMPLES = [
    _sample(
        _HOI,
        "Hoa hồi khô Văn Quan",
        "food",
        "kg",
        120000,
        "Van Quan dried star anise",
        description="Hoa hồi Văn Quan phơi khô, thơm nồng, dùng làm gia vị.",
        description_en="Dried star anise from Van Quan, strongly fragrant, used as a spice.",
        step="0.5",
        stock="800",
        rating=_rated(4, 72),
    ),
    _sample(
        _HOI,
        "Tinh dầu hồi Văn Quan",
        "herbal",
        "bottle",
        150000,
        "Van Quan star anise oil",
        description="Tinh dầu chưng cất từ hoa hồi Văn Quan.",
        description_en="Essential oil distilled from Van Quan star anise.",
        stock="300",
        rating=_rated(3, 61),
    ),
    _sample(
        _HOI,
        "Bột hồi Văn Quan",
        "food",
        "jar",
        45000,
        "Van Quan star anise powder",
        description="Hoa hồi Văn Quan xay mịn, đóng hũ.",
        description_en="Van Quan star anise, finely ground, in a jar.",
        stock="500",
        rating=_rated(3, 55),
    ),
    _sample(
        _NA,
        "Na Chi Lăng",
        "food",
        "kg",
        60000,
        "Chi Lang custard apple",
        description="Quả na tươi từ các vườn Chi Lăng, ngọt và thơm.",
        description_en="Fresh custard apples from the orchards of Chi Lang, sweet and fragrant.",
        step="0.5",
        stock="1500",
        rating=_rated(4, 80),
    ),
    _sample(
        _NA,
        "Mứt na Chi Lăng",
        "food",
        "jar",
        70000,
        "Chi Lang custard apple jam",
        description="Mứt làm từ quả na Chi Lăng.",
        description_en="Jam made from Chi Lang custard apples.",
        stock="200",
        rating=_rated(3, 58),
    ),
    _sample(
        _NA,
        "Rượu na Chi Lăng",
        "beverage",
        "bottle",
        180000,
        "Chi Lang custard apple wine",
        description="Rượu ngâm từ quả na Chi Lăng.",
        description_en="Wine steeped with Chi Lang custard apples.",
        stock="150",
    ),
    _sample(
        _DAO,
        "Đậu đen xanh lòng Đồng Đăng",
        "food",
        "kg",
        50000,
        "Dong Dang black beans",
        description="Đậu đen xanh lòng trồng ở Đồng Đăng, dùng nấu chè và xôi.",
        description_en="Green-hearted black beans from Dong Dang, for sweet soups and sticky rice.",
        step="0.5",
        stock="300",
        rating=_rated(3, 52),
    ),
    _sample(
        _DAO,
        "Bánh cuốn trứng Đồng Đăng",
        "food",
        "box",
        40000,
        "Dong Dang egg rice rolls",
        description="Bánh cuốn nhân trứng làm theo cách của Đồng Đăng, đóng hộp ăn liền.",
        description_en="Rice rolls filled with egg, made the Dong Dang way, in a ready-to-eat box.",
        stock="50",
    ),
    _sample(
        _DAO,
        "Khâu nhục Đồng Đăng",
        "food",
        "box",
        150000,
        "Dong Dang braised pork belly",
        description="Thịt ba chỉ hấp cùng khoai môn, món ăn truyền thống của xứ Lạng.",
        description_en="Pork belly steamed with taro, a traditional dish of Lang Son.",
        stock="40",
        rating=_rated(3, 50, "1790/QĐ-UBND", "2021-10-15"),
    ),
    _sample(
        _THACH,
        "Thạch đen Tràng Định",
        "food",
        "box",
        30000,
        "Trang Dinh black grass jelly",
        description="Thạch đen nấu từ cây thạch đen Tràng Định, món giải nhiệt mùa hè.",
        description_en="Black grass jelly cooked from Trang Dinh plants, a cooling summer treat.",
        stock="2000",
        rating=_rated(4, 71),
    ),
    _sample(
        _THACH,
        "Cao thạch đen Tràng Định",
        "beverage",
        "jar",
        55000,
        "Trang Dinh grass jelly extract",
        description="Cao cô đặc từ cây thạch đen, pha với nước để uống.",
        description_en="Concentrated grass jelly extract, mixed with water as a drink.",
        stock="600",
        rating=_rated(3, 63),
    ),
    _sample(
        _THACH,
        "Thạch đen khô Tràng Định",
        "food",
        "bag",
        90000,
        "Trang Dinh dried grass jelly",
        description="Cây thạch đen phơi khô, đóng túi, để tự nấu thạch tại nhà.",
        description_en="Dried grass jelly plants in a bag, for cooking jelly at home.",
        stock="900",
        rating=_rated(3, 57),
    ),
    _sample(
        _THO_CAM,
        "Khăn thổ cẩm Tày Bình Gia",
        "handicraft",
        "piece",
        250000,
        "Binh Gia Tay brocade scarf",
        description="Khăn dệt thổ cẩm theo hoa văn của người Tày ở Bình Gia.",
        description_en="Scarf woven in the brocade patterns of the Tay people of Binh Gia.",
        stock="120",
        rating=_rated(3, 60),
    ),
    _sample(
        _THO_CAM,
        "Túi thổ cẩm Bình Gia",
        "handicraft",
        "piece",
        320000,
        "Binh Gia brocade bag",
        description="Túi may từ vải thổ cẩm dệt tay.",
        description_en="Bag sewn from hand-woven brocade.",
        stock="80",
        rating=_rated(4, 75),
    ),
    _sample(
        _THO_CAM,
        "Gối thổ cẩm Bình Gia",
        "handicraft",
        "piece",
        180000,
        "Binh Gia brocade cushion",
        description="Gối tựa bọc vải thổ cẩm dệt tay.",
        description_en="Cushion covered in hand-woven brocade.",
        stock="60",
    ),
    _sample(
        _LOC_BINH,
        "Hạt dẻ Đông Quan",
        "food",
        "kg",
        110000,
        "Dong Quan chestnuts",
        description="Hạt dẻ Đông Quan bùi và thơm, rang hay luộc đều ngon.",
        description_en="Dong Quan chestnuts, nutty and fragrant, good roasted or boiled.",
        step="0.5",
        stock="700",
        rating=_rated(4, 82),
    ),
    _sample(
        _LOC_BINH,
        "Mật ong hoa hồi Lộc Bình",
        "food",
        "bottle",
        280000,
        "Loc Binh star anise honey",
        description="Mật ong do đàn ong lấy từ hoa hồi quanh Lộc Bình.",
        description_en="Honey made by bees from star anise blossoms around Loc Binh.",
        stock="150",
        rating=_rated(3, 66),
    ),
    _sample(
        _LOC_BINH,
        "Khoai môn Lộc Bình",
        "food",
        "kg",
        40000,
        "Loc Binh taro",
        description="Khoai môn Lộc Bình dẻo và bở, dùng nấu món khâu nhục.",
        description_en="Loc Binh taro, soft and floury, used in steamed pork belly.",
        step="0.5",
        stock="2000",
    ),
    _sample(
        _LOC_BINH,
        "Đào cảnh Lộc Bình",
        "flora_fauna",
        "piece",
        1500000,
        "Loc Binh ornamental peach tree",
        description="Cây đào cảnh trồng chậu, nở hoa dịp Tết.",
        description_en="Potted ornamental peach tree that blossoms for Tet.",
        stock="40",
        rating=_rated(3, 54),
    ),
    _sample(
        _LOC_BINH,
        "Quất cảnh Lộc Bình",
        "flora_fauna",
        "piece",
        900000,
        "Loc Binh ornamental kumquat",
        description="Cây quất cảnh trồng chậu, sai quả dịp Tết.",
        description_en="Potted ornamental kumquat, laden with fruit for Tet.",
        stock="60",
    ),
    _sample(
        _MAU_SON,
        "Rượu Mẫu Sơn",
        "beverage",
        "bottle",
        120000,
        "Mau Son rice wine",
        description="Rượu gạo nấu theo cách truyền thống của vùng núi Mẫu Sơn.",
        description_en="Rice wine distilled the traditional way in the Mau Son mountains.",
        stock="500",
        rating=_rated(4, 77),
    ),
    _sample(
        _MAU_SON,
        "Chè Mẫu Sơn",
        "beverage",
        "bag",
        90000,
        "Mau Son green tea",
        description="Chè xanh trồng trên núi Mẫu Sơn, sao khô.",
        description_en="Green tea grown on Mau Son mountain, pan-dried.",
        stock="400",
        rating=_rated(3, 62),
    ),
    _sample(
        _MAU_SON,
        "Cao dược liệu Mẫu Sơn",
        "herbal",
        "jar",
        210000,
        "Mau Son herbal extract",
        description="Cao cô đặc từ các cây thuốc vùng Mẫu Sơn.",
        description_en="Concentrated extract of medicinal plants from Mau Son.",
        stock="100",
        rating=_rated(3, 59),
    ),
    _sample(
        _MAU_SON,
        "Trà giảo cổ lam Mẫu Sơn",
        "herbal",
        "box",
        95000,
        "Mau Son jiaogulan tea",
        description="Trà từ lá giảo cổ lam phơi khô.",
        description_en="Tea made from dried jiaogulan leaves.",
        stock="250",
        rating=_rated(3, 51),
    ),
    _sample(
        _MAU_SON,
        "Lan kim tuyến Mẫu Sơn",
        "flora_fauna",
        "piece",
        350000,
        "Mau Son jewel orchid",
        description="Cây lan kim tuyến trồng chậu, lá có gân vàng óng.",
        description_en="Potted jewel orchid, its leaves veined with gold.",
        stock="30",
    ),
    _sample(
        _MAU_SON,
        "Đào Mẫu Sơn",
        "food",
        "kg",
        70000,
        "Mau Son peaches",
        description="Quả đào tươi từ vùng núi Mẫu Sơn, chín vào mùa hè.",
        description_en="Fresh peaches from the Mau Son mountains, ripe in summer.",
        step="0.5",
        stock="300",
        rating=_rated(3, 53),
    ),
    _sample(
        _QUYNH_SON,
        "Du lịch cộng đồng Quỳnh Sơn",
        "tourism",
        "visit",
        150000,
        "Quynh Son community homestay tour",
        description="Nghỉ tại nhà sàn của người Tày ở Quỳnh Sơn, dùng bữa cùng gia đình chủ nhà.",
        description_en="A stay in a Tay stilt house in Quynh Son, sharing meals with the hosts.",
        rating=_rated(3, 64),
    ),
    _sample(
        _QUYNH_SON,
        "Trải nghiệm hái quýt Bắc Sơn",
        "tourism",
        "ticket",
        50000,
        "Bac Son mandarin picking",
        description="Vào vườn hái quýt cùng nhà vườn Bắc Sơn trong mùa quýt chín.",
        description_en="Pick mandarins with Bac Son growers in their orchards at harvest time.",
        rating=_rated(3, 56),
    ),
    _sample(
        _QUYNH_SON,
        "Cơm lam Bắc Sơn",
        "food",
        "piece",
        25000,
        "Bac Son bamboo-tube rice",
        description="Gạo nếp nướng trong ống tre, ăn kèm muối vừng.",
        description_en="Sticky rice cooked in bamboo tubes, eaten with sesame salt.",
        stock="200",
    ),
    _sample(
        _QUYNH_SON,
        "Nà Lay ngắm hoàng hôn",
        "tourism",
        "ticket",
        30000,
        "Na Lay sunset viewpoint",
        description="Vé lên đỉnh Nà Lay ngắm hoàng hôn trên thung lũng Bắc Sơn.",
        description_en="A ticket up Na Lay peak to watch the sunset over the Bac Son valley.",
    ),
    _sample(
        _NGOC_QUE,
        "Tham quan xưởng trà Ngọc Quế",
        "tourism",
        "visit",
        60000,
        "Ngoc Que tea workshop visit",
        description="Xem quy trình làm trà Bổ Khai tại xưởng Ngọc Quế, thưởng trà và mua tại chỗ.",
        description_en="See how Bo Khai herbal tea is made at the Ngoc Que workshop, taste it "
        "and buy on site.",
    ),
]

PRODUCTS = [*REPORTED, *SAMPLES]
COLUMNS = [f.name for f in fields(DemoProduct)]


def csv_text() -> str:
    """The demo products as an import file (what `examples/products.csv` holds)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for product in PRODUCTS:
        writer.writerow(astuple(product))
    return out.getvalue()
