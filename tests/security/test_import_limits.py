"""Import bombs and sloppy card files (issue 17.6): the uncompressed size and the row count are checked
before a sheet is parsed, with a Chinese message; the card-reader import normalises card numbers
(full-width, lost leading zeros) and writes all or nothing; the catalogue template's example row is not
imported."""
from __future__ import annotations

import io
import zipfile

import openpyxl
import pytest

from app.services import checkin, sheets
from tests.helpers import xlsx_bytes


def _many_empty_rows(rows: int, dimension: bool = True) -> bytes:
    """A small .xlsx whose sheet declares (and holds) ``rows`` empty rows: deflate makes it tiny."""
    book = io.BytesIO()
    openpyxl.Workbook().save(book)
    src = zipfile.ZipFile(io.BytesIO(book.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                body = "".join(f'<row r="{i}"/>' for i in range(2, rows + 2))
                dim = f'<dimension ref="A1:A{rows + 1}"/>' if dimension else ""
                data = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                        f'{dim}<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>姓名</t></is></c></row>'
                        f'{body}</sheetData></worksheet>').encode()
            dst.writestr(item, data)
    return out.getvalue()


def _bomb(megabytes: int) -> bytes:
    """An .xlsx-shaped zip whose one part inflates to ``megabytes`` MB."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        dst.writestr("[Content_Types].xml", b"<Types/>")
        dst.writestr("xl/workbook.xml", b"<workbook/>")
        dst.writestr("xl/worksheets/sheet1.xml", b" " * (megabytes * 1024 * 1024))
    return out.getvalue()


@pytest.mark.parametrize("dimension", [True, False])
def test_a_million_empty_rows_are_refused_at_once(tmp_path, dimension, monkeypatch):
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(_many_empty_rows(1_000_000 if dimension else 200_000, dimension))
    assert path.stat().st_size < 3_000_000
    read = []  # rows the parser produced: the refusal comes at the cap, not after the whole sheet
    limited = sheets.limited

    def counted(rows, max_rows):
        def each():
            for values in rows:
                read.append(1)
                yield values
        return limited(each(), max_rows)

    monkeypatch.setattr(sheets, "limited", counted)
    with pytest.raises(sheets.ImportFileError, match="文件行数超过50000行"):
        list(sheets.read_rows(str(path), ["姓名"]))
    # a declared dimension is refused before any row is parsed; without one, at row 50,002 (was all rows)
    assert len(read) == (0 if dimension else sheets.MAX_ROWS + 2)


def test_an_inflating_zip_is_refused_before_parsing(tmp_path):
    path = tmp_path / "zip.xlsx"
    path.write_bytes(_bomb(80))
    assert path.stat().st_size < 1_000_000
    with pytest.raises(sheets.ImportFileError, match="解压后超过60MB"):
        list(sheets.read_rows(str(path), ["姓名"]))
    with pytest.raises(checkin.CheckInError, match="解压后超过60MB"):
        checkin.read_swipes(path.read_bytes(), 10 * 1024 * 1024)


def test_card_reader_xlsx_is_capped_too():
    with pytest.raises(checkin.CheckInError, match="文件行数超过"):
        checkin.read_swipes(_many_empty_rows(300_000), 10 * 1024 * 1024)


def test_import_job_reports_the_limit_in_chinese(app, world, login):
    from app.extensions import db
    from app.models import Job, Person

    c = login("inst_a")
    with app.app_context():
        before = db.session.query(Person).count()
    c.post("/persons/import/", data={"file": (io.BytesIO(_many_empty_rows(1_000_000)), "人员.xlsx")},
           content_type="multipart/form-data")
    with app.app_context():
        job = db.session.query(Job).order_by(Job.id.desc()).first()
        assert job is not None and job.status == "failed" and "文件行数超过50000行" in job.message
        assert db.session.query(Person).count() == before


# ------------------------------------------------------------------------------- card numbers
def test_card_numbers_are_normalised(app, world):
    """Full-width characters and numbers that lost their leading zeros match the stored card."""
    import datetime

    from app.extensions import db
    from app.models import Person
    from app.models.projects import CheckIn
    from tests.projects.helpers import standard_project

    with app.app_context():
        person = db.session.get(Person, world.pc)
        person.card_no = "00012345"
        db.session.commit()
        project = standard_project(world.a)
        at = datetime.datetime(2025, 4, 24, 9, 0)
        full_width = "".join(chr(ord(ch) + 0xFEE0) for ch in "A0000001")
        data = xlsx_bytes([[full_width, at, "R1"],  # Ａ０００００００１
                           [12345, at, "R1"],  # Excel number: 00012345 without its zeros
                           [" A0000002 ", at, "R1"]], ["卡号", "刷卡时间", "读卡器编号"]).getvalue()
        swipes = checkin.read_swipes(data, 10 * 1024 * 1024)
        assert [s.card for s in swipes] == ["A0000001", "12345", "A0000002"]
        result = checkin.import_swipes(db.session, project, swipes, "a.xlsx", "inst_a")
        db.session.commit()
        assert result.matched == 3 and not result.unknown
        people = {p for (p,) in db.session.query(CheckIn.person_id)}
        assert people == {world.pa, world.pa2, world.pc}


def test_card_file_with_an_unknown_card_writes_nothing(app, world):
    import datetime

    from app.extensions import db
    from app.models.projects import AttendanceUpload, CheckIn
    from tests.projects.helpers import standard_project

    with app.app_context():
        project = standard_project(world.a)
        at = datetime.datetime(2025, 4, 24, 9, 0)
        swipes = [checkin.Swipe(2, "A0000001", at, "R1"), checkin.Swipe(3, "Z9999999", at, "R1")]
        with pytest.raises(checkin.CheckInError, match="共1处错误，未导入任何数据。第3行“卡号”：卡号Z9999999在系统中不存在"):
            checkin.import_swipes(db.session, project, swipes, "a.csv", "inst_a")
        db.session.rollback()
        assert db.session.query(CheckIn).count() == 0 and db.session.query(AttendanceUpload).count() == 0


# ------------------------------------------------------------------------------- catalogue template
def test_catalogue_template_uploaded_unchanged_imports_nothing(tmp_path):
    from app.services import catalog_import

    path = tmp_path / "t.xlsx"
    path.write_bytes(catalog_import.template_workbook().getvalue())
    assert list(catalog_import.read_rows(str(path))) == []
    # A real row after the example is read.
    book = openpyxl.load_workbook(path)
    book.worksheets[0].append(["2025-14-03-021 (京)", "真实项目", "市级继续医学教育项目", "", 2, 6, 2025, "", 50])
    book.save(path)
    rows = list(catalog_import.read_rows(str(path)))
    assert [(n, r["项目名称"]) for n, r in rows] == [(3, "真实项目")]
