"""继教项目 (seed 003 继续医学教育项目; ICME-4/5; issue 16 items 9–10), one module per screen:

- catalog.py — 添加继教项目: the city's catalogue, import, 添加此项目
- manage.py — 继教项目管理 (details, 举办申请, uploads, 手工签到, 授分, attendees) and 项目异常提示
- topics.py — 课题 with 课程微信签到时间设置 and QR codes
- windows.py — 项目微信签到时间设置 (the project-level sign-in window)
- declarations.py — 项目申报 / 申报审核 (district, city), project number, 执行反馈
- practice.py — 添加继教实践活动 with their own QR sign-in window
- signin.py — the public phone sign-in page (topics and practice activities)
- holidays.py — 节假日设置

Rows load through the user's data scope: a guessed id of another unit's row answers 404.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.views.projects.catalog import ProjectCatalogView
from app.views.projects.declarations import DeclarationReviewView, DeclarationView
from app.views.projects.holidays import HolidayView
from app.views.projects.manage import ProjectFlagView, ProjectView
from app.views.projects.practice import PracticeActivityView
from app.views.projects.signin import SignInView
from app.views.projects.topics import TopicView
from app.views.projects.windows import ProjectWindowView

__all__ = ["DeclarationReviewView", "DeclarationView", "HolidayView", "PracticeActivityView", "ProjectCatalogView",
           "ProjectFlagView", "ProjectView", "ProjectWindowView", "SignInView", "TopicView", "register"]


def register(appbuilder) -> None:
    cat = "继教项目"
    appbuilder.add_view(ProjectCatalogView, "添加继教项目", label=_l("添加继教项目"), icon="fa-search-plus",
                        category=cat, category_label=_l("继教项目"), category_icon="fa-chalkboard-teacher")
    appbuilder.add_view(ProjectView, "继教项目管理", label=_l("继教项目管理"), icon="fa-list-alt", category=cat)
    appbuilder.add_view(TopicView, "课程微信签到时间设置", label=_l("课程微信签到时间设置"), icon="fa-qrcode",
                        category=cat)
    appbuilder.add_view(ProjectWindowView, "项目微信签到时间设置", label=_l("项目微信签到时间设置"), icon="fa-clock",
                        category=cat)
    appbuilder.add_view(DeclarationView, "继教项目申报", label=_l("继教项目申报"), icon="fa-file-signature",
                        category=cat)
    appbuilder.add_view(DeclarationReviewView, "项目申报审核", label=_l("项目申报审核"), icon="fa-stamp",
                        category=cat)
    appbuilder.add_view(PracticeActivityView, "添加继教实践活动", label=_l("添加继教实践活动"), icon="fa-user-md",
                        category=cat)
    appbuilder.add_view(ProjectFlagView, "项目异常提示", label=_l("项目异常提示"), icon="fa-exclamation-triangle",
                        category=cat)
    appbuilder.add_view(HolidayView, "节假日设置", label=_l("节假日设置"), icon="fa-calendar", category=cat)
    appbuilder.add_view_no_menu(SignInView)
