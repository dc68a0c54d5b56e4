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
             password: str = DEMO_PASSWORD, must_change: bool = False):
    """A new login (services/users.create_user with the app's session); the caller commits."""
    from app.services.users import create_user

    return create_user(db.session, username, role, last_name=last_name, first_name=first_name, org=org,
                       person=person, password=password, must_change=must_change)


def _interactive() -> bool:
    import sys

    return sys.stdin.isatty()


def install_region(city_name: str | None, city_code: str | None, admin_username: str | None,
                   admin_password: str | None) -> None:
    """The city node and the first 市继教办 administrator anchored to it (`flask cme init`).

    Asks for what is missing when run in a terminal; otherwise says what is missing and leaves it.
    Never changes an existing city or user."""
    from app.models import CmeUser
    from app.services import region
    from app.services import roles as R
    from app.services.passwords import check_password

    city = region.city(db.session)
    if city is None:
        if _interactive():
            city_name = city_name or click.prompt("市的名称 (city name, e.g. 北京市)")
            city_code = city_code or click.prompt("市的编码 (city code, e.g. 1100)")
        if not (city_name and city_code):
            click.echo("尚未设置所在市：请用 --city-name 与 --city-code（或环境变量 CME_CITY_NAME、CME_CITY_CODE）"
                       "再运行 flask cme init (no city yet: pass --city-name and --city-code)", err=True)
            return
        try:
            result = region.ensure_city(db.session, city_name, city_code)
        except region.RegionError as exc:
            db.session.rollback()
            raise click.ClickException(f"{exc} (invalid city name or code)") from exc
        db.session.commit()
        city = result.city
        click.echo(f"已创建市：{city.name}（编码 {city.code}），所在地区参数已设为 {city.name} (city created)")
    else:
        result = region.ensure_city(db.session, city_name, city_code)
        note = "；本次给出的名称或编码未应用 (given name/code not applied)" if result.differs else ""
        click.echo(f"所在市已存在：{city.name}（编码 {city.code}），未修改{note} (city exists, unchanged)")

    role = current_app.appbuilder.sm.find_role(R.CITY_ADMIN)
    admins = [u for u in db.session.scalars(select(CmeUser).order_by(CmeUser.id)) if role in u.roles]
    if admin_username is None and admins:
        click.echo(f"市继教办管理员已存在：{', '.join(u.username for u in admins)}，未修改 (admin exists, unchanged)")
        return
    if admin_username is None and _interactive():
        admin_username = click.prompt("第一个市继教办管理员的登录名 (first city admin's login)")
    if not admin_username:
        click.echo("尚未创建市继教办管理员：请用 --admin-username 与 --admin-password（或环境变量 CME_ADMIN_USERNAME、"
                   "CME_ADMIN_PASSWORD）再运行 flask cme init (no admin yet)", err=True)
        return
    admin_username = admin_username.strip()
    existing = current_app.appbuilder.sm.find_user(username=admin_username)
    if existing is not None:
        click.echo(f"用户 {admin_username} 已存在，未修改其密码和角色 (user exists, unchanged)")
        return
    if not admin_password and _interactive():
        admin_password = click.prompt("其密码 (password)", hide_input=True, confirmation_prompt=True)
    if not admin_password:
        raise click.ClickException("请用 --admin-password 或环境变量 CME_ADMIN_PASSWORD 给出管理员密码 (password missing)")
    problem = check_password(admin_password, current_app.config["PASSWORD_MIN_LENGTH"],
                             current_app.config["PASSWORD_MIN_CLASSES"])
    if problem:
        raise click.ClickException(f"{problem} (password too weak)")
    add_user(admin_username, R.CITY_ADMIN, last_name="市继教办", first_name="管理员", org=city,
             password=admin_password)
    db.session.commit()
    click.echo(f"已创建市继教办管理员 {admin_username}，所属 {city.name} (city admin created)")


def build_demo(persons: int = 2000, progress=None, institutions: int | None = None,
               activity: bool | None = None, say=None) -> list[tuple[str, str, str]]:
    """Demo city plus one user per role; returns (username, password, role) triples.

    ``institutions`` defaults to the ~60 of the demo, growing to one per 2,000 persons. ``activity``
    (default: up to demo_activity.ACTIVITY_LIMIT persons) adds the demo's rule set 2026, credits, review
    chain, projects, supervision and audit (app/demo/activity.py); the benchmark city goes without."""
    from app.demo import activity as demo_activity
    from app.demo import city as demo
    from app.models import Org, Person
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
    distance_org = next(i for i in orgs["institutions"] if i.level == "社会办医")
    logins = [
        ("admin", R.CITY_ADMIN, {"last_name": "市继教办", "first_name": "管理员", "org": orgs["city"]}),
        ("district", R.DISTRICT_ADMIN, {"last_name": district.name, "first_name": "卫健委", "org": district}),
        ("hospital", R.INSTITUTION_ADMIN, {"last_name": tertiary.name, "first_name": "继教办", "org": tertiary}),
        ("secretary", R.DEPARTMENT_SECRETARY, {"last_name": dept.name, "first_name": "秘书", "org": dept}),
        ("expert", R.EXPERT, {"last_name": "审验", "first_name": "专家", "org": orgs["city"]}),
        ("site", R.SITE_MANAGER, {"last_name": "现场", "first_name": "负责人", "org": tertiary}),
        ("student", R.TECHNICIAN, {"last_name": person.name if person else "学员", "first_name": "",
                                       "person": person}),
        # 远程教育机构 (issue 16.11): a private hospital of the city that runs distance CME.
        ("distance", R.DISTANCE_INSTITUTION, {"last_name": distance_org.name, "first_name": "远程教育",
                                              "org": distance_org}),
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


class WorkerLost(click.ClickException):
    """`flask cme worker` ends with exit status 1 so that its supervisor starts it again."""


def register_cli(app: Flask) -> None:
    @app.cli.group("cme")
    def cme():
        """继续医学教育学分管理系统 commands."""

    @cme.command("init")
    @click.option("--city-name", envvar="CME_CITY_NAME", help="市的名称 city name, e.g. 北京市 (env CME_CITY_NAME)")
    @click.option("--city-code", envvar="CME_CITY_CODE", help="市的编码 city code, e.g. 1100 (env CME_CITY_CODE)")
    @click.option("--admin-username", envvar="CME_ADMIN_USERNAME",
                  help="第一个市继教办管理员的登录名 first city admin's login (env CME_ADMIN_USERNAME)")
    @click.option("--admin-password", envvar="CME_ADMIN_PASSWORD",
                  help="其密码 its password (env CME_ADMIN_PASSWORD; prompted when interactive)")
    def init_cmd(city_name: str | None, city_code: str | None, admin_username: str | None,
                 admin_password: str | None):
        """Create / upgrade the database, roles and dictionaries; the city and its first admin.

        Idempotent: an existing city and an existing user are left as they are (the password is never
        overwritten). Missing answers are asked for when run in a terminal."""
        from app.services import credit_records

        init_database()
        click.echo("数据库已初始化 (database ready)")
        install_region(city_name, city_code, admin_username, admin_password)
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
        from app.demo.activity import site_login
        from app.models import Org

        init_database()
        if db.session.scalar(select(Org.id).where(Org.kind == "district")) is not None:
            click.echo("演示数据已存在，跳过 (demo data exists)")
            logins = [(u, DEMO_PASSWORD, "") for u in
                      ("admin", "district", "hospital", "secretary", "expert", "site", "student", "distance")]
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

    from app.cli_backup import register as register_backup

    register_backup(cme)  # backup / restore

    @cme.command("worker")
    @click.option("--burst", is_flag=True, help="exit when the queue is empty")
    @click.option("--queue", "queue_name", default=None, help="queue name (default: RQ_QUEUE)")
    def worker_cmd(burst: bool, queue_name: str | None):
        """Run an RQ worker for background jobs (needs REDIS_URL)."""
        from redis.exceptions import RedisError

        from app.jobs import get_queue
        from app.worker import CmeWorker

        if not current_app.config.get("REDIS_URL"):
            raise click.ClickException("未设置 REDIS_URL，后台任务在网站进程内执行，无需启动 worker")
        from app.jobs.reaper import reap, work_horse_killed

        queue = get_queue(queue_name)
        for job_id in reap():  # jobs a crashed worker left "running" end as failed now
            click.echo(f"任务 {job_id} 的进程已终止，已标记为失败", err=True)
        # Each job runs in a forked work horse inheriting this app context: leave it no pooled
        # database connection to share with the parent (a forked socket must not be reused).
        db.session.remove()
        db.engine.dispose()
        # A 10 s heartbeat while a job runs lets the reaper tell a dead worker within a minute;
        # WORKER_TTL sets the idle heartbeat that /healthz reads.
        try:
            worker = CmeWorker([queue], connection=queue.connection, job_monitoring_interval=10,
                               work_horse_killed_handler=work_horse_killed, maintenance_interval=60,
                               worker_ttl=current_app.config["WORKER_TTL"])
            worker.work(burst=burst)
        except RedisError as exc:
            raise WorkerLost(f"无法连接 Redis，worker 退出以便重新启动 (Redis unreachable, exiting): {exc}") from exc
        # RQ retries a lost connection while it waits for a job, but leaves its loop (returning as if
        # done) when Redis fails anywhere else: exit non-zero so that systemd (Restart=always) starts
        # a fresh worker, unless the stop was asked for (SIGTERM/SIGINT) or the queue ran dry (--burst).
        asked = getattr(worker, "_stop_requested", False) or getattr(worker, "_shutdown_requested_date", None)
        if not burst and not asked:
            raise WorkerLost("worker 意外停止（多为 Redis 连接中断），退出以便重新启动 (worker stopped unexpectedly)")

    @cme.command("check")
    def check_cmd():
        """Check the database, Redis, the worker's heartbeat and disk space (as /healthz does)."""
        from app import health
        from app.jobs.reaper import reap

        checks = health.run_checks()
        if checks[0].ok:  # the database answers: jobs whose worker died end as failed (app/jobs/reaper.py)
            for job_id in reap():
                click.echo(f"任务 {job_id} 的进程已终止，已标记为失败 (job of a dead worker marked failed)")
        for item in checks:
            mark = "正常 OK  " if item.ok else "异常 FAIL"
            click.echo(f"[{mark}] {item.name:<9} {item.message}")
            for key, value in (item.detail or {}).items():
                click.echo(f"              {key}: {value}")
        if all(item.ok for item in checks):
            click.echo("全部正常 (all checks passed)")
        else:
            raise click.ClickException("有检查项异常，见上 (some checks failed)")
