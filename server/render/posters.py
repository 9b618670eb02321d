"""Gate-code posters (扫码入企) as PDF, one A4 page per enterprise."""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from xml.sax.saxutils import escape

from PIL import Image as PILImage
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from server.domain.dates import chinese_date
from server.render.fonts import CjkFont, cjk_font, paragraph_style
from server.render.kinsoku import ChineseParagraph
from server.render.qr import qr_png

PAGE_WIDTH, PAGE_HEIGHT = A4

OFFICIAL_RED = colors.HexColor("#C00000")


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

    name_style = paragraph_style(font, "poster-name", 22, leading=28, alignment=TA_CENTER)
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
    public_style = paragraph_style(font, "poster-public", 11.5, leading=17, alignment=TA_LEFT)
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
        f"发放日期：{chinese_date(card.issued_on)}"
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
    paragraph = ChineseParagraph(escape(text), style)
    _, height = paragraph.wrapOn(canvas, width, PAGE_HEIGHT)
    paragraph.drawOn(canvas, x, top - height)
    return top - height


def _fit_style(text: str, style: ParagraphStyle, width: float, min_size: float) -> ParagraphStyle:
    """Shrink a style until ``text`` fits on one line, down to ``min_size``; then it wraps."""
    size = style.fontSize
    while size > min_size and stringWidth(text, style.fontName, size) > width:
        size -= 1
    return ParagraphStyle(f"{style.name}-{size}", parent=style, fontSize=size, leading=size * 1.3)
