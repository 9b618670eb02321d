"""Gate posters and enforcement documents render to PDFs that carry their Chinese text."""

from __future__ import annotations

import dataclasses
import io
import uuid
from collections.abc import Iterator
from datetime import date

import pytest
from PIL import Image

pypdf = pytest.importorskip("pypdf")

from server.domain.entry_codes import derive_key, entry_url, issue_token  # noqa: E402
from server.domain.money import format_yuan, yuan_in_words  # noqa: E402
from server.render.documents import (  # noqa: E402
    LAYOUTS,
    CheckedItem,
    DocumentData,
    HazardEntry,
    Inspector,
    SignatureLine,
    render_document,
)
from server.render.fonts import CjkFont, builtin_cid_font, cjk_font  # noqa: E402
from server.render.posters import (  # noqa: E402
    POSTER_QR_BOX,
    POSTER_QR_SIZE,
    PosterData,
    render_entry_poster,
    render_entry_posters,
)
from server.render.qr import qr_png  # noqa: E402
from tests.qr_support import qr_texts  # noqa: E402

ENTERPRISE = "天津市南开区某某精密机械制造有限公司"
AGENCY = "天津市南开区应急管理局"
NUMBERS = {
    "inspection_record": "（南开）应急检记〔2024〕88号",
    "onsite_measures": "（南开）应急现决〔2024〕3号",
    "rectification_order": "（南开）应急责改〔2024〕15号",
    "reinspection_opinion": "（南开）应急复查〔2024〕9号",
    "penalty_decision": "（南开）应急罚〔2024〕21号",
}
TITLES = {
    "inspection_record": "现场检查记录",
    "onsite_measures": "现场处理措施决定书",
    "rectification_order": "责令限期整改指令书",
    "reinspection_opinion": "整改复查意见书",
    "penalty_decision": "行政处罚决定书",
}


def _fonts() -> Iterator[object]:
    yield pytest.param(builtin_cid_font(), id="builtin-cid")
    system = cjk_font()
    if system.embedded:
        yield pytest.param(system, id="embedded-truetype")
    else:
        yield pytest.param(
            system, id="embedded-truetype", marks=pytest.mark.skip("no CJK TrueType font here")
        )


FONTS = list(_fonts())


def make_document(doc_type: str = "rectification_order", **overrides: object) -> DocumentData:
    values: dict[str, object] = {
        "doc_type": doc_type,
        "agency_name": AGENCY,
        "number": NUMBERS[doc_type],
        "enterprise_name": ENTERPRISE,
        "enterprise_uscc": "91120104MA05T8XQ3K",
        "enterprise_address": "天津市南开区科研西路12号",
        "representative": "王某某（总经理）",
        "time": "2024年5月6日 9时30分至11时00分",
        "place": "生产车间、危化品库房",
        "issued_on": "2024年5月6日",
        "inspectors": (Inspector("张三", "12010419001"), Inspector("李四", "12010419002")),
        "items": (
            CheckedItem("危险化学品储存", "hazard", "混存"),
            CheckedItem("消防器材", "ok"),
        ),
        "findings": "现场检查发现危化品库房内油漆稀释剂与氧化剂混存。",
        "hazards": (
            HazardEntry(
                "油漆稀释剂与氧化剂混存",
                "major",
                "《危险化学品安全管理条例》第二十四条",
                "2024年5月20日",
            ),
            HazardEntry(
                "灭火器压力不足", "一般", "《中华人民共和国消防法》第十六条", "2024年5月13日"
            ),
        ),
        "deadline": "2024年5月20日",
        "measures": ("从危险区域撤出作业人员", "暂时停止使用危化品库房"),
        "order_number": NUMBERS["rectification_order"],
        "outcome": "所列隐患已整改完毕，符合要求。",
        "penalty_fen": 3_000_000,
        "penalty_basis": "《中华人民共和国安全生产法》第一百零二条",
    }
    values.update(overrides)
    return DocumentData(**values)  # type: ignore[arg-type]


def text_of(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def page_count(pdf: bytes) -> int:
    return len(pypdf.PdfReader(io.BytesIO(pdf)).pages)


def squeeze(text: str) -> str:
    """Extraction may break lines and add spaces where the layout wrapped."""
    return "".join(text.split())


@pytest.mark.parametrize("font", FONTS)
@pytest.mark.parametrize("doc_type", sorted(LAYOUTS))
def test_every_document_type_renders_a_pdf_with_its_title_number_and_enterprise(
    doc_type: str, font: CjkFont
) -> None:
    pdf = render_document(make_document(doc_type), font=font)
    assert pdf.startswith(b"%PDF-")
    assert len(pdf) > 2_000
    text = squeeze(text_of(pdf))
    assert ENTERPRISE in text
    assert NUMBERS[doc_type] in text
    assert TITLES[doc_type] in text
    assert AGENCY in text


def test_the_layout_table_covers_exactly_the_five_document_types() -> None:
    assert set(LAYOUTS) == set(TITLES)


def test_a_rectification_order_states_its_deadline_hazards_and_consequences() -> None:
    text = squeeze(text_of(render_document(make_document("rectification_order"))))
    assert "于2024年5月20日前整改完毕" in text
    assert "油漆稀释剂与氧化剂混存" in text
    assert "重大" in text and "一般" in text
    assert "行政复议" in text
    assert "张三（执法证号12010419001）" in text


def test_an_inspection_record_lists_the_items_checked_with_their_results() -> None:
    text = squeeze(text_of(render_document(make_document("inspection_record"))))
    assert "危险化学品储存" in text
    assert "存在隐患" in text and "符合" in text
    assert "被检查单位现场负责人签名" in text


def test_onsite_measures_list_each_measure() -> None:
    text = squeeze(text_of(render_document(make_document("onsite_measures"))))
    assert "1.从危险区域撤出作业人员" in text
    assert "2.暂时停止使用危化品库房" in text
    assert "六个月" in text


def test_a_reinspection_opinion_names_the_order_and_the_outcome() -> None:
    text = squeeze(text_of(render_document(make_document("reinspection_opinion"))))
    assert NUMBERS["rectification_order"] in text
    assert "所列隐患已整改完毕，符合要求。" in text


def test_a_penalty_decision_prints_the_fine_in_words_and_figures() -> None:
    text = squeeze(text_of(render_document(make_document("penalty_decision"))))
    assert "罚款人民币叁万元整（¥30,000.00）" in text
    assert "当事人" in text


CLOSING_MARKS = "）)，。、；：！？」』》"


@pytest.mark.parametrize("font", FONTS)
def test_no_printed_line_begins_with_a_closing_bracket_or_punctuation(font: CjkFont) -> None:
    clause = "违反《中华人民共和国安全生产法》（2021年修正）第三十六条，责令改正（当场改正。）；"
    hazard = HazardEntry(
        "安全出口被占用（堆放杂物）。", "一般", "《中华人民共和国消防法》第二十八条", ""
    )
    for shift in range(24):
        # Each shift moves every break by one character, so every mark meets a line end.
        doc = make_document(
            "rectification_order", findings="现" * shift + clause * 4, hazards=(hazard,) * 2
        )
        lines = text_of(render_document(doc, font=font)).splitlines()
        starts = [line.strip() for line in lines if line.strip()[:1] in set(CLOSING_MARKS)]
        assert starts == [], f"shift {shift}"


def test_long_findings_run_over_several_pages_with_numbered_footers() -> None:
    findings = "\n".join(
        f"第{n}处：作业现场安全通道被成品堆放占用，应急照明不亮，疏散指示标志缺失，"
        "员工未按规定佩戴劳动防护用品，相关安全培训记录不全，安全管理制度未上墙。"
        for n in range(1, 80)
    )
    pdf = render_document(make_document("inspection_record", findings=findings))
    pages = page_count(pdf)
    assert pages >= 3
    text = squeeze(text_of(pdf))
    assert f"第1页共{pages}页" in text
    assert f"第{pages}页共{pages}页" in text
    assert "第79处" in text


def test_a_long_hazard_table_continues_onto_the_next_page() -> None:
    hazards = tuple(HazardEntry(f"隐患第{n}项：" + "防护栏缺失" * 6, "一般") for n in range(60))
    pdf = render_document(make_document("rectification_order", hazards=hazards))
    assert page_count(pdf) >= 2
    assert "隐患第59项" in squeeze(text_of(pdf))


def test_a_provisional_number_is_marked_as_provisional() -> None:
    pdf = render_document(make_document(number="临-7K3Q9A2B-12"))
    text = squeeze(text_of(pdf))
    assert "临时编号" in text
    assert "临-7K3Q9A2B-12" in text


def test_a_final_number_carries_no_provisional_mark() -> None:
    assert "临时编号" not in squeeze(text_of(render_document(make_document())))


def test_text_that_looks_like_markup_is_printed_as_typed() -> None:
    pdf = render_document(make_document(findings="温度<60℃ & 压力>1.6MPa <b>"))
    assert "温度<60℃&压力>1.6MPa<b>" in squeeze(text_of(pdf))


def test_signature_images_are_embedded() -> None:
    signature = Image.new("RGB", (300, 100), "white")
    for x in range(20, 280):
        signature.putpixel((x, 50 + (x % 20)), (0, 0, 0))
    buffer = io.BytesIO()
    signature.save(buffer, format="PNG")
    doc = make_document(
        signatures=(
            SignatureLine("执法人员签名", image_png=buffer.getvalue(), signed_on="2024年5月6日"),
            SignatureLine("被检查单位负责人签收", name="王某某"),
        )
    )
    reader = pypdf.PdfReader(io.BytesIO(render_document(doc)))
    assert sum(len(page.images) for page in reader.pages) == 1
    assert "王某某" in squeeze(text_of(render_document(doc)))


def test_an_unknown_document_type_is_refused() -> None:
    with pytest.raises(ValueError):
        render_document(dataclasses.replace(make_document(), doc_type="memo"))


def gate_url(version: int = 2) -> str:
    token = issue_token(derive_key("test"), uuid.uuid4(), version)
    return entry_url("https://zhifa.example.gov.cn", token)


def make_card(**overrides: object) -> PosterData:
    values: dict[str, object] = {
        "enterprise_name": ENTERPRISE,
        "uscc": "91120104MA05T8XQ3K",
        "url": gate_url(),
        "agency_name": AGENCY,
        "code_version": 2,
        "issued_on": date(2024, 5, 6),
    }
    values.update(overrides)
    return PosterData(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize("font", FONTS)
def test_a_poster_names_the_enterprise_and_says_what_the_code_is(font: CjkFont) -> None:
    card = make_card()
    pdf = render_entry_poster(card, font=font)
    assert pdf.startswith(b"%PDF-")
    assert page_count(pdf) == 1
    text = squeeze(text_of(pdf))
    for expected in (
        "扫码入企",
        "安全生产执法检查入企码",
        ENTERPRISE,
        "91120104MA05T8XQ3K",
        "执法人员到达后请扫描此码登记",
        "不涉及任何收费",
        "第2版",
        "2024年5月6日",
        AGENCY,
    ):
        assert expected in text


def test_the_qr_embedded_in_a_poster_decodes_to_the_gate_url() -> None:
    card = make_card()
    reader = pypdf.PdfReader(io.BytesIO(render_entry_poster(card)))
    images = reader.pages[0].images
    assert len(images) == 1
    decoded = qr_texts(images[0].image)
    assert decoded == [card.url]


def test_the_embedded_qr_is_drawn_at_least_ten_centimetres_wide() -> None:
    assert POSTER_QR_SIZE >= 100 / 25.4 * 72


def test_a_very_long_enterprise_name_still_fits_on_the_poster() -> None:
    name = "天津市南开区某某某某某某某某某某精密机械制造与技术服务股份有限公司第二分公司"
    text = squeeze(text_of(render_entry_poster(make_card(enterprise_name=name))))
    assert name in text


def test_a_district_prints_as_one_pdf_with_one_poster_per_page() -> None:
    cards = [make_card(enterprise_name=f"测试企业{n}号有限公司", url=gate_url()) for n in range(25)]
    consumed = []

    def stream() -> Iterator[PosterData]:
        for card in cards:
            consumed.append(card)
            yield card

    pdf = render_entry_posters(stream())
    assert len(consumed) == 25
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 25
    assert "测试企业24号有限公司" in squeeze(reader.pages[24].extract_text())
    last = reader.pages[24].images[0].image
    assert qr_texts(last) == [cards[24].url]


def test_an_empty_district_is_refused_rather_than_printed_blank() -> None:
    with pytest.raises(ValueError):
        render_entry_posters([])


def test_the_png_the_poster_embeds_decodes_to_the_url() -> None:
    url = gate_url()
    assert qr_texts(qr_png(url, box_size=POSTER_QR_BOX)) == [url]


@pytest.mark.parametrize(
    ("fen", "words", "figures"),
    [
        (0, "零元整", "¥0.00"),
        (5, "伍分", "¥0.05"),
        (50, "伍角整", "¥0.50"),
        (100, "壹元整", "¥1.00"),
        (1_000, "壹拾元整", "¥10.00"),
        (10_005, "壹佰元零伍分", "¥100.05"),
        (100_400, "壹仟零肆元整", "¥1,004.00"),
        (101_000, "壹仟零壹拾元整", "¥1,010.00"),
        (3_000_000, "叁万元整", "¥30,000.00"),
        (10_010_000, "壹拾万零壹佰元整", "¥100,100.00"),
        (316_458_026, "叁佰壹拾陆万肆仟伍佰捌拾元贰角陆分", "¥3,164,580.26"),
        (10_000_000_100, "壹亿零壹元整", "¥100,000,001.00"),
        (100_000_000_000, "壹拾亿元整", "¥1,000,000,000.00"),
    ],
)
def test_amounts_in_fen_print_in_capital_numerals_and_figures(
    fen: int, words: str, figures: str
) -> None:
    assert yuan_in_words(fen) == words
    assert format_yuan(fen) == figures


def test_without_a_system_font_the_builtin_cid_font_is_used_and_not_embedded() -> None:
    font = cjk_font(search_system=False)
    assert font.name == "STSong-Light"
    assert not font.embedded
    assert render_document(make_document(), font=font).startswith(b"%PDF-")


def test_a_wrong_font_setting_falls_back_instead_of_failing(tmp_path: object) -> None:
    font = cjk_font("/nonexistent/font.ttc", search_system=False)
    assert font.name == "STSong-Light"


def test_a_font_without_chinese_glyphs_is_passed_over() -> None:
    latin_only = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
    font = cjk_font(latin_only, search_system=False)
    assert font.path != latin_only
