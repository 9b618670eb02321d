"""PDF output: gate-code posters (扫码入企) and the enforcement documents handed over on site."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any
from xml.sax.saxutils import escape

from PIL import Image as PILImage
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    Image,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from server.domain.numbering import DOCUMENT_TYPES, is_provisional_number
from server.render.fonts import CjkFont, cjk_font
from server.render.qr import qr_png

PAGE_WIDTH, PAGE_HEIGHT = A4
OFFICIAL_RED = colors.HexColor("#C00000")
RULE_GREY = colors.HexColor("#888888")
PROVISIONAL_MARK = "临时编号"


# --------------------------------------------------------------------------- money


_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_GROUP_UNITS = ("", "万", "亿", "万亿")


def format_yuan(fen: int) -> str:
    """Integer fen as figures: 316458026 -> '¥3,164,580.26'."""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    return f"{sign}¥{yuan:,}.{cents:02d}"


def yuan_in_words(fen: int) -> str:
    """Integer fen in the capital numerals that documents and receipts require (大写金额)."""
    if fen < 0:
        raise ValueError("an amount in words cannot be negative")
    yuan, cents = divmod(fen, 100)
    jiao, fen_digit = divmod(cents, 10)
    if yuan == 0 and cents == 0:
        return "零元整"
    words = _integer_in_words(yuan) + "元" if yuan else ""
    if cents == 0:
        return words + "整"
    if jiao:
        words += _DIGITS[jiao] + "角"
    elif yuan:
        words += "零"  # 壹佰元零伍分: the missing jiao is spoken
    if fen_digit:
        return words + _DIGITS[fen_digit] + "分"
    # 整 after 角 is optional in the payment rules; writing it leaves no room to add 分.
    return words + "整"


def _integer_in_words(number: int) -> str:
    groups: list[int] = []
    while number:
        number, group = divmod(number, 10000)
        groups.append(group)
    out = ""
    pending_zero = False
    for index in reversed(range(len(groups))):
        group = groups[index]
        if group == 0:
            pending_zero = bool(out)
            continue
        if out and (pending_zero or group < 1000):
            out += "零"
        out += _group_in_words(group) + _GROUP_UNITS[index]
        pending_zero = False
    return out


def _group_in_words(group: int) -> str:
    out = ""
    zero = False
    for place, unit in ((1000, "仟"), (100, "佰"), (10, "拾"), (1, "")):
        digit = group // place % 10
        if digit == 0:
            zero = bool(out)
            continue
        if zero:
            out += "零"
            zero = False
        out += _DIGITS[digit] + unit
    return out


# --------------------------------------------------------------------------- posters


@dataclass(frozen=True)
class PosterData:
    """One enterprise's gate poster: who it is, the URL in its QR, and who issued it."""

    enterprise_name: str
    uscc: str
    url: str
    agency_name: str
    code_version: int
    issued_on: date


POSTER_TITLE = "扫码入企"
POSTER_SUBTITLE = "安全生产执法检查入企码"
POSTER_INSPECTOR_LINE = "执法人员到达后请扫描此码登记"
POSTER_PUBLIC_LINE = (
    "此码是安全生产执法人员进入本单位检查时的登记码，用于记录检查的时间、地点和人员，"
    "减少重复检查。群众扫码可查看说明；本码不涉及任何收费、支付或个人信息填写。"
)
POSTER_QR_SIZE = 125 * mm
# Pixels per module of the embedded PNG: enough that viewers which smooth scaled images
# still show crisp module edges, small enough that a district's posters stay light.
POSTER_QR_BOX = 4


def render_entry_poster(card: PosterData, font: CjkFont | None = None) -> bytes:
    """An A4 poster for one enterprise's gate."""
    return render_entry_posters([card], font=font)


def render_entry_posters(cards: Iterable[PosterData], font: CjkFont | None = None) -> bytes:
    """One PDF, one poster per page, for printing a whole district at once.

    Cards are consumed one at a time and each QR image is made just before its page is
    drawn, so a generator over thousands of enterprises never holds them all.
    """
    font = font or cjk_font()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1)
    canvas.setTitle(POSTER_SUBTITLE)
    pages = 0
    for card in cards:
        _draw_poster(canvas, card, font)
        canvas.showPage()
        pages += 1
    if pages == 0:
        raise ValueError("no posters to render")
    canvas.save()
    return buffer.getvalue()


def _draw_poster(canvas: Canvas, card: PosterData, font: CjkFont) -> None:
    left, right = 18 * mm, PAGE_WIDTH - 18 * mm
    width = right - left
    centre = PAGE_WIDTH / 2

    def from_top(distance: float) -> float:
        return PAGE_HEIGHT - distance

    canvas.setStrokeColor(OFFICIAL_RED)
    canvas.setLineWidth(3)
    canvas.rect(10 * mm, 10 * mm, PAGE_WIDTH - 20 * mm, PAGE_HEIGHT - 20 * mm)
    canvas.setLineWidth(0.8)
    canvas.rect(12 * mm, 12 * mm, PAGE_WIDTH - 24 * mm, PAGE_HEIGHT - 24 * mm)

    _centred_line(canvas, card.agency_name, font, 15, centre, from_top(27 * mm), width)

    _centred_line(
        canvas,
        POSTER_TITLE,
        font,
        60,
        centre,
        from_top(52 * mm),
        width,
        bold=True,
        color=OFFICIAL_RED,
    )
    _centred_line(canvas, POSTER_SUBTITLE, font, 24, centre, from_top(66 * mm), width)

    name_style = _style(font, "poster-name", 22, leading=28, alignment=TA_CENTER)
    name_bottom = _draw_paragraph(
        canvas,
        card.enterprise_name,
        _fit_style(card.enterprise_name, name_style, width, 16),
        left,
        from_top(73 * mm),
        width,
    )
    _centred_line(
        canvas, f"统一社会信用代码：{card.uscc}", font, 12, centre, name_bottom - 6 * mm, width
    )

    qr_top = min(name_bottom - 10 * mm, from_top(92 * mm))
    # Greyscale, not the RGB reportlab would make of a 1-bit PNG: a third of the bytes on
    # every page of a district's print run.
    qr_image = PILImage.open(io.BytesIO(qr_png(card.url, box_size=POSTER_QR_BOX))).convert("L")
    qr = ImageReader(qr_image)
    canvas.drawImage(
        qr, centre - POSTER_QR_SIZE / 2, qr_top - POSTER_QR_SIZE, POSTER_QR_SIZE, POSTER_QR_SIZE
    )

    line_top = qr_top - POSTER_QR_SIZE - 11 * mm
    _centred_line(canvas, POSTER_INSPECTOR_LINE, font, 22, centre, line_top, width, bold=True)
    public_style = _style(font, "poster-public", 11.5, leading=17, alignment=TA_LEFT)
    _draw_paragraph(
        canvas,
        POSTER_PUBLIC_LINE,
        public_style,
        left + 8 * mm,
        line_top - 7 * mm,
        width - 16 * mm,
    )

    grey = colors.HexColor("#444444")
    small = (
        f"发码单位：{card.agency_name}　　码版本：第 {card.code_version} 版　　"
        f"发放日期：{card.issued_on.year}年{card.issued_on.month}月{card.issued_on.day}日"
    )
    _centred_line(canvas, small, font, 9, centre, 23 * mm, width, color=grey)
    _centred_line(canvas, card.url, font, 7.5, centre, 18 * mm, width, color=grey)


def _centred_line(
    canvas: Canvas,
    text: str,
    font: CjkFont,
    size: float,
    x: float,
    y: float,
    max_width: float,
    *,
    bold: bool = False,
    color: colors.Color = colors.black,
) -> None:
    """One line, shrunk until it fits rather than running off the page."""
    while size > 6 and canvas.stringWidth(text, font.name, size) > max_width:
        size -= 0.5
    canvas.setFont(font.name, size)
    canvas.saveState()
    canvas.setFillColor(color)
    if bold:
        # The CJK fonts come in one weight; a thin stroke in the text colour thickens titles
        # the way a bold face would. The render mode is graphics state, hence save/restore.
        canvas.setStrokeColor(color)
        canvas.setLineWidth(size / 40)
        text_object = canvas.beginText()
        text_object.setFont(font.name, size)
        text_object.setTextRenderMode(2)
        text_object.setTextOrigin(x - canvas.stringWidth(text, font.name, size) / 2, y)
        text_object.textLine(text)
        canvas.drawText(text_object)
    else:
        canvas.drawCentredString(x, y, text)
    canvas.restoreState()


def _draw_paragraph(
    canvas: Canvas, text: str, style: ParagraphStyle, x: float, top: float, width: float
) -> float:
    """Draw wrapped text whose first line starts at ``top``; return where it ends."""
    paragraph = Paragraph(escape(text), style)
    _, height = paragraph.wrapOn(canvas, width, PAGE_HEIGHT)
    paragraph.drawOn(canvas, x, top - height)
    return top - height


def _fit_style(text: str, style: ParagraphStyle, width: float, min_size: float) -> ParagraphStyle:
    """Shrink a style until ``text`` fits on one line, down to ``min_size``; then it wraps."""
    size = style.fontSize
    while size > min_size and stringWidth(text, style.fontName, size) > width:
        size -= 1
    return ParagraphStyle(f"{style.name}-{size}", parent=style, fontSize=size, leading=size * 1.3)


# --------------------------------------------------------------------------- documents


@dataclass(frozen=True)
class Inspector:
    name: str
    certificate_no: str


@dataclass(frozen=True)
class CheckedItem:
    item: str
    result: str
    note: str = ""


@dataclass(frozen=True)
class HazardEntry:
    description: str
    level: str  # 一般 / 重大 (general / major are translated)
    legal_basis: str = ""
    deadline: str = ""


@dataclass(frozen=True)
class SignatureLine:
    """One signer: a role, and a drawn signature (PNG) or a printed name, or a blank line."""

    role: str
    name: str = ""
    image_png: bytes | None = None
    signed_on: str = ""


@dataclass(frozen=True)
class DocumentData:
    """One enforcement document, every field already formatted as it is to be printed.

    Type-specific fields are ignored by types that have no place for them; which blocks a
    type prints, and its standard closing text, come from LAYOUTS.
    """

    doc_type: str
    agency_name: str
    number: str
    enterprise_name: str
    enterprise_uscc: str = ""
    enterprise_address: str = ""
    # the enterprise's legal representative (法定代表人) or head (负责人), from the directory
    representative: str = ""
    # who stood for the enterprise on site, with their title
    onsite_representative: str = ""
    time: str = ""
    place: str = ""
    issued_on: str = ""
    inspectors: tuple[Inspector, ...] = ()
    items: tuple[CheckedItem, ...] = ()
    findings: str = ""
    hazards: tuple[HazardEntry, ...] = ()
    # rectification_order: the date everything must be fixed by
    deadline: str = ""
    # onsite_measures: each measure decided on the spot, and until when a stop lasts
    measures: tuple[str, ...] = ()
    stop_until: str = ""
    # reinspection_opinion: the order being re-inspected, and what the re-inspection found
    order_number: str = ""
    outcome: str = ""
    # penalty_decision
    penalty_fen: int | None = None
    penalty_text: str = ""
    penalty_basis: str = ""
    # None: the type's standard closing text; "" prints none
    notice: str | None = None
    # empty: the type's standard blank signature lines
    signatures: tuple[SignatureLine, ...] = ()
    provisional: bool = False
    title: str | None = None

    @property
    def is_provisional(self) -> bool:
        return self.provisional or is_provisional_number(self.number)


_REMEDIES = (
    "如不服本{kind}，可以依法在六十日内申请行政复议，或者在六个月内依法向人民法院提起行政诉讼，"
    "但本{kind}不停止执行，法律另有规定的除外。"
)


@dataclass(frozen=True)
class TypeLayout:
    """What a document type prints, in order, and its standard wording."""

    blocks: tuple[str, ...]
    party_label: str = "被检查单位"
    findings_heading: str = "检查情况"
    hazards_heading: str = "发现的事故隐患"
    notice: str = ""
    signers: tuple[str, ...] = ("执法人员签名", "被检查单位负责人签收")
    sealed: bool = True


LAYOUTS: dict[str, TypeLayout] = {
    "inspection_record": TypeLayout(
        blocks=("parties", "items", "findings", "hazards", "notice", "signatures"),
        notice="以上记录经被检查单位现场负责人核对无误。",
        signers=("执法人员签名", "被检查单位现场负责人签名"),
        sealed=False,
    ),
    "onsite_measures": TypeLayout(
        blocks=("salutation", "parties", "findings", "hazards", "measures", "notice", "signatures"),
        findings_heading="经查，你单位存在下列情形",
        notice=(
            "上述措施自本决定书送达之日起执行。责令暂时停产停业、停止使用相关设施设备的，"
            "期限一般不超过六个月；整改完毕后须经本机关审查同意，方可恢复。"
            + _REMEDIES.format(kind="决定")
        ),
        signers=("执法人员签名", "被检查单位负责人签收"),
    ),
    "rectification_order": TypeLayout(
        blocks=("salutation", "parties", "findings", "hazards", "deadline", "notice", "signatures"),
        findings_heading="经查，你单位存在下列问题",
        hazards_heading="事故隐患及整改要求",
        notice=(
            "逾期未整改或者整改不符合要求的，本机关将依照《中华人民共和国安全生产法》"
            "等有关规定依法处理。" + _REMEDIES.format(kind="指令")
        ),
        signers=("执法人员签名", "被检查单位负责人签收"),
    ),
    "reinspection_opinion": TypeLayout(
        blocks=("salutation", "parties", "reference", "hazards", "outcome", "notice", "signatures"),
        hazards_heading="复查的事故隐患",
        notice=(
            "经复查仍未整改或者整改不符合要求的，本机关将依法处理。" + _REMEDIES.format(kind="意见")
        ),
        signers=("执法人员签名", "被检查单位负责人签收"),
    ),
    "penalty_decision": TypeLayout(
        blocks=("salutation", "parties", "findings", "penalty", "notice", "signatures"),
        party_label="当事人",
        findings_heading="违法事实及证据",
        notice=(
            "罚款自收到本决定书之日起十五日内缴至指定银行或者通过电子支付系统缴纳。"
            "到期不缴纳罚款的，本机关可以每日按罚款数额的百分之三加处罚款。"
            "如不服本决定，可以在收到本决定书之日起六十日内依法申请行政复议，"
            "或者在六个月内依法向人民法院提起行政诉讼。"
        ),
        signers=("执法人员签名", "当事人签收"),
    ),
}

_LEVEL_WORDS = {"general": "一般", "major": "重大"}
_RESULT_WORDS = {"ok": "符合", "hazard": "存在隐患", "na": "不适用"}


class _Styles:
    """Paragraph styles for one font; made per render so a font change needs no restart."""

    def __init__(self, font: CjkFont) -> None:
        self.font = font
        self.agency = _style(font, "agency", 16, leading=24, alignment=TA_CENTER)
        self.title = _style(font, "title", 22, leading=32, alignment=TA_CENTER)
        self.number = _style(font, "number", 11.5, leading=18, alignment=TA_CENTER)
        self.heading = _style(font, "heading", 12, leading=20, spaceBefore=8, spaceAfter=2)
        self.body = _style(font, "body", 11.5, leading=19, firstLineIndent=23)
        self.plain = _style(font, "plain", 11.5, leading=20)
        self.cell = _style(font, "cell", 10, leading=14)
        self.cell_head = _style(font, "cell-head", 10, leading=14, alignment=TA_CENTER)
        self.right = _style(font, "right", 11.5, leading=20, alignment=TA_RIGHT)


def _style(font: CjkFont, name: str, size: float, **extra: Any) -> ParagraphStyle:
    extra.setdefault("leading", size * 1.4)
    # CJK wrapping breaks between any two characters, as Chinese typesetting does.
    return ParagraphStyle(name, fontName=font.name, fontSize=size, wordWrap="CJK", **extra)


def _para(text: str, style: ParagraphStyle) -> Paragraph:
    # Line breaks typed by the inspector are kept; everything else is text, not markup.
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def render_document(doc: DocumentData, font: CjkFont | None = None) -> bytes:
    """The PDF of one enforcement document, ready to print and hand over."""
    if doc.doc_type not in LAYOUTS:
        raise ValueError(f"unknown document type {doc.doc_type!r}")
    font = font or cjk_font()
    styles = _Styles(font)
    layout = LAYOUTS[doc.doc_type]
    title = doc.title or DOCUMENT_TYPES[doc.doc_type].title

    story: list[Flowable] = _header(doc, title, styles)
    closing: list[Flowable] = []
    for block in layout.blocks:
        flowables = _BLOCKS[block](doc, layout, styles)
        if block in _CLOSING_BLOCKS:
            closing.extend(flowables)
        else:
            story.extend(closing + flowables)
            closing = []
    # The closing text, signatures and seal go on one sheet, so a page that carries the
    # signatures also carries what was signed for, and is never a bare signature page.
    if closing:
        story.append(KeepTogether(closing))

    buffer = io.BytesIO()
    template = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=25 * mm,
        rightMargin=22 * mm,
        topMargin=20 * mm,
        bottomMargin=22 * mm,
        title=f"{title} {doc.number}",
        author=doc.agency_name,
        subject=doc.enterprise_name,
    )
    decorate = partial(_decorate_page, font=font, provisional=doc.is_provisional)
    template.build(
        story,
        onFirstPage=decorate,
        onLaterPages=decorate,
        canvasmaker=partial(_FooterCanvas, footer_font=font.name, footer_left=doc.number),
    )
    return buffer.getvalue()


def _header(doc: DocumentData, title: str, styles: _Styles) -> list[Flowable]:
    if doc.is_provisional:
        number = (
            f'<font color="#C00000">【{PROVISIONAL_MARK}】</font>{escape(doc.number)}'
            '<br/><font size="9">正式文书编号由执法系统同步后赋予</font>'
        )
    else:
        number = escape(doc.number)
    return [
        _para(doc.agency_name, styles.agency),
        _para(title, styles.title),
        Paragraph(number, styles.number),
        Spacer(1, 4 * mm),
    ]


def _salutation(doc: DocumentData, layout: TypeLayout, styles: _Styles) -> list[Flowable]:
    return [_para(f"{doc.enterprise_name}：", styles.plain), Spacer(1, 1 * mm)]


def _parties(doc: DocumentData, layout: TypeLayout, styles: _Styles) -> list[Flowable]:
    inspectors = "、".join(
        f"{person.name}（执法证号 {person.certificate_no}）" for person in doc.inspectors
    )
    rows = [
        (layout.party_label, doc.enterprise_name),
        ("统一社会信用代码", doc.enterprise_uscc),
        ("地址", doc.enterprise_address),
        ("法定代表人（负责人）", doc.representative),
        ("现场负责人", doc.onsite_representative),
        ("检查时间", doc.time),
        ("检查场所", doc.place),
        ("执法人员", inspectors),
    ]
    data: list[list[Flowable]] = [
        [_para(label, styles.cell), _para(value, styles.cell)] for label, value in rows if value
    ]
    return [_table(data, (38 * mm, None), header=False), Spacer(1, 2 * mm)]


def _items(doc: DocumentData, layout: TypeLayout, styles: _Styles) -> list[Flowable]:
    if not doc.items:
        return []
    data = [_head_row(("序号", "检查项目", "检查结果", "说明"), styles)]
    for index, item in enumerate(doc.items, 1):
        data.append(
            [
                _para(str(index), styles.cell_head),
                _para(item.item, styles.cell),
                _para(_RESULT_WORDS.get(item.result, item.result), styles.cell_head),
                _para(item.note, styles.cell),
            ]
        )
    return [
        _para("检查项目", styles.heading),
        _table(data, (12 * mm, None, 22 * mm, 50 * mm)),
        Spacer(1, 2 * mm),
    ]


def _findings(doc: DocumentData, layout: TypeLayout, styles: _Styles) -> list[Flowable]:
    if not doc.findings:
        return []
    out: list[Flowable] = [_para(f"{layout.findings_heading}：", styles.heading)]
    out.extend(_para(line, styles.body) for line in doc.findings.split("\n") if line.strip())
    return out


def _hazards(doc: DocumentData, layout: TypeLayout, styles: _Styles) -> list[Flowable]:
    if not doc.hazards:
        return []
    data = [_head_row(("序号", "隐患描述", "等级", "依据", "整改期限"), styles)]
    for index, hazard in enumerate(doc.hazards, 1):
        level = _LEVEL_WORDS.get(hazard.level, hazard.level)
        level_style = styles.cell_head
        data.append(
            [
                _para(str(index), styles.cell_head),
                _para(hazard.description, styles.cell),
                Paragraph(
                    f'<font color="#C00000">{escape(level)}</font>'
                    if level == "重大"
                    else escape(level),
                    level_style,
                ),
                _para(hazard.legal_basis, styles.cell),
                _para(hazard.deadline, styles.cell_head),
            ]
        )
    return [
        _para(f"{layout.hazards_heading}：", styles.heading),
        _table(data, (12 * mm, None, 14 * mm, 44 * mm, 29 * mm)),
        Spacer(1, 2 * mm),
    ]


def _deadline(doc: DocumentData, layout: TypeLayout, styles: _Styles) -> list[Flowable]:
    if not doc.deadline:
        return []
    text = (
        f"现责令你单位对上述事故隐患于{doc.deadline}前整改完毕，达到有关法律、法规、规章和"
        "国家标准或者行业标准规定的要求，并将整改情况书面报告本机关。"
        "整改期间应当采取必要的防范措施，防止事故发生。"
    )
    return [Spacer(1, 2 * mm), _para(text, styles.body)]


def _measures(doc: DocumentData, layout: TypeLayout, styles: _Styles) -> list[Flowable]:
    if not doc.measures:
        return []
    out: list[Flowable] = [_para("依法作出如下现场处理措施：", styles.heading)]
    out.extend(_para(f"{index}. {text}", styles.body) for index, text in enumerate(doc.measures, 1))
    if doc.stop_until:
        out.append(
            _para(f"暂时停产停业、停止使用相关设施设备的期限至{doc.stop_until}止。", styles.body)
        )
    return out


def _reference(doc: DocumentData, layout: TypeLayout, styles: _Styles) -> list[Flowable]:
    order = "《责令限期整改指令书》"
    if doc.order_number:
        order += f"（{doc.order_number}）"
    when = f"于{doc.time}" if doc.time else ""
    text = f"根据你单位的整改报告，本机关{when}对{order}所列事故隐患的整改情况进行了复查。"
    return [_para(text, styles.body)]


def _outcome(doc: DocumentData, layout: TypeLayout, styles: _Styles) -> list[Flowable]:
    if not doc.outcome:
        return []
    out: list[Flowable] = [_para("复查意见：", styles.heading)]
    out.extend(_para(line, styles.body) for line in doc.outcome.split("\n") if line.strip())
    return out


def _penalty(doc: DocumentData, layout: TypeLayout, styles: _Styles) -> list[Flowable]:
    parts = []
    if doc.penalty_text:
        parts.append(doc.penalty_text)
    if doc.penalty_fen is not None:
        parts.append(
            f"罚款人民币{yuan_in_words(doc.penalty_fen)}（{format_yuan(doc.penalty_fen)}）"
        )
    if not parts:
        return []
    basis = f"依据{doc.penalty_basis}的规定，" if doc.penalty_basis else ""
    text = f"{basis}本机关决定对你单位作出如下行政处罚：{'、'.join(parts)}。"
    return [_para("行政处罚决定：", styles.heading), _para(text, styles.body)]


def _notice(doc: DocumentData, layout: TypeLayout, styles: _Styles) -> list[Flowable]:
    text = layout.notice if doc.notice is None else doc.notice
    if not text:
        return []
    return [_para(text, styles.body)]


def _signatures(doc: DocumentData, layout: TypeLayout, styles: _Styles) -> list[Flowable]:
    lines = doc.signatures or tuple(SignatureLine(role) for role in layout.signers)
    data = []
    for line in lines:
        if line.image_png:
            mark: Flowable = _signature_image(line.image_png)
        else:
            mark = _para(line.name, styles.plain)
        data.append(
            [
                _para(f"{line.role}：", styles.plain),
                mark,
                _para(f"日期：{line.signed_on}" if line.signed_on else "日期：", styles.plain),
            ]
        )
    table = Table(data, colWidths=(58 * mm, 58 * mm, None))
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                ("LINEBELOW", (1, 0), (1, -1), 0.5, colors.black),
                # Room above each line for a hand signature; rows grow with long role names.
                ("TOPPADDING", (0, 0), (-1, -1), 9),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    block: list[Flowable] = [Spacer(1, 2 * mm), table]
    if layout.sealed:
        seal = f"{escape(doc.agency_name)}（印章）"
        if doc.issued_on:
            seal += f"<br/>{escape(doc.issued_on)}"
        block += [Spacer(1, 4 * mm), Paragraph(seal, styles.right)]
    return block


def _signature_image(png: bytes) -> Image:
    reader = ImageReader(io.BytesIO(png))
    width, height = reader.getSize()
    target_height = 12 * mm
    target_width = min(55 * mm, target_height * width / max(height, 1))
    return Image(io.BytesIO(png), width=target_width, height=target_width * height / width)


_CLOSING_BLOCKS = frozenset({"notice", "signatures"})

_BLOCKS: dict[str, Callable[[DocumentData, TypeLayout, _Styles], list[Flowable]]] = {
    "salutation": _salutation,
    "parties": _parties,
    "items": _items,
    "findings": _findings,
    "hazards": _hazards,
    "deadline": _deadline,
    "measures": _measures,
    "reference": _reference,
    "outcome": _outcome,
    "penalty": _penalty,
    "notice": _notice,
    "signatures": _signatures,
}


def _head_row(labels: Sequence[str], styles: _Styles) -> list[Flowable]:
    return [_para(label, styles.cell_head) for label in labels]


def _table(
    data: list[list[Flowable]], widths: Sequence[float | None], *, header: bool = True
) -> Table:
    usable = PAGE_WIDTH - 47 * mm
    fixed = sum(w for w in widths if w is not None)
    flexible = [w for w in widths if w is None]
    share = (usable - fixed) / len(flexible) if flexible else 0
    col_widths = [w if w is not None else share for w in widths]
    # A long table continues on the next page with its header row repeated.
    table = Table(data, colWidths=col_widths, repeatRows=1 if header else 0)
    style: list[tuple[Any, ...]] = [
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
    ]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#EEEEEE")))
    else:
        style.append(("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#F5F5F5")))
    table.setStyle(TableStyle(style))
    return table


def _decorate_page(canvas: Canvas, _doc: Any, *, font: CjkFont, provisional: bool) -> None:
    if not provisional:
        return
    # Across every page, so no sheet of a provisionally numbered document passes for final.
    canvas.saveState()
    canvas.setFillColor(colors.Color(0.75, 0, 0, alpha=0.12))
    canvas.setFont(font.name, 72)
    canvas.translate(PAGE_WIDTH / 2, PAGE_HEIGHT / 2)
    canvas.rotate(35)
    canvas.drawCentredString(0, -24, PROVISIONAL_MARK)
    canvas.restoreState()


class _FooterCanvas(Canvas):
    """Holds pages back until the end, so each footer can say how many pages there are."""

    def __init__(self, *args: Any, footer_font: str, footer_left: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._footer_font = footer_font
        self._footer_left = footer_left
        self._held_pages: list[dict[str, Any]] = []

    def showPage(self) -> None:  # noqa: N802 (reportlab's name)
        self._held_pages.append(dict(self.__dict__))
        self._startPage()  # type: ignore[attr-defined]  # reportlab's, missing from its stubs

    def save(self) -> None:
        total = len(self._held_pages)
        for number, state in enumerate(self._held_pages, 1):
            self.__dict__.update(state)
            self._draw_footer(number, total)
            super().showPage()
        super().save()

    def _draw_footer(self, number: int, total: int) -> None:
        self.saveState()
        self.setStrokeColor(RULE_GREY)
        self.setLineWidth(0.5)
        self.line(25 * mm, 16 * mm, PAGE_WIDTH - 22 * mm, 16 * mm)
        self.setFont(self._footer_font, 9)
        self.setFillColor(colors.HexColor("#444444"))
        self.drawString(25 * mm, 11 * mm, self._footer_left)
        self.drawRightString(PAGE_WIDTH - 22 * mm, 11 * mm, f"第 {number} 页 共 {total} 页")
        self.restoreState()
