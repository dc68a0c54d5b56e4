"""学分审验 screens, one module per screen (seed 001, seed 003 part 03):

* ``cycles`` — 审验时间设置 (AUD-1), 抽取抽审单位, the sampled institutions;
* ``experts`` — 审验专家 (AUD-2);
* ``standards`` / ``draws`` — 审验标准设置 (AUD-3), starting a draw as a job, 抽取记录 (seed, re-run);
* ``lists`` — a standard's 名单 and the cycle's 最终名单 (AUD-4, AUD-8);
* ``allocation`` — 专家分配 (AUD-5) and its lock;
* ``units`` / ``replies`` — 单位审验 (the units' own audit in its window) and 回执 (issue 16 items 1, 3);
* ``workspace`` — 专家审验 (AUD-6) and its JSON API;
* ``results`` / ``appeals`` / ``verify`` — 审验结果, 通报, 证明 (AUD-7, AUD-8), 复审, public verification.

``common`` and ``auditor`` hold what the screens share. Views are thin: services/audit.py,
audit_sampling.py, audit_review.py and audit_certificate.py hold the rules; every action runs through
views/actions.act. The city office (市继教办) runs the administration; a district admin keeps standards
and draws of its own district. Rows outside the user's scope answer 404.
"""
from flask_babel import lazy_gettext as _l

from app.views.audit.allocation import AuditAllocationView
from app.views.audit.appeals import AuditAppealView
from app.views.audit.cycles import AuditCycleView
from app.views.audit.draws import AuditDrawView
from app.views.audit.experts import AuditExpertView
from app.views.audit.lists import AuditListView
from app.views.audit.replies import AuditReplyView
from app.views.audit.results import AuditResultView
from app.views.audit.standards import AuditStandardView
from app.views.audit.units import AuditUnitReviewView
from app.views.audit.verify import AuditVerifyView
from app.views.audit.workspace import AuditReviewApi, AuditReviewView

CATEGORY = "学分审验"


def register(appbuilder) -> None:
    cat = CATEGORY
    appbuilder.add_view(AuditCycleView, "审验时间设置", label=_l("审验时间设置"), icon="fa-calendar", category=cat,
                        category_label=_l("学分审验"), category_icon="fa-stamp")
    appbuilder.add_view(AuditExpertView, "审验专家", label=_l("审验专家"), icon="fa-user-tie", category=cat)
    appbuilder.add_view(AuditStandardView, "审验标准设置", label=_l("审验标准设置"), icon="fa-filter", category=cat)
    appbuilder.add_view(AuditDrawView, "抽取记录", label=_l("抽取记录"), icon="fa-dice", category=cat)
    appbuilder.add_view(AuditListView, "筛选名单", label=_l("筛选名单"), icon="fa-list", category=cat)
    appbuilder.add_view(AuditAllocationView, "专家分配", label=_l("专家分配"), icon="fa-people-arrows", category=cat)
    appbuilder.add_view(AuditUnitReviewView, "单位审验", label=_l("单位审验"), icon="fa-hospital-user", category=cat)
    appbuilder.add_view(AuditReplyView, "审验回执", label=_l("审验回执"), icon="fa-reply", category=cat)
    appbuilder.add_view(AuditReviewView, "专家审验", label=_l("专家审验"), icon="fa-user-check", category=cat,
                        category_label=_l("学分审验"), category_icon="fa-stamp")
    appbuilder.add_link("审验学员", href="/audit-review/persons", label=_l("审验学员"), icon="fa-list-check",
                        category=cat)
    appbuilder.add_view(AuditResultView, "审验结果", label=_l("审验结果"), icon="fa-clipboard-check", category=cat)
    appbuilder.add_view(AuditAppealView, "审验复审", label=_l("审验复审"), icon="fa-rotate-left", category=cat)
    appbuilder.add_view_no_menu(AuditVerifyView)
    appbuilder.add_api(AuditReviewApi)
