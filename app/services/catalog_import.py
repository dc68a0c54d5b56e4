"""Bulk import of the CME project catalogue (继教项目目录) from Excel: every row checked, all or nothing.

Bad rows are reported with row number, column title and a Chinese reason; a file with any bad row writes
nothing. Lookups are set-based (existing approval numbers and subjects in one query each).
"""
from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from app.models import DictItem, DictType
from app.models.projects import PROJECT_CATEGORIES, ProjectCatalog
from app.services import sheets
from app.services.exports import workbook
from app.services.people_import import ImportResult, RowError, _existing
from app.services.sheets import ImportFileError  # noqa: F401 - raised by read_rows, caught by the job

COLUMNS = ["审批编号", "项目名称", "学分类别", "学科", "总学分", "总学时", "年度", "主办单位", "计划人数"]
REQUIRED = {"审批编号", "项目名称", "学分类别", "总学分", "总学时", "年度", "计划人数"}
# 2025-14-03-020 (京), 2025-CS-12: a year, then dash-separated codes, an optional (省份简称).
APPROVAL_RE = re.compile(r"^(19|20)\d{2}(-[0-9A-Za-z]+)+(\s?[(（][\u4e00-\u9fa5]{1,4}[)）])?$")
LIMITS = {"项目名称": 200, "主办单位": 200}
# Short forms people type for the categories (issue 5: 国家级/市级/区级/外地国家级/外地省市级 …).
CATEGORY_ALIASES = {c.replace("继续医学教育项目", ""): c for c in PROJECT_CATEGORIES}


# The template's example row: skipped when a file still holds it (the template uploaded unchanged).
EXAMPLE = ["2025-14-03-020 (京)", "儿科护理新进展学习班", "市级继续医学教育项目", "儿科护理学", 4, 12, 2025,
           "首都医科大学附属北京儿童医院", 100]


def template_workbook() -> io.BytesIO:
    out = io.BytesIO()
    wb = workbook(out)
    ws = wb.add_worksheet("继教项目")
    bold = wb.add_format({"bold": True, "bg_color": "#DDEBF7"})
    text = wb.add_format({"num_format": "@"})
    for col, name in enumerate(COLUMNS):
        ws.write_string(0, col, name, bold)
        ws.set_column(col, col, 24, text if name in ("审批编号", "项目名称", "学分类别", "学科", "主办单位") else None)
    for col, value in enumerate(EXAMPLE):
        ws.write(1, col, value)
    notes = wb.add_worksheet("填写说明")
    for i, line in enumerate([
        "带*为必填：审批编号*、项目名称*、学分类别*、总学分*、总学时*、年度*、计划人数*",
        "审批编号如 2025-14-03-020 (京)，全市唯一，不能与已有项目或本文件其他行重复",
        "学分类别：" + "、".join(PROJECT_CATEGORIES),
        "学科须为字典“学科”中的名称；总学分、总学时为大于0的数字；计划人数为正整数",
        "请删除示例行后填写；文件中任一行有错误时，整个文件都不会导入，请按错误报告修改后重新上传",
    ]):
        notes.write(i, 0, line)
    notes.set_column(0, 0, 100)
    wb.close()
    out.seek(0)
    return out


def read_rows(path: str) -> Iterable[tuple[int, dict]]:
    example = dict(zip(COLUMNS, (sheets.text(v) for v in EXAMPLE)))
    return ((number, row) for number, row in sheets.read_rows(path, COLUMNS) if row != example)


def _number(text: str) -> Decimal | None:
    try:
        value = Decimal(text)
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None


def validate(session: Session, rows: Iterable[tuple[int, dict]],
             progress: Callable[[int], None] | None = None) -> ImportResult:
    """Check every row; nothing is written."""
    result = ImportResult()
    rows = list(rows)
    subjects = set(session.scalars(select(DictItem.label).join(DictType).where(
        DictType.code == "subject", DictItem.active.is_(True))))
    numbers = [r["审批编号"] for _, r in rows if r["审批编号"]]
    taken = _existing(session, ProjectCatalog.approval_no, numbers)
    seen: dict[str, int] = {}
    for done, (number, row) in enumerate(rows, start=1):
        errors = [RowError(number, col, f"{col}不能为空") for col in COLUMNS if col in REQUIRED and not row[col]]
        no = row["审批编号"].replace("（", "(").replace("）", ")")
        if no:
            if not APPROVAL_RE.match(no) or len(no) > 64:
                errors.append(RowError(number, "审批编号", f"审批编号“{no}”格式不正确，应如 2025-14-03-020 (京)"))
            elif no in taken:
                errors.append(RowError(number, "审批编号", f"审批编号{no}已存在"))
            elif no in seen:
                errors.append(RowError(number, "审批编号", f"审批编号与第{seen[no]}行重复"))
            seen.setdefault(no, number)
        for col, limit in LIMITS.items():
            if len(row[col]) > limit:
                errors.append(RowError(number, col, f"{col}不能超过{limit}个字符"))
        category = CATEGORY_ALIASES.get(row["学分类别"], row["学分类别"])
        if row["学分类别"] and category not in PROJECT_CATEGORIES:
            errors.append(RowError(number, "学分类别", f"学分类别“{row['学分类别']}”不正确，应为"
                                   + "、".join(PROJECT_CATEGORIES) + "之一"))
        if row["学科"] and row["学科"] not in subjects:
            errors.append(RowError(number, "学科", f"学科“{row['学科']}”不在字典中"))
        values = {}
        for col, upper in (("总学分", 100), ("总学时", 1000)):
            if row[col]:
                value = _number(row[col])
                if value is None or value <= 0 or value > upper:
                    errors.append(RowError(number, col, f"{col}必须是大于0且不超过{upper}的数字"))
                elif value != value.quantize(Decimal("0.01")):
                    errors.append(RowError(number, col, f"{col}最多保留两位小数"))
                values[col] = value
        year = _number(row["年度"]) if row["年度"] else None
        if row["年度"] and (year is None or year != year.to_integral_value() or not 2000 <= year <= 2100):
            errors.append(RowError(number, "年度", "年度必须是四位年份，如2025"))
        planned = _number(row["计划人数"]) if row["计划人数"] else None
        if row["计划人数"] and (planned is None or planned != planned.to_integral_value() or not
                               1 <= planned <= 100000):
            errors.append(RowError(number, "计划人数", "计划人数必须是1到100000之间的整数"))
        if errors:
            result.errors.extend(errors)
        else:
            result.rows.append({"approval_no": no, "name": row["项目名称"], "category": category,
                                "subject": row["学科"] or None, "credits": values["总学分"],
                                "hours": values["总学时"], "year": int(year), "organizer": row["主办单位"] or None,
                                "planned_count": int(planned)})
        if progress and done % 200 == 0:
            progress(done)
    return result


def write(session: Session, rows: list[dict]) -> int:
    import datetime

    now = datetime.datetime.now()
    for start in range(0, len(rows), 1000):
        session.execute(insert(ProjectCatalog), [{**r, "created_at": now} for r in rows[start:start + 1000]])
    return len(rows)
