"""Big Excel exports run as a job (JOB-1): above EXPORT_INLINE_MAX rows the export page shows a
progress bar and the file is downloaded from the job — the list's own scope and filters, its owner
only. Small exports still stream straight back."""
from __future__ import annotations

import io
import re

import openpyxl
import pytest

from tests.credit_helpers import B_ONLY, seed_credits


@pytest.fixture
def credits(app, world):
    with app.app_context():
        return seed_credits(world)


@pytest.fixture
def small_inline_max(app):
    saved = app.config["EXPORT_INLINE_MAX"]
    app.config["EXPORT_INLINE_MAX"] = 1
    try:
        yield
    finally:
        app.config["EXPORT_INLINE_MAX"] = saved


def _rows(data: bytes) -> list[tuple]:
    return list(openpyxl.load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))


def job_of(response, limit: int = 2) -> str:
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "已转为后台任务" in html and f"超过{limit}条" in html
    return re.search(r'data-status-url="/jobs/([0-9a-f]+)/status"', html).group(1)


def test_a_big_export_becomes_a_job_with_the_lists_rows(app, world, credits, login):
    c = login("inst_a")
    streamed = c.get("/credits/export/")  # under the default limit: streamed straight back
    assert streamed.mimetype.endswith("spreadsheetml.sheet")
    expected = _rows(streamed.data)
    assert len(expected) == 7  # header + the 6 credits of 甲医院

    saved = app.config["EXPORT_INLINE_MAX"]
    app.config["EXPORT_INLINE_MAX"] = 2
    try:
        job_id = job_of(c.get("/credits/export/"))
        status = c.get(f"/jobs/{job_id}/status").get_json()
        assert (status["status"], status["done"], status["total"], status["has_file"]) == ("finished", 6, 6, True)
        assert status["message"] == "导出完成，共6条" and status["title"] == "导出学分记录"
        r = c.get(f"/jobs/{job_id}/download")
        assert r.status_code == 200
        rows = _rows(r.data)
        assert rows[0] == expected[0] and sorted(rows[1:], key=str) == sorted(expected[1:], key=str)
        assert all(B_ONLY not in str(row) for row in rows)  # the scope holds in the job too
        # Filters travel with the job: 学分来源 = 自学 only (3 rows of 甲医院 would stream; 2 of them do).
        assert c.get("/credits/export/?_flt_0_source=self_study").mimetype.endswith("spreadsheetml.sheet")
        app.config["EXPORT_INLINE_MAX"] = 1
        job_id = job_of(c.get("/credits/export/?_flt_0_source=self_study"), 1)
        rows = _rows(c.get(f"/jobs/{job_id}/download").data)
        assert {r[4] for r in rows[1:]} == {"自学一", "自学二"}
        # Another institution's admin cannot read the file by guessing the job id.
        assert login("inst_b").get(f"/jobs/{job_id}/download").status_code == 404
        assert login("inst_b").get(f"/jobs/{job_id}/status").status_code == 404
    finally:
        app.config["EXPORT_INLINE_MAX"] = saved


def test_other_list_exports_take_the_same_path(app, world, login, small_inline_max):
    c = login("inst_a")
    streamed = _rows(c.get("/persons/export/?_flt_0_name=%E4%B8%8D%E5%AD%98%E5%9C%A8").data)  # 0 rows: inline
    job_id = job_of(c.get("/persons/export/"), 1)
    rows = _rows(c.get(f"/jobs/{job_id}/download").data)
    assert rows[0] == streamed[0]
    with app.app_context():
        from app.extensions import db
        from app.models import Person

        cards = {p.card_no for p in db.session.query(Person).filter(Person.institution_id == world.a)}
    column = rows[0].index("IC卡号")
    assert len(cards) >= 2 and {r[column] for r in rows[1:]} == cards
