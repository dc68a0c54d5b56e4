"""Views: one module per area. ``register(appbuilder)`` adds them all with their Chinese menus."""

import importlib

from flask_babel import lazy_gettext as _l

# Modules of later areas; each has ``register(appbuilder)`` adding its own views, menus and APIs.
AREA_MODULES: list[str] = [
    "app.views.review",
    "app.views.selfstudy",
    "app.views.activities",
    "app.views.audit",
    "app.views.supervision",
    "app.views.projects",
    "app.views.distance",
    "app.views.grant_review",
]


def register(appbuilder) -> None:
    from flask import current_app

    from app.views import widgets

    widgets.install(current_app)
    from app.views.dictionaries import DictItemView, DictTypeView, ParameterView
    from app.views.jobs import JobView
    from app.views.logs import LoginLogView, OperationLogView
    from app.views.notices import NoticeView
    from app.views.org import DepartmentView, DistrictView, InstitutionView, OrgImportView
    from app.views.people import PersonApi, PersonView
    from app.views.pickers import DictPickerApi

    org = _l("组织机构")
    appbuilder.add_view(DistrictView, "区县", label=_l("区县"), icon="fa-map", category="组织机构",
                        category_label=org, category_icon="fa-sitemap")
    appbuilder.add_view(InstitutionView, "医疗机构", label=_l("医疗机构"), icon="fa-hospital",
                        category="组织机构")
    appbuilder.add_view(DepartmentView, "科室", label=_l("科室"), icon="fa-users", category="组织机构")
    appbuilder.add_view_no_menu(OrgImportView)
    appbuilder.add_link("组织机构导入", href="/orgs/import/", label=_l("组织机构导入"), icon="fa-upload",
                        category="组织机构")
    appbuilder.add_view(PersonView, "学员", label=_l("学员"), icon="fa-user-md", category="人员管理",
                        category_label=_l("人员管理"), category_icon="fa-id-card")
    appbuilder.add_link("人员导入", href="/persons/import/", label=_l("人员导入"), icon="fa-upload",
                        category="人员管理")
    sysm = _l("系统管理")
    appbuilder.add_view(DictTypeView, "字典管理", label=_l("字典管理"), icon="fa-book", category="系统管理",
                        category_label=sysm, category_icon="fa-cogs")
    appbuilder.add_view(DictItemView, "字典数据", label=_l("字典数据"), icon="fa-list", category="系统管理")
    appbuilder.add_view(ParameterView, "参数设置", label=_l("参数设置"), icon="fa-sliders", category="系统管理")
    appbuilder.add_view(NoticeView, "通知公告", label=_l("通知公告"), icon="fa-bullhorn", category="系统管理")
    appbuilder.add_view(OperationLogView, "操作日志", label=_l("操作日志"), icon="fa-history",
                        category="系统管理")
    appbuilder.add_view(LoginLogView, "登录日志", label=_l("登录日志"), icon="fa-sign-in", category="系统管理")
    appbuilder.add_view(JobView, "我的任务", label=_l("我的任务"), icon="fa-tasks", category="个人信息",
                        category_label=_l("个人信息"), category_icon="fa-user")
    from app.views.rules import CreditStandardView, RuleSetView
    from app.views.stats import StatsView

    appbuilder.add_view(RuleSetView, "规则集", label=_l("规则集"), icon="fa-balance-scale", category="授分规则",
                        category_label=_l("授分规则"), category_icon="fa-gavel")
    appbuilder.add_view(CreditStandardView, "授分标准", label=_l("授分标准"), icon="fa-list-ol", category="授分规则")
    appbuilder.add_view(StatsView, "达标统计", label=_l("达标统计"), icon="fa-chart-bar", category="统计分析",
                        category_label=_l("统计分析"), category_icon="fa-chart-pie")
    from app.views.credits import ComplianceResultView, CreditView
    from app.views.credits_api import ComplianceApi, CreditApi, CreditRulesApi
    from app.views.transcript import TranscriptView

    appbuilder.add_view(CreditView, "学分记录", label=_l("学分记录"), icon="fa-award", category="学分管理",
                        category_label=_l("学分管理"), category_icon="fa-graduation-cap")
    appbuilder.add_view(ComplianceResultView, "达标结果", label=_l("达标结果"), icon="fa-check-square",
                        category="学分管理")
    appbuilder.add_view_no_menu(TranscriptView)
    appbuilder.add_link("我的学分档案", href="/transcript/me", label=_l("我的学分档案"), icon="fa-id-badge",
                        category="学分管理")
    appbuilder.add_api(CreditApi)
    appbuilder.add_api(CreditRulesApi)
    appbuilder.add_api(ComplianceApi)
    appbuilder.add_view_no_menu(DictPickerApi)
    appbuilder.add_api(PersonApi)
    for name in AREA_MODULES:
        importlib.import_module(name).register(appbuilder)
