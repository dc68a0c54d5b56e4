"""Test data of the projects area: a catalogue entry, the unit's project and its topics."""
from __future__ import annotations

import datetime
from decimal import Decimal

from app.extensions import db
from app.models import Org
from app.models.projects import Project, ProjectCatalog, Topic
from app.services import projects as svc

D = datetime.datetime


def make_project(inst_id: int, *, no: str = "2025-14-03-020 (京)", category: str = "市级继续医学教育项目",
                 credits: str = "4", hours: str = "12", planned: int = 10,
                 starts: datetime.date = datetime.date(2025, 4, 24),
                 ends: datetime.date = datetime.date(2025, 4, 25)) -> Project:
    catalog = ProjectCatalog(approval_no=no, name="儿科护理新进展学习班", category=category, subject="儿科护理学",
                             credits=Decimal(credits), hours=Decimal(hours), year=2025, organizer="北京儿童医院",
                             planned_count=planned)
    db.session.add(catalog)
    db.session.flush()
    project = svc.adopt(db.session, catalog, db.session.get(Org, inst_id))
    project.starts_on, project.ends_on = starts, ends
    db.session.flush()
    return project


def add_topic(project: Project, code: str, start: datetime.datetime, hours: str = "3", credits: str = "1",
              lecturer_person_id: int | None = None, window: tuple | None = None) -> Topic:
    end = start + datetime.timedelta(hours=float(hours))
    topic = Topic(project=project, code=code, name=f"课题{code}", lecturer="王医生", lecturer_unit="北京地坛医院",
                  lecturer_title="主任医师", credits=Decimal(credits), hours=Decimal(hours), place="第一会议室",
                  starts_at=start, ends_at=end, lecturer_person_id=lecturer_person_id)
    if window:
        topic.signin_from, topic.signin_to = window
    svc.check_topic(db.session, topic)
    db.session.add(topic)
    db.session.flush()
    return topic


def standard_project(inst_id: int, **kw) -> Project:
    """A 市级 project with two 3-hour topics on 2025-04-24 (morning, afternoon)."""
    project = make_project(inst_id, **kw)
    add_topic(project, "101", D(2025, 4, 24, 8, 30))
    add_topic(project, "102", D(2025, 4, 24, 13, 30))
    db.session.commit()
    return project
