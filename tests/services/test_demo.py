"""Demo data (issue 2 point 9): a Beijing-like city with valid, unique ID and card numbers, one
user per role, and the same generator scaling institutions for the 300,000-person benchmark."""
from types import SimpleNamespace

from sqlalchemy import func, select, text

from app.services import demo, idcard
from app.services.pinyin import initials

BEIJING = ["东城区", "西城区", "朝阳区", "丰台区", "石景山区", "海淀区", "门头沟区", "房山区", "通州区",
           "顺义区", "昌平区", "大兴区", "怀柔区", "平谷区", "密云区", "延庆区"]


def _stand_in_departments(n: int = 300):
    """Departments as person_rows sees them: id, code (district code first), ancestors."""
    codes = [code for code, _ in demo.DISTRICTS]
    return [SimpleNamespace(id=1000 + k, code=f"{codes[k % 16]}{k:05d}", district_id=k % 16 + 1,
                            institution_id=100 + k // 10) for k in range(n)]


def test_50k_generated_persons_have_unique_valid_numbers():
    departments = _stand_in_departments()
    rows = list(demo.person_rows(departments, 50_000))
    assert len(rows) == 50_000
    assert len({r["id_number"] for r in rows}) == 50_000
    assert len({r["card_no"] for r in rows}) == 50_000
    area_of = {d.id: d.code[:6] for d in departments}
    for r in rows:
        assert idcard.validate(r["id_number"]) == r["id_number"]  # checksum, date, format
        assert r["id_number"][:6] == area_of[r["department_id"]]  # born in the department's district
        assert r["gender"] == idcard.gender(r["id_number"])
        assert r["birth_date"] == idcard.birth_date(r["id_number"])
        assert r["card_no"].startswith(r["id_number"][2:6])


def test_fast_initials_equal_pypinyin_for_every_generated_name():
    # The generator skips pypinyin per row; the shortcut must give what imports and edits store.
    rows = demo.person_rows(_stand_in_departments(), 50_000, seed=7)
    assert all(r["name_initials"] == initials(r["name"]) for r in rows)
    fast = demo.NameInitials(demo.SURNAMES + demo.GIVEN)
    assert fast("叶韵") == initials("叶韵") == "xy"  # a phrase: pypinyin reads 叶 as xié here


def test_generation_is_deterministic_and_weighted_by_institution():
    departments = _stand_in_departments(20)  # institutions 100 (k < 10) and 101
    heavy = demo.person_rows(departments, 5000, institution_weight=lambda d: 4 if d.institution_id == 100 else 1)
    counts = {100: 0, 101: 0}
    for r in heavy:
        counts[r["institution_id"]] += 1
    assert counts == {100: 4000, 101: 1000}
    assert list(demo.person_rows(departments, 200)) == list(demo.person_rows(departments, 200))


def test_institution_plan_is_the_demo_by_default_and_scales_for_the_benchmark():
    base = demo.institution_plan()
    assert 60 <= len(base) <= 90
    assert demo.institutions_for(2000) == len(base)
    assert demo.institutions_for(300_000) == 150
    scaled = demo.institution_plan(150)
    assert len(scaled) == 150
    assert {row[1] for row in base} <= {row[1] for row in scaled}  # the demo's, plus more
    assert len({name for _, name, _, _ in scaled}) == 150  # no two institutions share a name
    assert {level for _, _, level, _ in scaled} == {"三级", "二级", "一级", "社会办医"}
    departments = sum(len(demo._departments_for(level, kind)) for _, _, level, kind in scaled)
    assert departments > 1500


def test_demo_city_in_the_database(app_ctx):
    from app.cli import build_demo
    from app.extensions import db
    from app.models import CmeUser, Org, Person
    from app.services import roles as R

    logins = build_demo(persons=3000)
    districts = db.session.scalars(select(Org.name).where(Org.kind == "district")).all()
    assert sorted(districts) == sorted(BEIJING)
    institutions = db.session.scalars(select(Org).where(Org.kind == "institution")).all()
    assert len(institutions) == len(demo.institution_plan())
    assert {i.level for i in institutions} == {"三级", "二级", "一级", "社会办医"}
    assert {i.inst_type for i in institutions} >= {"医院", "社区卫生服务中心", "疾病预防控制中心"}
    # Departments went in by bulk insert: their ancestor ids are set like the flush hook would.
    departments = db.session.scalars(select(Org).where(Org.kind == "department")).all()
    assert departments and all(d.department_id == d.id and d.institution_id == d.parent_id
                               and d.district_id == d.parent.district_id for d in departments)
    for inst in institutions:
        assert db.session.scalar(select(func.count(Org.id)).where(Org.parent_id == inst.id)) >= 3
    assert db.session.scalar(select(func.count(Person.id))) == 3000
    mismatched = db.session.scalar(
        select(func.count(Person.id)).join(Org, Org.id == Person.department_id)
        .where((Org.institution_id != Person.institution_id) | (Org.district_id != Person.district_id)))
    assert mismatched == 0
    # A tertiary hospital has more staff than a community centre.
    sizes = dict(db.session.execute(
        select(Org.level, func.count(Person.id) / func.count(func.distinct(Org.id)))
        .join(Person, Person.institution_id == Org.id).group_by(Org.level)).all())
    assert sizes["三级"] > 5 * sizes["一级"]
    roles = {role for _, _, role in logins}
    assert roles == set(R.ALL_ROLES)
    for username, _, role in logins:
        user = db.session.scalar(select(CmeUser).where(CmeUser.username == username))
        assert [r.name for r in user.roles] == [role]
    student = db.session.scalar(select(CmeUser).where(CmeUser.username == "student"))
    assert student.person_id is not None


def test_demo_command_scales_institutions(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["cme", "demo", "--persons", "500", "--institutions", "100"])
    assert result.exit_code == 0, result.output
    assert "500 人" in result.output and "admin" in result.output
    with app.app_context():
        from app.extensions import db
        from app.models import Org, Person

        assert db.session.scalar(select(func.count(Org.id)).where(Org.kind == "institution")) == 100
        assert db.session.scalar(select(func.count(Person.id))) == 500
    again = runner.invoke(args=["cme", "demo"])
    assert again.exit_code == 0 and "跳过" in again.output  # idempotent


def test_bulk_load_keeps_indexes_and_foreign_keys(app_ctx):
    """PostgreSQL loads by COPY with indexes and foreign keys dropped and rebuilt in the same
    transaction: afterwards the table has exactly the same ones."""
    from app.extensions import db

    def schema():
        if db.engine.dialect.name != "postgresql":
            return db.session.execute(text(
                "SELECT name, sql FROM sqlite_master WHERE tbl_name = 'person' ORDER BY name")).all()
        return db.session.execute(text(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'person' UNION ALL "
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'person'::regclass "
            "ORDER BY 1")).all()

    before = schema()
    orgs = demo.build_orgs(db.session)
    assert demo.build_persons(db.session, orgs["departments"], 1200, chunk=500) == 1200
    db.session.commit()
    assert schema() == before
    assert any("ix_person_institution_scope" in str(row) for row in before)
