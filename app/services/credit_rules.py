"""The credit rules engine (ICME-2): one interpreter for every kind of credit standard.

A standard is data: ``kind`` plus ``params`` (JSON). ``compute(kind, params, inputs)`` returns the
credits with a Chinese explanation, or raises RuleError with a Chinese message. Kinds:

- ``per_unit``: credits = whole units of ``per`` × ``rate``, optional ``cap``
  (每3小时1分（上限10分）: unit=hours, per=3, rate=1, cap=10; 7 h → 2).
- ``fixed``: a fixed amount (25分), optionally only from ``min_amount`` (满3个月).
- ``per_session``: ``credits`` per session, each session at least ``min_hours`` long (0.5 / 0.2, ≥ 1 h).
- ``table``: two-dimensional lookup (papers: journal class × author rank; research: level × member rank).
- ``imported``: the project's own credits (申报项目导入, 许可发项目导入).
- ``entered``: an amount granted elsewhere, within ``max`` and an optional list of ``allowed`` sources.

Common params: ``lecturer`` (never more than the project's credits), ``eligible_levels`` /
``eligible_types`` (only for some institutions), ``max_amount`` / ``below`` (bounds of the input).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal, InvalidOperation
from typing import Any

from app.services.errors import DomainError
from app.services.numbers import plain

UNIT_LABELS = {"hours": "小时", "months": "个月", "sessions": "次", "courses": "门课程", "years": "年"}
# Sensible upper bounds of an entered amount per unit (a year has ~2,000 working hours).
DEFAULT_MAX_AMOUNT = {"hours": Decimal(2000), "months": Decimal(12), "sessions": Decimal(366),
                      "courses": Decimal(50), "years": Decimal(5)}
MAX_CREDITS = Decimal(100)
KINDS = ("per_unit", "fixed", "per_session", "table", "imported", "entered")


class RuleError(DomainError):
    """Input or standard the engine cannot accept; the message is Chinese and shown as is."""


@dataclass
class Computation:
    credits: Decimal
    explanation: str
    credit_class: str | None = None
    capped_by: str | None = None
    hours: Decimal | None = None
    months: Decimal | None = None

    @property
    def grantable(self) -> bool:
        return self.credits > 0

    def as_dict(self) -> dict[str, Any]:
        return {"credits": float(self.credits), "grantable": self.grantable, "explanation": self.explanation,
                "credit_class": self.credit_class, "capped_by": self.capped_by,
                "hours": float(self.hours) if self.hours is not None else None,
                "months": float(self.months) if self.months is not None else None}


def _dec(value: Any, label: str) -> Decimal:
    if value is None or value == "":
        raise RuleError("请填写%(label)s", label=label)
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise RuleError("%(label)s必须是数字", label=label) from None
    if not number.is_finite():
        raise RuleError("%(label)s必须是数字", label=label)
    return number


_fmt = plain


def _positive_amount(params: Mapping, inputs: Mapping) -> tuple[Decimal, str]:
    unit = params.get("unit", "hours")
    label = "实际" + {"hours": "学时", "months": "月数", "sessions": "次数", "courses": "课程数",
                      "years": "年数"}.get(unit, "数量")
    amount = _dec(inputs.get("amount"), label)
    if amount <= 0:
        raise RuleError("%(label)s必须大于0", label=label)
    upper = Decimal(str(params["max_amount"])) if "max_amount" in params else DEFAULT_MAX_AMOUNT.get(unit)
    if upper is not None and amount > upper:
        raise RuleError("%(label)s不能超过%(upper)s%(unit)s", label=label, upper=_fmt(upper),
                        unit=UNIT_LABELS.get(unit, ""))
    if "below" in params and amount >= Decimal(str(params["below"])):
        raise RuleError("%(label)s须少于%(below)s%(unit)s，满%(below)s%(unit)s请选择相应的标准", label=label,
                        below=params["below"], unit=UNIT_LABELS.get(unit, ""))
    if "min_amount" in params and amount < Decimal(str(params["min_amount"])):
        raise RuleError("%(label)s须满%(least)s%(unit)s，不足时请选择相应的标准", label=label,
                        least=params["min_amount"], unit=UNIT_LABELS.get(unit, ""))
    return amount, unit


def _check_eligible(params: Mapping, inputs: Mapping) -> None:
    levels, types = params.get("eligible_levels"), params.get("eligible_types")
    if not levels and not types:
        return
    level, itype = inputs.get("institution_level"), inputs.get("institution_type")
    if (levels and level in levels) or (types and itype in types):
        return
    allowed = "、".join([f"{x}医疗机构" for x in levels or []] + list(types or []))
    raise RuleError("该标准只适用于%(allowed)s", allowed=allowed)


def compute(kind: str, params: Mapping, inputs: Mapping) -> Computation:  # noqa: C901
    """Compute one grant. ``inputs``: amount, hours, sessions, row, col, project_credits, credits,
    allowed_value, institution_level, institution_type (each only where the kind needs it)."""
    if kind not in KINDS:
        raise RuleError("未知的授分标准类型：%(kind)s", kind=kind)
    params = params or {}
    _check_eligible(params, inputs)
    credit_class = params.get("class")
    hours = months = None
    capped_by = None

    if kind == "per_unit":
        amount, unit = _positive_amount(params, inputs)
        per, rate = Decimal(str(params["per"])), Decimal(str(params["rate"]))
        units = (amount / per).to_integral_value(rounding=ROUND_FLOOR)
        credits = units * rate
        ulabel = UNIT_LABELS.get(unit, "")
        explanation = (f"{_fmt(amount)}{ulabel}，每{_fmt(per)}{ulabel}{_fmt(rate)}分，"
                       f"计{_fmt(units)}个完整单位，得{_fmt(credits)}分")
        if "cap" in params and params["cap"] is not None and credits > Decimal(str(params["cap"])):
            credits = Decimal(str(params["cap"]))
            capped_by = f"上限{params['cap']}分"
            explanation += f"，超过上限按{params['cap']}分计"
        if unit == "hours":
            hours = amount
        elif unit == "months":
            months = amount
    elif kind == "fixed":
        credits = Decimal(str(params["credits"]))
        explanation = f"按标准授予{_fmt(credits)}分"
        if params.get("unit"):
            amount, unit = _positive_amount(params, inputs)
            if unit == "months":
                months = amount
            elif unit == "hours":
                hours = amount
            explanation = f"{_fmt(amount)}{UNIT_LABELS.get(unit, '')}，" + explanation
    elif kind == "per_session":
        per_credit = Decimal(str(params["credits"]))
        min_hours = Decimal(str(params.get("min_hours", 0)))
        hours = _dec(inputs.get("hours"), "单次学时")
        if hours <= 0:
            raise RuleError("单次学时必须大于0")
        if hours < min_hours:
            raise RuleError("单次不少于%(least)s小时，本次%(hours)s小时不能授分", least=_fmt(min_hours), hours=_fmt(hours))
        if hours > 24:
            raise RuleError("单次学时不能超过24小时")
        sessions = _dec(inputs.get("sessions", 1), "次数")
        if sessions < 1 or sessions != sessions.to_integral_value() or sessions > 366:
            raise RuleError("次数必须是1到366之间的整数")
        credits = per_credit * sessions
        explanation = f"{_fmt(sessions)}次（每次不少于{_fmt(min_hours)}小时），每次{_fmt(per_credit)}分，得{_fmt(credits)}分"
        hours = hours * sessions
    elif kind == "table":
        table: Mapping[str, list] = params["table"]
        cols: list[str] = params["cols"]
        row = inputs.get("row")
        if row not in table:
            raise RuleError("请选择%(label)s（%(choices)s）", label=params.get("row_label", "类别"), choices="、".join(table))
        try:
            col = int(inputs.get("col"))
        except (TypeError, ValueError):
            raise RuleError("请选择%(label)s", label=params.get("col_label", "排序")) from None
        if col < 1 or col > len(cols):
            raise RuleError("仅%(first)s至%(last)s可授予学分", first=cols[0], last=cols[-1])
        credits = Decimal(str(table[row][col - 1]))
        explanation = f"{row}，{cols[col - 1]}：{_fmt(credits)}分"
    elif kind == "imported":
        credits = _dec(inputs.get("project_credits"), "项目学分")
        if credits <= 0:
            raise RuleError("项目学分必须大于0")
        explanation = f"按项目学分授予{_fmt(credits)}分"
    else:  # entered
        credits = _dec(inputs.get("credits"), "学分")
        if credits <= 0:
            raise RuleError("学分必须大于0")
        allowed = params.get("allowed")
        if allowed and inputs.get("allowed_value") not in allowed:
            raise RuleError("%(label)s不在认可目录中", label=params.get("allowed_label", "来源"))
        explanation = f"录入{_fmt(credits)}分"
        if "max" in params and credits > Decimal(str(params["max"])):
            credits = Decimal(str(params["max"]))
            capped_by = f"上限{params['max']}分"
            explanation += f"，超过上限按{params['max']}分计"

    if params.get("lecturer"):
        project = _dec(inputs.get("project_credits"), "项目学分（主讲人学分不能超过项目学分）")
        if project <= 0:
            raise RuleError("项目学分必须大于0")
        if credits > project:
            credits = project
            capped_by = "主讲人分数不能超过项目分数"
            explanation += f"，主讲人分数不能超过项目分数，按{_fmt(project)}分计"
    if credits <= 0:
        explanation += "，不足一个完整单位，不能授分"
    if credits > MAX_CREDITS:
        raise RuleError("单条学分不能超过%(most)s分", most=MAX_CREDITS)
    return Computation(credits=credits.quantize(Decimal("0.01")), explanation=explanation,
                       credit_class=credit_class, capped_by=capped_by, hours=hours, months=months)


def compute_standard(standard: Any, inputs: Mapping) -> Computation:
    """Compute with a CreditStandard row (or anything with ``kind``, ``params``, ``credit_class``)."""
    if standard is None:
        raise RuleError("授分标准不存在")
    if not getattr(standard, "active", True):
        raise RuleError("该授分标准已停用")
    result = compute(standard.kind, standard.params or {}, inputs)
    if result.credit_class is None:
        result.credit_class = getattr(standard, "credit_class", None)
    return result


# ---------------------------------------------------------------------------------------- validation
# Chinese labels of the kinds, for the admin's select (授分规则类型).
KIND_LABELS = {"per_unit": "按完整单位计分（每N小时/月/次/门）", "fixed": "固定学分", "per_session": "按次计分",
               "table": "二维表查分（论文、科研）", "imported": "按项目学分导入", "entered": "录入学分（限额）"}
CLASSES = ("Ⅰ类", "Ⅱ类")

# Param types: (check, message fragment). A check gets the value and returns True when it is valid.
_NUMBER = (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool), "必须是数字")
_PARAM_TYPES = {
    "positive": (lambda v: _NUMBER[0](v) and 0 < v <= MAX_CREDITS * 100, "必须是大于0的数字"),
    "credits": (lambda v: _NUMBER[0](v) and 0 < v <= MAX_CREDITS, f"必须是大于0且不超过{MAX_CREDITS}的数字"),
    "non_negative": (lambda v: _NUMBER[0](v) and v >= 0, "必须是不小于0的数字"),
    "bool": (lambda v: isinstance(v, bool), "必须是 true 或 false"),
    "str": (lambda v: isinstance(v, str) and v.strip() != "", "必须是非空文字"),
    "str_list": (lambda v: isinstance(v, list) and bool(v) and all(isinstance(x, str) and x.strip() for x in v),
                 "必须是非空的文字列表，如 [\"一级\"]"),
    "unit": (lambda v: v in UNIT_LABELS, "必须是 " + "、".join(f"{k}（{v}）" for k, v in UNIT_LABELS.items())),
    "class": (lambda v: v in CLASSES, "必须是“Ⅰ类”或“Ⅱ类”"),
    "table": (lambda v: isinstance(v, dict) and bool(v) and all(
        isinstance(k, str) and isinstance(row, list) and row and all(
            _NUMBER[0](x) and 0 <= x <= MAX_CREDITS for x in row) for k, row in v.items()),
        "必须是 {\"行名\": [学分, …]} 形式的表，学分为0到100的数字"),
}
# Per kind: param → (type, required, Chinese label). Params every kind accepts are in _COMMON_PARAMS.
_AMOUNT_PARAMS = {"max_amount": ("positive", False, "数量上限"), "below": ("positive", False, "须少于"),
                  "min_amount": ("positive", False, "须满")}
_COMMON_PARAMS = {"class": ("class", False, "学分类别（Ⅰ类/Ⅱ类）"), "lecturer": ("bool", False, "主讲人（不超过项目学分）"),
                  "eligible_levels": ("str_list", False, "适用机构级别"),
                  "eligible_types": ("str_list", False, "适用机构类型")}
PARAM_SCHEMA: dict[str, dict[str, tuple[str, bool, str]]] = {
    "per_unit": {"unit": ("unit", True, "计量单位"), "per": ("positive", True, "每多少单位"),
                 "rate": ("credits", True, "每单位学分"), "cap": ("credits", False, "学分上限"), **_AMOUNT_PARAMS},
    "fixed": {"credits": ("credits", True, "学分"), "unit": ("unit", False, "计量单位"), **_AMOUNT_PARAMS},
    "per_session": {"credits": ("credits", True, "每次学分"), "min_hours": ("non_negative", False, "单次最少小时")},
    "table": {"table": ("table", True, "学分表"), "cols": ("str_list", True, "列名（排序）"),
              "row_label": ("str", False, "行标题"), "col_label": ("str", False, "列标题")},
    "imported": {"source": ("str", False, "导入来源")},
    "entered": {"max": ("credits", False, "学分上限"), "allowed": ("str_list", False, "认可目录"),
                "allowed_label": ("str", False, "目录名称")},
}


def param_schema(kind: str) -> dict[str, tuple[str, bool, str]]:
    """The params a kind reads: name → (type, required, label), common params included."""
    return {**PARAM_SCHEMA[kind], **_COMMON_PARAMS}


def validate_params(kind: str, params: Any) -> dict[str, Any]:
    """Check a standard's params against its kind's schema (unknown keys, types, required keys and a few
    cross-checks). Returns the params; raises RuleError listing every problem in Chinese."""
    if kind not in PARAM_SCHEMA:
        raise RuleError("未知的授分规则类型：%(kind)s", kind=kind)
    if not isinstance(params, dict):
        raise RuleError("参数必须是JSON对象，如 {\"unit\": \"hours\", \"per\": 3, \"rate\": 1}")
    schema = param_schema(kind)
    kind_label = KIND_LABELS[kind]
    errors = []
    for key in params:
        if key not in schema:
            errors.append(f"未知参数“{key}”（{kind_label}可用的参数：{'、'.join(schema)}）")
    for key, (ptype, required, label) in schema.items():
        if key not in params or params[key] is None:
            if required:
                errors.append(f"缺少必填参数“{key}”（{label}）")
            continue
        check, message = _PARAM_TYPES[ptype]
        if not check(params[key]):
            errors.append(f"参数“{key}”（{label}）{message}")
    if not errors:
        errors.extend(_cross_check(kind, params))
    if errors:
        raise RuleError("%(problems)s", problems="；".join(errors))
    return params


def _cross_check(kind: str, params: Mapping) -> list[str]:
    errors = []
    if kind == "table":
        width = len(params["cols"])
        for row, values in params["table"].items():
            if len(values) != width:
                errors.append(f"学分表“{row}”行有{len(values)}个值，应与列名个数{width}一致")
    if "below" in params and "min_amount" in params and params["min_amount"] >= params["below"]:
        errors.append("参数“min_amount”（须满）必须小于“below”（须少于）")
    if kind == "fixed" and any(k in params for k in _AMOUNT_PARAMS) and not params.get("unit"):
        errors.append("设置了数量限制时必须同时设置参数“unit”（计量单位）")
    return errors
