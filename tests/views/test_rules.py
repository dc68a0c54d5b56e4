"""Rule sets, standards and policies in the admin (issue 3 point 1), what-if page (point 6)."""
import datetime
import io
import json

import openpyxl
import pytest
from sqlalchemy import select

from app.services.rule_sets import policy_params
from tests.rule_helpers import add_credit, drop_added_rule_sets, rule_set

D = datetime.date


@pytest.fixture(autouse=True)
def _drop_rule_sets(app):
    yield
    with app.app_context():
        drop_added_rule_sets()


def _standard(app, code="BJ2025", seq=16):
    from app.extensions import db
    from app.models import CreditStandard

    with app.app_context():
        rs = rule_set(code)
        return db.session.scalar(select(CreditStandard.id).where(
            CreditStandard.rule_set_id == rs.id, CreditStandard.seq == seq))


def _ids(app, *codes):
    with app.app_context():
        return [rule_set(c).id for c in codes]


def test_city_lists_and_shows_rule_sets_with_standards_and_policy(app, world, login):
    c = login("city")
    html = c.get("/rulesets/list/").get_data(as_text=True)
    assert "北京市2025年授分标准" in html and "徐州市2024年授分标准" in html and "已发布" in html
    (bj,) = _ids(app, "BJ2025")
    html = c.get(f"/rulesets/show/{bj}").get_data(as_text=True)
    assert "参加国家级继续医学教育项目" in html  # standard 15 in the related tab
    assert "11-01 至 10-31" in html and "有计划的自学每年最多10分" in html
    assert "复制到下一年" in html and "编辑达标规则" in html


def test_copy_to_next_year_is_a_logged_draft(app, world, login):
    from app.extensions import db
    from app.models import OperationLog

    (bj,) = _ids(app, "BJ2025")
    r = login("city").post(f"/rulesets/copy/{bj}")
    assert r.status_code == 302
    with app.app_context():
        new = rule_set("BJ2026")
        assert new.status == "draft" and new.year == 2026 and len(new.standards) == 20
        assert new.effective_from == D(2026, 1, 1) and policy_params(new) == policy_params(rule_set("BJ2025"))
        log = db.session.scalar(select(OperationLog).where(OperationLog.module == "授分规则",
                                                           OperationLog.action == "复制"))
        assert log is not None and log.operator == "city" and "北京市2026年授分标准" in log.message


def test_publish_refuses_overlapping_dates_in_the_same_region(app, world, login):
    from app.extensions import db
    from app.services.rule_sets import copy_rule_set

    with app.app_context():
        overlapping = copy_rule_set(db.session, rule_set("BJ2025"), 2025, code="BJ2025B")
        next_year = copy_rule_set(db.session, rule_set("BJ2025"), 2026)
        db.session.commit()
        overlapping_id, next_id = overlapping.id, next_year.id
    c = login("city")
    html = c.post(f"/rulesets/publish/{overlapping_id}", follow_redirects=True).get_data(as_text=True)
    assert "已有已发布的规则集“北京市2025年授分标准”" in html and "生效日期重叠" in html
    c.post(f"/rulesets/publish/{next_id}")
    with app.app_context():
        assert rule_set("BJ2025B").status == "draft"
        assert rule_set("BJ2026").status == "published"
    # Archiving the 2025 set frees its dates: the second 2025 draft can now be published.
    (bj,) = _ids(app, "BJ2025")
    c.post(f"/rulesets/archive/{bj}")
    html = c.post(f"/rulesets/publish/{overlapping_id}", follow_redirects=True).get_data(as_text=True)
    assert "已发布" in html
    with app.app_context():
        assert rule_set("BJ2025").status == "archived" and rule_set("BJ2025B").status == "published"


def test_publish_refuses_invalid_standard_params(app, world, login):
    from app.extensions import db
    from app.services.rule_sets import copy_rule_set

    with app.app_context():
        new = copy_rule_set(db.session, rule_set("XZ2024"), 2025)
        new.standards[0].params = {"table": {"核心": [8]}, "cols": ["第一作者", "第二作者"]}
        db.session.commit()
        pk = new.id
    html = login("city").post(f"/rulesets/publish/{pk}", follow_redirects=True).get_data(as_text=True)
    assert "授分标准“1. 发表论文”参数有误" in html
    with app.app_context():
        assert rule_set("XZ2025").status == "draft"


def test_rule_set_with_credits_cannot_be_deleted(app, world, login):
    from app.extensions import db
    from app.services.rule_sets import copy_rule_set

    (bj,) = _ids(app, "BJ2025")
    with app.app_context():
        add_credit(world.pa, 5, D(2025, 3, 1), rule_set_id=bj)
        draft = copy_rule_set(db.session, rule_set("BJ2025"), 2026)
        db.session.commit()
        draft_id = draft.id
    c = login("city")
    html = c.post(f"/rulesets/delete/{bj}", follow_redirects=True).get_data(as_text=True)
    assert "“北京市2025年授分标准”已有学分记录，不能删除" in html
    c.post(f"/rulesets/delete/{draft_id}")
    with app.app_context():
        assert rule_set("BJ2025") is not None and rule_set("BJ2026") is None


def test_new_rule_set_starts_as_draft_with_a_policy(app, world, login):
    r = login("city").post("/rulesets/add", data={
        "code": "SH2026", "name": "上海市2026年授分标准", "region": "上海市", "year": "2026",
        "effective_from": "2026-01-01", "effective_to": "2026-12-31", "remark": ""})
    assert r.status_code == 302
    with app.app_context():
        new = rule_set("SH2026")
        assert new.status == "draft" and policy_params(new)["required_total"] == 25


# ------------------------------------------------------------------------------------ standards
def _standard_form(**changes):
    data = {"seq": "21", "name": "测试标准", "rule_text": "每3小时1分（上限10分）", "category": "国家级继续医学教育项目",
            "activity_form": "继续医学教育项目", "remark": "", "activity_type": "继续医学教育项目", "credit_class": "",
            "kind": "per_unit", "params": json.dumps({"unit": "hours", "per": 3, "rate": 1, "cap": 10}),
            "active": "y"}
    data.update(changes)
    return data


@pytest.mark.parametrize("params, message", [
    ("{\"unit\": \"hours\", \"per\": 3,", "参数不是有效的JSON"),
    (json.dumps({"unit": "hours", "per": 3, "rate": 1, "cap": 10, "caps": 5}), "未知参数“caps”"),
    (json.dumps({"unit": "hours", "rate": 1}), "缺少必填参数“per”（每多少单位）"),
    (json.dumps({"unit": "hours", "per": "3", "rate": 1}), "参数“per”（每多少单位）必须是大于0的数字"),
])
def test_standard_params_are_validated_on_save(app, world, login, params, message):
    from app.extensions import db
    from app.models import CreditStandard

    (bj,) = _ids(app, "BJ2025")
    html = login("city").post("/standards/add", data=_standard_form(rule_set=str(bj), params=params),
                              follow_redirects=True).get_data(as_text=True)
    assert message in html
    with app.app_context():
        assert db.session.scalar(select(CreditStandard).where(CreditStandard.name == "测试标准")) is None


def test_standard_saved_with_valid_params_and_edited(app, world, login):
    from app.extensions import db
    from app.models import CreditStandard
    from app.services.rule_sets import copy_rule_set

    with app.app_context():
        pk = copy_rule_set(db.session, rule_set("BJ2025"), 2026).id
        db.session.commit()
    c = login("city")
    r = c.post("/standards/add", data=_standard_form(rule_set=str(pk)))
    assert r.status_code == 302
    with app.app_context():
        s = db.session.scalar(select(CreditStandard).where(CreditStandard.name == "测试标准"))
        assert s.params == {"unit": "hours", "per": 3, "rate": 1, "cap": 10} and s.credit_class is None
        sid = s.id
    edit = c.get(f"/standards/edit/{sid}").get_data(as_text=True)
    assert "&#34;cap&#34;: 10" in edit or "&quot;cap&quot;: 10" in edit  # shown as JSON, not a Python dict
    c.post(f"/standards/edit/{sid}", data=_standard_form(
        rule_set=str(pk), kind="per_session", credit_class="Ⅱ类", params=json.dumps({"credits": 0.5, "min_hours": 1})))
    with app.app_context():
        s = db.session.get(CreditStandard, sid)
        assert s.kind == "per_session" and s.params == {"credits": 0.5, "min_hours": 1} and s.credit_class == "Ⅱ类"


def test_duplicate_seq_and_code_and_used_standard_are_refused(app, world, login):
    from app.extensions import db
    from app.models import CreditStandard, RuleSet

    (bj,) = _ids(app, "BJ2025")
    c = login("city")
    html = c.post("/standards/add", data=_standard_form(rule_set=str(bj), seq="16"),
                  follow_redirects=True).get_data(as_text=True)
    assert "“北京市2025年授分标准”中已有序号为16的授分标准" in html
    html = c.post("/rulesets/add", data={"code": "BJ2025", "name": "重复", "region": "北京市", "year": "2025",
                                         "effective_from": "2025-01-01", "effective_to": "2025-12-31"},
                  follow_redirects=True).get_data(as_text=True)
    assert "已存在" in html or "已经存在" in html  # FAB: unique check on the code column
    with app.app_context():
        assert len(list(db.session.scalars(select(RuleSet).where(RuleSet.code == "BJ2025")))) == 1
    sid = _standard(app, seq=16)
    with app.app_context():
        add_credit(world.pa, 2, D(2025, 3, 1), rule_set_id=bj).standard_id = sid
        db.session.commit()
    html = c.post(f"/standards/delete/{sid}", follow_redirects=True).get_data(as_text=True)
    assert "已有学分记录，不能删除" in html
    with app.app_context():
        assert db.session.get(CreditStandard, sid) is not None


@pytest.mark.parametrize("seq, form, expected", [
    # seed 003 #16 参加市级继续医学教育项目 "每3小时1分（上限10分）": 7 h → 2
    (16, {"amount": "7"}, "故授予 2 学分"),
    (16, {"amount": "2.98"}, "不足一个完整单位"),
    # seed 003 #20 单次继续医学教育实践活动 "0.2学分" "单次不少于1小时授课"
    (20, {"hours": "0.99", "sessions": "1"}, "单次不少于1小时"),
    (20, {"hours": "1", "sessions": "3"}, "故授予 0.6 学分"),
    # seed 003 #1 主讲人分数不能超过项目分数
    (1, {"amount": "5", "project_credits": "4"}, "主讲人分数不能超过项目分数"),
    (16, {"amount": ""}, "请填写实际学时"),
])
def test_trial_box_shows_the_engine_result(app, world, login, seq, form, expected):
    sid = _standard(app, seq=seq)
    c = login("inst_a")  # readers may try too
    assert "试算" in c.get(f"/standards/show/{sid}").get_data(as_text=True)
    html = c.post(f"/standards/try/{sid}", data=form).get_data(as_text=True)
    assert 'id="trial-result"' in html and expected in html


def test_trial_of_a_table_standard_offers_its_rows(app, world, login):
    sid = _standard(app, code="XZ2024", seq=1)
    c = login("city")
    html = c.get(f"/standards/show/{sid}").get_data(as_text=True)
    assert "SCI、EI、ISTP" in html and "第三作者" in html
    # seed 002: 核心期刊 第二作者 7 分
    html = c.post(f"/standards/try/{sid}", data={"row": "核心", "col": "2"}).get_data(as_text=True)
    assert "故授予 7 学分" in html


# ------------------------------------------------------------------------------------ policy
def _policy_form(**changes):
    data = {"required_total": "24", "req_junior": "20", "req_middle": "", "req_vice": "", "req_senior": "30",
            "window_start": "11-01", "window_end": "10-31", "class1_min": "", "class1_max": "",
            "class2_min": "", "class2_max": "", "category_limits": "有计划的自学=8\n教材、杂志=5", "category_minimums": "",
            "full_year": "3 | 进修学习、在职学历(学位)教育 | 进修满3个月\n0 | 住院医师规范化培训 |"}
    data.update(changes)
    return data


def test_policy_form_reads_and_writes_the_json(app, world, login):
    from app.extensions import db
    from app.services.rule_sets import copy_rule_set

    with app.app_context():
        pk = copy_rule_set(db.session, rule_set("BJ2025"), 2026).id
        db.session.commit()
    c = login("city")
    html = c.get(f"/rulesets/policy/{pk}").get_data(as_text=True)
    assert "有计划的自学=10" in html and 'value="11-01"' in html and "住院医师规范化培训" in html
    assert c.post(f"/rulesets/policy/{pk}", data=_policy_form()).status_code == 302
    with app.app_context():
        assert policy_params(rule_set("BJ2026")) == {
            "required_total": 24, "required_by_title_level": {"初级": 20, "正高": 30},
            "window": {"start": "11-01", "end": "10-31"}, "class_split": False,
            "category_limits": [{"category": "有计划的自学", "max": 8}, {"category": "教材、杂志", "max": 5}],
            "full_year": [{"categories": ["进修学习", "在职学历(学位)教育"], "min_months": 3, "label": "进修满3个月"},
                          {"categories": ["住院医师规范化培训"], "min_months": 0}]}
    # Per-category minimums (SPEC ICME-10 "per-category minimums/caps"): one item per category with
    # both bounds when both boxes name it; shown back in their boxes and in words on the rule set.
    assert c.post(f"/rulesets/policy/{pk}", data=_policy_form(
        category_limits="有计划的自学=8\nⅠ类学分项目=10", category_minimums="国家级继续医学教育项目=5\nⅠ类学分项目=5",
    )).status_code == 302
    with app.app_context():
        assert policy_params(rule_set("BJ2026"))["category_limits"] == [
            {"category": "有计划的自学", "max": 8}, {"category": "Ⅰ类学分项目", "max": 10, "min": 5},
            {"category": "国家级继续医学教育项目", "min": 5}]
    html = c.get(f"/rulesets/policy/{pk}").get_data(as_text=True)
    assert "Ⅰ类学分项目=5\n国家级继续医学教育项目=5" in html and "有计划的自学=8\nⅠ类学分项目=10" in html
    html = c.get(f"/rulesets/show/{pk}").get_data(as_text=True)
    assert "国家级继续医学教育项目每年至少5分" in html and "Ⅰ类学分项目每年最多10分" in html
    # Class split on: both classes with min/max.
    c.post(f"/rulesets/policy/{pk}", data=_policy_form(class_split="y", class1_min="5", class1_max="10",
                                                       class2_min="15", class2_max="20.5"))
    with app.app_context():
        p = policy_params(rule_set("BJ2026"))
        assert p["class_split"] is True and p["class_limits"] == {"Ⅰ类": {"min": 5, "max": 10},
                                                                  "Ⅱ类": {"min": 15, "max": 20.5}}


def _panel(html: str, panel_id: str) -> str:
    """The HTML of one panel of the rule set's page (up to the next panel)."""
    start = html.index(f'id="{panel_id}"')
    end = html.find('class="panel ', start)
    return html[start:end if end != -1 else len(html)]


def test_show_page_lists_counting_policy_and_multi_year_rules(app, world, login):
    from app.extensions import db
    from app.services.rule_sets import NATIONAL_FIVE_YEARS, copy_rule_set

    # Xuzhou's policy (seed 002 三 3: 刷卡 "经市级审核通过后授予学分") plus the national five-year rule.
    with app.app_context():
        new = copy_rule_set(db.session, rule_set("XZ2024"), 2025)
        new.policy.params = dict(policy_params(new), multi_year=[dict(NATIONAL_FIVE_YEARS),
                                                                 {"label": "<b>全员</b>", "years": 3, "min": 2.5,
                                                                  "categories": ["有计划的自学"]}])
        db.session.commit()
        pk = new.id
    for user in ("city", "inst_a"):  # the admin who edits and a reader
        html = login(user).get(f"/rulesets/show/{pk}").get_data(as_text=True)
        counting = _panel(html, "counting")
        assert "学分计入规则" in counting
        assert "刷卡</th><td>市级审核通过的学分计入（须经市级审核，单位审核通过后暂不计入）</td>" in counting
        assert "扫码</th><td>市级审核通过的学分计入（须经市级审核" in counting
        assert "补录</th><td>市级审核通过的学分计入（须经市级审核" in counting
        assert "其他来源</th><td>单位审核通过、市级审核通过的学分计入</td>" in counting
        multi = _panel(html, "multi-year")
        assert "多年度要求" in multi and "无<" not in multi
        assert ("三级医疗机构人员5年内国家级继续医学教育项目学分</th><td>连续5个学分年度（含当年）内"
                "国家级继续医学教育项目学分累计不少于10分，适用于三级单位的人员") in multi
        # A label is escaped; a rule for every unit says so; 2.5 stays 2.5.
        assert "&lt;b&gt;全员&lt;/b&gt;" in multi and "<b>全员" not in multi
        assert "连续3个学分年度（含当年）内有计划的自学学分累计不少于2.5分，适用于全部单位的人员" in multi


def test_show_page_of_a_rule_set_without_counting_shows_the_default(app, world, login):
    (bj,) = _ids(app, "BJ2025")  # seed 003's policy: no counting section, no multi-year rule
    with app.app_context():
        assert "counting" not in policy_params(rule_set("BJ2025"))
    html = login("city").get(f"/rulesets/show/{bj}").get_data(as_text=True)
    assert "全部来源</th><td>单位审核通过、市级审核通过的学分计入</td>" in _panel(html, "counting")
    assert "其他来源" not in html and "须经市级审核" not in html
    multi = _panel(html, "multi-year")
    assert "多年度要求" in multi and '<div class="panel-body text-muted">无</div>' in multi


@pytest.mark.parametrize("changes, message", [
    ({"window_start": "13-01"}, "学分年度开始日期“13-01”不是有效的月-日"),
    ({"class_split": "y"}, "Ⅰ/Ⅱ类分开时必须同时设置Ⅰ类和Ⅱ类的学分要求"),
    ({"class1_min": "10", "class1_max": "5"}, "Ⅰ类最少学分不能大于最多学分"),
    ({"category_limits": "有计划的自学 10"}, "第1行应为“学分类别=上限学分”"),
    ({"category_minimums": "国家级继续医学教育项目：5"}, "第1行应为“学分类别=最少学分”"),
    ({"category_minimums": "Ⅰ类学分项目=5\nⅠ类学分项目=6"}, "第2行：类别“Ⅰ类学分项目”重复填写"),
    ({"category_limits": "Ⅰ类学分项目=5", "category_minimums": "Ⅰ类学分项目=10"}, "“Ⅰ类学分项目”的最少学分不能大于上限学分"),
    ({"full_year": "三个月 | 进修学习"}, "第1行应为“月数 | 学分类别 | 说明”"),
    ({"required_total": ""}, "请填写年度要求学分"),
])
def test_policy_form_errors_are_chinese_and_nothing_is_saved(app, world, login, changes, message):
    (bj,) = _ids(app, "BJ2025")
    with app.app_context():
        before = policy_params(rule_set("BJ2025"))
    r = login("city").post(f"/rulesets/policy/{bj}", data=_policy_form(**changes))
    assert r.status_code == 200 and message in r.get_data(as_text=True)
    with app.app_context():
        assert policy_params(rule_set("BJ2025")) == before


# ------------------------------------------------------------------------------------ roles
def test_readers_cannot_change_rule_sets(app, world, login):
    (bj,) = _ids(app, "BJ2025")
    sid = _standard(app)
    for user in ("district1", "inst_a"):
        c = login(user)
        assert c.get("/rulesets/list/").status_code == 200
        html = c.get(f"/rulesets/show/{bj}").get_data(as_text=True)
        assert "北京市2025年授分标准" in html and "复制到下一年" not in html and "编辑达标规则" not in html
        assert c.post(f"/rulesets/copy/{bj}").status_code in (302, 403)
        assert c.post(f"/rulesets/policy/{bj}", data=_policy_form()).status_code in (302, 403)
        assert c.post(f"/standards/edit/{sid}", data=_standard_form()).status_code in (302, 403)
        assert c.get(f"/rulesets/whatif/{bj}").status_code in (302, 403)
    for user in ("sec_a", "tech_a"):
        assert login(user).get("/rulesets/list/").status_code in (302, 403)
    with app.app_context():
        assert rule_set("BJ2026") is None and policy_params(rule_set("BJ2025"))["required_total"] == 25


# ------------------------------------------------------------------------------------ what-if page
def test_what_if_page_and_export(app, world, login):
    from app.extensions import db
    from app.services.rule_sets import copy_rule_set

    with app.app_context():
        for key, amount in (("pa", 22), ("pa2", 25), ("pb", 20)):
            add_credit(getattr(world, key), amount, D(2025, 3, 1))
        draft = copy_rule_set(db.session, rule_set("BJ2025"), 2026)
        draft.policy.params = dict(policy_params(draft), required_total=21)
        db.session.commit()
        pk = draft.id
    c = login("city")
    html = c.get(f"/rulesets/whatif/{pk}?year=2025").get_data(as_text=True)
    assert 'data-count="gained">1<' in html and 'data-count="lost">0<' in html
    assert "张三" in html and "王五" not in html and "李四" not in html
    # Narrowed to institution B: nobody changes there (王五 has 20 < 21).
    html = c.get(f"/rulesets/whatif/{pk}?year=2025&org={world.b}").get_data(as_text=True)
    assert 'data-count="gained">0<' in html and "没有人的达标状态发生变化" in html
    r = c.get(f"/rulesets/whatif/{pk}/export?year=2025")
    sheet = openpyxl.load_workbook(io.BytesIO(r.data)).active
    rows = list(sheet.values)
    assert rows[0][:2] == ("卡号", "姓名") and len(rows) == 2
    assert rows[1][1] == "张三" and rows[1][-1] == "不达标→达标" and rows[1][5] == 22


def test_editing_a_published_rule_set_into_an_overlap_is_refused(app, world, login):
    from app.extensions import db
    from app.services.rule_sets import copy_rule_set

    with app.app_context():
        new = copy_rule_set(db.session, rule_set("BJ2025"), 2026)
        new.status = "published"
        db.session.commit()
        pk = new.id
    html = login("city").post(f"/rulesets/edit/{pk}", data={
        "code": "BJ2026", "name": "北京市2026年授分标准", "region": "北京市", "year": "2026",
        "effective_from": "2025-07-01", "effective_to": "2026-12-31", "remark": ""},
        follow_redirects=True).get_data(as_text=True)
    assert "与已发布的规则集“北京市2025年授分标准”生效日期重叠" in html
    with app.app_context():
        assert rule_set("BJ2026").effective_from == D(2026, 1, 1)
