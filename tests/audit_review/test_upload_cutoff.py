"""Upload cutoff (issue 16 item 2).

Seed 001 七(一): "主管部门要对本单位卫生技术人员参加继续医学教育活动所获取的学分严格审核，并于11月5日24:00时前上传
有关数据，逾期未上传的数据，将无法纳入学分审验" — a credit of the window uploaded (credit.uploaded_at) after the
cycle's upload_cutoff is out of the audit, and the expert's person page says why.
"""
from __future__ import annotations

import datetime
import re

from app.extensions import db
from app.models.audit import AuditCycle
from app.models.audit_review import AuditResult, AuditVerdict
from tests.audit_review.helpers import audit_world
from tests.credit_helpers import credit

CUTOFF = datetime.datetime(2025, 11, 5, 23, 59, 59)  # "11月5日24:00时前"


def test_credits_uploaded_after_the_cutoff_are_out_of_the_audit(app, world, login):
    with app.app_context():
        aw = audit_world(world)
        cycle = db.session.get(AuditCycle, aw.cycle)
        cycle.upload_cutoff = CUTOFF
        late = credit(world.pa, 5, datetime.date(2025, 10, 20), content="逾期上传的讲座",
                      uploaded_at=datetime.datetime(2025, 11, 6, 9, 0)).id
        last_second = credit(world.pa, 3, datetime.date(2025, 10, 21), content="截止前一秒上传",
                             uploaded_at=CUTOFF).id
        db.session.commit()
        db.session.remove()
    expert = login("expert")
    page = expert.get(f"/audit-review/person/{world.pa}?cycle={aw.cycle}").get_data(as_text=True)
    audited, _, rest = page.partition('id="late-credits"')
    assert f'data-credit="{last_second}"' in audited and f'data-credit="{late}"' not in audited
    row = re.search(rf'<tr data-credit="{late}">.*?</tr>', rest, re.DOTALL).group(0)
    assert "逾期上传的讲座" in row and "2025-11-06 09:00" in row
    assert "上传时间晚于本次审验截止时间（2025-11-05 23:59）" in row
    # a verdict on the late credit is refused; 达标计算 does not count it
    r = expert.post(f"/audit-review/person/{world.pa}/verdict?cycle={aw.cycle}",
                    data={"decision": "passed", "only": str(late), f"version_{late}": "0"}, follow_redirects=True)
    assert "不在本次审验的学分时间范围内" in r.get_data(as_text=True)
    ids = [aw.c1, aw.c2, aw.c3, aw.c4, last_second]
    data = {"decision": "passed", "rowid": [str(i) for i in ids]} | {f"version_{i}": "0" for i in ids}
    expert.post(f"/audit-review/person/{world.pa}/verdict?cycle={aw.cycle}", data=data)
    expert.post(f"/audit-review/person/{world.pa}/compute?cycle={aw.cycle}")
    with app.app_context():
        assert {v.credit_id for v in db.session.query(AuditVerdict)} == set(ids)
        result = db.session.query(AuditResult).filter_by(person_id=world.pa).one()
        assert result.total == 40  # 10 + 8 + 12 + 7 + 3; the late 5 is not counted
        db.session.remove()


def test_no_cutoff_keeps_every_credit_of_the_window(app, world, login):
    with app.app_context():
        aw = audit_world(world)
        late = credit(world.pa, 5, datetime.date(2025, 10, 20), content="逾期上传的讲座",
                      uploaded_at=datetime.datetime(2025, 11, 6, 9, 0)).id
        db.session.commit()
        db.session.remove()
    page = login("expert").get(f"/audit-review/person/{world.pa}?cycle={aw.cycle}").get_data(as_text=True)
    assert f'data-credit="{late}"' in page and 'id="late-credits"' not in page
