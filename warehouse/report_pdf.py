"""The credit report as an A4 PDF: drawn from its facts, and read back.

What belongs here: drawing a report's facts (`models.credit_report`) on A4 pages with
reportlab — Chinese first, English beside it — in the CJK font the project installs
(`fonts-wqy-microhei`, see the Makefile), with the score history as a chart and the
verification code printed and as a QR code; embedding the facts in the file (an attached
`facts.json` and the document information `/RenfangFacts`); and reading the facts, the
printed code and the page text back (pypdf). What does not: which facts (`models`),
reading them from the warehouse or judging a report (`warehouse.credit_report`).

Why the facts travel inside the PDF: `renfang verify-report` needs to know which firm and
date a file claims without trusting its text; the text is then compared with what the same
facts draw, so an edited page and edited facts both fail. The drawing is deterministic
(reportlab's invariant mode, no creation time on the page): the same facts draw the same
text on every machine with the font.
"""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from models.credit_report import canonical_json, qr_payload, verification_code
from models.labels import Labels
from models.rules import RuleSet

FONT_FILE = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
"""The CJK font (Debian package fonts-wqy-microhei; `make run` / `make test` install it)."""
FONT_ENV = "RENFANG_REPORT_FONT"
FONT = "WenQuanYiMicroHei"
ATTACHMENT = "facts.json"
INFO_KEY = "/RenfangFacts"
CODE_LINE = re.compile(r"核验码.*?([0-9a-f]{64})")


class ReportFontMissingError(RuntimeError):
    """The CJK font is not installed: a report without it would show empty boxes."""

    def __init__(self, path: Path) -> None:
        super().__init__(
            f"缺少中文字体 {path}：请安装 fonts-wqy-microhei（`make run` 会自动安装），或将 "
            f"{FONT_ENV} 指向一个 TrueType 中文字体\n"
            f"the CJK font {path} is missing: install fonts-wqy-microhei (`make run` does), or "
            f"point {FONT_ENV} at a TrueType CJK font"
        )


def font_file() -> Path:
    return Path(os.environ.get(FONT_ENV) or FONT_FILE)


def register_font() -> None:
    """Register the CJK font with reportlab once; `ReportFontMissingError` without it."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    path = font_file()
    if not path.is_file():
        raise ReportFontMissingError(path)
    index = {"subfontIndex": 0} if path.suffix.lower() == ".ttc" else {}
    pdfmetrics.registerFont(TTFont(FONT, str(path), **index))


def render(facts: Mapping[str, Any], rules: RuleSet, labels: Labels) -> bytes:
    """The report's PDF bytes: the pages drawn from `facts`, the facts embedded."""
    return with_facts(draw(facts, rules, labels), facts)


def with_facts(drawn: bytes, facts: Mapping[str, Any]) -> bytes:
    """A drawn report with `facts` embedded (attached `facts.json` and `/RenfangFacts`)."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(drawn)))
    payload = canonical_json(facts)
    writer.add_attachment(ATTACHMENT, payload.encode("utf-8"))
    writer.add_metadata({INFO_KEY: payload})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@dataclass(frozen=True)
class ReadBack:
    facts: dict[str, Any] | None  # the attached facts (None when absent or unreadable)
    info_facts: dict[str, Any] | None  # the same, from the document information
    printed_code: str | None  # the verification code as printed on the first page
    text: str  # the text of every page, in order


def read_back(data: bytes) -> ReadBack:
    """What a report file holds: its embedded facts, its printed code, its page text."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    attached = reader.attachments.get(ATTACHMENT) or []
    info: Mapping[str, Any] = reader.metadata or {}
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    found = CODE_LINE.search("".join(text.split()))
    return ReadBack(
        facts=_json(attached[0].decode("utf-8", "replace") if attached else None),
        info_facts=_json(str(info.get(INFO_KEY)) if info.get(INFO_KEY) else None),
        printed_code=found[1] if found else None,
        text=text,
    )


def page_text(facts: Mapping[str, Any], rules: RuleSet, labels: Labels) -> str:
    """The text the report of `facts` shows (what a verifier compares a file's text with)."""
    return read_back(draw(facts, rules, labels)).text


def _json(text: str | None) -> dict[str, Any] | None:
    if not text:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


# --- drawing --------------------------------------------------------------------------------


def draw(facts: Mapping[str, Any], rules: RuleSet, labels: Labels) -> bytes:
    """The report's pages (PDF bytes, no facts embedded)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        KeepTogether,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    register_font()
    body = ParagraphStyle("body", fontName=FONT, fontSize=9, leading=13)
    small = ParagraphStyle("small", parent=body, fontSize=7.5, leading=10)
    title = ParagraphStyle("title", parent=body, fontSize=18, leading=24, alignment=1)
    heading = ParagraphStyle("heading", parent=body, fontSize=11.5, leading=16, spaceBefore=6)
    grid = TableStyle(
        [
            ("FONTNAME", (0, 0), (-1, -1), FONT),
            ("FONTSIZE", (0, 0), (-1, -1), 8),
            ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ]
    )

    def p(text: object, style: ParagraphStyle = body) -> Paragraph:
        return Paragraph(escape(str(text)), style)

    def pairs(rows: list[tuple[str, object]]) -> Table:
        table = Table(
            [[p(k), p(v if v not in (None, "") else "—")] for k, v in rows],
            colWidths=[52 * mm, 118 * mm],
        )
        table.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                    ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f4f4f4")),
                ]
            )
        )
        return table

    severity = {code: f"{code} {s.label_zh}" for code, s in rules.severities.items()}
    story: list[Any] = [
        p("人防行业信用报告", title),
        p(
            "Credit report — civil air defence engineering",
            ParagraphStyle("sub", parent=body, alignment=1, fontSize=10),
        ),
        Spacer(1, 4 * mm),
        p("一、基本信息 Identity", heading),
        pairs(
            [
                ("单位名称 Name", facts["name"]),
                ("统一社会信用代码 USCC", facts["uscc"]),
                (
                    "单位类型 Firm type",
                    labels.firm_type(facts["firm_type"])
                    + " / "
                    + labels.firm_type(facts["firm_type"], "en"),
                ),
                ("所在区 District", facts["district"]),
                ("资质 Qualification", facts["qualification"]),
            ]
        ),
        p("二、信用评价 Score, tier and risk class", heading),
        pairs(
            [
                ("评价日期 As of", facts["as_of"]),
                ("信用得分 Score", facts["score"]),
                ("信用等级 Tier", facts["tier"]),
                ("风险分类 Risk class", facts["risk_class"]),
                ("加分合计 Bonus points", facts["bonus_points"]),
                ("扣分合计 Deduction points", facts["deduction_points"]),
                (
                    "一票否决 Veto",
                    "是 yes："
                    + str(facts["veto_reason"] or "")
                    + ("，至 until " + facts["veto_until"] if facts["veto_until"] else "")
                    if facts["veto"]
                    else "否 no",
                ),
                ("评价标准 Rule set", facts["rule_set_version"]),
            ]
        ),
        p("三、计分记录 Counting records", heading),
    ]
    records = facts["records"]
    if records:
        rows = [
            [
                "文书号 Document",
                "类型 Type",
                "程度 Severity",
                "起 From",
                "止 Until",
                "分值 Points",
                "否决 Veto",
            ]
        ]
        rows += [
            [
                p(r["doc_no"], small),
                p(r["evidence_type"], small),
                p(severity.get(r["severity"] or "", "—"), small),
                r["valid_from"] or "—",
                r["valid_until"] or "—",
                r["points"],
                "是" if r["veto"] else "—",
            ]
            for r in records
        ]
        table = Table(
            rows,
            colWidths=[46 * mm, 28 * mm, 20 * mm, 20 * mm, 20 * mm, 18 * mm, 14 * mm],
            repeatRows=1,
        )
        table.setStyle(grid)
        story.append(table)
    else:
        story.append(p("评价日无计分记录（基础分）。No record counts on this date (base score)."))
    story += [p("四、得分走势 Score history", heading), _chart(facts, rules)]
    story.append(p("五、升级路径 Path to the next tier", heading))
    step = facts["next_tier"]
    if step is None:
        story.append(p("已是最高等级。Already in the best tier."))
    elif step["on"]:
        story.append(
            p(
                f"若无新记录，将于 {step['on']} 达到 {step['tier']} 级（{step['score']} 分）。"
                f" With no new record the firm reaches tier {step['tier']} on {step['on']} "
                f"({step['score']} points)."
            )
        )
    else:
        story.append(
            p(
                f"{step['tier']} 级需 {step['min_score']} 分以上，仅靠记录到期无法达到（需信用修复"
                f"或新的良好记录）。Tier {step['tier']} needs {step['min_score']} points; "
                "expiring records alone do not reach it (a repair or new good records "
                "do)."
            )
        )
    story.append(p("六、办理中的异议与信用修复 Open objections and repairs", heading))
    if facts["open_cases"]:
        rows = [["案件编号 Case", "类型 Kind", "涉及文书 Record", "申请日期 Filed"]]
        rows += [
            [c["case_id"], c["kind"], p(c["record_doc_no"], small), c["filed_on"]]
            for c in facts["open_cases"]
        ]
        table = Table(rows, colWidths=[36 * mm, 30 * mm, 70 * mm, 30 * mm])
        table.setStyle(grid)
        story.append(table)
    else:
        story.append(p("无。None."))
    story.append(p("七、严重失信主体名单 Listings (decided, published)", heading))
    if facts["listings"]:
        rows = [["案件编号 Case", "决定书 Decision", "列入至 Listed until"]]
        rows += [
            [x["case_id"], x["doc_no"] or "—", x["listed_until"] or "—"] for x in facts["listings"]
        ]
        table = Table(rows, colWidths=[40 * mm, 80 * mm, 40 * mm])
        table.setStyle(grid)
        story.append(table)
    else:
        story.append(p("未列入。Not listed."))
    story.append(
        KeepTogether(
            [p("八、出具与核验 Issuer and verification", heading), _verification(facts, p, small)]
        )
    )

    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=f"信用报告 {facts['uscc']} {facts['as_of']}",
        author=str(facts["issuer"]),
        subject="信用报告 Credit report",
        invariant=1,
    )

    def footer(canvas: Any, document: Any) -> None:
        canvas.setFont(FONT, 7)
        canvas.drawCentredString(
            A4[0] / 2,
            9 * mm,
            f"{facts['uscc']} · {facts['as_of']} · 第 {document.page} 页 page {document.page}",
        )

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()


def _chart(facts: Mapping[str, Any], rules: RuleSet) -> Any:
    from reportlab.graphics.charts.lineplots import LinePlot
    from reportlab.graphics.shapes import Drawing, Line, String
    from reportlab.lib import colors

    history = facts["history"]
    drawing = Drawing(470, 150)
    if len(history) < 2:
        drawing.add(
            String(
                0, 70, "历史评分不足两期。Fewer than two scored dates.", fontName=FONT, fontSize=8
            )
        )
        return drawing
    points = [(float(i), float(score)) for i, (_, score, _) in enumerate(history)]
    plot = LinePlot()
    plot.x, plot.y, plot.width, plot.height = 40, 20, 400, 115
    plot.data = [points]
    plot.lines[0].strokeColor = colors.HexColor("#1f77b4")
    plot.xValueAxis.valueMin, plot.xValueAxis.valueMax = 0, len(history) - 1
    plot.xValueAxis.visibleLabels = False
    plot.yValueAxis.valueMin, plot.yValueAxis.valueMax, plot.yValueAxis.valueStep = 0, 100, 20
    plot.yValueAxis.labels.fontName = FONT
    plot.yValueAxis.labels.fontSize = 7
    drawing.add(plot)
    for tier in rules.tiers[:-1]:
        y = plot.y + plot.height * float(tier.min_score) / 100
        drawing.add(
            Line(
                plot.x,
                y,
                plot.x + plot.width,
                y,
                strokeColor=colors.grey,
                strokeDashArray=[2, 2],
                strokeWidth=0.5,
            )
        )
        drawing.add(
            String(
                plot.x + plot.width + 3,
                y - 2,
                f"{tier.tier} ≥ {tier.min_score}",
                fontName=FONT,
                fontSize=6,
            )
        )
    drawing.add(String(plot.x, 5, history[0][0], fontName=FONT, fontSize=7))
    drawing.add(
        String(plot.x + plot.width, 5, history[-1][0], fontName=FONT, fontSize=7, textAnchor="end")
    )
    return drawing


def _verification(facts: Mapping[str, Any], p: Any, small: Any) -> Any:
    from reportlab.graphics.barcode.qr import QrCodeWidget
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib.units import mm
    from reportlab.platypus import Table

    code = verification_code(facts)
    widget = QrCodeWidget(qr_payload(facts))
    left, bottom, right, top = widget.getBounds()
    size = 30 * mm
    qr = Drawing(size, size, transform=[size / (right - left), 0, 0, size / (top - bottom), 0, 0])
    qr.add(widget)
    words = [
        p(f"出具单位 Issuer：{facts['issuer']}"),
        p(f"评价日期 As of：{facts['as_of']}"),
        p("核验码 Verification code (SHA-256)："),
        p(code, small),
        p(
            "核验方法：renfang verify-report 本文件.pdf —— 按报告日期从数据仓库重新计算"
            "报告事实并与本文件"
            "（嵌入的事实与页面文字）逐项核对。",
            small,
        ),
        p(
            "To verify: renfang verify-report FILE.pdf recomputes the facts from the warehouse "
            "as of the report's date and compares them with this file's embedded facts and page "
            "text.",
            small,
        ),
    ]
    return Table([[words, qr]], colWidths=[135 * mm, 35 * mm])
