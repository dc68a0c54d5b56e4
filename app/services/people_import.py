"""Personnel import from Excel (SYS-3): validate every row, write all or nothing.

Each bad row is reported with its row number, column title and a Chinese reason; a file with
any bad row writes nothing. Lookups are set-based (one query per kind, not per row).
"""
from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from app.models import Org, Person
from app.services import idcard, person_fields, sheets
from app.services.exports import write_xlsx
from app.services.pinyin import initials
from app.services.scope import Scope
from app.services.sheets import ImportFileError  # noqa: F401 - raised by read_rows, caught by the jobs

COLUMNS = ["IC卡号", "姓名", "身份证号", "单位", "科室", "职称", "专业", "联系电话"]
REQUIRED = {"IC卡号", "姓名", "身份证号", "单位"}
CARD_RE = re.compile(r"^[0-9A-Za-z]{4,32}$")
LIMITS = {"姓名": 64, "专业": 64}  # column widths of the person table


@dataclass
class RowError:
    row: int
    column: str
    reason: str


@dataclass
class ImportResult:
    rows: list[dict] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def template_workbook() -> io.BytesIO:
    """The template offered for download: the column titles and a notes sheet."""
    return sheets.template("人员", COLUMNS, [
        "带*为必填：IC卡号*、姓名*、身份证号*、单位*",
        "IC卡号全市唯一；身份证号为18位并校验；性别和出生日期由身份证号自动生成",
        "单位填写机构全称（须在本账号管辖范围内）；科室须为该单位下已有科室",
        "职称须为字典“职称”中的名称，职称级别自动取字典设置",
        "联系电话填写11位手机号（如13912345678）或固定电话（如010-12345678）",
        "文件中任一行有错误时，整个文件都不会导入，请按错误报告修改后重新上传",
    ], width=22)


def read_rows(path: str) -> Iterable[tuple[int, dict]]:
    """Yield (excel_row_number, {column: text}) from the first sheet; checks the header."""
    return sheets.read_rows(path, COLUMNS)


def validate(session: Session, scope: Scope, rows: Iterable[tuple[int, dict]],  # noqa: C901
             progress: Callable[[int], None] | None = None) -> ImportResult:
    """Check every row against the database and the user's scope; nothing is written."""
    result = ImportResult()
    rows = list(rows)
    # Only active organizations and titles can receive new persons.
    inst_q = scope.filter(select(Org).where(Org.kind == "institution", Org.active.is_(True)), Org)
    institutions: dict[str, list[Org]] = {}
    for org in session.scalars(inst_q):
        institutions.setdefault(org.name, []).append(org)
    inst_ids = [o.id for orgs in institutions.values() for o in orgs]
    departments = {(o.parent_id, o.name): o for o in session.scalars(
        select(Org).where(Org.kind == "department", Org.active.is_(True), Org.institution_id.in_(inst_ids))
    )} if inst_ids else {}
    titles = person_fields.titles(session)
    cards = [r["IC卡号"] for _, r in rows if r["IC卡号"]]
    numbers = [r["身份证号"].upper() for _, r in rows if r["身份证号"]]
    taken_cards = _existing(session, Person.card_no, cards)
    taken_numbers = _existing(session, Person.id_number, numbers)
    seen_cards: dict[str, int] = {}
    seen_numbers: dict[str, int] = {}
    for done, (number, row) in enumerate(rows, start=1):
        errors = []
        for col in COLUMNS:
            if col in REQUIRED and not row[col]:
                errors.append(RowError(number, col, f"{col}不能为空"))
        card = row["IC卡号"]
        if card:
            if not CARD_RE.match(card):
                errors.append(RowError(number, "IC卡号", "IC卡号只能包含字母和数字，长度4-32位"))
            elif card in taken_cards:
                errors.append(RowError(number, "IC卡号", f"IC卡号{card}已存在"))
            elif card in seen_cards:
                errors.append(RowError(number, "IC卡号", f"IC卡号与第{seen_cards[card]}行重复"))
            seen_cards.setdefault(card, number)
        id_number = row["身份证号"]
        if id_number:
            try:
                id_number = idcard.validate(id_number)
            except idcard.IdNumberError as exc:
                errors.append(RowError(number, "身份证号", str(exc)))
            else:
                if id_number in taken_numbers:
                    errors.append(RowError(number, "身份证号", "身份证号已存在"))
                elif id_number in seen_numbers:
                    errors.append(RowError(number, "身份证号", f"身份证号与第{seen_numbers[id_number]}行重复"))
                seen_numbers.setdefault(id_number, number)
        for col, limit in LIMITS.items():
            if len(row[col]) > limit:
                errors.append(RowError(number, col, f"{col}不能超过{limit}个字符"))
        matches = institutions.get(row["单位"], []) if row["单位"] else []
        inst = matches[0] if len(matches) == 1 else None
        if row["单位"] and not matches:
            # One message for both: naming another district's institution must not reveal it exists.
            errors.append(RowError(number, "单位", f"单位“{row['单位']}”不存在或不在管辖范围内"))
        elif len(matches) > 1:
            errors.append(RowError(number, "单位", f"单位名称“{row['单位']}”不唯一，请联系管理员"))
        dept = None
        if row["科室"] and inst is not None:
            dept = departments.get((inst.id, row["科室"]))
            if dept is None:
                errors.append(RowError(number, "科室", f"科室“{row['科室']}”不是“{inst.name}”下的科室"))
        if dept is not None and not scope.is_all and not scope.allows_org(dept):
            errors.append(RowError(number, "科室", "科室不在管辖范围内"))
        elif inst is not None and dept is None and scope.level == "department":
            errors.append(RowError(number, "科室", "请填写本科室"))
        title, level, phone = None, None, None
        try:
            title, level = person_fields.check_title(titles, row["职称"])
        except person_fields.PersonFieldError as exc:
            errors.append(RowError(number, exc.column, str(exc)))
        try:
            phone = person_fields.clean_phone(row["联系电话"])
        except person_fields.PersonFieldError as exc:
            errors.append(RowError(number, exc.column, str(exc)))
        if errors:
            result.errors.extend(errors)
        else:
            result.rows.append({
                "card_no": card, "name": row["姓名"], "id_number": id_number,
                "gender": idcard.gender(id_number), "birth_date": idcard.birth_date(id_number),
                "name_initials": initials(row["姓名"])[:32], "district_id": inst.district_id,
                "institution_id": inst.id, "department_id": dept.id if dept else None,
                "title": title, "title_level": level,
                "specialty": row["专业"] or None, "phone": phone, "active": True,
            })
        if progress and done % 200 == 0:
            progress(done)
    return result


def _existing(session: Session, column, values: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(values), 500):
        chunk = values[start:start + 500]
        found.update(session.scalars(select(column).where(column.in_(chunk))))
    return found


def write(session: Session, rows: list[dict]) -> int:
    """Insert validated rows in one transaction (the caller commits)."""
    for start in range(0, len(rows), 1000):
        session.execute(insert(Person), rows[start:start + 1000])
    return len(rows)


def error_report(path: str, errors: list[RowError]) -> None:
    write_xlsx(path, ["行号", "列", "错误原因"], ([e.row, e.column, e.reason] for e in errors))
