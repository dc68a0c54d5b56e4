"""`flask cme …` commands: init (migrate + roles + dictionaries), demo data, RQ worker."""
from __future__ import annotations

import time

import click
from flask import Flask, current_app
from sqlalchemy import select

from app.extensions import db

DEMO_PASSWORD = "Cme@2026demo"


def init_database() -> None:
    """Upgrade the schema, sync permissions and roles, seed dictionaries. Idempotent."""
    from flask_migrate import upgrade

    from app.services.roles import ALL_ROLES
    from app.services.rule_sets import install_rule_sets
    from app.services.seed_data import seed_dictionaries

    upgrade(revision="heads")  # modules are migrated on branches of their own until merged
    sync_security()
    seed_dictionaries(db.session)
    install_rule_sets(db.session)
    db.session.commit()
    _ = ALL_ROLES


def sync_security() -> None:
    from app.services.roles import ALL_ROLES

    appbuilder = current_app.appbuilder
    appbuilder.add_permissions(update_perms=True)
    sm = appbuilder.sm
    for name in ALL_ROLES + [current_app.config["AUTH_ROLE_PUBLIC"]]:
        if sm.find_role(name) is None:
            sm.add_role(name)
    db.session.commit()


def add_user(username: str, role: str, *, last_name: str, first_name: str, org=None, person=None,
             password: str = DEMO_PASSWORD):
    from werkzeug.security import generate_password_hash

    from app.models import CmeUser

    sm = current_app.appbuilder.sm
    user = CmeUser(username=username, first_name=first_name, last_name=last_name,
                   email=f"{username}@cme.local", active=True, roles=[sm.find_role(role)],
                   org=org, person=person,
                   password=generate_password_hash(
                       password, method=current_app.config.get("FAB_PASSWORD_HASH_METHOD", "scrypt")))
    db.session.add(user)
    db.session.flush()
    return user


def build_demo(persons: int = 2000, progress=None, institutions: int | None = None,
               activity: bool | None = None, say=None) -> list[tuple[str, str, str]]:
    """Demo city plus one user per role; returns (username, password, role) triples.

    ``institutions`` defaults to the ~60 of the demo, growing to one per 2,000 persons. ``activity``
    (default: up to demo_activity.ACTIVITY_LIMIT persons) adds the demo's rule set 2026, credits, review
    chain, projects, supervision and audit (services/demo_activity.py); the benchmark city goes without."""
    from app.models import Org, Person
    from app.services import demo, demo_activity
    from app.services import roles as R

    orgs = demo.build_orgs(db.session, institutions=institutions or demo.institutions_for(persons))
    db.session.commit()
    demo.build_persons(db.session, orgs["departments"], persons, progress=progress)
    db.session.commit()
    demo.refresh_statistics(db.engine)
    tertiary = next(i for i in orgs["institutions"] if i.level == "三级")
    district = tertiary.parent
    dept = db.session.scalar(select(Org).where(Org.parent_id == tertiary.id).order_by(Org.id))
    person = db.session.scalar(select(Person).where(Person.department_id == dept.id).order_by(Person.id))
    logins = [
        ("admin", R.CITY_ADMIN, dict(last_name="市继教办", first_name="管理员", org=orgs["city"])),
        ("district", R.DISTRICT_ADMIN, dict(last_name=district.name, first_name="卫健委", org=district)),
        ("hospital", R.INSTITUTION_ADMIN, dict(last_name=tertiary.name, first_name="继教办", org=tertiary)),
        ("secretary", R.DEPARTMENT_SECRETARY, dict(last_name=dept.name, first_name="秘书", org=dept)),
        ("expert", R.EXPERT, dict(last_name="审验", first_name="专家", org=orgs["city"])),
        ("site", R.SITE_MANAGER, dict(last_name="现场", first_name="负责人", org=tertiary)),
        ("student", R.TECHNICIAN, dict(last_name=person.name if person else "学员", first_name="",
                                       person=person)),
    ]
    out, users = [], {}
    for username, role, kw in logins:
        users[username] = current_app.appbuilder.sm.find_user(username=username) or add_user(username, role, **kw)
        out.append((username, DEMO_PASSWORD, role))
    db.session.commit()
    if activity is None:
        activity = persons <= demo_activity.ACTIVITY_LIMIT
    if activity:
        demo_activity.build(db.session, demo_activity.DemoUsers(**users), tertiary, progress=say)
    return out


def register_cli(app: Flask) -> None:
    @app.cli.group("cme")
    def cme():
        """继续医学教育学分管理系统 commands."""

    @cme.command("init")
    def init_cmd():
        """Create / upgrade the database, roles and dictionaries."""
        from app.services import credit_records

        init_database()
        click.echo("数据库已初始化 (database ready)")
        missing = credit_records.rule_set_missing(db.session)
        if missing:  # the wizard, manual entry and check-in grants compute with today's rule set
            click.echo(f"注意：{missing['region']}没有在今天（{missing['day']}）生效的已发布授分规则集，新学分无法计算；"
                       "请以市继教办身份登录，在“授分规则”中复制上一年度的规则集，核对后发布 "
                       "(warning: no published rule set in force today; copy last year's and publish it)")

    @cme.command("demo")
    @click.option("--persons", default=2000, show_default=True, help="number of persons")
    @click.option("--institutions", type=int, default=None,
                  help="number of institutions (default: ~60, or one per 2,000 persons when more)")
    @click.option("--activity/--no-activity", default=None,
                  help="credits, reviews, projects, supervision and audit of the demo "
                       "(default: on up to 50,000 persons)")
    def demo_cmd(persons: int, institutions: int | None, activity: bool | None):
        """Build the demo city (idempotent: skipped when organizations exist)."""
        from app.models import Org
        from app.services.demo_activity import site_login

        init_database()
        if db.session.scalar(select(Org.id).where(Org.kind == "district")) is not None:
            click.echo("演示数据已存在，跳过 (demo data exists)")
            logins = [(u, DEMO_PASSWORD, "") for u in
                      ("admin", "district", "hospital", "secretary", "expert", "site", "student")]
        else:
            started = time.perf_counter()
            logins = build_demo(persons, institutions=institutions, activity=activity,
                                progress=lambda n: click.echo(f"  {n} persons", err=True),
                                say=lambda text: click.echo(f"  {text}", err=True))
            click.echo(f"演示数据已生成：{persons} 人，用时 {time.perf_counter() - started:.1f} 秒")
        click.echo("演示账号 (demo logins):")
        for username, password, role in logins:
            click.echo(f"  {username:<10} {password}  {role}")
        site = site_login(db.session)
        if site:
            click.echo(f"  现场会务负责人手机登录 (site manager, phone): /m/login?code={site[0]}  手机号 {site[1]}，"
                       "短信验证码见 admin 的“短信发送记录” (/supervision/sms)")

    @cme.command("worker")
    @click.option("--burst", is_flag=True, help="exit when the queue is empty")
    @click.option("--queue", "queue_name", default=None, help="queue name (default: RQ_QUEUE)")
    def worker_cmd(burst: bool, queue_name: str | None):
        """Run an RQ worker for background jobs (needs REDIS_URL)."""
        from rq import Worker

        from app.jobs import get_queue

        if not current_app.config.get("REDIS_URL"):
            raise click.ClickException("未设置 REDIS_URL，后台任务在网站进程内执行，无需启动 worker")
        queue = get_queue(queue_name)
        # Each job runs in a forked work horse inheriting this app context: leave it no pooled
        # database connection to share with the parent (a forked socket must not be reused).
        db.session.remove()
        db.engine.dispose()
        Worker([queue], connection=queue.connection).work(burst=burst)
