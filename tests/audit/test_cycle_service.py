"""The audit-administration rules the pages call (services/audit.py, services/audit_sampling.py): the
审验时间设置 form (quotas, one open cycle per year, delete), expert delete, the 审验标准设置 form, re-run."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import CmeUser
from app.models.audit import AuditDraw, AuditStandard
from app.services import audit as A
from app.services import audit_sampling as S
from app.services.scope import Scope
from tests.audit.audit_helpers import make_cycle, make_standard

# Seed 001 四(二)2(1): "各三级医疗卫生机构均参加抽审。各区分别抽取二级医疗卫生机构 1 家，一级医疗卫生机构 2 家，
# 社会办医疗卫生机构 2 家。" — as typed into the cycle form.
SEED_FORM = {"二级": "1", "一级": "2", "社会办医": "2"}


def _city_user_id() -> int:
    return db.session.scalar(select(CmeUser.id).where(CmeUser.username == "city"))


def _drawn_standard(cycle, **kw) -> AuditStandard:
    """A standard with a drawn list (institutions sampled first, then the standard's persons)."""
    user_id = _city_user_id()
    S.run_draw(db.session, S.create_draw(db.session, cycle, user_id, kind="institution", seed=1))
    standard = make_standard(cycle, per_department=0, **kw)
    S.run_draw(db.session, S.create_draw(db.session, cycle, user_id, kind="person", standard=standard, seed=2))
    db.session.flush()
    return standard


# --------------------------------------------------------------------------- cycles
def test_cycle_quotas_from_the_form(app_ctx):
    assert A.cycle_quotas(SEED_FORM, tertiary_all=True) == {"三级": "all", "二级": 1, "一级": 2, "社会办医": 2}
    assert A.cycle_quotas(SEED_FORM, tertiary_all=False)["三级"] == 0
    for bad in ("", "x", "1.5", None):
        with pytest.raises(A.AuditAdminError, match="^配额必须是整数$"):
            A.cycle_quotas({**SEED_FORM, "一级": bad}, tertiary_all=True)


def test_prepare_cycle_sets_quotas_and_refuses(app_ctx, world):
    cycle = make_cycle(2022, quotas={"三级": 0})
    A.prepare_cycle(db.session, cycle, per_district=SEED_FORM, tertiary_all=True)
    assert cycle.quotas == {"三级": "all", "二级": 1, "一级": 2, "社会办医": 2}
    with pytest.raises(A.AuditAdminError, match="^配额必须是整数$"):
        A.prepare_cycle(db.session, cycle, per_district={**SEED_FORM, "二级": "一"}, tertiary_all=True)
    with pytest.raises(A.AuditAdminError, match="^二级的抽取家数必须是不小于0的整数$"):
        A.prepare_cycle(db.session, cycle, per_district={**SEED_FORM, "二级": "-1"}, tertiary_all=True)
    db.session.commit()
    # AUD-1: one open cycle per year.
    other = make_cycle(2023, name="2022重复")
    other.year = 2022
    with pytest.raises(A.AuditAdminError, match="^2022年度已有开启的审验，请先关闭后再开启新的审验$"):
        A.prepare_cycle(db.session, other, per_district=SEED_FORM, tertiary_all=True)
    other.status = "closed"
    A.prepare_cycle(db.session, other, per_district=SEED_FORM, tertiary_all=False)
    assert other.quotas["三级"] == 0


def test_check_cycle_deletable(app_ctx, world):
    fresh = make_cycle(2021)
    A.check_cycle_deletable(db.session, fresh)
    with_standard = make_cycle(2022)
    make_standard(with_standard)
    with pytest.raises(A.AuditAdminError, match="^该审验年度已有抽取标准，不能删除$"):
        A.check_cycle_deletable(db.session, with_standard)
    with_draw = make_cycle(2023)
    S.create_draw(db.session, with_draw, _city_user_id(), kind="institution", seed=1)
    with pytest.raises(A.AuditAdminError, match="^该审验年度已有抽取记录，不能删除，可将其关闭$"):
        A.check_cycle_deletable(db.session, with_draw)


# --------------------------------------------------------------------------- experts
def test_expert_delete_check_and_retired_login(app_ctx, world):
    cycle = make_cycle(2022)
    standard = _drawn_standard(cycle)
    S.merge_into_final(db.session, Scope("all"), cycle, [standard.id], _city_user_id())
    busy, _pw = A.create_expert(db.session, username="fff", name="FFF", year=2022)
    idle, _pw = A.create_expert(db.session, username="ggg", name="GGG", year=2022)
    assert A.allocate(db.session, cycle, busy.id, units=[world.a]) > 0
    with pytest.raises(A.AuditAdminError, match="^该专家已分配审验人员，不能删除；请先清空分配$"):
        A.check_expert_deletable(db.session, busy)
    A.check_expert_deletable(db.session, idle)
    # The login goes with its last expert year only.
    again, _pw = A.create_expert(db.session, username="ggg", name="GGG", year=2023)
    user = idle.user
    db.session.delete(idle)
    db.session.flush()
    assert A.retire_expert_login(db.session, user) is False and user.active
    db.session.delete(again)
    db.session.flush()
    assert A.retire_expert_login(db.session, user) is True and not user.active


# --------------------------------------------------------------------------- standards
def _form(cycle_id: int, **kw) -> dict:
    values = {"cycle_id": cycle_id, "unit_levels": ["三级"], "titles": ["主治医师"], "specialties": [],
              "institution_ids": []}
    values.update(kw)
    return values


def test_prepare_standard_takes_the_cycle_and_the_district(app_ctx, world):
    cycle = make_cycle(2022)
    city = AuditStandard(name="市级标准", audit_scope="综合", per_department=1, allow_repeat=True, status="active")
    S.prepare_standard(db.session, Scope("all"), city, **_form(cycle.id, institution_ids=[world.a, world.b]))
    assert (city.cycle_id, city.year, city.district_id) == (cycle.id, 2022, None)
    assert (city.unit_levels, city.titles, city.institution_ids) == (["三级"], ["主治医师"], [world.a, world.b])
    district = AuditStandard(name="区级标准", audit_scope="综合", per_department=1, allow_repeat=True, status="active")
    S.prepare_standard(db.session, Scope("district", org_id=world.d1), district, **_form(cycle.id))
    assert district.district_id == world.d1


def test_prepare_standard_refusals(app_ctx, world):
    closed = make_cycle(2021, status="closed")
    cycle = make_cycle(2022)

    def refused(message, scope=None, standard=None, **kw):
        scope = scope or Scope("all")
        standard = standard or AuditStandard(name="标准", audit_scope="综合", per_department=1, allow_repeat=True,
                                             status="active")
        with pytest.raises(S.AuditError, match=f"^{message}$"):
            S.prepare_standard(db.session, scope, standard, **_form(kw.pop("cycle_id", cycle.id), **kw))

    refused("请选择开启中的审验年度", cycle_id=closed.id)
    refused("请选择开启中的审验年度", cycle_id=0)
    refused("无权维护抽取标准", scope=Scope("institution", org_id=world.a))
    refused("请填写标准名称", standard=AuditStandard(name=" ", audit_scope="综合", per_department=1))
    refused("区级抽取标准只能指定本区的机构", scope=Scope("district", org_id=world.d1), institution_ids=[world.b])
    drawn = _drawn_standard(cycle)
    refused("该标准已有抽取名单，请先清空名单再修改", standard=drawn)
    cycle.allocation_locked = True
    refused("专家分配已锁定，不能再修改抽取标准")


# --------------------------------------------------------------------------- draws
def test_check_rerun_and_set_draw_job(app_ctx, world):
    cycle = make_cycle(2022)
    standard = _drawn_standard(cycle)
    person_draw = db.session.scalar(select(AuditDraw).where(AuditDraw.kind == "person"))
    institution_draw = db.session.scalar(select(AuditDraw).where(AuditDraw.kind == "institution"))
    S.check_rerun(person_draw)
    S.check_rerun(institution_draw)
    S.clear_standard_list(db.session, Scope("all"), standard)
    S.delete_standard(db.session, Scope("all"), standard)
    db.session.flush()
    db.session.expire(person_draw)
    with pytest.raises(S.AuditError, match="^抽取标准已删除，不能重新抽取$"):
        S.check_rerun(person_draw)
    S.check_rerun(institution_draw)
    S.set_draw_job(db.session, institution_draw.id, "job-1")
    db.session.expire(institution_draw)
    assert institution_draw.job_id == "job-1"


# --------------------------------------------------------------------------- the pages flash them
def test_pages_flash_the_refusals_in_the_user_language(app, world, login):
    with app.app_context():
        cycle = make_cycle(2022)
        make_standard(cycle)
        cycle_id = cycle.id
        db.session.commit()
    c = login("city")
    r = c.post(f"/auditcycle/delete/{cycle_id}", follow_redirects=True)
    assert "该审验年度已有抽取标准，不能删除" in r.get_data(as_text=True)
    r = c.post(f"/auditcycle/delete/{cycle_id}?_l_=en")
    html = c.get(r.headers["Location"]).get_data(as_text=True)
    assert "This cycle has sampling standards and cannot be deleted" in html
    assert "该审验年度已有抽取标准" not in html
