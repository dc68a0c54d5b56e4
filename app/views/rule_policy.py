"""达标规则 (ICME-10): a rule set's compliance policy edited as a form (PolicyForm ↔ the policy's JSON
params, checked by compliance.validate_policy) and shown in words on the rule set's page, with the
counting policy and multi-year requirements (services/counting.py) the form leaves as they are."""
from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DecimalField, StringField, TextAreaField
from wtforms.validators import InputRequired, Optional

from app.models.people import TITLE_LEVELS
from app.services import counting
from app.services.numbers import plain

# A new rule set starts with the national minimum; the admin edits it on the policy page.
DEFAULT_POLICY = {"required_total": 25, "required_by_title_level": {}, "window": {"start": "01-01", "end": "12-31"},
                  "class_split": False, "category_limits": [], "full_year": []}
# Form field of each title level's requirement (TITLE_LEVELS order).
LEVEL_FIELDS = dict(zip(TITLE_LEVELS, ("req_junior", "req_middle", "req_vice", "req_senior")))


class PolicyForm(FlaskForm):
    required_total = DecimalField(_l("年度要求学分"), places=None, validators=[InputRequired(message=_l("请填写年度要求学分"))])
    req_junior = DecimalField(_l("初级"), places=None, validators=[Optional()])
    req_middle = DecimalField(_l("中级"), places=None, validators=[Optional()])
    req_vice = DecimalField(_l("副高"), places=None, validators=[Optional()])
    req_senior = DecimalField(_l("正高"), places=None, validators=[Optional()])
    window_start = StringField(_l("学分年度开始（MM-DD）"), validators=[InputRequired()])
    window_end = StringField(_l("学分年度结束（MM-DD）"), validators=[InputRequired()])
    class_split = BooleanField(_l("Ⅰ/Ⅱ类分开计算（不能互相替代）"))
    class1_min = DecimalField(_l("Ⅰ类最少"), places=None, validators=[Optional()])
    class1_max = DecimalField(_l("Ⅰ类最多"), places=None, validators=[Optional()])
    class2_min = DecimalField(_l("Ⅱ类最少"), places=None, validators=[Optional()])
    class2_max = DecimalField(_l("Ⅱ类最多"), places=None, validators=[Optional()])
    category_limits = TextAreaField(_l("各类别每年上限"), render_kw={"rows": 4},
                                    description=_l("每行一条：学分类别=上限学分，例如 有计划的自学=10"))
    category_minimums = TextAreaField(_l("各类别每年最少"), render_kw={"rows": 4},
                                      description=_l("每行一条：学分类别=最少学分，例如 国家级继续医学教育项目=5；"
                                                     "达到总学分但某类别不足最少学分的，不达标"))
    full_year = TextAreaField(_l("满N个月视为完成当年学分"), render_kw={"rows": 4},
                              description=_l("每行一条：月数 | 学分类别（多个用、分隔） | 说明，"
                                             "例如 3 | 进修学习、在职学历(学位)教育 | 进修满3个月"))


def _json_number(value: Decimal | None) -> int | float | None:
    """A form's Decimal as the policy JSON keeps it (2 → 2, 2.5 → 2.5); display uses widgets.number."""
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def policy_form_data(params: dict) -> dict:
    """Policy params → PolicyForm data."""
    limits = params.get("class_limits") or {}
    data = {
        "required_total": params.get("required_total"),
        "window_start": (params.get("window") or {}).get("start", "01-01"),
        "window_end": (params.get("window") or {}).get("end", "12-31"),
        "class_split": bool(params.get("class_split")),
        "class1_min": limits.get("Ⅰ类", {}).get("min"), "class1_max": limits.get("Ⅰ类", {}).get("max"),
        "class2_min": limits.get("Ⅱ类", {}).get("min"), "class2_max": limits.get("Ⅱ类", {}).get("max"),
        "category_limits": "\n".join(f"{c['category']}={c['max']}" for c in params.get("category_limits") or []
                                     if c.get("max") is not None),
        "category_minimums": "\n".join(f"{c['category']}={c['min']}" for c in params.get("category_limits") or []
                                       if c.get("min") is not None),
        "full_year": "\n".join(f"{r.get('min_months', 0)} | {'、'.join(r['categories'])} | {r.get('label') or ''}"
                               for r in params.get("full_year") or []),
    }
    for level, name in LEVEL_FIELDS.items():
        data[name] = (params.get("required_by_title_level") or {}).get(level)
    return {k: (Decimal(str(v)) if isinstance(v, (int, float)) and not isinstance(v, bool) else v)
            for k, v in data.items()}


def _category_lines(field, key: str, bad_line: Callable[[int], str], cats: dict[str, dict]) -> bool:
    """Parse "学分类别=学分" lines of ``field`` into ``cats[category][key]``; False on a bad or
    repeated line (a field error naming the line)."""
    ok = True
    for n, line in enumerate((field.data or "").splitlines(), start=1):
        if not line.strip():
            continue
        name, sep, value = line.replace("＝", "=").partition("=")
        name = name.strip()
        try:
            if not sep or not name:
                raise ValueError(line)
            number = _json_number(Decimal(value.strip()))
        except (ArithmeticError, ValueError):
            field.errors.append(bad_line(n))
            ok = False
            continue
        item = cats.setdefault(name, {"category": name})
        if key in item:
            field.errors.append(_("第%(n)s行：类别“%(name)s”重复填写", n=n, name=name))
            ok = False
        item[key] = number
    return ok


def policy_from_form(form: PolicyForm) -> dict | None:
    """PolicyForm → policy params; line-format problems become field errors (returns None then).
    The maximum and minimum boxes merge into one ``category_limits`` item per category."""
    by_category: dict[str, dict] = {}
    ok = _category_lines(form.category_limits, "max", lambda n: _("第%(n)s行应为“学分类别=上限学分”", n=n),
                         by_category)
    ok = _category_lines(form.category_minimums, "min", lambda n: _("第%(n)s行应为“学分类别=最少学分”", n=n),
                         by_category) and ok
    cats = list(by_category.values())
    rules = []
    for n, line in enumerate((form.full_year.data or "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.replace("｜", "|").split("|")]
        try:
            months = _json_number(Decimal(parts[0]))
            categories = [c.strip() for c in parts[1].replace("，", "、").replace(",", "、").split("、") if c.strip()]
        except (ArithmeticError, ValueError, IndexError):
            form.full_year.errors.append(_("第%(n)s行应为“月数 | 学分类别 | 说明”", n=n))
            ok = False
            continue
        rule = {"categories": categories, "min_months": months}
        if len(parts) > 2 and parts[2]:
            rule["label"] = parts[2]
        rules.append(rule)
    if not ok:
        return None
    params: dict[str, Any] = {
        "required_total": _json_number(form.required_total.data),
        "required_by_title_level": {lvl: _json_number(getattr(form, name).data) for lvl, name in LEVEL_FIELDS.items()
                                    if getattr(form, name).data is not None},
        "window": {"start": (form.window_start.data or "").strip(), "end": (form.window_end.data or "").strip()},
        "class_split": bool(form.class_split.data),
        "category_limits": cats,
        "full_year": rules,
    }
    limits = {}
    for cls, low, high in (("Ⅰ类", form.class1_min, form.class1_max), ("Ⅱ类", form.class2_min, form.class2_max)):
        lim = {k: _json_number(f.data) for k, f in (("min", low), ("max", high)) if f.data is not None}
        if lim:
            limits[cls] = lim
    if limits or params["class_split"]:
        params["class_limits"] = limits
    return params


def policy_lines(params: dict) -> list[tuple[str, str]]:
    """The policy in words for the rule set's page."""
    window = params.get("window") or {"start": "01-01", "end": "12-31"}
    lines = [(_("年度要求学分"), f"{params.get('required_total', 25)}分")]
    by_level = params.get("required_by_title_level") or {}
    if by_level:
        lines.append((_("各职称级别要求"), "；".join(f"{k}{v}分" for k, v in by_level.items())))
    lines.append((_("学分年度"), f"{window['start']} 至 {window['end']}"))
    if params.get("class_split"):
        lim = params.get("class_limits") or {}
        lines.append((_("Ⅰ/Ⅱ类分开"), "；".join(
            f"{c}{v.get('min', 0)}–{v.get('max', '不限')}分" for c, v in lim.items()) + "，不能互相替代"))
    else:
        lines.append((_("Ⅰ/Ⅱ类分开"), _("否")))
    for c in params.get("category_limits") or []:
        if c.get("min") is not None:
            lines.append((_("类别最少"), f"{c['category']}每年至少{c['min']}分"))
        if c.get("max") is not None:
            lines.append((_("类别上限"), f"{c['category']}每年最多{c['max']}分"))
    for r in params.get("full_year") or []:
        months = r.get("min_months", 0)
        cond = f"满{months}个月" if months else "完成"
        lines.append((_("视为完成当年学分"), f"{'、'.join(r['categories'])}{cond}"
                      + (f"（{r['label']}）" if r.get("label") else "")))
    return lines


def counting_lines(params: dict) -> list[tuple[str, str]]:
    """学分计入规则 in words: a line per source the policy names, then the other sources' default
    (one line for every source when it names none)."""
    rows = counting.summary(params)
    rest = _("其他来源") if len(rows) > 1 else _("全部来源")
    return [(row["label"] or rest,
             (_("%(statuses)s的学分计入（须经市级审核，单位审核通过后暂不计入）", statuses="、".join(row["statuses"]))
              if row["city"] else _("%(statuses)s的学分计入", statuses="、".join(row["statuses"]))))
            for row in rows]


def multi_year_lines(params: dict) -> list[tuple[str, str]]:
    """多年度要求 in words, one line per requirement (fields as counting.validate checks them)."""
    lines = []
    for rule in counting.multi_year_rules(params):
        categories = "、".join(rule.get("categories") or [])
        levels = "、".join(rule.get("institution_levels") or [])
        values = {"years": rule.get("years", 5), "categories": categories, "min": plain(rule.get("min", 0))}
        text = (_("连续%(years)s个学分年度（含当年）内%(categories)s学分累计不少于%(min)s分，适用于%(levels)s单位的人员",
                  levels=levels, **values) if levels else
                _("连续%(years)s个学分年度（含当年）内%(categories)s学分累计不少于%(min)s分，适用于全部单位的人员",
                  **values))
        lines.append((rule.get("label") or categories, text))
    return lines
