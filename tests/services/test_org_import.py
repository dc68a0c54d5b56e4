"""Organization import (issue 12 item 1, SYS-2): districts, institutions and departments from one Excel file,
parents from the database or earlier rows, every row in the importer's scope, all or nothing."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Job, Org
from app.services import org_import
from app.services.scope import Scope
from tests.helpers import xlsx_bytes

H = org_import.COLUMNS


def _row(kind, name, code, parent="", level="", inst_type=""):
    return [kind, name, code, parent, level, inst_type, "", "", ""]


def _validate(scope, rows):
    return org_import.validate(db.session, scope, [(n, dict(zip(H, r, strict=True))) for n, r in
                                                  enumerate(rows, start=2)])


def test_a_whole_tree_under_the_city_and_under_existing_nodes(app_ctx, world):
    rows = [_row("区", "朝阳区", "T03"),
            _row("机构", "朝阳医院", "T03A", "T03", "三级", "医院"),
            _row("科室", "急诊科", "T03A1", "T03A"),
            _row("机构", "东城社区中心", "T01X", "T01", "一级", "社区卫生服务中心"),
            _row("科室", "康复科", "TA9", "TA")]
    result = _validate(Scope("all"), rows)
    assert result.ok, result.errors
    assert org_import.write(db.session, result.rows) == 5
    db.session.commit()
    by_code = {o.code: o for o in db.session.scalars(select(Org))}
    city, district, inst, dept = by_code["T00"], by_code["T03"], by_code["T03A"], by_code["T03A1"]
    assert (district.parent_id, district.district_id) == (city.id, district.id)
    assert (inst.parent_id, inst.district_id, inst.institution_id, inst.level, inst.inst_type) == (
        district.id, district.id, inst.id, "三级", "医院")
    assert (dept.district_id, dept.institution_id, dept.department_id) == (district.id, inst.id, dept.id)
    assert by_code["T01X"].district_id == world.d1 and by_code["TA9"].institution_id == world.a


def test_every_bad_row_is_reported_and_nothing_written(app_ctx, world):
    rows = [_row("区", "东城区", "T01"),                                   # code taken
            _row("机构", "新医院", "N1", "TA", "三级", "医院"),             # parent is an institution
            _row("科室", "新科室", "N2", "NOPE"),                           # parent unknown
            _row("机构", "新医院2", "N3", "T01", "特级", "诊所"),           # level and type
            _row("街道", "某街道", "N4"),                                   # kind
            _row("科室", "新科室2", "N5"),                                  # no parent
            _row("机构", "重复", "N6", "T01", "二级", "医院"),
            _row("机构", "重复2", "N6", "T01", "二级", "医院")]              # duplicate in the file
    result = _validate(Scope("all"), rows)
    reasons = {(e.row, e.column): e.reason for e in result.errors}
    assert reasons[(2, "编码")] == "编码T01已被“东城区”使用"
    assert reasons[(3, "上级编码")] == "机构的上级须为区，编码TA是机构"
    assert reasons[(4, "上级编码")].startswith("上级编码NOPE不存在")
    assert "机构级别应为" in reasons[(5, "机构级别")] and "机构类型应为" in reasons[(5, "机构类型")]
    assert "类别“街道”不正确" in reasons[(6, "类别")]
    assert reasons[(7, "上级编码")] == "请填写上级机构的编码"
    assert reasons[(9, "编码")] == "编码N6与第8行重复"
    assert (8, "编码") not in reasons


def test_a_district_admin_imports_inside_its_district_only(app_ctx, world):
    scope = Scope("district", org_id=world.d1)
    result = _validate(scope, [_row("机构", "甲分院", "TA-2", "T01", "二级", "医院"),
                               _row("科室", "内科", "TA-21", "TA-2"),
                               _row("科室", "外科", "TB9", "TB"),     # another district's institution
                               _row("区", "朝阳区", "T03")])          # districts are the city's
    reasons = {e.row: e.reason for e in result.errors}
    assert reasons == {4: "无权在该单位下新增", 5: "无权在该单位下新增"}


def test_import_page_runs_the_job(app, world, login):
    c = login("district1")
    page = c.get("/orgs/import/")
    assert page.status_code == 200 and "组织机构导入" in page.get_data(as_text=True)
    template = c.get("/orgs/import/template/")
    assert template.status_code == 200 and template.data[:2] == b"PK"
    book = xlsx_bytes([_row("机构", "甲分院", "TA-2", "T01", "二级", "医院"), _row("科室", "内科", "TA-21", "TA-2")],
                      header=H)
    r = c.post("/orgs/import/", data={"file": (book, "orgs.xlsx")}, content_type="multipart/form-data")
    assert r.status_code == 302 and "job=" in r.location
    with app.app_context():
        job = db.session.scalar(select(Job).where(Job.kind == "org_import"))
        assert job.status == "finished" and job.message == "导入成功，共2个单位", job.message
        dept = db.session.scalar(select(Org).where(Org.code == "TA-21"))
        assert dept.district_id == world.d1 and dept.parent.code == "TA-2"
    assert login("sec_a").get("/orgs/import/").status_code in (302, 403)  # a secretary adds no units
