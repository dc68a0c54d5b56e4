"""The credit rules engine against the seeds, line by line (ICME-2).

Beijing 2025: seed 003 "授分标准修改" table (序号 1–20). Xuzhou 2024: seed 002 附件 二 4–7.
Each case quotes the seed line it implements.
"""
from decimal import Decimal

import pytest

from app.services.credit_rules import RuleError, compute
from app.services.rule_sets import BEIJING_2025, NATIONAL_2006, XUZHOU_2024

BJ = {row[0]: row for row in BEIJING_2025}
XZ = {row[0]: row for row in XUZHOU_2024}


def run(table, seq, **inputs):
    row = table[seq]
    kind, params = row[7], row[8]
    return compute(kind, params, inputs)


def test_beijing_has_the_20_standards_of_seed_003_exactly():
    # seed 003: "序号	授分标准名称	授分规则	学分类别	活动形式	备注" with 20 rows
    assert [r[0] for r in BEIJING_2025] == list(range(1, 21))
    assert BJ[1][1:6] == ("国家级继续医学教育项目主讲人授分", "每1小时2分（上限10分）", "国家级继续医学教育项目",
                         "继续医学教育项目", "主讲人分数不能超过项目分数")
    assert BJ[11][5] == "主讲人分数不能超过项目分数； 单次不少于1小时学习"
    assert BJ[18][1:5] == ("北京市继教委许可发证书项目", "许可发项目导入", "北京市继教委许可发证书项目",
                          "北京市继教委许可发证书项目")
    assert BJ[20][1:6] == ("单次继续医学教育实践活动", "0.2学分", "有组织的继续医学教育实践活动", "根据实际情况填写",
                          "单次不少于1小时授课")


# --- seed 003 "1/2/3 …主讲人授分 每1小时2分（上限10分） … 主讲人分数不能超过项目分数"
@pytest.mark.parametrize("seq", [1, 2, 3])
@pytest.mark.parametrize("hours, project, expected", [
    ("1", "10", "2"), ("3.5", "10", "6"), ("5", "10", "10"), ("8", "20", "10"),  # cap 10
    ("4", "5", "5"),  # lecturer above the project's credit → the project's credit
    ("0.99", "10", "0"),  # not one full hour
])
def test_lecturer_per_hour_capped_and_never_above_project(seq, hours, project, expected):
    result = run(BJ, seq, amount=hours, project_credits=project)
    assert result.credits == Decimal(expected)


def test_lecturer_needs_project_credits():
    with pytest.raises(RuleError, match="项目学分"):
        run(BJ, 1, amount="2")


# --- seed 003 "4 参加外地国家级继续医学教育项目 申报项目导入", "5 参加外地市级… 申报项目导入",
#     "18 北京市继教委许可发证书项目 许可发项目导入"
@pytest.mark.parametrize("seq", [4, 5, 18])
def test_imported_from_project(seq):
    assert run(BJ, seq, project_credits="6").credits == Decimal("6")
    with pytest.raises(RuleError):
        run(BJ, seq)


# --- seed 003 "6 进修学习满3个月 25分", "8 在职学历(学位)教育满3个月 25分", "12 政府指令性医疗卫生任务满3个月 25分"
@pytest.mark.parametrize("seq", [6, 8, 12])
def test_full_three_months_fixed_25(seq):
    result = run(BJ, seq, amount="3")
    assert result.credits == Decimal("25") and result.months == Decimal("3")
    with pytest.raises(RuleError, match="满3"):
        run(BJ, seq, amount="2.9")


# --- seed 003 "7/9/13 …不满3个月 每6小时1分（上限25分）"
@pytest.mark.parametrize("seq", [7, 9, 13])
@pytest.mark.parametrize("hours, expected", [("5.99", "0"), ("6", "1"), ("13", "2"), ("150", "25"), ("300", "25")])
def test_under_three_months_per_six_hours_cap_25(seq, hours, expected):
    assert run(BJ, seq, amount=hours).credits == Decimal(expected)


# --- seed 003 "10 继续医学教育实践活动主讲人授分 每3小时1分 … 主讲人分数不能超过项目分数"
def test_practice_lecturer_per_three_hours_not_above_project():
    assert run(BJ, 10, amount="9", project_credits="10").credits == Decimal("3")
    assert run(BJ, 10, amount="60", project_credits="4").credits == Decimal("4")


# --- seed 003 "11 单次继续医学教育实践活动主讲人授分 0.5学分 … 单次不少于1小时学习"
def test_single_practice_lecturer_half_credit_min_one_hour():
    assert run(BJ, 11, hours="1", project_credits="1").credits == Decimal("0.5")
    assert run(BJ, 11, hours="2", sessions="3", project_credits="1").credits == Decimal("1")  # 1.5 → project 1
    with pytest.raises(RuleError, match="单次不少于1小时"):
        run(BJ, 11, hours="0.99", project_credits="1")


# --- seed 003 "14 住院医师规范化培训 25分"
def test_residency_fixed_25():
    assert run(BJ, 14).credits == Decimal("25")


# --- seed 003 "15/16/17 参加…继续医学教育项目 每3小时1分（上限10分）"
@pytest.mark.parametrize("seq", [15, 16, 17])
@pytest.mark.parametrize("hours, expected", [
    ("2.9833", "0"),  # 2 h 59 min
    ("3", "1"), ("7", "2"),  # "7 h at 每3小时1分 = 2"
    ("30", "10"), ("31", "10"),  # cap reached
])
def test_attendance_per_three_hours_cap_10(seq, hours, expected):
    result = run(BJ, seq, amount=hours)
    assert result.credits == Decimal(expected)
    assert result.grantable == (expected != "0")


# --- seed 003 "19 继续医学教育实践活动 每6小时1分"
def test_practice_per_six_hours_no_cap():
    assert run(BJ, 19, amount="5.9").credits == Decimal("0")
    assert run(BJ, 19, amount="66").credits == Decimal("11")


# --- seed 003 "20 单次继续医学教育实践活动 0.2学分 … 单次不少于1小时授课"
def test_single_practice_point_two_min_one_hour():
    assert run(BJ, 20, hours="1").credits == Decimal("0.2")
    with pytest.raises(RuleError, match="单次不少于1小时"):
        run(BJ, 20, hours="0.99")


# --- seed 002 附件二 5 "SCI、EI、ISTP 10分 9分 8分 / 核心 8分 7分 6分 / 非核心 5分 4分 3分 / 内部刊物 3分 2分 1分"
@pytest.mark.parametrize("journal, ranks", [
    ("SCI、EI、ISTP", [10, 9, 8]), ("核心", [8, 7, 6]), ("非核心", [5, 4, 3]), ("内部刊物", [3, 2, 1]),
])
def test_xuzhou_papers_every_cell(journal, ranks):
    for rank, expected in enumerate(ranks, start=1):
        result = run(XZ, 1, row=journal, col=rank)
        assert result.credits == Decimal(expected) and result.credit_class == "Ⅱ类"
    # "仅第一至第三作者可授予Ⅱ类学分"
    with pytest.raises(RuleError, match="仅第一作者至第三作者"):
        run(XZ, 1, row=journal, col=4)


# --- seed 002 附件二 6 "国家级 10分 9分 8分 7分 6 分 / 省部级 8 分 7分 6分 5分 4 分 / 市、厅级 6 分 5分 4分 3分 2 分"
@pytest.mark.parametrize("level, ranks", [
    ("国家级", [10, 9, 8, 7, 6]), ("省部级", [8, 7, 6, 5, 4]), ("市、厅级", [6, 5, 4, 3, 2]),
])
def test_xuzhou_research_every_cell(level, ranks):
    for rank, expected in enumerate(ranks, start=1):
        assert run(XZ, 2, row=level, col=rank).credits == Decimal(expected)
    # "仅第一至第五成员可授予Ⅱ类学分"
    with pytest.raises(RuleError):
        run(XZ, 2, row=level, col=6)


def test_xuzhou_unknown_journal_class_is_a_clear_error():
    with pytest.raises(RuleError, match="期刊类别"):
        run(XZ, 1, row="SCI", col=1)


# --- seed 002 附件二 4 "外省、市进修 6 个月以下的，每月授予Ⅰ类学分 2 分或Ⅱ类学分 3 分；市内进修 6 个月以下的，每月授予Ⅱ类学分 3 分"
def test_xuzhou_further_study_per_month():
    assert run(XZ, 3, amount="5").credits == Decimal("10")  # 2 Ⅰ类 × 5
    assert run(XZ, 3, amount="5").credit_class == "Ⅰ类"
    assert run(XZ, 4, amount="5").credits == Decimal("15")  # 3 Ⅱ类 × 5
    assert run(XZ, 5, amount="2").credits == Decimal("6")
    with pytest.raises(RuleError, match="须少于6"):
        run(XZ, 5, amount="6")


# --- seed 002 附件二 4 "进修或规培 6 个月以上的视为完成当年规定学分数" and "执行援疆、援藏、援外医疗任务的 … 工作满 6 个月的视为完成当年规定学分数；6 个月以下的，每月授予Ⅰ类学分 2 分或Ⅱ类学分 3 分"
def test_xuzhou_six_months_and_aid_missions():
    assert run(XZ, 6, amount="6").months == Decimal("6")
    assert run(XZ, 7, amount="7").credits == Decimal("25")
    assert run(XZ, 8, amount="4").credits == Decimal("8")
    assert run(XZ, 9, amount="4").credits == Decimal("12")


# --- seed 002 附件二 3 "只适用于一级医疗机构或社区卫生服务机构 … 每门课授予Ⅱ类学分 2 分"
def test_xuzhou_adult_education_only_primary_or_community():
    assert run(XZ, 10, amount="3", institution_level="一级").credits == Decimal("6")
    assert run(XZ, 10, amount="1", institution_level="二级",
               institution_type="社区卫生服务中心").credits == Decimal("2")
    with pytest.raises(RuleError, match="只适用于"):
        run(XZ, 10, amount="1", institution_level="三级", institution_type="医院")


# --- seed 002 附件二 7 "全年最多可授予Ⅱ类学分 5 分。认可期刊、杂志目录如下：《中国继续医学教育》…"
def test_xuzhou_magazines_listed_only_and_capped():
    assert run(XZ, 11, credits="3", allowed_value="中国继续医学教育").credits == Decimal("3")
    assert run(XZ, 11, credits="8", allowed_value="临床皮肤科杂志").credits == Decimal("5")
    with pytest.raises(RuleError, match="杂志不在认可目录"):
        run(XZ, 11, credits="1", allowed_value="大众医学")


def test_bad_inputs_are_clear_errors():
    with pytest.raises(RuleError, match="未知的授分标准类型"):
        compute("unknown", {}, {})
    with pytest.raises(RuleError, match="请填写实际学时"):
        run(BJ, 15)
    with pytest.raises(RuleError, match="必须大于0"):
        run(BJ, 15, amount="-3")
    with pytest.raises(RuleError, match="必须是数字"):
        run(BJ, 15, amount="三小时")
    with pytest.raises(RuleError, match="不能超过"):
        run(BJ, 15, amount="5000")


def test_national_2006_classes():
    assert run({r[0]: r for r in NATIONAL_2006}, 1, project_credits="5").credit_class == "Ⅰ类"


# seed 003 "授分标准修改" (序号 授分标准名称 授分规则 学分类别 活动形式 备注), the 20 lines verbatim.
SEED_003_STANDARDS = [
    '1\t国家级继续医学教育项目主讲人授分\t每1小时2分（上限10分）\t国家级继续医学教育项目\t继续医学教育项目\t主讲人分数不能超过项目分数',
    '2\t市级继续医学教育项目主讲人授分\t每1小时2分（上限10分）\t市级继续医学教育项目\t继续医学教育项目\t主讲人分数不能超过项目分数',
    '3\t区级继续医学教育项目主讲人授分\t每1小时2分（上限10分）\t区级继续医学教育项目\t继续医学教育项目\t主讲人分数不能超过项目分数',
    '4\t参加外地国家级继续医学教育项目\t申报项目导入\t国家级继续医学教育项目\t继续医学教育项目\t',
    '5\t参加外地市级继续医学教育项目\t申报项目导入\t市级继续医学教育项目\t继续医学教育项目\t',
    '6\t进修学习满3个月\t25分\t进修学习\t满三个月学习时间\t',
    '7\t进修学习不满3个月\t每6小时1分（上限25分）\t进修学习\t不足三个月学习时间\t',
    '8\t在职学历(学位)教育满3个月\t25分\t在职学历(学位)教育\t满三个月学习时间\t',
    '9\t在职学历(学位)教育不满3个月\t每6小时1分（上限25分）\t在职学历(学位)教育\t不足三个月学习时间\t',
    '10\t继续医学教育实践活动主讲人授分\t每3小时1分\t有组织的继续医学教育实践活动\t根据实际情况填写\t主讲人分数不能超过项目分数',
    '11\t单次继续医学教育实践活动主讲人授分\t0.5学分\t有组织的继续医学教育实践活动\t根据实际情况填写\t主讲人分数不能超过项目分数； 单次不少于1小时学习',
    '12\t政府指令性医疗卫生任务满3个月\t25分\t政府指令性医疗卫生任务\t满三个月学习时间\t',
    '13\t政府指令性医疗卫生任务不满3个月\t每6小时1分（上限25分）\t政府指令性医疗卫生任务\t不足三个月学习时间\t',
    '14\t住院医师规范化培训\t25分\t住院医师规范化培训\t住院医师规范化培训\t',
    '15\t参加国家级继续医学教育项目\t每3小时1分（上限10分）\t国家级继续医学教育项目\t继续医学教育项目\t',
    '16\t参加市级继续医学教育项目\t每3小时1分（上限10分）\t市级继续医学教育项目\t继续医学教育项目\t',
    '17\t参加区级继续医学教育项目\t每3小时1分（上限10分）\t区级继续医学教育项目\t继续医学教育项目\t',
    '18\t北京市继教委许可发证书项目\t许可发项目导入\t北京市继教委许可发证书项目\t北京市继教委许可发证书项目\t',
    '19\t继续医学教育实践活动\t每6小时1分\t有组织的继续医学教育实践活动\t根据实际情况填写\t',
    '20\t单次继续医学教育实践活动\t0.2学分\t有组织的继续医学教育实践活动\t根据实际情况填写\t单次不少于1小时授课',
]


@pytest.mark.parametrize("line", SEED_003_STANDARDS, ids=[line.split("\t")[0] for line in SEED_003_STANDARDS])
def test_each_beijing_standard_is_its_seed_line(line):
    seq, name, rule, category, form, *remark = line.split("\t")
    row = BJ[int(seq)]
    assert row[1:5] == (name, rule, category, form)
    assert (row[5] or "") == (remark[0] if remark else "")
