"""Dictionaries and parameters seeded on install, taken from the terms the seeds use.

Each entry: (code, label, extra). Sources: seed 003 (授分标准 table: 学分类别 and 活动形式; the nine
实践活动 活动形式; 学科 of the project list; 职称 of the audit screens), seed 001 (unit levels, title
levels), seed 002 (Ⅰ/Ⅱ类 credit classes, the Xuzhou credit categories).

Seeding adds what is missing and never changes what an administrator edited. A seeded item is
retired by unticking 启用, not by deleting it: a deleted one comes back on the next init.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import DictItem, DictType, Parameter
from app.services.pinyin import initials

DICTIONARIES: dict[str, tuple[str, list[tuple[str, str, str | None]]]] = {
    "title": ("职称", [
        ("101", "住院医师", "初级"), ("102", "主治医师", "中级"), ("103", "副主任医师", "副高"),
        ("104", "主任医师", "正高"), ("201", "护士", "初级"), ("202", "护师", "初级"),
        ("203", "主管护师", "中级"), ("204", "副主任护师", "副高"), ("205", "主任护师", "正高"),
        ("301", "药士", "初级"), ("302", "药师", "初级"), ("303", "主管药师", "中级"),
        ("304", "副主任药师", "副高"), ("305", "主任药师", "正高"), ("401", "技士", "初级"),
        ("402", "技师", "初级"), ("403", "主管技师", "中级"), ("404", "副主任技师", "副高"),
        ("405", "主任技师", "正高"),
    ]),
    "title_level": ("职称级别", [("1", "初级", None), ("2", "中级", None), ("3", "副高", None),
                               ("4", "正高", None)]),
    "credit_category": ("学分类别", [
        ("01", "国家级继续医学教育项目", "Ⅰ类"), ("02", "市级继续医学教育项目", "Ⅰ类"),
        ("03", "区级继续医学教育项目", "Ⅱ类"), ("04", "进修学习", None),
        ("05", "在职学历(学位)教育", None), ("06", "有组织的继续医学教育实践活动", "Ⅱ类"),
        ("07", "政府指令性医疗卫生任务", None), ("08", "住院医师规范化培训", None),
        ("09", "北京市继教委许可发证书项目", "Ⅰ类"), ("10", "有计划的自学", "Ⅱ类"),
        ("11", "外地国家级继续医学教育项目", "Ⅰ类"), ("12", "外地省市级继续医学教育项目", "Ⅰ类"),
        ("13", "重点监控项目", None),
        # Seed 002 (Xuzhou 2024) 学分审核要点.
        ("14", "发表论文", "Ⅱ类"), ("15", "立项科研项目", "Ⅱ类"), ("16", "援外医疗任务", None),
        ("17", "自学/成人学历教育", "Ⅱ类"), ("18", "教材、杂志", "Ⅱ类"),
    ]),
    # Seed 002: "每月授予Ⅰ类学分 2 分或Ⅱ类学分 3 分"; the extra column of credit categories uses these.
    "credit_class": ("学分级别", [("1", "Ⅰ类", None), ("2", "Ⅱ类", None)]),
    "activity_type": ("继续医学教育活动类型", [
        ("1", "继续医学教育项目", None), ("2", "进修学习", None), ("3", "在职学历(学位)教育", None),
        ("4", "有组织的继续医学教育实践活动", None), ("5", "政府指令性医疗卫生任务", None),
        ("6", "有计划的自学", None), ("7", "符合规定的其他方式", None),
    ]),
    "activity_form": ("活动形式", [
        ("01", "继续医学教育项目", None), ("02", "满三个月学习时间", None), ("03", "不足三个月学习时间", None),
        ("04", "住院医师规范化培训", None), ("05", "北京市继教委许可发证书项目", None),
        ("11", "手术示范", "实践活动"), ("12", "新技术推广", "实践活动"), ("13", "科技成果转化", "实践活动"),
        ("14", "其他类型实操培训", "实践活动"), ("15", "各类研讨会", "实践活动"),
        ("16", "多学科诊疗活动", "实践活动"), ("17", "教学病例讨论", "实践活动"),
        ("18", "学术会议", "实践活动"), ("19", "其他类型学术交流活动", "实践活动"),
        ("99", "其他活动形式", None),
    ]),
    "unit_level": ("单位级别", [("3", "三级", None), ("2", "二级", None), ("1", "一级", None),
                              ("9", "社会办医", None)]),
    "assessment": ("考核方式", [("1", "笔试", None), ("2", "口试", None), ("3", "操作考核", None),
                              ("4", "撰写综述", None), ("5", "无", None)]),
    "subject": ("学科", [
        ("0101", "内科学", None), ("0102", "心血管内科", None), ("0103", "呼吸内科", None),
        ("0104", "消化内科", None), ("0105", "内分泌内科", None), ("0106", "血液内科", None),
        ("0107", "肾内科", None), ("0108", "神经内科", None), ("0109", "感染性疾病", None),
        ("0201", "外科学", None), ("0202", "普通外科", None), ("0203", "骨科", None),
        ("0204", "神经外科", None), ("0205", "胸心外科", None), ("0206", "泌尿外科", None),
        ("0301", "妇产科学", None), ("0401", "儿科学", None), ("0501", "眼科学", None),
        ("0502", "耳鼻咽喉科学", None), ("0503", "口腔医学", None), ("0601", "皮肤病与性病学", None),
        ("0701", "精神病学", None), ("0801", "急诊医学", None), ("0802", "重症医学", None),
        ("0901", "麻醉学", None), ("1001", "医学影像学", None), ("1002", "超声医学", None),
        ("1101", "临床检验诊断学", None), ("1201", "病理学", None), ("1301", "康复医学", None),
        ("1401", "全科医学", None), ("1501", "护理学", None), ("1502", "儿科护理学", None),
        ("1601", "药学", None),
        ("1701", "中医学", None), ("1801", "预防医学", None), ("1802", "公共卫生", None),
        ("1901", "医学教育与卫生管理", None), ("2001", "遗传学", None), ("9901", "其他学科", None),
    ]),
}

PARAMETERS = [
    ("credit_year_closes", "学分录入年度截止日(月-日)", "12-31", "年度学分录入截止日期，之后仅单位可补录"),
    ("manual_credit_max", "单条手工录入学分上限", "25",
     "学员或单位手工录入一条非项目学分（含按授分标准计算的学分）时允许的最高学分"),
    ("region", "所在地区", "北京市", "选择适用的授分规则集：取该地区已发布、在当日生效的规则集"),
    ("half_day_morning", "上午督查时段", "08:00-12:00", "督查时段：上午起止时间"),
    ("half_day_afternoon", "下午督查时段", "13:30-17:30", "督查时段：下午起止时间"),
    ("evidence_max_mb", "证明材料大小上限(MB)", "5", "学分证明材料单个文件大小上限"),
    ("filing_attachment_max_mb", "报备附件大小上限(MB)", "2", "项目报备附件单个文件大小上限"),
    ("holding_apply_workdays", "举办申请提前工作日", "5", "举办申请须提前的工作日数（徐州2024通知）"),
    ("attendance_upload_days", "刷卡数据上传期限(天)", "7", "项目结束后上传刷卡数据的期限"),
    ("planned_count_tolerance", "计划人数允许偏差(%)", "20", "实际授分人数与计划人数允许的偏差"),
    ("declaration_window", "继教项目申报时间(月-日~月-日)", "",
     "单位提交继教项目申报的规定时间，如 09-01~11-30；留空或填“全年”表示全年可申报（徐州2024通知 二1）"),
    ("initial_password", "学员初始登录密码", "000000",
     "单位批量开通学员账号（登录名为IC卡号）和重置密码时使用的初始密码，学员首次登录须修改（徐州附件一2）"),
]


def seed_dictionaries(session: Session) -> int:
    """Insert missing dictionary types, items and parameters; never overwrites edits."""
    added = 0
    types = {t.code: t for t in session.scalars(select(DictType))}
    for code, (name, items) in DICTIONARIES.items():
        dtype = types.get(code)
        if dtype is None:
            dtype = DictType(code=code, name=name)
            session.add(dtype)
            session.flush()
        existing = {i.code for i in session.scalars(select(DictItem).where(DictItem.type_id == dtype.id))}
        for sort, (item_code, label, extra) in enumerate(items, start=1):
            if item_code not in existing:
                session.add(DictItem(type_id=dtype.id, code=item_code, label=label, extra=extra,
                                     pinyin=initials(label), sort=sort, active=True))
                added += 1
    keys = set(session.scalars(select(Parameter.key)))
    for key, name, value, remark in PARAMETERS:
        if key not in keys:
            session.add(Parameter(key=key, name=name, value=value, remark=remark))
            added += 1
    session.flush()
    return added
