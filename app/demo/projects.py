"""Demo CME projects: the catalogue, two adopted projects with topics, card-reader and QR attendance."""
from __future__ import annotations

import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.demo.common import DemoUsers
from app.models import Org, Person


# ------------------------------------------------------------------------------------ projects
def projects(session: Session, users: DemoUsers, institution: Org) -> dict[str, int]:
    """Catalogue (by the import service), two adopted projects with topics, card-reader and QR
    attendance, grants; the second is flagged (applied 3 working days before, fewer attendees)."""
    from app.models.projects import Project, ProjectCatalog, Topic
    from app.services import catalog_import, checkin
    from app.services import projects as svc

    rows = [
        {"审批编号": "2026-14-03-021 (京)", "项目名称": "基层医疗机构慢病规范化管理培训班", "学分类别": "市级",
         "学科": "全科医学", "总学分": "4", "总学时": "12", "年度": "2026", "主办单位": institution.name, "计划人数": "60"},
        {"审批编号": "2026-01-02-105 (国)", "项目名称": "重症患者血流动力学监测新进展", "学分类别": "国家级",
         "学科": "重症医学", "总学分": "6", "总学时": "18", "年度": "2026", "主办单位": institution.name, "计划人数": "100"},
        {"审批编号": "2026-14-06-033 (京)", "项目名称": "医院感染预防与控制实践", "学分类别": "市级",
         "学科": "公共卫生", "总学分": "3", "总学时": "9", "年度": "2026", "主办单位": "北京医院协会", "计划人数": "80"},
    ]
    result = catalog_import.validate(session, list(enumerate(rows, start=2)))
    if result.errors:
        raise ValueError("；".join(e.reason for e in result.errors))
    catalog_import.write(session, result.rows)
    session.flush()
    catalogue = {c.approval_no: c for c in session.scalars(select(ProjectCatalog))}
    # Attendees come from the whole district (a project is open to other units' staff too).
    staff = list(session.scalars(select(Person).where(Person.district_id == institution.district_id)
                                 .order_by(Person.id).limit(200)))
    lecturer = session.scalar(select(Person).where(Person.institution_id == institution.id)
                              .order_by(Person.id.desc()).limit(1))
    D = datetime.datetime
    half = max(len(staff) // 2, 1)
    plans = [
        # (approval no, starts, ends, applied, topics [(code, name, start, hours, credits)], attendees, QR
        # sign-ins, repeated swipes): the first on time and clean, the second applied 3 working days before
        # its start, with fewer attendees than planned, repeated swipes and the file uploaded 9 days late.
        ("2026-14-03-021 (京)", datetime.date(2026, 9, 15), datetime.date(2026, 9, 16), datetime.date(2026, 9, 1),
         [("101", "高血压社区规范化管理", D(2026, 9, 15, 8, 30), "3", "1"),
          ("102", "2型糖尿病基层诊疗要点", D(2026, 9, 15, 13, 30), "3", "1"),
          ("201", "慢阻肺的筛查与随访", D(2026, 9, 16, 8, 30), "3", "1")], staff[:min(half, 60)], 8, False, 2),
        ("2026-01-02-105 (国)", datetime.date(2026, 10, 20), datetime.date(2026, 10, 21), datetime.date(2026, 10, 15),
         [("101", "休克的血流动力学评估", D(2026, 10, 20, 8, 30), "6", "2"),
          ("102", "床旁超声在重症中的应用", D(2026, 10, 21, 8, 30), "6", "2")], staff[half:half + 60], 5, True, 9),
    ]
    out = {"projects": 0, "topics": 0, "checkins": 0, "granted": 0}
    for no, starts, ends, applied, topics, attendees, qr_count, repeats, upload_days in plans:
        project = svc.adopt(session, catalogue[no], institution)
        project.starts_on, project.ends_on = starts, ends
        project.major, project.assessment, project.activity_form = "临床医学", "笔试", "继续医学教育项目"
        svc.check_details(project)
        svc.file_application(session, project, applied)
        made = []
        for code, name, start, hours, credits in topics:
            topic = Topic(project_id=project.id, code=code, name=name, lecturer="张明华", lecturer_unit=institution.name,
                          lecturer_title="主任医师", credits=Decimal(credits), hours=Decimal(hours),
                          place="门诊楼三层学术报告厅", starts_at=start,
                          ends_at=start + datetime.timedelta(hours=float(hours)),
                          signin_from=start - datetime.timedelta(minutes=30),
                          signin_to=start + datetime.timedelta(hours=1), lecturer_person_id=lecturer.id)
            svc.check_topic(session, topic)
            session.add(topic)
            session.flush()
            made.append(topic)
        out["topics"] += len(made)
        # The card reader's file: each attendee swipes at each topic, a few twice; some sign in by QR.
        swipes, row = [], 2
        for k, person in enumerate(attendees[qr_count:]):
            for topic in made:
                swipes.append(checkin.Swipe(row, person.card_no, topic.starts_at - datetime.timedelta(minutes=10 - k % 7),
                                            "READER-01"))
                row += 1
            if repeats and k % 9 == 0:
                swipes.append(checkin.Swipe(row, person.card_no, made[0].starts_at + datetime.timedelta(minutes=20),
                                            "READER-02"))
                row += 1
        upload_at = datetime.datetime.combine(ends + datetime.timedelta(days=upload_days),
                                              datetime.time(10))
        result = checkin.import_swipes(session, project, swipes, "考勤机导出.csv", users.hospital.username,
                                       now=upload_at)
        out["checkins"] += result.matched
        for k, person in enumerate(attendees[:qr_count]):
            for topic in made:
                checkin.check_in(session, topic, person, "qr", topic.starts_at - datetime.timedelta(minutes=5 + k))
                out["checkins"] += 1
        report = svc.grant(session, project, users.hospital.username)
        out["granted"] += report.attendees + report.lecturers
        out["projects"] += 1
        session.flush()
    out["flagged"] = session.scalar(select(func.count(Project.id)).where(Project.flagged.is_(True))) or 0
    return out
