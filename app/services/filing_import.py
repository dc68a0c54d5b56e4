"""项目报备 import from the Excel template (SUP-1): validate every row, write all or nothing.

One row per project with its first venue (more venues are added on the filing's page). Every bad cell
is reported with its row, column and a Chinese reason; a project number already filed, or repeated in
the file, is refused. The importing user's institution is the 申报单位 of every row.
"""
from __future__ import annotations

import io
from collections.abc import Callable, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Org
from app.models.supervision import PROJECT_TYPES, Filing, FilingVenue
from app.services import sheets
from app.services.people_import import ImportResult, RowError
from app.services.supervision import SupervisionError, validate_filing, validate_venue

COLUMNS = ["项目编号", "项目名称", "项目类型", "年度", "主办单位", "举办省份", "举办城市", "举办区县", "开始时间",
           "结束时间", "期数", "项目审批人", "项目审批方式", "批准文号", "会场名称", "会场地址", "承办单位",
           "负责人姓名", "负责人联系电话", "会场日期"]
FILING_KEYS = {"项目编号": "project_no", "项目名称": "name", "项目类型": "project_type", "年度": "year",
               "主办单位": "organizer", "举办省份": "province", "举办城市": "city", "举办区县": "county",
               "开始时间": "starts_at", "结束时间": "ends_at", "期数": "sessions", "项目审批人": "approver",
               "项目审批方式": "approval_method", "批准文号": "approval_no"}
VENUE_KEYS = {"会场名称": "name", "会场地址": "address", "承办单位": "organizer", "负责人姓名": "person",
              "负责人联系电话": "phone", "会场日期": "date"}
# Messages of the validators name fields by their form label; the template's column titles differ a little.
_LABEL_TO_COLUMN = {"举办地点": "会场地址"}


def template_workbook() -> io.BytesIO:
    return sheets.template("项目报备", COLUMNS, [
        "必填：项目编号、项目名称、项目类型、开始时间、结束时间、会场名称、会场地址",
        "项目编号不能与已报备的项目重复，文件内也不能重复",
        f"项目类型：{'、'.join(PROJECT_TYPES)}",
        "开始时间/结束时间：2025-04-22 或 2025-04-22 08:30；只填日期时结束时间按当天结束计",
        "负责人联系电话为11位手机号；会场日期格式 2025-04-22",
        "每行一个项目及其第一个会场，其他会场导入后在报备详情中添加",
        "文件中任一行有错误时，整个文件都不会导入，请按错误报告修改后重新上传",
    ], width=18, choices={"项目类型": PROJECT_TYPES})


def read_rows(path: str) -> Iterable[tuple[int, dict]]:
    return sheets.read_rows(path, COLUMNS, cell=_cell)


def _cell(value):
    import datetime

    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d %H:%M") if (value.hour, value.minute) != (0, 0) else f"{value:%Y-%m-%d}"
    if isinstance(value, datetime.date):
        return f"{value:%Y-%m-%d}"
    return sheets.text(value)


def validate(session: Session, institution: Org, rows: Iterable[tuple[int, dict]],
             progress: Callable[[int], None] | None = None) -> ImportResult:
    """Check every row; nothing is written."""
    result = ImportResult()
    rows = list(rows)
    numbers = [r["项目编号"] for _, r in rows if r["项目编号"]]
    taken: set[str] = set()
    for start in range(0, len(numbers), 500):
        taken.update(session.scalars(select(Filing.project_no).where(Filing.project_no.in_(numbers[start:start + 500]))))
    seen: dict[str, int] = {}
    for done, (number, row) in enumerate(rows, start=1):
        errors: list[RowError] = []
        filing, problems = validate_filing({key: row[col] for col, key in FILING_KEYS.items()})
        errors += [RowError(number, _column(label), str(reason)) for label, reason in problems]
        venue, problems = validate_venue({key: row[col] for col, key in VENUE_KEYS.items()}, 1)
        errors += [RowError(number, _column(label), str(reason).replace("会场1的", ""))
                   for label, reason in problems]
        no = row["项目编号"]
        if no:
            if no in taken:
                errors.append(RowError(number, "项目编号", str(SupervisionError(
                    "项目编号%(no)s已报备，不能重复报备", no=no))))
            elif no in seen:
                errors.append(RowError(number, "项目编号", str(SupervisionError(
                    "项目编号与第%(row)s行重复", row=seen[no]))))
            seen.setdefault(no, number)
        if errors:
            result.errors.extend(errors)
        else:
            result.rows.append({"filing": filing, "venue": venue})
        if progress and done % 100 == 0:
            progress(done)
    return result


def _column(label: str) -> str:
    label = label.removeprefix("会场1") if label.startswith("会场1") and label != "会场1" else label
    mapping = {"名称": "会场名称", "日期": "会场日期", **_LABEL_TO_COLUMN}
    if label in FILING_KEYS or label in VENUE_KEYS:
        return label
    return mapping.get(label, label)


def write(session: Session, institution: Org, rows: list[dict], user_id: int) -> int:
    """Add the validated filings (status 未报备) in the caller's transaction."""
    for row in rows:
        filing = Filing(**row["filing"], institution_id=institution.id, district_id=institution.district_id,
                        status="draft", created_by_fk=user_id)
        filing.venues.append(FilingVenue(**row["venue"]))
        session.add(filing)
    session.flush()
    return len(rows)
