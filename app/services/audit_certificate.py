"""审验证明 as a printable PDF (reportlab): the person, the cycle, the final result, the verification
code and a QR code of the public verification page.

Chinese text needs a CJK font: WenQuanYi Micro Hei (Debian fonts-wqy-microhei) when installed, otherwise
reportlab's built-in CID font STSong-Light (no font file needed). The QR code is reportlab's own vector
widget. The verification address is also stored as the PDF's subject, so it can be read without a QR reader.
"""
from __future__ import annotations

import io
import os
from typing import Any

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

FONT_FILES = ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
_font_name: str | None = None


def cjk_font() -> str:
    """Register (once) and return the name of a font that renders Chinese."""
    global _font_name
    if _font_name:
        return _font_name
    for path in FONT_FILES:
        if os.path.exists(path):
            try:
                pdfmetrics.registerFont(TTFont("CmeCJK", path, subfontIndex=0))
                _font_name = "CmeCJK"
                return _font_name
            except Exception:  # noqa: BLE001,S112 - a broken font file falls back to the CID font
                continue
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    _font_name = "STSong-Light"
    return _font_name


def _num(value: Any) -> str:
    if value is None:
        return "—"
    text = f"{float(value):.2f}".rstrip("0").rstrip(".")
    return text or "0"


def render_pdf(*, cert: Any, cycle: Any, person: Any, unit: str, department: str, verify_url: str,
               issuer: str = "继续医学教育委员会办公室") -> bytes:
    """The certificate of ``cert`` (an AuditCertificate) as PDF bytes."""
    font = cjk_font()
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=A4)
    c.setTitle(f"继续医学教育学分审验证明 {cert.code}")
    c.setSubject(verify_url)
    c.setAuthor(issuer)
    width, height = A4
    c.setLineWidth(1.2)
    c.rect(15 * mm, 15 * mm, width - 30 * mm, height - 30 * mm)

    c.setFont(font, 22)
    c.drawCentredString(width / 2, height - 45 * mm, "继续医学教育学分审验证明")
    c.setFont(font, 11)
    c.drawRightString(width - 25 * mm, height - 57 * mm, f"证明编号：{cert.code}")

    status = "达标" if cert.met else "不达标"
    lines = [
        f"姓名：{person.name}",
        f"IC卡号：{person.card_no}",
        f"单位：{unit}",
        f"科室：{department or '—'}",
        f"专业：{person.specialty or '—'}　　职称：{person.title or '—'}",
        f"审验：{cycle.name}（学分时间范围 {cycle.window_start:%Y-%m-%d} 至 {cycle.window_end:%Y-%m-%d}）",
        f"审验结果：{status}（已获学分 {_num(cert.total)}，要求学分 {_num(cert.required)}）",
    ]
    y = height - 75 * mm
    c.setFont(font, 13)
    for line in lines:
        c.drawString(30 * mm, y, line)
        y -= 11 * mm
    c.setFont(font, 12)
    body = (f"经{cycle.year}年度继续医学教育学分审验，该同志在上述学分时间范围内的继续医学教育学分审验结果为“{status}”。"
            "特此证明。")
    y -= 4 * mm
    for chunk in _wrap(body, 34):
        c.drawString(30 * mm, y, chunk)
        y -= 8 * mm

    qr = QrCodeWidget(verify_url)
    x0, y0, x1, y1 = qr.getBounds()
    size = 38 * mm
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(qr)
    renderPDF.draw(drawing, c, 30 * mm, 40 * mm)
    c.setFont(font, 9)
    c.drawString(30 * mm, 35 * mm, "扫描二维码或访问下列地址核验本证明：")
    c.drawString(30 * mm, 30 * mm, verify_url)

    c.setFont(font, 13)
    c.drawRightString(width - 30 * mm, 70 * mm, issuer)
    c.drawRightString(width - 30 * mm, 60 * mm, f"{cert.issued_at:%Y年%m月%d日}")
    c.showPage()
    c.save()
    return out.getvalue()


def _wrap(text: str, width: int) -> list[str]:
    return [text[i:i + width] for i in range(0, len(text), width)]
