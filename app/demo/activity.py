"""Demo activity: what a newcomer clicks through after ``flask cme demo`` (rules, credits, review chain,
projects, supervision, audit) on top of the demo city of app/demo/city.py.

Every record goes through its own area's service, as the pages would create it:

* rule sets — Beijing 2025 copied to 2026 (rule_sets.copy_rule_set) and published (publish_rule_set),
  so today's wizard, manual entry and 达标计算 have a rule set in force;
* credits of the credit years 2025 and 2026 (window 11-01 … 10-31) — amounts computed by
  credit_rules.compute_standard once per activity, then written for the matching persons by one
  INSERT … SELECT per activity (set-based, whatever the size of the city); about half the persons
  reach the 25 a year, some by a full-year rule (进修 ≥ 3 months, 住院医师规范化培训), the others not;
* practice plans (practice.validate / log / review), the wizard (activities.start … submit), manual
  credits of the demo student in several states (manual_credits.create_own / review), the self-study
  delegation and forms (selfstudy.set_mode / save / grant / return_form);
* CME projects with topics, card-reader and QR attendance and grants (catalog_import, projects,
  checkin), one of them flagged;
* supervision filings in several states (supervision.apply), a venue whose site manager logs in by
  phone (supervision.save_manager), feedback photos of a past half day (photos.stamp);
* the 2026 audit cycle: institution draw, a sampling standard and its draw, the final list allocated
  to the demo expert, a few verdicts and results (audit, audit_sampling, audit_review);
* finally the stored compliance results of 2025 and 2026 (credit_records.recompute_scope).

Deterministic: fixed dates inside the credit years, fixed random seeds (draws, login code); the
supervision filing that is under way runs around the day the demo is built, so the phone pages always
have a current half day.
"""
from __future__ import annotations

import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.demo.audit import audit
from app.demo.common import ACTIVITY_LIMIT, DEMO_DAY, SEED, SITE_PHONE, DemoUsers, Summary
from app.demo.credits import (
    ACTIVITIES,
    bulk_credits,
    colleague_entries,
    manual_credits,
    practice_plans,
    rule_set_2026,
    self_study,
    wizard,
)
from app.demo.declarations import declarations
from app.demo.projects import projects
from app.demo.supervision import site_login, supervision
from app.models import Org, RuleSet
from app.services.scope import Scope


# ------------------------------------------------------------------------------------ all of it
def build(session: Session, users: DemoUsers, institution: Org, now: datetime.datetime | None = None,
          progress=None) -> Summary:
    """Everything above, committed step by step; returns the summary (counts, the site login)."""
    from app.services import credit_records

    now = now or datetime.datetime.now()
    say = progress or (lambda text: None)
    unit = Scope("institution", org_id=institution.id)
    summary = Summary()
    c = summary.counts

    rs2026 = rule_set_2026(session)
    rs2025 = session.scalar(select(RuleSet).where(RuleSet.code == "BJ2025"))
    session.commit()
    say("规则集：北京市2026年授分标准已发布")
    session.info[credit_records.SKIP] = True  # the whole city is recomputed at the end
    try:
        c["credits_bulk"] = bulk_credits(session, {2025: rs2025, 2026: rs2026})
        session.commit()
        say(f"学分记录：{c['credits_bulk']} 条")
        plan, _pending = practice_plans(session, users, institution)
        c["wizard_credits"] = wizard(session, users, institution, plan, unit)
        session.commit()
        c.update({f"manual_{k}": v for k, v in manual_credits(session, users, unit).items()})
        c["unit_entries"] = colleague_entries(session, users, institution, unit)
        c.update({f"self_study_{k}": v for k, v in self_study(session, users, institution, unit).items()})
        session.commit()
        say("审核流程：计划、向导、手工录入、自学")
        c.update({f"project_{k}": v for k, v in projects(session, users, institution).items()})
        session.commit()
        say("继教项目：课题、刷卡、扫码、授分")
        c.update(declarations(session, users, institution, now))
        session.commit()
        say("继教项目申报：待市级审批、待区级审核、已退回、待执行反馈；实践活动扫码签到")
        sup_summary = supervision(session, users, institution, now)
        c.update(sup_summary.counts)
        summary.site_code, summary.site_phone = sup_summary.site_code, sup_summary.site_phone
        session.commit()
        say("项目督查：报备、现场负责人、反馈照片")
        for year in (2025, 2026):
            _, written = credit_records.recompute_scope(session, Scope("all"), year)
            c[f"results_{year}"] = written
        session.commit()
        say("达标计算：2025、2026年度")
    finally:
        session.info.pop(credit_records.SKIP, None)
    c.update({f"audit_{k}": v for k, v in audit(session, users, institution).items()})
    session.commit()
    say("学分审验：2026年度审验、抽取、分配、专家审核")
    from app.demo import distance as distance_demo

    c.update(distance_demo.build(session, users, institution))
    session.commit()
    say("远程继续医学教育：项目备案、学习记录待市级审核；徐州刷卡学分待市级审核")
    return summary


__all__ = ["ACTIVITIES", "ACTIVITY_LIMIT", "DEMO_DAY", "SEED", "SITE_PHONE", "DemoUsers", "Summary", "audit",
           "build", "bulk_credits", "colleague_entries", "manual_credits", "practice_plans", "projects",
           "rule_set_2026", "self_study", "site_login", "supervision", "wizard"]
