"""统计分析 page (SYS-7): each chart's table, inside the user's scope; Chart.js bundled, no CDN."""
import datetime
import re

import pytest

from app.services.compliance import recompute
from app.services.rule_sets import policy_params
from app.services.scope import Scope
from tests.rule_helpers import add_credit, rule_set

D = datetime.date


@pytest.fixture
def results(app, world):
    from app.extensions import db

    with app.app_context():
        add_credit(world.pa, 25, D(2025, 2, 1))  # 甲医院 三级 东城区: met
        add_credit(world.pa2, 5, D(2025, 2, 2))  # not met
        add_credit(world.pc, 30, D(2025, 5, 1))  # 丙社区 一级 东城区: met
        add_credit(world.pb, 12, D(2025, 5, 2))  # 乙医院 二级 西城区: not met
        db.session.commit()
        bj = rule_set("BJ2025")
        recompute(db.session, policy_params(bj), bj.id, 2025, Scope("all"))
        db.session.commit()
        return bj.id


def table(html: str, key: str) -> list[list[str]]:
    body = re.search(rf'id="table-{key}".*?<tbody>(.*?)</tbody>', html, re.DOTALL).group(1)
    return [re.findall(r"<td>(.*?)</td>", row) for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.DOTALL)
            if "<td>" in row]


def test_city_sees_every_district(app, world, login, results):
    html = login("city").get("/stats/").get_data(as_text=True)
    assert table(html, "district") == [["东城区", "3", "2", "66.7%"], ["西城区", "2", "0", "0.0%"]]
    assert table(html, "institution_level") == [["三级", "2", "1", "50.0%"], ["二级", "2", "0", "0.0%"],
                                                ["一级", "1", "1", "100.0%"]]
    assert table(html, "title_level") == [["中级", "5", "2", "40.0%"]]
    months = {m: (n, s) for m, n, s in table(html, "months")}
    assert len(months) == 12 and months["2025-02"] == ("2", "30") and months["2025-05"] == ("2", "42")
    assert months["2024-11"] == ("0", "0")
    assert "vendor/chartjs/chart.umd.min.js" in html and "cdn" not in html.lower()
    assert "北京市2025年授分标准" in html


def test_institution_admin_sees_only_its_institution(app, world, login, results):
    html = login("inst_a").get("/stats/").get_data(as_text=True)
    assert table(html, "district") == [["东城区", "2", "1", "50.0%"]]
    assert table(html, "institution_level") == [["三级", "2", "1", "50.0%"]]
    months = {m: (n, s) for m, n, s in table(html, "months")}
    assert months["2025-02"] == ("2", "30") and months["2025-05"] == ("0", "0")


def test_district_admin_sees_its_district(app, world, login, results):
    html = login("district2").get("/stats/").get_data(as_text=True)
    assert table(html, "district") == [["西城区", "2", "0", "0.0%"]]
    assert "东城区" not in html


def test_choose_year_and_rule_set(app, world, login, results):
    html = login("city").get(f"/stats/?result=2025-{results}").get_data(as_text=True)
    assert f'value="2025-{results}" selected' in html


def test_empty_and_forbidden(app, world, login):
    assert "暂无达标计算结果" in login("city").get("/stats/").get_data(as_text=True)
    assert login("tech_a").get("/stats/").status_code in (302, 403)


def test_chart_library_is_served(app, client):
    r = client.get("/static/vendor/chartjs/chart.umd.min.js")
    assert r.status_code == 200 and b"Chart.js v4" in r.data[:200]
    r.close()
