"""Demo data: a Beijing-like city (16 real districts, ~60 institutions, departments, persons).

The same generator builds the benchmark data set (``persons=300_000``) with bulk inserts.
Deterministic: the same arguments give the same data.
"""
from __future__ import annotations

import datetime
import random
from typing import Callable

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from app.models import DictItem, DictType, Org, Person
from app.services import idcard
from app.services.pinyin import initials

DISTRICTS = [
    ("110101", "东城区"), ("110102", "西城区"), ("110105", "朝阳区"), ("110106", "丰台区"),
    ("110107", "石景山区"), ("110108", "海淀区"), ("110109", "门头沟区"), ("110111", "房山区"),
    ("110112", "通州区"), ("110113", "顺义区"), ("110114", "昌平区"), ("110115", "大兴区"),
    ("110116", "怀柔区"), ("110117", "平谷区"), ("110118", "密云区"), ("110119", "延庆区"),
]
HOSPITAL_DEPTS = ["心血管内科", "呼吸内科", "消化内科", "内分泌内科", "普通外科", "骨科", "妇产科",
                  "儿科", "急诊科", "超声科", "检验科", "护理部"]
COMMUNITY_DEPTS = ["全科", "预防保健科", "护理部", "药剂科"]
CDC_DEPTS = ["传染病防制科", "免疫规划科", "检验科"]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段漕钱汤尹黎易常武乔贺赖龚文"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彩春菊兰凤洁梅琳素云莲真环雪荣爱妹霞香月莺媛瑞凡佳嘉琼勤珍贞莉桂娣叶璧璐娅琦晶妍茜秋珊莎锦黛青倩婷姣婉娴瑾颖露瑶怡婵雁蓓纨仪荷丹蓉眉君琴蕊薇菁梦岚苑婕馨瑗琰韵融园艺咏卿聪澜纯毓悦昭冰爽琬茗羽希宁欣飘育滢馥筠柔竹霭凝晓欢霄枫芸菲寒伊亚宜可姬舒影荔枝思丽"


def _institution_plan(code: str, name: str, idx: int) -> list[tuple[str, str, str]]:
    """(name, level, type) of the institutions of one district (3–5 each, ~60 in all)."""
    short = name[:-1]
    plan = [
        (f"{short}区第一人民医院", "二级", "医院"),
        (f"{short}区社区卫生服务中心", "一级", "社区卫生服务中心"),
        (f"{short}区{['和睦', '康宁', '仁爱', '博济'][idx % 4]}医院", "社会办医", "医院"),
    ]
    if idx < 8:
        plan.insert(0, (f"北京{['协和', '同仁', '朝阳', '天坛', '世纪', '友谊', '安贞', '宣武'][idx]}"
                        f"{['医院', '医院', '医院', '医院', '坛医院', '医院', '医院', '医院'][idx]}",
                        "三级", "医院"))
    if idx % 2 == 0:
        plan.append((f"{short}区第二社区卫生服务中心", "一级", "社区卫生服务中心"))
    plan.append((f"{short}区疾病预防控制中心", "二级", "疾病预防控制中心"))
    return plan


def build_orgs(session: Session, city_name: str = "北京市") -> dict:
    """Create the city, districts, institutions and departments; returns lookup lists."""
    city = session.scalar(select(Org).where(Org.kind == "city"))
    if city is None:
        city = Org(kind="city", name=city_name, code="1100")
        session.add(city)
        session.flush()
    institutions, departments = [], []
    for idx, (code, dname) in enumerate(DISTRICTS):
        district = Org(kind="district", name=dname, code=code, parent=city, sort=idx)
        session.add(district)
        session.flush()
        for j, (iname, level, itype) in enumerate(_institution_plan(code, dname, idx)):
            inst = Org(kind="institution", name=iname, code=f"{code}{j:02d}", level=level,
                       inst_type=itype, parent=district, sort=j)
            session.add(inst)
            session.flush()
            names = (HOSPITAL_DEPTS if itype == "医院" else COMMUNITY_DEPTS if itype.startswith("社区")
                     else CDC_DEPTS)
            for k, dep in enumerate(names):
                dept = Org(kind="department", name=dep, code=f"{code}{j:02d}{k:02d}", parent=inst, sort=k)
                session.add(dept)
                departments.append(dept)
            institutions.append(inst)
    session.flush()
    return {"city": city, "institutions": institutions, "departments": departments}


def person_rows(departments: list[Org], count: int, seed: int = 2026,
                titles: list[tuple[str, str]] | None = None):
    """Yield person dicts spread over the departments; ID and card numbers valid and unique."""
    rnd = random.Random(seed)
    titles = titles or [("主治医师", "中级")]
    pinyin_cache: dict[str, str] = {}
    base = datetime.date(1962, 1, 1)
    area_of = {code: code for code, _ in DISTRICTS}
    district_codes = {}
    for dept in departments:
        district_codes[dept.id] = dept.code[:6] if dept.code and dept.code[:6] in area_of else "110101"
    specialties = ["临床医学", "护理学", "药学", "医学技术", "公共卫生", "中医学"]
    for i in range(count):
        dept = departments[i % len(departments)]
        day, seq = (i * 7919) % 14000, i // 14000
        birth = base + datetime.timedelta(days=day)
        area = district_codes[dept.id]
        name = rnd.choice(SURNAMES) + rnd.choice(GIVEN) + (rnd.choice(GIVEN) if rnd.random() < 0.6 else "")
        if name not in pinyin_cache:
            pinyin_cache[name] = initials(name)
        number = idcard.make(area, birth, seq * 2 + (i % 2))
        title, level = titles[rnd.randrange(len(titles))]
        yield dict(card_no=f"{area[2:]}{i:07d}", name=name, name_initials=pinyin_cache[name],
                   id_number=number, gender=idcard.gender(number), birth_date=birth,
                   district_id=dept.district_id, institution_id=dept.institution_id,
                   department_id=dept.id, title=title, title_level=level,
                   specialty=specialties[i % len(specialties)], phone=f"139{i:08d}", active=True)


def build_persons(session: Session, departments: list[Org], count: int,
                  progress: Callable[[int], None] | None = None, chunk: int = 5000) -> int:
    titles = [(i.label, i.extra) for i in session.scalars(
        select(DictItem).join(DictType).where(DictType.code == "title"))] or None
    batch: list[dict] = []
    done = 0
    for row in person_rows(departments, count, titles=titles):
        batch.append(row)
        if len(batch) >= chunk:
            session.execute(insert(Person), batch)
            done += len(batch)
            batch = []
            if progress:
                progress(done)
    if batch:
        session.execute(insert(Person), batch)
        done += len(batch)
    return done
