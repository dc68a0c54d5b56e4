"""A person's 学分档案 (issue 3 point 4): header as in seed 003 ("姓名: … IC卡号: … 单位: … 科室: … 专业: …
职称: … 达标状态: …"), the year's credits and the explained compliance; scoped like every page."""
from __future__ import annotations

import re
from html import unescape

import pytest

from tests.credit_helpers import B_ONLY, seed_credits


@pytest.fixture
def credits(app, world):
    with app.app_context():
        return seed_credits(world)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def _row(html: str, content: str) -> str:
    """The text of the transcript table row holding ``content``."""
    table = html.split('id="transcript-credits"')[1]
    row = next(r for r in table.split("<tr") if content in r)
    return _text("<tr" + row)


def test_transcript_header_credits_and_explanation(app, world, credits, login):
    html = login("inst_a").get(f"/transcript/{world.pa}?year=2025").get_data(as_text=True)
    header = _text(html.split('id="transcript-header"')[1].split("</div>")[0])
    for part in ("姓名: 张三", "IC卡号: A0000001", "单位: 甲医院（三级）", "科室: 心内科", "职称: 主治医师",
                 "达标状态: 不达标"):
        assert part in header, (part, header)
    assert "2024-11-01 至 2025-10-31" in html and "北京市2025年授分标准" in html
    explanation = _text(html.split('id="compliance-explanation"')[1].split('id="transcript-credits"')[0])
    assert "还差5学分（要求25学分，已获20学分）" in explanation
    assert "要求25学分，计入20学分" in explanation
    # totals per category: 国家级 10, 自学 capped at 10
    assert "国家级继续医学教育项目 10" in explanation and "有计划的自学 10" in explanation
    # every credit of the year with why it counted or not
    assert _row(html, "心血管介入新进展").endswith("刷卡 单位审核通过 10 计入 ")
    assert "2025-01-01(01)" in _row(html, "心血管介入新进展")
    assert _row(html, "自学二").endswith("2 封顶：有计划的自学每年最多10学分，本条计入2分 ")
    assert _row(html, "被驳回的活动").endswith("审核不通过 0 未计入：状态为“审核不通过” ")
    assert "未计入：不在学分年度（2024-11-01至2025-10-31）内" in _row(html, "补传的旧学分")
    assert "李四的活动" not in html and B_ONLY not in html


def test_met_person_and_full_year_text(app, world, credits, login):
    html = login("inst_a").get(f"/transcript/{world.pa2}?year=2025").get_data(as_text=True)
    assert "达标（25/25学分）" in _text(html) and "达标状态: 达标" in _text(html)
    assert "达标计算结果于" in html  # the stored result the hook wrote


def test_year_without_rule_set_and_default_year(app, world, credits, login):
    c = login("inst_a")
    text = _text(c.get(f"/transcript/{world.pa}?year=2023").get_data(as_text=True))
    assert "本年度暂无学分记录" in text and "还差" not in text
    # default: the newest year a rule set judges (2025 here)
    assert '<option value="2025" selected>' in c.get(f"/transcript/{world.pa}").get_data(as_text=True)


@pytest.mark.parametrize("username, person, status", [
    ("inst_a", "pb", 404), ("inst_a", "pc", 404), ("district1", "pb", 404), ("district1", "pc", 200),
    ("sec_a", "pa2", 404), ("sec_a", "pa", 200), ("tech_a", "pb", 404), ("tech_a", "pa2", 404),
    ("tech_a", "pa", 200), ("inst_b", "pb", 200), ("city", "pb", 200), ("expert", "pa", 403),
])
def test_transcript_is_scoped(app, world, credits, login, username, person, status):
    r = login(username).get(f"/transcript/{getattr(world, person)}?year=2025")
    assert r.status_code == status
    if status == 404:
        assert "心血管介入新进展" not in r.get_data(as_text=True) and B_ONLY not in r.get_data(as_text=True)


def test_technician_opens_own_transcript(app, world, credits, login):
    c = login("tech_a")
    html = c.get("/transcript/me?year=2025").get_data(as_text=True)
    assert "姓名:</strong> 张三" in html and "心血管介入新进展" in html
    assert "/transcript/me" in c.get("/").get_data(as_text=True)  # 我的学分档案 in the menu
    # roles that are not a person: a page saying so (city), or no permission
    assert "您的账号未关联学员" in login("city").get("/transcript/me").get_data(as_text=True)
    assert login("sec_a").get("/transcript/me").status_code == 403


def test_person_list_and_show_link_to_the_transcript(app, world, credits, login):
    c = login("inst_a")
    html = c.get("/persons/list/").get_data(as_text=True)
    assert f'href="/transcript/{world.pa}"' in html and f'href="/transcript/{world.pa2}"' in html
    html = c.get(f"/persons/show/{world.pa}").get_data(as_text=True)
    assert f'href="/transcript/{world.pa}"' in html and "学分档案" in html
