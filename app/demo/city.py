"""Demo data: a Beijing-like city (16 real districts, ~60 institutions, departments, persons).

The same generator builds the benchmark data set (``persons=300_000``): institutions and
departments then scale with the person count (about one institution per 2,000 persons), and
persons go in by PostgreSQL ``COPY`` (generic bulk inserts on other databases).
Deterministic: the same arguments give the same data.
"""
from __future__ import annotations

import csv
import datetime
import functools
import io
import itertools
import operator
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass

from sqlalchemy import insert, select, text, update
from sqlalchemy.orm import Session

from app.models import DictItem, DictType, Org, Person
from app.services import idcard, region
from app.services.person_fields import SPECIALTIES
from app.services.pinyin import initials

DISTRICTS = [
    ("110101", "东城区"), ("110102", "西城区"), ("110105", "朝阳区"), ("110106", "丰台区"),
    ("110107", "石景山区"), ("110108", "海淀区"), ("110109", "门头沟区"), ("110111", "房山区"),
    ("110112", "通州区"), ("110113", "顺义区"), ("110114", "昌平区"), ("110115", "大兴区"),
    ("110116", "怀柔区"), ("110117", "平谷区"), ("110118", "密云区"), ("110119", "延庆区"),
]
# Departments by institution kind; a tertiary hospital has them all, a secondary one the first 12.
HOSPITAL_DEPTS = ["心血管内科", "呼吸内科", "消化内科", "内分泌内科", "普通外科", "骨科", "妇产科",
                  "儿科", "急诊科", "超声科", "检验科", "护理部",
                  "神经内科", "肾内科", "血液内科", "风湿免疫科", "感染科", "老年医学科", "肿瘤科",
                  "神经外科", "心胸外科", "泌尿外科", "烧伤整形科", "眼科", "耳鼻咽喉科", "口腔科",
                  "皮肤科", "精神心理科", "康复医学科", "中医科", "麻醉科", "重症医学科", "放射科",
                  "核医学科", "病理科", "药剂科", "输血科", "全科医学科", "医务处", "科教处"]
SECONDARY_DEPTS = HOSPITAL_DEPTS[:12] + ["中医科", "放射科", "药剂科", "麻醉科"]
PRIVATE_DEPTS = ["内科", "外科", "妇科", "口腔科", "检验科", "药剂科", "护理部"]
COMMUNITY_DEPTS = ["全科", "预防保健科", "护理部", "药剂科"]
CDC_DEPTS = ["传染病防制科", "免疫规划科", "检验科"]
MCH_DEPTS = ["妇女保健科", "儿童保健科", "产科", "检验科", "护理部"]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段漕钱汤尹黎易常武乔贺赖龚文"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彩春菊兰凤洁梅琳素云莲真环雪荣爱妹霞香月莺媛瑞凡佳嘉琼勤珍贞莉桂娣叶璧璐娅琦晶妍茜秋珊莎锦黛青倩婷姣婉娴瑾颖露瑶怡婵雁蓓纨仪荷丹蓉眉君琴蕊薇菁梦岚苑婕馨瑗琰韵融园艺咏卿聪澜纯毓悦昭冰爽琬茗羽希宁欣飘育滢馥筠柔竹霭凝晓欢霄枫芸菲寒伊亚宜可姬舒影荔枝思丽"
PERSONS_PER_INSTITUTION = 2000  # scale of the benchmark: ~150 institutions for 300,000 persons
MAX_PERSONS = 7_000_000  # ID numbers stay unique below this (see person_rows)

# Relative staff size by (level, type): a tertiary hospital employs ~25 community centres.
_STAFF_WEIGHT = {("三级", "医院"): 3000, ("二级", "医院"): 800, ("二级", "疾病预防控制中心"): 150,
                 ("二级", "妇幼保健院"): 300, ("一级", "社区卫生服务中心"): 120,
                 ("社会办医", "医院"): 200}
_TERTIARY = ["协和医院", "同仁医院", "朝阳医院", "天坛医院", "世纪坛医院", "友谊医院", "安贞医院",
             "宣武医院", "积水潭医院", "儿童医院", "中日友好医院", "地坛医院", "佑安医院", "胸科医院",
             "肿瘤医院", "口腔医院", "妇产医院", "安定医院", "老年医院", "小汤山医院"]
_BRANDS = ["和睦", "康宁", "仁爱", "博济", "怡德", "长青", "华康", "惠民"]
_SECONDARY = ["中医医院", "中西医结合医院", "第二人民医院", "精神卫生保健院", "口腔医院", "眼科医院",
              "骨伤医院", "康复医院"]


def _institution_plan(code: str, name: str, idx: int) -> list[tuple[str, str, str]]:
    """(name, level, type) of the institutions of one district (3–5 each, 64 in all)."""
    short = name[:-1]
    plan = [
        (f"{short}区第一人民医院", "二级", "医院"),
        (f"{short}区社区卫生服务中心", "一级", "社区卫生服务中心"),
    ]
    if idx < 8:
        plan.insert(0, (f"北京{_TERTIARY[idx]}", "三级", "医院"))
    if idx % 2 == 0:
        plan.append((f"{short}区{_BRANDS[idx % 4]}医院", "社会办医", "医院"))
    plan.append((f"{short}区疾病预防控制中心", "二级", "疾病预防控制中心"))
    return plan


_STREETS = ["东街", "西街", "南苑", "北苑", "新村", "光明", "和平", "建设", "团结", "胜利", "花园", "幸福"]
# Additional institutions of a district (benchmark scale) come in this rotation.
_EXTRA_ROTATION = ["三级", "社区", "二级", "社区", "社会办医", "妇幼"]


def _extra_institution(short: str, idx: int, counters: dict[str, int],
                       tertiary: dict[str, int]) -> tuple[str, str, str]:
    """The next additional institution of a district; ``counters`` numbers them per kind."""
    n = sum(counters.values())
    kind = _EXTRA_ROTATION[n % len(_EXTRA_ROTATION)]
    if kind == "妇幼" and counters.get("妇幼"):
        kind = "社区"
    k = counters[kind] = counters.get(kind, 0) + 1
    if kind == "三级":
        tertiary["no"] += 1
        name = _TERTIARY[(tertiary["no"] - 1) % len(_TERTIARY)]
        return (f"北京{name}" + (f"{short}院区" if tertiary["no"] > len(_TERTIARY) else ""), "三级", "医院")
    if kind == "二级":
        name = _SECONDARY[k - 1] if k <= len(_SECONDARY) else f"第{k - len(_SECONDARY) + 2}人民医院"
        return (f"{short}区{name}", "二级", "医院")
    if kind == "社区":
        street = _STREETS[k - 1] if k <= len(_STREETS) else f"第{k + 2}"
        return (f"{short}区{street}社区卫生服务中心", "一级", "社区卫生服务中心")
    if kind == "社会办医":
        brand = _BRANDS[(idx % 4 + k) % len(_BRANDS)]
        return (f"{short}{brand}医院" + (f"第{k // len(_BRANDS) + 1}分院" if k >= len(_BRANDS) else ""),
                "社会办医", "医院")
    return (f"{short}区妇幼保健院", "二级", "妇幼保健院")


def institution_plan(institutions: int | None = None) -> list[tuple[int, str, str, str]]:
    """(district index, name, level, type) of every institution.

    The base plan (64) is the demo; a larger ``institutions`` adds institutions to the districts in
    turn (tertiary and secondary hospitals, community centres, private hospitals)."""
    plan = [(idx, *row) for idx, (code, dname) in enumerate(DISTRICTS)
            for row in _institution_plan(code, dname, idx)]
    extra = max(0, (institutions or 0) - len(plan))
    counters: list[dict[str, int]] = [{} for _ in DISTRICTS]
    tertiary = {"no": 8}  # the base plan used the first 8 tertiary names
    for k in range(extra):
        idx = k % len(DISTRICTS)
        row = _extra_institution(DISTRICTS[idx][1][:-1], idx, counters[idx], tertiary)
        plan.append((idx, *row))
    plan.sort(key=lambda r: r[0])  # stable: base plan first within each district
    return plan


def _departments_for(level: str, inst_type: str) -> list[str]:
    if inst_type == "医院":
        return {"三级": HOSPITAL_DEPTS, "二级": SECONDARY_DEPTS}.get(level, PRIVATE_DEPTS)
    if inst_type == "社区卫生服务中心":
        return COMMUNITY_DEPTS
    if inst_type == "妇幼保健院":
        return MCH_DEPTS
    return CDC_DEPTS


def institutions_for(persons: int) -> int:
    """Institutions generated for ``persons`` by default: the 64 of the demo, or one per 2,000."""
    return max(len(institution_plan()), persons // PERSONS_PER_INSTITUTION)


def build_orgs(session: Session, city_name: str = "北京市", institutions: int | None = None) -> dict:
    """Create the city, its 16 districts, institutions and departments; returns lookup lists.

    Departments (thousands at benchmark scale) go in as one bulk insert; the ancestor ids that the
    Org flush hook fills for single rows are set here directly."""
    # The same city node as `flask cme init` (an installed city is kept, its name and code too).
    city = region.ensure_city(session, city_name, "1100").city
    districts = []
    for idx, (code, dname) in enumerate(DISTRICTS):
        districts.append(Org(kind="district", name=dname, code=code, parent=city, sort=idx))
    session.add_all(districts)
    session.flush()
    institutions_out, dept_rows, seen = [], [], {}
    for idx, iname, level, itype in institution_plan(institutions):
        j = seen[idx] = seen.get(idx, -1) + 1
        district = districts[idx]
        inst = Org(kind="institution", name=iname, code=f"{district.code}{j:03d}", level=level,
                   inst_type=itype, parent=district, sort=j)
        session.add(inst)
        institutions_out.append(inst)
    session.flush()
    for inst in institutions_out:
        for k, dep in enumerate(_departments_for(inst.level, inst.inst_type)):
            dept_rows.append({"kind": "department", "name": dep, "code": f"{inst.code}{k:02d}",
                              "parent_id": inst.id, "sort": k, "active": True,
                              "district_id": inst.district_id, "institution_id": inst.id})
    session.execute(insert(Org), dept_rows)
    session.execute(update(Org).where(Org.kind == "department", Org.department_id.is_(None))
                    .values(department_id=Org.id).execution_options(synchronize_session=False))
    departments = list(session.scalars(select(Org).where(Org.kind == "department").order_by(Org.id)))
    return {"city": city, "districts": districts, "institutions": institutions_out, "departments": departments}


# ---------------------------------------------------------------------------- persons
def _phrase_prefixes() -> set[str]:
    from pypinyin.constants import PHRASES_DICT

    return {phrase[:2] for phrase in PHRASES_DICT if len(phrase) >= 2}


class NameInitials:
    """``initials(name)`` for generated names, without calling pypinyin per row.

    pypinyin converts a name character by character unless two neighbouring characters start
    one of its phrases; only those names take the slow exact path. Same result, ~50× faster."""

    def __init__(self, alphabet: str):
        self.chars = {c: initials(c) for c in set(alphabet)}
        self.phrase_starts = _phrase_prefixes()
        self.exact: dict[str, str] = {}

    def __call__(self, name: str) -> str:
        starts = self.phrase_starts
        if any(name[k:k + 2] in starts for k in range(len(name) - 1)):
            if name not in self.exact:
                self.exact[name] = initials(name)
            return self.exact[name]
        return "".join(self.chars[c] for c in name)


@dataclass(frozen=True)
class DeptSlot:
    """What person_rows needs of a department (an Org row or a plain stand-in)."""
    id: int
    district_id: int | None
    institution_id: int
    area: str
    weight: float


def _slots(departments: list, institution_weight: Callable[[object], float] | None) -> list[DeptSlot]:
    """Each department with its district code and its share of the staff: the institution's
    weight split evenly over its departments (or 1 per department without weights)."""
    district_codes = {code for code, _ in DISTRICTS}
    per_inst: dict[int, int] = {}
    for dept in departments:
        per_inst[dept.institution_id] = per_inst.get(dept.institution_id, 0) + 1
    slots = []
    for dept in departments:
        code = (dept.code or "")[:6]
        weight = institution_weight(dept) / per_inst[dept.institution_id] if institution_weight else 1.0
        slots.append(DeptSlot(dept.id, dept.district_id, dept.institution_id,
                              code if code in district_codes else "110101", weight))
    return slots


def _schedule(slots: list[DeptSlot], count: int, rnd: random.Random) -> list[int]:
    """Department index of each of ``count`` persons: proportional to weight, shuffled."""
    total = sum(s.weight for s in slots)
    exact = [count * s.weight / total for s in slots]
    quotas = [int(x) for x in exact]
    rest = sorted(range(len(slots)), key=lambda k: quotas[k] - exact[k])[:count - sum(quotas)]
    for k in rest:
        quotas[k] += 1
    order = [k for k, q in enumerate(quotas) for _ in range(q)]
    rnd.shuffle(order)
    return order


def person_rows(departments: list, count: int, seed: int = 2026,
                titles: list[tuple[str, str]] | None = None,
                institution_weight: Callable[[object], float] | None = None) -> Iterator[dict]:
    """Yield person dicts spread over the departments; ID and card numbers valid and unique.

    ``departments`` need ``id``, ``code`` (starting with the district code), ``district_id`` and
    ``institution_id``. ``institution_weight(dept)`` sizes the staff of the department's
    institution (default: every department gets the same number of persons). Uniqueness: person ``i`` is born on day
    ``i * 7919 mod 14000`` after 1962-01-01 (a permutation within each block of 14,000) with the
    sequence number ``2 * (i // 14000) + i % 2``, so no two persons share birth date and sequence,
    whatever their area, below MAX_PERSONS; the card number ends with ``i``.
    """
    if count > MAX_PERSONS:
        raise ValueError(f"at most {MAX_PERSONS} persons")
    rnd = random.Random(seed)
    titles = titles or [("主治医师", "中级")]
    name_initials = NameInitials(SURNAMES + GIVEN)
    slots = _slots(departments, institution_weight)
    order = _schedule(slots, count, rnd)
    base = datetime.date(1962, 1, 1)
    births = [base + datetime.timedelta(days=d) for d in range(14000)]
    birth_texts = [f"{b:%Y%m%d}" for b in births]
    surnames, given, n_titles = SURNAMES, GIVEN, len(titles)
    choice, random_ = rnd.choice, rnd.random
    check_digit = idcard.check_digit
    for i in range(count):
        slot = slots[order[i]]
        day = (i * 7919) % 14000
        name = choice(surnames) + choice(given) + (choice(given) if random_() < 0.6 else "")
        first17 = f"{slot.area}{birth_texts[day]}{(2 * (i // 14000) + i % 2) % 1000:03d}"
        title, level = titles[rnd.randrange(n_titles)]
        yield {"card_no": f"{slot.area[2:]}{i:07d}", "name": name, "name_initials": name_initials(name),
               "id_number": first17 + check_digit(first17), "gender": "男" if i % 2 else "女",
               "birth_date": births[day], "district_id": slot.district_id,
               "institution_id": slot.institution_id, "department_id": slot.id, "title": title,
               "title_level": level, "specialty": SPECIALTIES[i % len(SPECIALTIES)],
               "phone": f"139{i:08d}", "active": True}


_COPY_COLUMNS = ("card_no", "name", "name_initials", "id_number", "gender", "birth_date", "district_id",
                 "institution_id", "department_id", "title", "title_level", "specialty", "phone", "active")


def _copy_chunk(cursor, rows: list[dict]) -> None:
    """PostgreSQL COPY of person rows. CSV: the csv module quotes; None is written as an empty
    unquoted field (NULL), True as "True" (a valid boolean)."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(map(operator.itemgetter(*_COPY_COLUMNS), rows))
    buf.seek(0)
    cursor.copy_expert(f"COPY person ({', '.join(_COPY_COLUMNS)}) FROM STDIN WITH (FORMAT csv)", buf)


@contextmanager
def _indexes_deferred(connection, table: str) -> Iterator[None]:
    """PostgreSQL bulk load into an empty table: drop its plain indexes and foreign keys, then
    recreate them from their own definitions (one sort per index and one join per key instead of
    row-by-row maintenance: ~4× faster). Primary key and unique constraints stay. All of it runs in
    the caller's transaction, so a failed load gets them back by rollback."""
    quote = connection.dialect.identifier_preparer.quote
    indexes = connection.execute(text(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
        "AND tablename = :t AND indexname NOT IN "
        "(SELECT conname FROM pg_constraint WHERE conrelid = CAST(:t AS regclass))"), {"t": table}).all()
    fkeys = connection.execute(text(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = CAST(:t AS regclass) AND contype = 'f'"), {"t": table}).all()
    for name, _ in fkeys:
        connection.execute(text(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}"))
    for name, _ in indexes:
        connection.execute(text(f"DROP INDEX {quote(name)}"))
    yield
    for _, definition in indexes:
        connection.execute(text(definition))
    for name, definition in fkeys:
        connection.execute(text(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}"))


def build_persons(session: Session, departments: list[Org], count: int,
                  progress: Callable[[int], None] | None = None, chunk: int = 10000) -> int:
    """Insert ``count`` generated persons over ``departments``; returns the number inserted.

    Staff is sized by institution level and type (a tertiary hospital gets most). PostgreSQL
    takes them by COPY on the session's own connection (same transaction; into an empty table
    with its indexes built afterwards); other databases by bulk Core inserts. Call
    ``refresh_statistics`` after the commit."""
    titles = [(i.label, i.extra) for i in session.scalars(
        select(DictItem).join(DictType).where(DictType.code == "title").order_by(DictItem.sort, DictItem.id))] or None
    kinds = {o.id: (o.level, o.inst_type) for o in session.scalars(
        select(Org).where(Org.id.in_({d.institution_id for d in departments})))}

    def weight(dept) -> float:
        return _STAFF_WEIGHT.get(kinds.get(dept.institution_id), 150)

    connection = session.connection()
    postgres = connection.dialect.name == "postgresql"
    if postgres:
        cursor = connection.connection.dbapi_connection.cursor()
        write = functools.partial(_copy_chunk, cursor)
        empty = session.scalar(select(Person.id).limit(1)) is None
        deferred = _indexes_deferred(connection, Person.__tablename__) if empty else nullcontext()
    else:
        def write(rows: list[dict]) -> None:
            session.execute(insert(Person), rows)
        deferred = nullcontext()
    done = 0
    with deferred:
        rows = person_rows(departments, count, titles=titles, institution_weight=weight)
        while batch := list(itertools.islice(rows, chunk)):
            write(batch)
            done += len(batch)
            if progress:
                progress(done)
    return done


def refresh_statistics(engine) -> None:
    """After a bulk load (and its commit): planner statistics, and on PostgreSQL the visibility
    map too, so that counts of a scoped list become index-only scans."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM (ANALYZE) person" if engine.dialect.name == "postgresql"
                                else "ANALYZE"))
