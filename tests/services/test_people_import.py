"""Personnel import (SYS-3): real .xlsx files, every bad row reported, all or nothing."""
from __future__ import annotations

import datetime
import io
import zipfile

import openpyxl
import pytest

from app.services import idcard
from tests.helpers import xlsx_bytes

COLUMNS = ["IC卡号", "姓名", "身份证号", "单位", "科室", "职称", "专业", "联系电话"]


def number(n: int, area: str = "320102") -> str:
    """A valid ID number unlike any of the world's (another area code)."""
    return idcard.make(area, datetime.date(1980, 1, 1) + datetime.timedelta(days=n), 500 + n)


def bad_checksum(valid: str) -> str:
    last = "0" if valid[-1] != "0" else "1"
    return valid[:17] + last


def save(tmp_path, rows, header=COLUMNS, name="people.xlsx") -> str:
    path = tmp_path / name
    path.write_bytes(xlsx_bytes(rows, header).getvalue())
    return str(path)


def user_id(username: str) -> int:
    from app.extensions import db
    from app.models import CmeUser

    return db.session.query(CmeUser).filter_by(username=username).one().id


def scope_of(username: str):
    from app.extensions import db
    from app.models import CmeUser
    from app.views.base import scope_for_user

    return scope_for_user(db.session.query(CmeUser).filter_by(username=username).one())


def run_import(username: str, path: str):
    """The import job through app.jobs.enqueue (testing runs it synchronously)."""
    from app.jobs import enqueue

    return enqueue("person_import", "app.jobs.people:import_persons", user_id=user_id(username),
                   title="人员导入", path=path)


def person_count() -> int:
    from app.extensions import db
    from app.models import Person

    return db.session.query(Person).count()


def report_rows(stored: str) -> list[tuple]:
    """Rows of a job's report; the Job row keeps its path relative to JOB_FILES_DIR (services/files.py)."""
    from flask import current_app

    from app.services.files import resolve

    ws = openpyxl.load_workbook(resolve(current_app.config["JOB_FILES_DIR"], stored)).worksheets[0]
    return [tuple(r) for r in ws.iter_rows(values_only=True)]


def test_good_file_imports_every_row_with_derived_fields(app_ctx, world, tmp_path):
    from app.extensions import db
    from app.models import OperationLog, Person

    man, woman = number(1), number(2)
    assert (idcard.gender(man), idcard.gender(woman)) == ("男", "女")
    path = save(tmp_path, [
        ["G0000001", "欧阳明", man, "甲医院", "心内科", "副主任医师", "心血管内科", "13800000001"],
        ["G0000002", "钱多多", woman.lower(), "甲医院", "骨科", "主管护师", "", ""],
        [12345678, "周芷若", number(3), "甲医院", "", "", "", ""],  # a numeric card cell
    ])
    before = person_count()
    job = run_import("inst_a", path)
    assert job.status == "finished", job.message
    assert job.done == job.total == 3
    assert job.message == "导入成功，共3人"
    assert person_count() == before + 3

    rows = {p.card_no: p for p in db.session.query(Person).filter(
        Person.card_no.in_(["G0000001", "G0000002", "12345678"]))}
    assert set(rows) == {"G0000001", "G0000002", "12345678"}
    p1 = rows["G0000001"]
    assert p1.name == "欧阳明" and p1.id_number == man
    assert p1.gender == idcard.gender(man) and p1.birth_date == idcard.birth_date(man)
    assert p1.institution_id == world.a and p1.department_id == world.a_dept
    assert p1.district_id == world.d1
    assert p1.title == "副主任医师" and p1.title_level == "副高"  # level from the 职称 dictionary
    assert p1.specialty == "心血管内科" and p1.phone == "13800000001"
    assert p1.name_initials == "oym"
    p2 = rows["G0000002"]
    assert p2.id_number == woman and p2.gender == "女"  # normalised
    assert p2.title_level == "中级" and p2.department_id == world.a_dept2
    assert p2.specialty is None and p2.phone is None
    p3 = rows["12345678"]
    assert p3.department_id is None and p3.title is None and p3.title_level is None
    # The uploaded file is removed once read; the import is in the operation log.
    assert not (tmp_path / "people.xlsx").exists()
    log = db.session.query(OperationLog).filter_by(module="人员管理", action="导入").one()
    assert log.status is True and log.operator == "inst_a" and "3人" in log.message


def test_bad_rows_are_each_reported_and_nothing_is_written(app_ctx, world, tmp_path):
    from app.extensions import db
    from app.models import OperationLog

    path = save(tmp_path, [
        ["X0000001", "坏校验", bad_checksum(number(10)), "甲医院", "心内科", "", "", ""],   # row 2
        ["X0000002", "重复一", number(11), "甲医院", "心内科", "", "", ""],                # row 3 (good)
        ["X0000002", "重复二", number(12), "甲医院", "心内科", "", "", ""],                # row 4
        ["A0000001", "已存在", number(13), "甲医院", "心内科", "", "", ""],                # row 5
        ["X0000005", "无此单位", number(14), "不存在医院", "", "", "", ""],                # row 6
        ["X0000006", "错科室", number(15), "甲医院", "全科", "", "", ""],                  # row 7
        ["X0000007", "越权", number(16), "乙医院", "心内科", "", "", ""],                  # row 8
        ["X0000008", "怪职称", number(17), "甲医院", "", "魔法师", "", ""],                # row 9
        ["X0000009", "", number(18), "甲医院", "", "", "", ""],                            # row 10
    ])
    before = person_count()
    job = run_import("inst_a", path)
    assert job.status == "failed"
    assert person_count() == before  # not even the good row 3
    assert job.message.startswith("共8处错误，未导入任何数据。第2行“身份证号”：身份证号校验位错误")
    assert job.result_name == "人员导入错误报告.xlsx"

    rows = report_rows(job.result_path)
    assert rows[0] == ("行号", "列", "错误原因")
    assert set(rows[1:]) == {
        (2, "身份证号", "身份证号校验位错误"),
        (4, "IC卡号", "IC卡号与第3行重复"),
        (5, "IC卡号", "IC卡号A0000001已存在"),
        (6, "单位", "单位“不存在医院”不存在或不在管辖范围内"),
        (7, "科室", "科室“全科”不是“甲医院”下的科室"),
        (8, "单位", "单位“乙医院”不存在或不在管辖范围内"),
        (9, "职称", "职称“魔法师”不在字典中"),
        (10, "姓名", "姓名不能为空"),
    }
    assert len(rows) == 9
    log = db.session.query(OperationLog).filter_by(module="人员管理", action="导入").one()
    assert log.status is False and "未导入任何数据" in log.message


def test_duplicate_and_existing_id_numbers_and_field_formats(app_ctx, world, tmp_path):
    from app.extensions import db
    from app.models import Person
    from app.services import people_import

    existing = db.session.get(Person, world.pb).id_number
    twice = number(20)
    rows = list(people_import.read_rows(save(tmp_path, [
        ["Y0000001", "甲", twice, "甲医院", "", "", "", ""],
        ["Y0000002", "乙", twice, "甲医院", "", "", "", ""],
        ["Y0000003", "丙", existing, "甲医院", "", "", "", ""],
        ["Y-4", "丁", number(21), "甲医院", "", "", "", "电话号码"],
        ["Y0000005", "戊" * 65, "1101", "甲医院", "", "", "", ""],
    ])))
    result = people_import.validate(db.session, scope_of("inst_a"), rows)
    got = {(e.row, e.column, e.reason) for e in result.errors}
    assert got == {
        (3, "身份证号", "身份证号与第2行重复"),
        (4, "身份证号", "身份证号已存在"),  # a person of another institution: still unique city-wide
        (5, "IC卡号", "IC卡号只能包含字母和数字，长度4-32位"),
        (5, "联系电话", "联系电话格式不正确"),
        (6, "姓名", "姓名不能超过64个字符"),
        (6, "身份证号", "身份证号必须是18位"),
    }
    assert [r["card_no"] for r in result.rows] == ["Y0000001"]


def test_retired_title_and_inactive_institution_are_refused(app_ctx, world, tmp_path):
    from app.extensions import db
    from app.models import DictItem, DictType, Org
    from app.services import people_import

    item = (db.session.query(DictItem).join(DictType)
            .filter(DictType.code == "title", DictItem.label == "主任医师").one())
    item.active = False
    db.session.get(Org, world.a2).active = False
    db.session.commit()
    rows = list(people_import.read_rows(save(tmp_path, [
        ["Z0000001", "甲", number(30), "甲医院", "", "主任医师", "", ""],
        ["Z0000002", "乙", number(31), "丙社区卫生服务中心", "", "", "", ""],
    ])))
    result = people_import.validate(db.session, scope_of("city"), rows)
    assert {(e.row, e.column) for e in result.errors} == {(2, "职称"), (3, "单位")}


@pytest.mark.parametrize("username, accepted", [
    ("city", {"甲医院", "丙社区卫生服务中心", "乙医院"}),
    ("district1", {"甲医院", "丙社区卫生服务中心"}),
    ("inst_a", {"甲医院"}),
])
def test_institutions_accepted_follow_the_users_scope(app_ctx, world, tmp_path, username, accepted):
    from app.extensions import db
    from app.services import people_import

    names = ["甲医院", "丙社区卫生服务中心", "乙医院"]
    rows = list(people_import.read_rows(save(tmp_path, [
        [f"S000000{i}", "某人", number(40 + i), name, "", "", "", ""] for i, name in enumerate(names)
    ])))
    result = people_import.validate(db.session, scope_of(username), rows)
    assert {r["institution_id"] for r in result.rows} == {
        {"甲医院": world.a, "丙社区卫生服务中心": world.a2, "乙医院": world.b}[n] for n in accepted}
    assert {e.row for e in result.errors} == {2 + names.index(n) for n in set(names) - accepted}


def test_wrong_header_is_a_clear_error(app_ctx, world, tmp_path):
    from app.services import people_import

    header = ["IC卡号", "名字", "身份证号", "单位", "科室", "职称", "专业", "电话"]
    path = save(tmp_path, [["W0000001", "某人", number(50), "甲医院", "", "", "", ""]], header=header)
    with pytest.raises(people_import.ImportFileError) as exc:
        list(people_import.read_rows(path))
    assert str(exc.value) == "表头不正确，缺少列：姓名、联系电话"

    job = run_import("inst_a", path)
    assert job.status == "failed" and job.message == "表头不正确，缺少列：姓名、联系电话"
    assert job.result_path is None


def test_unreadable_or_empty_file_fails_in_chinese(app_ctx, world, tmp_path):
    not_excel = tmp_path / "a.xlsx"
    not_excel.write_bytes(b"PK\x03\x04 not really a zip")
    job = run_import("inst_a", str(not_excel))
    assert job.status == "failed" and job.message == "无法读取Excel文件，请使用下载的模板"

    # A real workbook whose sheet is damaged: still a Chinese message, not a crash.
    good = xlsx_bytes([["D0000001", "某人", number(70), "甲医院", "", "", "", ""]], COLUMNS)
    damaged = io.BytesIO()
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(damaged, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            dst.writestr(item, b"<worksheet><sheetData><row" if item.filename.endswith("sheet1.xml") else data)
    (tmp_path / "damaged.xlsx").write_bytes(damaged.getvalue())
    job = run_import("inst_a", str(tmp_path / "damaged.xlsx"))
    assert job.status == "failed" and job.message == "无法读取Excel文件，请使用下载的模板"

    empty = save(tmp_path, [], name="empty.xlsx")
    job = run_import("inst_a", empty)
    assert job.status == "failed" and job.message == "文件中没有数据行，请按模板填写后上传"


def test_downloaded_template_round_trips(app_ctx, world, tmp_path):
    from app.extensions import db
    from app.models import Person
    from app.services import people_import

    wb = openpyxl.load_workbook(people_import.template_workbook())
    ws = wb.worksheets[0]
    assert [c.value for c in ws[1]] == COLUMNS
    assert ws.max_row == 1  # the header only: nothing to delete before filling it in
    ws.append(["T0000001", "王小明", number(60), "甲医院", "心内科", "主任医师", "内科", "010-12345678"])
    ws.append(["T0000002", "李小红", number(61), "甲医院", "骨科", "护士", "", ""])
    path = tmp_path / "filled.xlsx"
    wb.save(path)
    job = run_import("inst_a", str(path))
    assert job.status == "finished", job.message
    assert job.done == job.total == 2
    people = {p.name: p for p in db.session.query(Person).filter(Person.card_no.like("T000000%"))}
    assert people["王小明"].title_level == "正高" and people["李小红"].title_level == "初级"
    assert people["王小明"].phone == "010-12345678"


def test_template_is_offered_for_download(world, login):
    r = login("inst_a").get("/persons/import/template/")
    assert r.status_code == 200
    assert "attachment" in r.headers["Content-Disposition"]
    header = [c.value for c in openpyxl.load_workbook(io.BytesIO(r.data)).worksheets[0][1]]
    assert header == COLUMNS
