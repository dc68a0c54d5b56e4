"""A stored file missing on disk answers 404 with a Chinese message on the download / preview routes
(issue 12 point 4), never a 500; every route serving a stored file goes through views/files.py."""
from __future__ import annotations

import ast
import io
import os
from pathlib import Path

from sqlalchemy import select

from app.extensions import db
from app.models import Attachment
from tests.activities.helpers import PDF

MISSING = "文件不存在或已被删除，请联系管理员恢复该文件或重新上传"
VIEWS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "app", "views")


def lose_file(app, att_id: int) -> None:
    from app.services import attachments

    with app.app_context():
        os.unlink(attachments.path_of(db.session.get(Attachment, att_id)))


def assert_missing(client, url: str) -> None:
    r = client.get(url)
    assert r.status_code == 404, url
    assert MISSING in r.get_data(as_text=True)
    r = client.get(url, headers={"Accept": "application/json"})
    assert (r.status_code, r.get_json()) == (404, {"message": MISSING})


def test_manual_credit_evidence(app, world, login):
    from tests.review.test_manual_views import _enter

    assert _enter(login("tech_a")).status_code == 302
    with app.app_context():
        att = db.session.scalar(select(Attachment.id))
    inst = login("inst_a")
    assert inst.get(f"/manual-credits/file/{att}").status_code == 200
    lose_file(app, att)
    assert_missing(inst, f"/manual-credits/file/{att}")


def test_filing_attachment(app, world, login):
    from app.models.supervision import Filing
    from tests.supervision.test_views import _form

    inst = login("inst_a")
    r = inst.post("/filing/add", data=_form(files=(io.BytesIO(PDF), "备案表.pdf")), content_type="multipart/form-data")
    assert r.status_code == 302
    with app.app_context():
        pk = db.session.scalar(select(Filing.id))
        att = db.session.scalar(select(Attachment.id).where(Attachment.owner_type == "sup_filing"))
    assert inst.get(f"/filing/file/{pk}/{att}").data == PDF
    lose_file(app, att)
    assert_missing(inst, f"/filing/file/{pk}/{att}")


def test_every_send_file_of_a_stored_file_goes_through_views_files():
    """send_file(...) in app/views is given stored_path(att), job_file_path(...) or content made on the spot —
    never a path read from a row (a missing file would be a 500, a tampered path a leak). Stored files go
    through the one download helper, views/files.send_stored (send_attachment for an attachment): its
    callers give it stored_path / job_file_path, and it alone hands a path to send_file."""
    allowed_calls = {"stored_path", "job_file_path", "template_workbook"}
    seen = set()
    for path in sorted(Path(VIEWS).rglob("*.py")):
        name = str(path.relative_to(VIEWS))
        tree = ast.parse(path.read_text(encoding="utf-8"))
        helper = {n.lineno: n.end_lineno for n in ast.walk(tree)
                  if isinstance(n, ast.FunctionDef) and name == "files.py" and n.name == "send_stored"}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or getattr(node.func, "id", getattr(node.func, "attr", None)) not in (
                    "send_file", "send_stored"):
                continue
            first = node.args[0]
            if isinstance(first, ast.Call):
                callee = getattr(first.func, "id", None) or getattr(first.func, "attr", None)
                assert callee in allowed_calls, f"{name}:{node.lineno} send_file({ast.unparse(first)})"
                seen.add(callee)
            elif any(start <= node.lineno <= end for start, end in helper.items()):
                assert isinstance(first, ast.Name) and first.id == "path"  # send_stored's own parameter
            else:  # a local buffer or temporary file the view just wrote
                assert isinstance(first, ast.Name) and first.id in ("out", "buffer", "buf", "data"), \
                    f"{name}:{node.lineno} send_file({ast.unparse(first)})"
    assert {"stored_path", "job_file_path"} <= seen
