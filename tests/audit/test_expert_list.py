"""Seed 003 审验专家账号 list: "年度 用户名 负责人 [查询] [新增] [导出]" — a 用户名 search and the 导出 button
(issue 16 item 13); the export follows the search."""
from __future__ import annotations

import io

import openpyxl


def test_expert_list_searches_by_username_and_exports_what_it_shows(app, world, login):
    c = login("city")
    for username, name in (("wangling", "王"), ("mazhen", "马"), ("xuyanmei", "许")):
        assert c.post("/auditexpert/add", data={"username": username, "name": name, "year": "2024",
                                                "password": ""}).status_code in (200, 302)
    page = c.get("/auditexpert/list/").get_data(as_text=True)
    assert 'id="export-experts"' in page and "导出" in page
    assert all(u in page for u in ("wangling", "mazhen", "xuyanmei"))
    page = c.get("/auditexpert/list/?_flt_0_user=wang").get_data(as_text=True)
    assert "wangling" in page and "mazhen" not in page and "xuyanmei" not in page
    assert "_flt_0_user=wang" in page.replace("&amp;", "&")  # the 导出 link carries the search
    book = openpyxl.load_workbook(io.BytesIO(c.get("/auditexpert/export/?_flt_0_user=wang").data))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][0] == "用户名" and [r[0] for r in rows[1:]] == ["wangling"]
    # a unit cannot see the list at all
    assert login("inst_a").get("/auditexpert/list/?_flt_0_user=wang").status_code in (302, 403, 404)
