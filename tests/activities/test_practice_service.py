"""services.practice.save_plan directly: 计划上传 / 修改 and each refusal (the view only parses and commits).

Seed 003 计划上传: "机构按页面要求填写计划名称、计划类型、活动形式、备注信息、并上传计划文件。点击“提交”到主管部门审核。"
"""
from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from app.extensions import db
from app.models import Attachment, CmeUser, Org
from app.models.practice import PracticePlan
from app.services.practice import FILE_MISSING, NOT_INSTITUTION, PlanError, save_plan
from app.services.uploads import UploadError
from tests.activities.helpers import PDF, add_plan

VALUES = {"name": "2025年第二季度计划", "plan_type": "季度计划", "forms": ["教学病例讨论", "手术示范"], "remark": " 备注 "}


def _file(data: bytes = PDF, name: str = "计划.pdf") -> FileStorage:
    return FileStorage(stream=io.BytesIO(data), filename=name)


def _user(name: str = "inst_a") -> CmeUser:
    return db.session.scalar(select(CmeUser).where(CmeUser.username == name))


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_new_plan_is_pending_with_its_file_and_log(app, world):
    with app.app_context():
        inst = db.session.get(Org, world.a)
        plan = save_plan(db.session, _user(), VALUES, _file(), institution=inst)
        db.session.commit()
        assert (plan.institution_id, plan.district_id, plan.status) == (world.a, world.d1, "pending")
        assert (plan.activity_forms, plan.remark) == ("手术示范、教学病例讨论", "备注")  # the dictionary's order
        assert [e.action for e in plan.logs] == ["提交"]
        att = db.session.scalar(select(Attachment).where(Attachment.owner_type == "practice_plan"))
        assert (att.owner_id, att.name, att.kind) == (plan.id, "计划.pdf", "pdf")


def test_edit_without_a_file_goes_back_to_pending(app, world):
    pid = add_plan(world.a, status="rejected")
    with app.app_context():
        plan = save_plan(db.session, _user(), {**VALUES, "name": "修订后的计划"}, None, db.session.get(PracticePlan, pid))
        db.session.commit()
        assert (plan.id, plan.name, plan.status) == (pid, "修订后的计划", "pending")
        assert [e.action for e in plan.logs] == ["重新提交"]
        assert _count(Attachment) == 0


@pytest.mark.parametrize("values, file, inst, error, message", [
    ({**VALUES, "name": " "}, True, True, PlanError, "请填写计划名称"),
    ({**VALUES, "forms": []}, True, True, PlanError, "请至少选择一种活动形式"),
    (VALUES, False, True, PlanError, FILE_MISSING),
    (VALUES, True, False, PlanError, NOT_INSTITUTION),
    (VALUES, "bad", True, UploadError, "类型不正确"),
])
def test_refusals_add_nothing(app, world, values, file, inst, error, message):
    with app.app_context():
        storage = _file() if file is True else _file(b"plain text", "计划.txt") if file == "bad" else None
        with pytest.raises(error) as refused:
            save_plan(db.session, _user(), values, storage, institution=db.session.get(Org, world.a) if inst else None)
        assert message in str(refused.value)
        db.session.rollback()
        assert _count(PracticePlan) == 0 and _count(Attachment) == 0


def test_an_approved_plan_cannot_be_edited(app, world):
    pid = add_plan(world.a, status="approved")
    with app.app_context():
        with pytest.raises(PlanError, match="已通过审核，不能修改"):
            save_plan(db.session, _user(), VALUES, _file(), db.session.get(PracticePlan, pid))
        db.session.rollback()
        assert db.session.get(PracticePlan, pid).name == "2025年度教学活动计划"
