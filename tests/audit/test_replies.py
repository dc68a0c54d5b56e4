"""回执 (issue 16 item 3). Seed 001 七(三): "各相关单位将本单位被抽查人员名单、科室、职称、IC卡编号和学分审验工作
联系人回执于11月7日前以电子版形式发至市继教委办公室。" — a sampled unit confirms its sampled persons and names a
contact person; the city sees per unit who has replied and exports it."""
from __future__ import annotations

import datetime
import io

import openpyxl
from sqlalchemy import select

from app.extensions import db
from app.models import Person
from app.models.audit import AuditFinalPerson
from app.models.audit_units import AuditReply
from tests.audit.audit_helpers import make_cycle

REPLY = {"contact_name": "付宁娜", "contact_phone": "010-63132231", "confirmed": "1", "remark": ""}


def _sampled(app, world) -> int:
    """The 2022 cycle whose final list holds 张三, 李四 (甲医院) and 王五 (乙医院); 回执 due 11-07."""
    with app.app_context():
        cycle = make_cycle(2022, reply_deadline=datetime.datetime(2022, 11, 7, 23, 59, 59))
        for pid in (world.pa, world.pa2, world.pb):
            p = db.session.get(Person, pid)
            db.session.add(AuditFinalPerson(cycle_id=cycle.id, person_id=p.id, district_id=p.district_id,
                                            institution_id=p.institution_id, department_id=p.department_id, level="三级"))
        db.session.commit()
        return cycle.id


def test_a_sampled_unit_confirms_its_persons_and_names_its_contact(app, world, login, clock):
    """七(三): the unit sees 被抽查人员名单、科室、职称、IC卡编号 and sends the 联系人 with the reply."""
    _sampled(app, world)
    clock.at(datetime.datetime(2022, 11, 6, 9, 0), tick=True)
    a = login("inst_a")
    page = a.get("/audit-reply/").get_data(as_text=True)
    assert "张三" in page and "A0000001" in page and "心内科" in page and "主治医师" in page and "李四" in page
    assert "王五" not in page  # another institution's sampled person
    r = a.post("/audit-reply/", data={**REPLY, "confirmed": ""}, follow_redirects=True)
    assert "请核对被抽查人员名单后勾选确认" in r.get_data(as_text=True)
    r = a.post("/audit-reply/", data={**REPLY, "contact_phone": "abc"}, follow_redirects=True)
    assert "联系电话格式不正确" in r.get_data(as_text=True)
    r = a.post("/audit-reply/", data=REPLY, follow_redirects=True)
    assert "回执已提交" in r.get_data(as_text=True)
    a.post("/audit-reply/", data={**REPLY, "contact_name": "郑然"})  # corrected: still one reply
    with app.app_context():
        replies = list(db.session.scalars(select(AuditReply)))
        assert [(x.institution_id, x.contact_name, x.persons, x.confirmed) for x in replies] == [(world.a, "郑然", 2, True)]


def test_the_city_sees_who_replied_and_exports_it(app, world, login, clock):
    cycle_id = _sampled(app, world)
    clock.at(datetime.datetime(2022, 11, 6, 9, 0), tick=True)
    login("inst_a").post("/audit-reply/", data=REPLY)
    city = login("city")
    page = city.get(f"/audit-reply/replies?cycle={cycle_id}").get_data(as_text=True)
    assert "已回执 1 家 / 共 2 家" in page and "付宁娜" in page and "010-63132231" in page and "乙医院" in page
    assert "乙医院" not in city.get(f"/audit-reply/replies?cycle={cycle_id}&replied=1").get_data(as_text=True)
    ws = openpyxl.load_workbook(io.BytesIO(city.get(f"/audit-reply/replies/export?cycle={cycle_id}").data)).active
    rows = {r[1]: r for r in ws.iter_rows(min_row=2, values_only=True)}
    assert rows["甲医院"][3:7] == (2, "已回执", "付宁娜", "010-63132231") and rows["乙医院"][4] == "未回执"
    # A late reply (after 11-07) is marked.
    clock.at(datetime.datetime(2022, 11, 8, 9, 0), tick=True)
    login("inst_b").post("/audit-reply/", data={**REPLY, "contact_name": "王联系"})
    page = login("city").get(f"/audit-reply/replies?cycle={cycle_id}").get_data(as_text=True)
    assert "逾期" in page and "王联系" in page


def test_a_unit_only_sees_and_changes_its_own_reply(app, world, login, clock):
    """The institution comes from the user, never from the form: 乙医院 cannot write 甲医院's reply by guessing;
    a district sees its own institutions' replies only; a unit has no overview."""
    cycle_id = _sampled(app, world)
    clock.at(datetime.datetime(2022, 11, 6, 9, 0), tick=True)
    login("inst_a").post("/audit-reply/", data=REPLY)
    b = login("inst_b")
    page = b.get(f"/audit-reply/?cycle={cycle_id}").get_data(as_text=True)
    assert "付宁娜" not in page and "张三" not in page and "王五" in page
    b.post("/audit-reply/", data={**REPLY, "contact_name": "冒名", "institution_id": world.a, "cycle": cycle_id})
    with app.app_context():
        got = {r.institution_id: r.contact_name for r in db.session.scalars(select(AuditReply))}
        assert got == {world.a: "付宁娜", world.b: "冒名"}
    assert b.get(f"/audit-reply/replies?cycle={cycle_id}").status_code in (302, 403, 404)
    assert b.get(f"/audit-reply/replies/export?cycle={cycle_id}").status_code in (302, 403, 404)
    page = login("district2").get(f"/audit-reply/replies?cycle={cycle_id}").get_data(as_text=True)
    assert "乙医院" in page and "甲医院" not in page and "付宁娜" not in page
    assert login("tech_a").get("/audit-reply/").status_code in (302, 403)
