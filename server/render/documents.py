"""The enforcement documents handed over on site, as PDF."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
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

from server.domain.money import format_yuan, yuan_in_words
from server.domain.numbering import DOCUMENT_TYPES, is_provisional_number
from server.render.fonts import CjkFont, cjk_font, paragraph_style
from server.render.kinsoku import ChineseParagraph

PAGE_WIDTH, PAGE_HEIGHT = A4

RULE_GREY = colors.HexColor("#888888")
PROVISIONAL_MARK = "临时编号"


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
        self.agency = paragraph_style(font, "agency", 16, leading=24, alignment=TA_CENTER)
        self.title = paragraph_style(font, "title", 22, leading=32, alignment=TA_CENTER)
        self.number = paragraph_style(font, "number", 11.5, leading=18, alignment=TA_CENTER)
        self.heading = paragraph_style(font, "heading", 12, leading=20, spaceBefore=8, spaceAfter=2)
        self.body = paragraph_style(font, "body", 11.5, leading=19, firstLineIndent=23)
        self.plain = paragraph_style(font, "plain", 11.5, leading=20)
        self.cell = paragraph_style(font, "cell", 10, leading=14)
        self.cell_head = paragraph_style(font, "cell-head", 10, leading=14, alignment=TA_CENTER)
        self.right = paragraph_style(font, "right", 11.5, leading=20, alignment=TA_RIGHT)


def _para(text: str, style: ParagraphStyle) -> Paragraph:
    # Line breaks typed by the inspector are kept; everything else is text, not markup.
    return ChineseParagraph(escape(text).replace("\n", "<br/>"), style)


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
        ChineseParagraph(number, styles.number),
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
                ChineseParagraph(
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
        block += [Spacer(1, 4 * mm), ChineseParagraph(seal, styles.right)]
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
