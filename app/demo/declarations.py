"""Demo 继教项目申报 and sign-in windows (issue 16 items 9–10), through the area's services.

* a 市级 declaration the district passed, waiting for the city's approval (待市级审批);
* a 区级 declaration waiting for the district (待区级审核), and one the district returned with a reason;
* a 区级 declaration approved last spring (its number and catalogue entry), ended, waiting for 执行反馈;
* the first demo project's 项目微信签到时间 and a practice activity whose QR sign-in is open around the
  time the demo is built (添加继教实践活动).
"""
from __future__ import annotations

import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.demo.common import DemoUsers
from app.models import Org


def _form(name: str, category: str, starts: datetime.date, days: int, **extra) -> dict:
    return {"year": str(starts.year), "name": name, "category": category, "subject": "全科医学", "credits": "4",
            "hours": "12", "planned_count": "80", "starts_on": starts.isoformat(),
            "ends_on": (starts + datetime.timedelta(days=days)).isoformat(), "place": "门诊楼三层学术报告厅",
            "leader": "张明华", "phone": "13800000000", "assessment": "笔试", "activity_form": "继续医学教育项目",
            "description": "面向基层医务人员的规范化培训", **extra}


def declarations(session: Session, users: DemoUsers, institution: Org,
                 now: datetime.datetime | None = None) -> dict[str, int]:
    from app.models.projects import PracticeActivity, Project
    from app.services import declarations as decl
    from app.services import practice_activities, projects

    now = now or datetime.datetime.now()
    next_year = datetime.date(now.year + 1, 4, 15)
    city_level = decl.create(session, users.hospital, _form("基层医疗机构高血压规范化诊疗培训班", "市级继续医学教育项目",
                                                            next_year, 1), submit=True)
    decl.review(session, users.district, city_level, "pass")
    decl.create(session, users.hospital, _form("社区护理适宜技术推广班", "区级继续医学教育项目",
                                               next_year + datetime.timedelta(days=30), 0), submit=True)
    returned = decl.create(session, users.hospital, _form("院内感染防控实务", "区级继续医学教育项目",
                                                          next_year + datetime.timedelta(days=60), 0), submit=True)
    decl.review(session, users.district, returned, "return", "计划人数与会场容量不符，请核实后重新提交")
    done = decl.create(session, users.hospital, _form("急诊急救技能培训", "区级继续医学教育项目",
                                                      datetime.date(now.year, 3, 10), 1), submit=True)
    decl.review(session, users.district, done, "pass")
    session.flush()

    # 项目微信签到时间设置 on the first demo project (its topics keep their own windows).
    project = session.scalar(select(Project).where(Project.institution_id == institution.id).order_by(Project.id))
    if project is not None and project.starts_on is not None:
        start = datetime.datetime.combine(project.starts_on, datetime.time(8, 0))
        end = datetime.datetime.combine(project.ends_on or project.starts_on, datetime.time(17, 30))
        projects.set_project_window(project, start, end)

    # A practice activity whose QR sign-in is open around the time the demo is built.
    hour = now.replace(minute=0, second=0, microsecond=0)
    activity = PracticeActivity(name="社区慢病随访实践（带教）", form="实践活动", place="社区卫生服务中心",
                                lecturer="李带教", starts_at=hour - datetime.timedelta(hours=1),
                                ends_at=hour + datetime.timedelta(hours=3), hours=Decimal(4), planned_count=20,
                                signin_from=hour - datetime.timedelta(hours=2),
                                signin_to=hour + datetime.timedelta(days=30))
    practice_activities.check(activity, institution)
    session.add(activity)
    session.flush()
    return {"declarations": 4, "declarations_waiting": 2, "practice_activities": 1}
