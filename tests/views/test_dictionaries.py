"""Dictionaries and parameters (SYS-4): seeded from the seeds' terms, editable by the city,
readable by district admins, subjects found by the picker by label, code and pinyin initials."""
import json

import pytest
from sqlalchemy import select

PRACTICE_FORMS = ["手术示范", "新技术推广", "科技成果转化", "其他类型实操培训", "各类研讨会", "多学科诊疗活动",
                  "教学病例讨论", "学术会议", "其他类型学术交流活动"]  # seed 003 line 105


def _items(app, type_code):
    from app.extensions import db
    from app.models import DictItem, DictType

    with app.app_context():
        rows = db.session.execute(select(DictItem.code, DictItem.label, DictItem.extra, DictItem.active)
                                  .join(DictType).where(DictType.code == type_code)
                                  .order_by(DictItem.sort, DictItem.id)).all()
        return [tuple(r) for r in rows]


def _type_id(app, code):
    from app.extensions import db
    from app.models import DictType

    with app.app_context():
        return db.session.scalar(select(DictType.id).where(DictType.code == code))


def _item_id(app, type_code, code):
    from app.extensions import db
    from app.models import DictItem, DictType

    with app.app_context():
        return db.session.scalar(select(DictItem.id).join(DictType).where(
            DictType.code == type_code, DictItem.code == code))


# ---------------------------------------------------------------- seeds
def test_seeded_types_and_items(app):
    labels = {t: [i[1] for i in _items(app, t)] for t in
              ("title", "title_level", "credit_category", "credit_class", "activity_type", "activity_form",
               "subject", "unit_level", "assessment")}
    assert labels["title_level"] == ["初级", "中级", "副高", "正高"]
    titles = {label: extra for _, label, extra, _ in _items(app, "title")}
    assert titles["主治医师"] == "中级" and titles["主任医师"] == "正高" and titles["护师"] == "初级"
    assert set(titles.values()) == {"初级", "中级", "副高", "正高"}
    # 学分类别 of seed 003's 授分标准 table.
    assert {"国家级继续医学教育项目", "市级继续医学教育项目", "区级继续医学教育项目", "进修学习",
            "在职学历(学位)教育", "有组织的继续医学教育实践活动", "政府指令性医疗卫生任务", "住院医师规范化培训",
            "北京市继教委许可发证书项目"} <= set(labels["credit_category"])
    assert {"发表论文", "立项科研项目", "教材、杂志"} <= set(labels["credit_category"])  # seed 002
    assert labels["credit_class"] == ["Ⅰ类", "Ⅱ类"]
    assert len(labels["activity_type"]) == 7 and labels["activity_type"][0] == "继续医学教育项目"
    practice = [label for _, label, extra, _ in _items(app, "activity_form") if extra == "实践活动"]
    assert practice == PRACTICE_FORMS
    assert {"满三个月学习时间", "不足三个月学习时间", "住院医师规范化培训"} <= set(labels["activity_form"])
    assert labels["unit_level"] == ["三级", "二级", "一级", "社会办医"]
    assert "笔试" in labels["assessment"]
    assert {"儿科护理学", "遗传学", "心血管内科"} <= set(labels["subject"])


def test_seeded_parameters(app):
    from app.extensions import db
    from app.models import Parameter

    with app.app_context():
        params = dict(db.session.execute(select(Parameter.key, Parameter.value)).all())
    assert params["evidence_max_mb"] == "5" and params["filing_attachment_max_mb"] == "2"
    assert params["planned_count_tolerance"] == "20"


def test_seeding_again_adds_nothing_and_keeps_edits(app):
    from app.extensions import db
    from app.models import DictItem
    from app.services.seed_data import seed_dictionaries

    pk = _item_id(app, "subject", "0102")
    with app.app_context():
        db.session.get(DictItem, pk).label = "心血管病学"
        db.session.commit()
        assert seed_dictionaries(db.session) == 0
        db.session.commit()
        assert db.session.get(DictItem, pk).label == "心血管病学"


# ---------------------------------------------------------------- editing
def _item_form(app, **over):
    data = {"dict_type": str(_type_id(app, "subject")), "code": "2101", "label": "老年医学", "extra": "",
            "sort": "50", "active": "y"}
    data.update(over)
    return data


def test_city_admin_adds_an_item_and_it_is_logged(app, world, login):
    from app.extensions import db
    from app.models import DictItem, OperationLog

    c = login("city")
    r = c.post("/dictitems/add", data=_item_form(app))
    assert r.status_code == 302
    with app.app_context():
        item = db.session.scalar(select(DictItem).where(DictItem.label == "老年医学"))
        assert item.pinyin == "lnyx" and item.active is True and item.code == "2101"
        log = db.session.scalar(select(OperationLog).where(OperationLog.module == "字典管理")
                                .order_by(OperationLog.id.desc()))
        assert (log.action, log.operator) == ("新增", "city")
        assert json.loads(log.changes)["label"] == [None, "老年医学"]
    found = c.get("/pickers/dict/subject?q=lnyx").get_json()["results"]
    assert [r["text"] for r in found] == ["老年医学"]


def test_duplicate_code_in_a_type_is_refused_in_chinese(app, world, login):
    c = login("city")
    html = c.post("/dictitems/add", data=_item_form(app, code="0102"), follow_redirects=True).get_data(as_text=True)
    assert "该字典类型下已有编码为“0102”的数据" in html
    assert [i for i in _items(app, "subject") if i[0] == "0102"] == [("0102", "心血管内科", None, True)]
    # The same code in another type is fine.
    assert c.post("/dictitems/add", data=_item_form(app, dict_type=str(_type_id(app, "assessment")),
                                                    code="0102", label="答辩")).status_code == 302


def test_retired_item_can_be_saved_and_leaves_the_picker(app, world, login):
    c = login("city")
    pk = _item_id(app, "subject", "0102")
    data = _item_form(app, code="0102", label="心血管内科", sort="2")
    data.pop("active")  # unticked
    r = c.post(f"/dictitems/edit/{pk}", data=data)
    assert r.status_code == 302, r.get_data(as_text=True)[:300]
    assert ("0102", "心血管内科", None, False) in _items(app, "subject")
    assert c.get("/pickers/dict/subject?q=0102").get_json()["results"] == []


def test_city_admin_edits_a_parameter(app, world, login):
    from app.extensions import db
    from app.models import Parameter

    with app.app_context():
        pk = db.session.scalar(select(Parameter.id).where(Parameter.key == "evidence_max_mb"))
    r = login("city").post(f"/parameters/edit/{pk}", data={"key": "evidence_max_mb", "name": "证明材料大小上限(MB)",
                                                          "value": "8", "remark": ""})
    assert r.status_code == 302
    with app.app_context():
        assert db.session.get(Parameter, pk).value == "8"


# ---------------------------------------------------------------- who may do what
def test_district_admin_reads_but_cannot_change(app, world, login):
    from app.extensions import db
    from app.models import DictItem, DictType, Parameter

    c = login("district1")
    pk = _item_id(app, "subject", "0102")
    tid = _type_id(app, "subject")
    assert "心血管内科" in c.get("/dictitems/list/?_flt_0_label=心血管").get_data(as_text=True)
    assert c.get(f"/dictitems/show/{pk}").status_code == 200
    assert "学科" in c.get("/dicttypes/list/").get_data(as_text=True)
    assert "证明材料大小上限" in c.get("/parameters/list/").get_data(as_text=True)
    with app.app_context():
        counts = [db.session.scalar(select(db.func.count(m.id))) for m in (DictItem, DictType, Parameter)]
        param = db.session.scalar(select(Parameter.id))
    assert c.post("/dictitems/add", data=_item_form(app)).status_code == 403
    assert c.post(f"/dictitems/edit/{pk}", data=_item_form(app, code="0102", label="改名")).status_code == 403
    assert c.post(f"/dictitems/delete/{pk}").status_code == 403
    assert c.post("/dicttypes/add", data={"name": "x", "code": "x"}).status_code == 403
    assert c.post(f"/dicttypes/delete/{tid}").status_code == 403
    assert c.post(f"/parameters/edit/{param}", data={"key": "k", "name": "n", "value": "1"}).status_code == 403
    with app.app_context():
        assert [db.session.scalar(select(db.func.count(m.id))) for m in (DictItem, DictType, Parameter)] == counts
        assert db.session.get(DictItem, pk).label == "心血管内科"
    html = c.get("/").get_data(as_text=True)
    assert "字典数据" in html and "参数设置" in html


@pytest.mark.parametrize("username", ["inst_a", "sec_a", "tech_a", "expert"])
def test_other_roles_cannot_open_dictionary_admin(app, world, login, username):
    c = login(username)
    for url in ("/dictitems/list/", "/dicttypes/list/", "/parameters/list/"):
        assert c.get(url).status_code == 403


# ---------------------------------------------------------------- the subject picker
@pytest.mark.parametrize("q, expected", [
    ("心血管", ["心血管内科"]),       # label
    ("内科", None),                   # label, anywhere in it
    ("0102", ["心血管内科"]),         # code prefix
    ("xxgnk", ["心血管内科"]),        # pinyin initials
    ("XXG", ["心血管内科"]),          # initials in capitals
    ("ekhl", ["儿科护理学"]),
    ("不存在的学科", []),
])
def test_subject_picker_finds_by_label_code_and_pinyin(app, world, login, q, expected):
    c = login("tech_a")  # every role picks subjects in forms
    r = c.get("/pickers/dict/subject", query_string={"q": q})
    assert r.status_code == 200
    texts = [row["text"] for row in r.get_json()["results"]]
    if expected is None:
        assert {"内科学", "心血管内科", "呼吸内科", "消化内科"} <= set(texts)
    else:
        assert texts == expected


def test_subject_picker_pages_and_needs_login(app, world, login, client):
    c = login("inst_a")
    first = c.get("/pickers/dict/subject").get_json()
    assert len(first["results"]) == 20 and first["pagination"]["more"] is True
    second = c.get("/pickers/dict/subject?page=2").get_json()
    assert second["results"] and {r["id"] for r in first["results"]}.isdisjoint(
        {r["id"] for r in second["results"]})
    assert client.get("/pickers/dict/subject?q=xx").status_code in (302, 401, 403)
