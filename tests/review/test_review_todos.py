"""Home page 待办事项 of the review chain (SYS-7 "to-do items (pending reviews)"), per role and scope."""
import re

from sqlalchemy import event, select

from app.extensions import db
from app.models import Credit, SelfStudy
from tests.review.helpers import form, pdf


def _todos(client) -> str:
    html = client.get("/").get_data(as_text=True)
    return re.search(r'id="todo-list">(.*?)</ul>', html, re.DOTALL).group(1)


def _link(todos, text):
    item = re.search(r'<a href="([^"]+)">([^<]*' + re.escape(text) + r'[^<]*)</a>', todos)
    assert item, (text, todos)
    return item.group(1).replace("&amp;", "&")


def _submit_manual(tech, content="国家级心血管新进展学习班"):
    data = {**form(content=content), "evidence": pdf(), "submit": "1"}
    assert tech.post("/manual-credits/add", data=data, content_type="multipart/form-data").status_code == 302


def test_todos_per_role(app, world, login):
    tech, inst, city = login("tech_a"), login("inst_a"), login("city")
    district1, district2, inst_b, sec_a, tech_b = (login(u) for u in ("district1", "district2", "inst_b", "sec_a",
                                                                       "tech_b"))
    assert "暂无待办事项" in _todos(inst)
    _submit_manual(tech)
    assert inst.post("/selfstudy/delegation/set", data={"rowid": [world.a_dept], "mode": "person"}).status_code == 302
    assert tech.post(f"/selfstudy/form/{world.pa}", data={"submit": "1", "s1_graduate": "3"}).status_code == 302
    # The unit: submitted manual credits and self-study, each linking to its work list.
    todos = _todos(inst)
    assert "1 条手工录入学分待单位审核" in todos and "1 份自学计划待授分" in todos
    page = inst.get(_link(todos, "待单位审核")).get_data(as_text=True)
    assert "国家级心血管新进展学习班" in page
    page = inst.get(_link(todos, "自学计划待授分")).get_data(as_text=True)
    assert "A0000001" in page and "待授分" in page
    # Scope: another institution, another district, nothing; the district sees the self-study form only;
    # a secretary (no review permission) gets no review to-do.
    for other in (inst_b, district2, tech_b):
        assert "暂无待办事项" in _todos(other)
    todos = _todos(district1)
    assert "1 份自学计划待授分" in todos and "手工录入" not in todos
    assert "手工录入" not in _todos(sec_a) and "自学计划" not in _todos(sec_a)
    # (the city admin may also be told that no rule set is in force today: a to-do that is not a review)
    assert "手工录入" not in _todos(city) and "自学计划" not in _todos(city)
    # Unit pass → the city's to-do; unit's gone.
    with app.app_context():
        cid = db.session.scalar(select(Credit.id))
        ss_id = db.session.scalar(select(SelfStudy.id))
    inst.post("/credit-review/review", data={"rowid": [cid], "decision": "pass"})
    assert "手工录入" not in _todos(inst)
    todos = _todos(city)
    assert "1 条手工录入学分待市级审核" in todos
    assert "国家级心血管新进展学习班" in city.get(_link(todos, "待市级审核")).get_data(as_text=True)
    # City fail and self-study return → the technician's to-dos, own only.
    city.post("/credit-review/review", data={"rowid": [cid], "decision": "fail", "reason": "证书编号有误"})
    inst.post(f"/selfstudy/{ss_id}/return", data={"reason": "缺少证明材料"})
    assert "手工录入" not in _todos(city) and "暂无待办事项" in _todos(inst)
    todos = _todos(tech)
    assert "1 条手工录入学分审核不通过" in todos and "您的自学计划被退回" in todos
    page = tech.get(_link(todos, "审核不通过")).get_data(as_text=True)
    assert "证书编号有误" in page
    page = tech.get(_link(todos, "自学计划被退回"), follow_redirects=True).get_data(as_text=True)
    assert "缺少证明材料" in page
    assert "暂无待办事项" in _todos(tech_b)


def test_unit_returned_self_study_and_query_count(app, world, login):
    inst = login("inst_a")
    # 机构上传 (default): the institution fills and submits; the district returns it to the institution.
    assert inst.post(f"/selfstudy/form/{world.pa2}", data={"submit": "1", "s3_articles": "2"}).status_code == 302
    with app.app_context():
        ss_id = db.session.scalar(select(SelfStudy.id))
    assert login("district1").post(f"/selfstudy/{ss_id}/return", data={"reason": "请补充科普文章原件"}).status_code == 302
    todos = _todos(inst)
    assert "1 份机构上传的自学计划被退回" in todos
    assert "A0000002" in inst.get(_link(todos, "被退回")).get_data(as_text=True)
    # The to-dos cost one COUNT each, however many items wait.
    tech = login("tech_a")

    def statements():
        seen = []
        with app.app_context():
            engine = db.engine
        listener = lambda *a: seen.append(a[2])
        event.listen(engine, "before_cursor_execute", listener)
        try:
            inst.get("/")
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(seen)

    _submit_manual(tech, "项目一")
    statements()  # warm the session's caches first
    one = statements()
    for i in range(3):
        _submit_manual(tech, f"项目{i + 2}")
    assert "4 条手工录入学分待单位审核" in _todos(inst)
    assert statements() == one
