"""Where the self-study grant takes its numbers from (services/selfstudy.py docstring), seed by seed."""
from decimal import Decimal

from sqlalchemy import select

from app.extensions import db
from app.models import (
    CompliancePolicy,
    Credit,
    CreditStandard,
    Parameter,
    RuleSet,
    SelfStudy,
)
from app.services import selfstudy
from app.services.rule_sets import SELF


def _submitted(app, world, login):
    inst = login("inst_a")
    r = inst.post(f"/selfstudy/form/{world.pa}", data={"submit": "1", "s1_graduate": "3", "s4_cn_papers": "1"})
    assert r.status_code == 302
    with app.app_context():
        return db.session.scalar(select(SelfStudy.id))


def test_beijing_has_no_self_study_standard_the_policy_caps(app, world, login):
    # Seed 003: "6. 有计划的自学" is one of the seven types, but none of the 20 rows of "授分标准修改"
    # (e.g. "19 继续医学教育实践活动 每6小时1分", "20 单次继续医学教育实践活动 0.2学分") is a self-study
    # standard, and the form ("研究生授课带教 次", "在国际期刊发表 篇论文 字数") gives counts, no credits.
    with app.app_context():
        rs, standard, cap = selfstudy.grant_rule(db.session, 2025)
        assert rs.code == "BJ2025" and standard is None and cap == Decimal(10)
        assert db.session.scalar(select(CreditStandard.id).where(
            CreditStandard.rule_set_id == rs.id, CreditStandard.activity_type == SELF)) is None
    ss_id = _submitted(app, world, login)
    inst = login("inst_a")
    page = inst.get(f"/selfstudy/{ss_id}", follow_redirects=True).get_data(as_text=True)
    assert "未设有计划的自学授分标准" in page and "每年上限10学分" in page
    # The cap is data: the policy's category limit, edited to 8, is what the grant honours.
    with app.app_context():
        rs = db.session.scalar(select(RuleSet).where(RuleSet.code == "BJ2025"))
        policy = db.session.scalar(select(CompliancePolicy).where(CompliancePolicy.rule_set_id == rs.id))
        original, rs_id = dict(policy.params), rs.id
        params = dict(original)
        params["category_limits"] = [{"category": "有计划的自学", "max": 8}]
        policy.params = params
        db.session.commit()
    try:
        r = inst.post(f"/selfstudy/{ss_id}/grant", data={"credits": "9"}, follow_redirects=True)
        assert "已授予 8 学分" in r.get_data(as_text=True)
    finally:
        with app.app_context():
            db.session.scalar(select(CompliancePolicy).where(CompliancePolicy.rule_set_id == rs_id)).params = original
            db.session.commit()
    with app.app_context():
        credit = db.session.scalars(select(Credit)).one()
        assert credit.category == "有计划的自学" and credit.standard_id is None and "超过上限按8分计" in credit.remark


def test_xuzhou_magazine_standard_asks_for_the_journal(app, world, login):
    # Seed 002 附件二 "7.教材、杂志类 通过学习杂志刊载内容获取杂志社授予学分的，需审核所学杂志符合江苏省卫生
    # 技术人员推荐教材，全年最多可授予Ⅱ类学分 5 分。认可期刊、杂志目录如下：《中国继续医学教育》…"
    with app.app_context():
        db.session.scalar(select(Parameter).where(Parameter.key == "region")).value = "徐州市"
        db.session.commit()
        rs, standard, _cap = selfstudy.grant_rule(db.session, 2024)
        assert rs.code == "XZ2024" and standard.name == "教材、杂志" and standard.params["max"] == 5
    ss_id = _submitted(app, world, login)
    inst = login("inst_a")
    page = inst.get(f"/selfstudy/{ss_id}", follow_redirects=True).get_data(as_text=True)
    assert 'name="allowed_value"' in page and "中国继续医学教育" in page and "教材、杂志" in page
    r = inst.post(f"/selfstudy/{ss_id}/grant", data={"credits": "3", "allowed_value": "某非认可杂志"},
                  follow_redirects=True)
    assert "杂志不在认可目录中" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(Credit).count() == 0
    r = inst.post(f"/selfstudy/{ss_id}/grant", data={"credits": "6", "allowed_value": "中国继续医学教育"},
                  follow_redirects=True)
    assert "已授予 5 学分" in r.get_data(as_text=True)
    with app.app_context():
        credit = db.session.scalars(select(Credit)).one()
        # The standard's own category, so the Xuzhou policy's "教材、杂志" yearly limit applies to it.
        assert (credit.credits, credit.credit_class, credit.category) == (Decimal(5), "Ⅱ类", "教材、杂志")
