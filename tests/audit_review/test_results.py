"""审验结果, 证明, 复审 (AUD-7) and the results / verdicts exports (AUD-8).

Seed 001 六、审验结果反馈: "各单位对抽查审验认定的不合格材料如有异议，应在12月2日17时前申请复审并提交相关证明材料，
最终认定结果由市继教委办公室确定。"  Seed 003: 审验结果 list "单位 科室 达标状态 证明".
"""
from __future__ import annotations

import datetime
import io

import openpyxl
import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Attachment
from app.models.audit_review import (
    AuditAppeal,
    AuditCertificate,
    AuditResult,
    AuditVerdict,
)
from app.services import attachments
from tests.audit_review.helpers import IN_PERIOD, PDF, audit_world

# Deadlines around the instant these tests run at (tests/audit_review/conftest.py), inside the audit period.
FUTURE = IN_PERIOD + datetime.timedelta(days=3)
PAST = IN_PERIOD - datetime.timedelta(hours=1)


def _judge(login, world, aw, fail_pb: bool = True):
    """The expert fails 张三's 12-credit item, passes the rest and computes; fails 王五's only credit."""
    c = login("expert")
    base = f"/audit-review/person/{world.pa}"
    c.post(f"{base}/verdict?cycle={aw.cycle}", data={"decision": "failed", "only": str(aw.c3),
                                                     f"version_{aw.c3}": "0", "reason": "无学分证书"})
    c.post(f"{base}/verdict?cycle={aw.cycle}", data={"decision": "passed", "rowid": [str(aw.c1), str(aw.c2), str(aw.c4)],
                                                     f"version_{aw.c1}": "0", f"version_{aw.c2}": "0", f"version_{aw.c4}": "0"})
    c.post(f"{base}/compute?cycle={aw.cycle}")
    if fail_pb:
        c.post(f"/audit-review/person/{world.pb}/verdict?cycle={aw.cycle}",
               data={"decision": "failed", "only": str(aw.pb_credit), f"version_{aw.pb_credit}": "0", "reason": "签到记录缺失"})
        c.post(f"/audit-review/person/{world.pb}/compute?cycle={aw.cycle}")
    return c


@pytest.fixture
def aw(app, world):
    with app.app_context():
        return audit_world(world, deadline=FUTURE)


def _ids(app, model, **where):
    with app.app_context():
        q = select(model.id)
        for k, v in where.items():
            q = q.where(getattr(model, k) == v)
        return list(db.session.scalars(q))


def test_result_list_is_scoped(app, world, aw, login):
    _judge(login, world, aw)
    city = login("city").get(f"/audit-results/?cycle={aw.cycle}").get_data(as_text=True)
    assert "张三" in city and "王五" in city and "李四" in city
    for label in ("单位", "科室", "达标状态", "证明"):
        assert label in city
    a = login("inst_a").get(f"/audit-results/?cycle={aw.cycle}").get_data(as_text=True)
    assert "张三" in a and "李四" in a and "王五" not in a
    b = login("inst_b").get(f"/audit-results/?cycle={aw.cycle}").get_data(as_text=True)
    assert "王五" in b and "张三" not in b
    d2 = login("district2").get(f"/audit-results/?cycle={aw.cycle}").get_data(as_text=True)
    assert "王五" in d2 and "张三" not in d2
    e = login("expert").get(f"/audit-results/?cycle={aw.cycle}").get_data(as_text=True)
    assert "张三" in e and "王五" in e and "李四" not in e
    met_only = login("city").get(f"/audit-results/?cycle={aw.cycle}&met=1").get_data(as_text=True)
    assert "张三" in met_only and "王五" not in met_only


def test_institution_b_cannot_reach_a_by_guessed_ids(app, world, aw, login):
    _judge(login, world, aw)
    b = login("inst_b")
    assert b.get(f"/audit-results/person/{world.pa}?cycle={aw.cycle}").status_code == 404
    assert b.get(f"/audit-results/certificate/{world.pa}?cycle={aw.cycle}").status_code == 404
    assert _ids(app, AuditCertificate) == []  # nothing issued by the refused request
    verdict_a = _ids(app, AuditVerdict, credit_id=aw.c3)[0]
    assert b.get(f"/audit-appeals/new/{verdict_a}").status_code == 404
    r = b.post(f"/audit-appeals/new/{verdict_a}", data={"reason": "x", "files": (io.BytesIO(PDF), "a.pdf")},
               content_type="multipart/form-data")
    assert r.status_code == 404
    assert _ids(app, AuditAppeal) == []
    appeals_b = b.get(f"/audit-appeals/?cycle={aw.cycle}").get_data(as_text=True)
    assert "急诊胸痛中心培训" not in appeals_b and "王五的活动" in appeals_b
    # A files an appeal; B cannot read its new evidence, nor decide (only the city decides)
    a = login("inst_a")
    a.post(f"/audit-appeals/new/{verdict_a}", data={"reason": "证书已补交", "files": (io.BytesIO(PDF), "补充证书.pdf")},
           content_type="multipart/form-data")
    appeal_id = _ids(app, AuditAppeal)[0]
    att_id = _ids(app, Attachment, owner_type="audit_appeal")[0]
    assert b.get(f"/audit-appeals/file/{att_id}").status_code == 404
    assert a.get(f"/audit-appeals/file/{att_id}").status_code == 200
    assert b.post(f"/audit-appeals/decide/{appeal_id}", data={"decision": "accept"}).status_code in (302, 403)
    assert a.post(f"/audit-appeals/decide/{appeal_id}", data={"decision": "accept"}).status_code in (302, 403)
    with app.app_context():
        assert db.session.get(AuditAppeal, appeal_id).status == "pending"
    # exports of B hold none of A's rows
    wb = openpyxl.load_workbook(io.BytesIO(b.get(f"/audit-results/export?cycle={aw.cycle}").data), read_only=True)
    names = [row[3] for row in wb.active.iter_rows(min_row=2, values_only=True)]
    assert names == ["王五"]
    wb = openpyxl.load_workbook(io.BytesIO(b.get(f"/audit-results/export-verdicts?cycle={aw.cycle}").data), read_only=True)
    contents = [row[7] for row in wb.active.iter_rows(min_row=2, values_only=True)]
    assert contents == ["王五的活动"]
    # the expert reads results but neither prints nor exports nor appeals
    e = login("expert")
    assert e.get(f"/audit-results/export?cycle={aw.cycle}").status_code in (302, 403)
    assert e.get(f"/audit-appeals/?cycle={aw.cycle}").status_code in (302, 403)


def test_certificate_pdf_and_public_verification(app, world, aw, login, client):
    _judge(login, world, aw, fail_pb=False)
    a = login("inst_a")
    r = a.get(f"/audit-results/certificate/{world.pa}?cycle={aw.cycle}")
    assert r.status_code == 200 and r.mimetype == "application/pdf" and r.data.startswith(b"%PDF")
    code = r.headers["X-Certificate-Code"]
    assert len(code) == 19
    assert f"/audit-verify/{code}".encode() in r.data  # the QR's address, also stored as the PDF subject
    # the same result prints the same certificate
    assert a.get(f"/audit-results/certificate/{world.pa}?cycle={aw.cycle}").headers["X-Certificate-Code"] == code
    # public page, no login
    page = client.get(f"/audit-verify/{code}").get_data(as_text=True)
    assert "证明真实有效" in page and "张三" in page and "达标" in page
    assert "未找到该证明" in client.get("/audit-verify/AAAA-BBBB-CCCC-DDDD").get_data(as_text=True)
    # the result changes (expert fails another credit and recomputes): the old certificate is void
    e = login("expert")
    e.post(f"/audit-review/person/{world.pa}/verdict?cycle={aw.cycle}",
           data={"decision": "failed", "only": str(aw.c4), f"version_{aw.c4}": "1", "reason": "签到记录缺失"})
    e.post(f"/audit-review/person/{world.pa}/compute?cycle={aw.cycle}")
    new_code = a.get(f"/audit-results/certificate/{world.pa}?cycle={aw.cycle}").headers["X-Certificate-Code"]
    assert new_code != code
    assert "已作废" in client.get(f"/audit-verify/{code}").get_data(as_text=True)
    assert "不达标" in client.get(f"/audit-verify/{new_code}").get_data(as_text=True)
    # no certificate before 达标计算
    r = a.get(f"/audit-results/certificate/{world.pa2}?cycle={aw.cycle}", follow_redirects=True)
    assert "尚未进行达标计算" in r.get_data(as_text=True)


def test_appeal_until_deadline_then_city_decides_final_result(app, world, aw, login):
    _judge(login, world, aw)
    verdict_pb = _ids(app, AuditVerdict, credit_id=aw.pb_credit)[0]
    b = login("inst_b")
    listing = b.get(f"/audit-appeals/?cycle={aw.cycle}").get_data(as_text=True)
    assert "王五的活动" in listing and "签到记录缺失" in listing and "申请复审" in listing
    # reason and new evidence are required; a refused file writes nothing
    r = b.post(f"/audit-appeals/new/{verdict_pb}", data={"reason": " "}, content_type="multipart/form-data",
               follow_redirects=True)
    assert "请上传新的证明材料" in r.get_data(as_text=True)
    r = b.post(f"/audit-appeals/new/{verdict_pb}", data={"reason": "", "files": (io.BytesIO(PDF), "a.pdf")},
               content_type="multipart/form-data", follow_redirects=True)
    assert "请填写复审理由" in r.get_data(as_text=True)
    r = b.post(f"/audit-appeals/new/{verdict_pb}", data={"reason": "有签到表", "files": (io.BytesIO(b"plain text"), "a.pdf")},
               content_type="multipart/form-data", follow_redirects=True)
    assert "类型不正确" in r.get_data(as_text=True)
    assert _ids(app, AuditAppeal) == [] and _ids(app, Attachment, owner_type="audit_appeal") == []
    r = b.post(f"/audit-appeals/new/{verdict_pb}", data={"reason": "有签到表", "files": (io.BytesIO(PDF), "签到表.pdf")},
               content_type="multipart/form-data", follow_redirects=True)
    assert "已提交复审申请" in r.get_data(as_text=True)
    appeal_id = _ids(app, AuditAppeal)[0]
    # once is enough
    r = b.post(f"/audit-appeals/new/{verdict_pb}", data={"reason": "再来", "files": (io.BytesIO(PDF), "b.pdf")},
               content_type="multipart/form-data", follow_redirects=True)
    assert "该材料已申请过复审" in r.get_data(as_text=True)
    # the expert can no longer change a verdict under appeal
    r = login("expert").post(f"/audit-review/person/{world.pb}/verdict?cycle={aw.cycle}",
                             data={"decision": "passed", "only": str(aw.pb_credit), f"version_{aw.pb_credit}": "1"},
                             follow_redirects=True)
    assert "已申请复审" in r.get_data(as_text=True)
    # the city rejects without a reason: refused; accepts: the verdict passes and the result is recomputed
    city = login("city")
    r = city.post(f"/audit-appeals/decide/{appeal_id}", data={"decision": "reject", "reason": ""}, follow_redirects=True)
    assert "请填写复审不通过的原因" in r.get_data(as_text=True)
    city.post(f"/audit-appeals/decide/{appeal_id}", data={"decision": "accept", "reason": "签到表属实"})
    with app.app_context():
        appeal = db.session.get(AuditAppeal, appeal_id)
        assert appeal.status == "accepted"
        v = db.session.get(AuditVerdict, verdict_pb)
        assert v.verdict == "passed" and v.via_appeal
        result = db.session.scalar(select(AuditResult).where(AuditResult.person_id == world.pb))
        assert result.expert_met is False and result.met is True  # the final result is what counts
    page = city.get(f"/audit-results/?cycle={aw.cycle}&met=1").get_data(as_text=True)
    assert "王五" in page and "复审后" in page


def test_appeal_after_the_deadline_is_refused(app, world, login):
    with app.app_context():
        aw = audit_world(world, deadline=PAST)
    _judge(login, world, aw)
    verdict_pb = _ids(app, AuditVerdict, credit_id=aw.pb_credit)[0]
    b = login("inst_b")
    assert "复审申请已截止" in b.get(f"/audit-appeals/?cycle={aw.cycle}").get_data(as_text=True)
    r = b.post(f"/audit-appeals/new/{verdict_pb}", data={"reason": "有签到表", "files": (io.BytesIO(PDF), "签到表.pdf")},
               content_type="multipart/form-data", follow_redirects=True)
    assert "复审申请已截止" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditAppeal)) == 0
        assert db.session.scalar(select(func.count()).select_from(Attachment)) == 0


def test_appeal_deadline_in_the_service(app, world):
    """The service compares with the cycle's deadline itself (seed 001: "12月2日17时前")."""
    from app.models.audit import AuditCycle
    from app.services import audit_review as R
    from app.services.scope import Scope

    with app.app_context():
        aw = audit_world(world)  # seed-shaped deadline: 2025-12-02 17:00
        cycle = db.session.get(AuditCycle, aw.cycle)
        assert cycle.appeal_deadline == datetime.datetime(2025, 12, 2, 17, 0)
        R.set_verdicts(db.session, R.Auditor(aw.expert_user, "expert"), cycle, world.pb, {aw.pb_credit: 0}, "failed", "缺")
        db.session.commit()
        verdict = db.session.scalar(select(AuditVerdict))
        unit = R.Auditor(None, "scope", Scope("institution", org_id=world.b))
        with pytest.raises(R.ReviewError, match="复审申请已截止"):
            R.file_appeal(db.session, unit, verdict, "理由", user_id=None, now=datetime.datetime(2025, 12, 2, 17, 0, 1))
        appeal = R.file_appeal(db.session, unit, verdict, "理由", user_id=None, now=datetime.datetime(2025, 12, 2, 16, 59))
        assert appeal.status == "pending"
        other = R.Auditor(None, "scope", Scope("institution", org_id=world.a))
        db.session.rollback()
        with pytest.raises(R.ReviewError, match="无权"):
            R.file_appeal(db.session, other, verdict, "理由", user_id=None, now=datetime.datetime(2025, 12, 1))
        db.session.remove()


def test_exports_stream_results_and_verdicts(app, world, aw, login):
    _judge(login, world, aw)
    city = login("city")
    r = city.get(f"/audit-results/export?cycle={aw.cycle}")
    assert r.status_code == 200
    rows = list(openpyxl.load_workbook(io.BytesIO(r.data), read_only=True).active.iter_rows(values_only=True))
    assert rows[0][:8] == ("审验", "单位", "科室", "姓名", "IC卡号", "职称", "审核状态", "达标状态")
    by_name = {row[3]: row for row in rows[1:]}
    assert by_name["张三"][7] == "达标" and by_name["王五"][7] == "不达标" and by_name["李四"][7] == "未计算"
    r = city.get(f"/audit-results/export-verdicts?cycle={aw.cycle}")
    rows = list(openpyxl.load_workbook(io.BytesIO(r.data), read_only=True).active.iter_rows(values_only=True))
    verdicts = {row[7]: (row[15], row[16]) for row in rows[1:]}
    assert verdicts["急诊胸痛中心培训"] == ("不通过", "无学分证书")
    assert verdicts["心血管介入新进展"] == ("通过", None) or verdicts["心血管介入新进展"][0] == "通过"
    assert len(verdicts) == 5


def test_result_detail_page(app, world, aw, login):
    _judge(login, world, aw)
    with app.app_context():
        attachments.store_bytes(PDF, "pdf", "x.pdf", "credit", aw.c1)
        db.session.commit()
    page = login("inst_a").get(f"/audit-results/person/{world.pa}?cycle={aw.cycle}").get_data(as_text=True)
    assert "达标（25/25学分）" in page and "无学分证书" in page and "打印证明" in page


def test_every_page_renders_in_both_languages(app, world, aw, login):
    _judge(login, world, aw)
    verdict_pb = _ids(app, AuditVerdict, credit_id=aw.pb_credit)[0]
    city = login("city")
    pages = [f"/audit-review/?cycle={aw.cycle}", f"/audit-review/persons?cycle={aw.cycle}",
             f"/audit-review/person/{world.pa}?cycle={aw.cycle}", f"/audit-results/?cycle={aw.cycle}",
             f"/audit-results/person/{world.pa}?cycle={aw.cycle}", f"/audit-appeals/?cycle={aw.cycle}",
             f"/audit-appeals/new/{verdict_pb}", "/audit-verify/"]
    for lang in ("zh", "en"):
        for url in pages:
            r = city.get(url + ("&" if "?" in url else "?") + f"_l_={lang}")
            assert r.status_code == 200, (lang, url)
    assert "Audit results" in city.get(f"/audit-results/?cycle={aw.cycle}&_l_=en").get_data(as_text=True)
    city.get("/audit-results/?_l_=zh")
    # roles without the audit pages are refused, not shown an empty page
    sec = login("sec_a")
    assert sec.get(f"/audit-results/?cycle={aw.cycle}").status_code in (302, 403)
    assert sec.get(f"/audit-review/?cycle={aw.cycle}").status_code in (302, 403)
