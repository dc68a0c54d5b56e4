"""Organization import from Excel (SYS-2): districts, institutions and departments in one file, all or nothing.

One row per node: 类别 (区 / 机构 / 科室), 名称, 编码 (unique), 上级编码 (the parent's code: a district's is
the city's and may be left empty, an institution's is a district's, a department's an institution's), then
机构级别 and 机构类型 (institutions only), 地址, 联系人, 联系电话. A parent may be a node of the database or
an earlier row of the same file, so a whole tree goes in at once. Every row is checked against the user's
scope (a district administrator adds institutions and departments of its district only); a file with any
bad row writes nothing and gets an error report (row, column, reason), as the person import.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import INSTITUTION_LEVELS, INSTITUTION_TYPES, Org
from app.models.org import PARENT_KIND
from app.services import region, sheets
from app.services.people_import import ImportResult, RowError
from app.services.scope import Scope

COLUMNS = ["类别", "名称", "编码", "上级编码", "机构级别", "机构类型", "地址", "联系人", "联系电话"]
REQUIRED = {"类别", "名称", "编码"}
KINDS = {"区": "district", "区县": "district", "机构": "institution", "医疗机构": "institution",
         "科室": "department"}
KIND_LABEL = {"city": "市", "district": "区", "institution": "机构", "department": "科室"}
LIMITS = {"名称": 128, "编码": 32, "地址": 256, "联系人": 64, "联系电话": 32}


def template_workbook():
    """The template offered for download: the column titles, drop-down lists and a notes sheet."""
    return sheets.template("组织机构", COLUMNS, [
        "带*为必填：类别*、名称*、编码*；类别为 区、机构 或 科室",
        "上级编码：机构填所属区的编码，科室填所属机构的编码；区可不填（即本市）",
        "上级可以是系统中已有的单位，也可以是本文件中前面的行，一个文件可导入整棵组织树",
        "机构须填机构级别（" + "、".join(INSTITUTION_LEVELS) + "）和机构类型（" + "、".join(INSTITUTION_TYPES) + "）",
        "编码全系统唯一；文件中任一行有错误时，整个文件都不会导入，请按错误报告修改后重新上传",
    ], width=20, choices={"类别": ["区", "机构", "科室"], "机构级别": INSTITUTION_LEVELS,
                          "机构类型": INSTITUTION_TYPES})


def read_rows(path: str) -> Iterable[tuple[int, dict]]:
    return sheets.read_rows(path, COLUMNS)


def validate(session: Session, scope: Scope, rows: Iterable[tuple[int, dict]],  # noqa: C901
             progress: Callable[[int], None] | None = None) -> ImportResult:
    """Check every row against the database, the earlier rows and the user's scope; nothing is written."""
    result = ImportResult()
    rows = list(rows)
    city = region.city(session)
    codes = [r["编码"] for _, r in rows if r["编码"]] + [r["上级编码"] for _, r in rows if r["上级编码"]]
    existing: dict[str, Org] = {}
    for start in range(0, len(codes), 500):
        for org in session.scalars(select(Org).where(Org.code.in_(codes[start:start + 500]))):
            existing[org.code] = org
    in_file: dict[str, tuple[int, str, dict]] = {}  # code → (row number, kind, row) of this file's valid rows
    for done, (number, row) in enumerate(rows, start=1):
        errors = []
        for col in COLUMNS:
            if col in REQUIRED and not row[col]:
                errors.append(RowError(number, col, f"{col}不能为空"))
        for col, limit in LIMITS.items():
            if len(row[col]) > limit:
                errors.append(RowError(number, col, f"{col}不能超过{limit}个字符"))
        kind = KINDS.get(row["类别"])
        if row["类别"] and kind is None:
            errors.append(RowError(number, "类别", f"类别“{row['类别']}”不正确，应为 区、机构 或 科室"))
        code = row["编码"]
        if code and code in existing:
            errors.append(RowError(number, "编码", f"编码{code}已被“{existing[code].name}”使用"))
        elif code and code in in_file:
            errors.append(RowError(number, "编码", f"编码{code}与第{in_file[code][0]}行重复"))
        parent_code = row["上级编码"]
        if kind is not None:
            want = PARENT_KIND[kind]
            parent_kind = parent_node = None
            if not parent_code and kind == "district":
                parent_node, parent_kind = city, "city"
                if city is None:
                    errors.append(RowError(number, "上级编码", "系统中还没有市级单位，请先运行 flask cme init"))
            elif not parent_code:
                errors.append(RowError(number, "上级编码", f"请填写上级{KIND_LABEL[want]}的编码"))
            elif parent_code in existing:
                parent_node = existing[parent_code]
                parent_kind = parent_node.kind
            elif parent_code in in_file:
                parent_kind = in_file[parent_code][1]
            else:
                errors.append(RowError(number, "上级编码", f"上级编码{parent_code}不存在（须为已有单位或本文件前面的行）"))
            if parent_kind is not None and parent_kind != want:
                errors.append(RowError(number, "上级编码",
                                       f"{KIND_LABEL[kind]}的上级须为{KIND_LABEL[want]}，编码{parent_code}是{KIND_LABEL[parent_kind]}"))
            elif parent_node is not None and not scope.allows_org(parent_node):
                errors.append(RowError(number, "上级编码", "无权在该单位下新增"))
            # (A parent from this file passed the scope check of its own row.)
            if kind == "institution":
                if row["机构级别"] not in INSTITUTION_LEVELS:
                    errors.append(RowError(number, "机构级别", "机构级别应为 " + "、".join(INSTITUTION_LEVELS)))
                if row["机构类型"] not in INSTITUTION_TYPES:
                    errors.append(RowError(number, "机构类型", "机构类型应为 " + "、".join(INSTITUTION_TYPES)))
        if errors:
            result.errors.extend(errors)
        else:
            in_file[code] = (number, kind, row)
            result.rows.append({"kind": kind, "name": row["名称"], "code": code, "parent_code": parent_code or None,
                                "level": row["机构级别"] or None if kind == "institution" else None,
                                "inst_type": row["机构类型"] or None if kind == "institution" else None,
                                "address": row["地址"] or None, "contact": row["联系人"] or None,
                                "phone": row["联系电话"] or None, "row": number})
        if progress and done % 200 == 0:
            progress(done)
    return result


def write(session: Session, rows: list[dict]) -> int:
    """Insert validated rows in file order (a parent before its children; the caller commits)."""
    city = region.city(session)
    nodes: dict[str, Org] = {}
    for sort, row in enumerate(rows):
        code = row["parent_code"]
        parent = nodes.get(code) if code else city
        if parent is None:
            parent = session.scalar(select(Org).where(Org.code == code))
        node = Org(kind=row["kind"], name=row["name"], code=row["code"], parent=parent, level=row["level"],
                   inst_type=row["inst_type"], address=row["address"], contact=row["contact"],
                   phone=row["phone"], active=True, sort=sort)
        session.add(node)
        session.flush()  # ancestor ids are filled on insert, from the parent chain
        nodes[row["code"]] = node
    return len(rows)
