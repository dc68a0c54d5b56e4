"""validate_params (credit standards) and validate_policy (compliance policies): what the admin may save."""
import copy

import pytest

from app.services.compliance import PolicyError, validate_policy
from app.services.credit_rules import KINDS, PARAM_SCHEMA, RuleError, validate_params
from app.services.rule_sets import BEIJING_2025_POLICY, SHIPPED


@pytest.mark.parametrize("code, seq, kind, params",
                         [(code, r[0], r[7], r[8]) for code, _n, _r, _y, rows, _p in SHIPPED for r in rows])
def test_every_shipped_standard_is_valid(code, seq, kind, params):
    assert validate_params(kind, copy.deepcopy(params)) == params


def test_every_kind_has_a_schema():
    assert set(PARAM_SCHEMA) == set(KINDS)


@pytest.mark.parametrize("kind, params, message", [
    # 每3小时1分（上限10分） written with a typo in a key
    ("per_unit", {"unit": "hours", "pre": 3, "rate": 1}, "未知参数“pre”"),
    ("per_unit", {"unit": "hours", "rate": 1}, "缺少必填参数“per”（每多少单位）"),
    ("per_unit", {"unit": "hours", "per": "3", "rate": 1}, "参数“per”（每多少单位）必须是大于0的数字"),
    ("per_unit", {"unit": "days", "per": 3, "rate": 1}, "参数“unit”（计量单位）必须是"),
    ("per_unit", {"unit": "hours", "per": 0, "rate": 1}, "必须是大于0的数字"),
    ("per_unit", {"unit": "hours", "per": 3, "rate": 1, "cap": 500}, "学分上限）必须是大于0且不超过100的数字"),
    ("per_unit", {"unit": "hours", "per": 3, "rate": 1, "lecturer": "yes"}, "必须是 true 或 false"),
    ("per_unit", {"unit": "months", "per": 1, "rate": 2, "class": "Ⅲ类"}, "必须是“Ⅰ类”或“Ⅱ类”"),
    ("per_unit", {"unit": "months", "per": 1, "rate": 2, "below": 6, "min_amount": 6}, "必须小于“below”"),
    ("per_session", {"min_hours": 1}, "缺少必填参数“credits”（每次学分）"),
    ("per_session", {"credits": 0.2, "min_hours": -1}, "必须是不小于0的数字"),
    ("fixed", {"credits": 25, "min_amount": 3}, "必须同时设置参数“unit”"),
    ("table", {"table": {"核心": [8, 7]}, "cols": ["第一作者", "第二作者", "第三作者"]},
     "学分表“核心”行有2个值，应与列名个数3一致"),
    ("table", {"table": {"核心": [8, "七", 6]}, "cols": ["一", "二", "三"]}, "学分表）必须是"),
    ("entered", {"max": 5, "allowed": "中国继续医学教育"}, "参数“allowed”（认可目录）必须是非空的文字列表"),
    ("imported", {"source": "project", "eligible_levels": []}, "适用机构级别）必须是非空的文字列表"),
    ("bogus", {}, "未知的授分规则类型：bogus"),
])
def test_invalid_params_give_a_clear_chinese_error(kind, params, message):
    with pytest.raises(RuleError) as err:
        validate_params(kind, params)
    assert message in str(err.value)


def test_all_problems_are_listed_at_once():
    with pytest.raises(RuleError) as err:
        validate_params("per_unit", {"unit": "hours", "foo": 1, "rate": True})
    text = str(err.value)
    assert "未知参数“foo”" in text and "缺少必填参数“per”" in text and "参数“rate”（每单位学分）" in text


def test_params_must_be_an_object():
    with pytest.raises(RuleError, match="参数必须是JSON对象"):
        validate_params("fixed", [25])


# ------------------------------------------------------------------------------------------ policies
@pytest.mark.parametrize("code, policy", [(s[0], s[5]) for s in SHIPPED])
def test_shipped_policies_are_valid(code, policy):
    assert validate_policy(copy.deepcopy(policy)) == policy


def _bj(**changes):
    policy = copy.deepcopy(BEIJING_2025_POLICY)
    policy.update(changes)
    return policy


@pytest.mark.parametrize("policy, message", [
    (_bj(required_total=0), "年度要求学分必须是大于0"),
    (_bj(required_total="25"), "年度要求学分必须是大于0"),
    (_bj(required_by_title_level={"高级": 30}), "未知的职称级别“高级”"),
    (_bj(required_by_title_level={"正高": -1}), "正高要求学分必须是大于0"),
    (_bj(window={"start": "13-01", "end": "10-31"}), "学分年度开始日期“13-01”不是有效的月-日"),
    (_bj(window={"start": "02-29", "end": "10-31"}), "不是有效的月-日"),
    (_bj(window={"start": "11-01"}), "学分年度起止必须同时填写开始和结束"),
    (_bj(class_split=True), "Ⅰ/Ⅱ类分开时必须同时设置Ⅰ类和Ⅱ类的学分要求"),
    (_bj(class_limits={"Ⅰ类": {"min": 10, "max": 5}}), "Ⅰ类最少学分不能大于最多学分"),
    (_bj(class_limits={"Ⅲ类": {"min": 1}}), "未知的学分类别“Ⅲ类”"),
    (_bj(category_limits=[{"category": "有计划的自学", "max": 10}, {"category": "有计划的自学", "max": 5}]),
     "类别“有计划的自学”重复设置"),
    (_bj(category_limits=[{"category": "有计划的自学", "max": 10}, {"category": "有计划的自学", "min": 2}]),
     "类别“有计划的自学”重复设置（最少和上限写在同一条里）"),
    (_bj(category_limits=[{"category": "有计划的自学"}]), "每条类别限制必须有类别名称和最少学分或上限学分"),
    (_bj(category_limits=[{"category": "有计划的自学", "least": 2}]), "每条类别限制必须有类别名称和最少学分或上限学分"),
    (_bj(category_limits=[{"category": "Ⅰ类学分项目", "min": 10, "max": 5}]), "“Ⅰ类学分项目”的最少学分不能大于上限学分"),
    (_bj(category_limits=[{"category": "Ⅰ类学分项目", "min": -1}]), "“Ⅰ类学分项目”的最少学分必须是0到1000之间的数字"),
    (_bj(category_limits=[{"category": "Ⅰ类学分项目", "min": "5"}]), "“Ⅰ类学分项目”的最少学分必须是0到1000之间的数字"),
    (_bj(full_year=[{"categories": [], "min_months": 3}]), "第1条“视为完成当年学分”规定必须至少有一个学分类别"),
    (_bj(full_year=[{"categories": ["进修学习"], "min_months": 13}]), "月数必须是0到12之间的数字"),
    (_bj(extra=1), "未知设置“extra”"),
])
def test_invalid_policy_gives_a_clear_chinese_error(policy, message):
    with pytest.raises(PolicyError) as err:
        validate_policy(policy)
    assert message in str(err.value)


def test_category_minimums_and_bounds_are_valid_policy_data():
    # SPEC ICME-10 "per-category minimums/caps"; the 2006 profile "class I 5–10" as one category bound.
    policy = _bj(category_limits=[{"category": "有计划的自学", "max": 10}, {"category": "国家级继续医学教育项目", "min": 5},
                                  {"category": "Ⅰ类学分项目", "min": 5, "max": 10}])
    assert validate_policy(policy) == policy
