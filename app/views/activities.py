"""可授学分的继续医学教育活动 (ICME-1): the unified entry, one page per activity type listing the credits
granted for it in the user's scope, and the three-step credit wizard (ICME-3) every type uses.

The view only translates requests: services/activities.py holds the steps, the checks and the submission.
"""
from __future__ import annotations

import re

from flask import abort, current_app, flash, jsonify, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import Org
from app.models.activities import ActivityGrant, GrantDraft
from app.models.attachments import Attachment
from app.models.credits import CREDIT_STATUSES, Credit
from app.services import activities as svc
from app.services import attachments, workflow
from app.services.credit_rules import UNIT_LABELS
from app.services.errors import DomainError
from app.services.manual_credits import EVIDENCE, UNIT_CERT, attachment_in_scope
from app.services.rule_sets import PRACTICE
from app.views.actions import act
from app.views.base import acting_user, current_scope
from app.views.files import send_attachment
from app.views.submit import once
from app.views.widgets import number, page

MODULE = "可授学分的继续医学教育活动"
CATEGORY = "可授学分的继续医学教育活动"

# The seed's menu tree (seed 003 首页 → 可授学分的继续医学教育活动): type → its pages (label, endpoint).
# Pages of other areas appear as soon as their endpoint exists.
SEED_TREE = [
    ("project", [("添加继教项目", "ProjectCatalogView.list"), ("继教项目管理", "ProjectView.list"),
                 ("继教项目学分录入", "wizard"), ("项目微信签到时间设置", "ProjectWindowView.list"),
                 ("课程微信签到时间设置", "TopicView.list"), ("继教项目申报", "DeclarationView.list")]),
    ("study", [("进修学习学分录入", "wizard")]),
    ("degree", [("在职学历(学位)教育学分录入", "wizard")]),
    ("practice", [("教学活动计划上传", "PracticePlanView.list"), ("教学活动计划审核", "PracticePlanReviewView.list"),
                  ("添加继教实践活动", "PracticeActivityView.list"), ("有组织的继教实践活动学分录入", "wizard")]),
    ("gov", [("政府指令性医疗卫生任务学分录入", "wizard")]),
    ("selfstudy", [("有计划的自学列表", "SelfStudyView.list"), ("自学计划权限设置", "SelfStudyDelegationView.list")]),
    ("other", [("符合规定的其他方式学分录入", "wizard")]),
]
STEP_TITLES = {1: _l("第一步：请选择一条适用的标准"), 2: _l("第二步：添加授予名单"), 3: _l("第三步：请填写相关信息")}


_page = page  # views/widgets.page


def _user():
    user = acting_user()
    if user is None:
        abort(403)
    return user


def _ctx() -> svc.Context:
    user = _user()
    return svc.Context(user_id=user.id, scope=current_scope(), grantor=_grantor(user))


def _grantor(user) -> Org | None:
    """授分单位: the institution of the user (its department's institution for a secretary)."""
    org = getattr(user, "org", None)
    if org is None:
        return None
    if org.kind == "department" and org.institution_id:
        return db.session.get(Org, org.institution_id)
    return org


def _signed_in_added(activity, count: int) -> str:
    if count:
        return _("已将“%(name)s”的%(n)s名签到人员添加到授予名单，活动内容、日期和学时已带入第三步（可修改）",
                 name=activity.name, n=count)
    return _("“%(name)s”的签到人员都已在授予名单中（或不在您的管辖范围内、已停用），未添加人员", name=activity.name)


class ActivityView(BaseView):
    route_base = "/activities"
    default_view = "index"

    # ------------------------------------------------------------------ pages
    def _links(self, slug: str) -> list[tuple[str, str]]:
        """The pages of a type in the seed's tree that exist and that the user may open."""
        links = []
        for label, endpoint in next(pages for s, pages in SEED_TREE if s == slug):
            if endpoint == "wizard":
                links.append((label, url_for("ActivityView.type_page", slug=slug)))
            elif endpoint and endpoint in current_app.view_functions:
                view = endpoint.split(".")[0]
                if self.appbuilder.sm.has_access("can_list", view):
                    links.append((label, url_for(endpoint)))
        return links

    @expose("/")
    @has_access
    @permission_name("read")
    def index(self):
        tree = [(slug, svc.TYPES[slug], self._links(slug)) for slug, _pages in SEED_TREE]
        return self.render_template("activities/index.html", tree=tree)

    @expose("/<slug>/")
    @has_access
    @permission_name("read")
    def type_page(self, slug):
        activity_type = svc.TYPES.get(slug) or abort(404)
        q = request.args.get("q", "")
        page = _page()
        rows, total = svc.credits_page(db.session, current_scope(), activity_type, page, q)
        drafts = svc.open_drafts(db.session, _user().id, activity_type)
        sizes = svc.draft_sizes(db.session, [d.id for d in drafts])
        entry = next((label for s, pages in SEED_TREE if s == slug for label, e in pages if e == "wizard"), None)
        return self.render_template("activities/type.html", slug=slug, activity_type=activity_type, rows=rows,
                                    total=total, page=page, pages=max(1, -(-total // svc.PAGE)), q=q,
                                    drafts=drafts, sizes=sizes, entry=entry, statuses=CREDIT_STATUSES, number=number,
                                    links=[(label, href) for label, href in self._links(slug) if label != entry],
                                    can_grant=self.appbuilder.sm.has_access("can_grant", "ActivityView"))

    def _credit(self, credit_id: int) -> Credit:
        """A credit of the user's scope (another's guessed id: 404)."""
        credit = db.session.scalar(current_scope().filter(select(Credit).where(Credit.id == credit_id), Credit))
        return credit or abort(404)

    @expose("/credit/<int:credit_id>")
    @has_access
    @permission_name("read")
    def credit(self, credit_id):
        """学分详情 of a credit granted here: its details, the evidence it was granted on and its review log."""
        credit = self._credit(credit_id)
        return self.render_template(
            "activities/credit.html", credit=credit, grant=db.session.get(ActivityGrant, credit.id),
            files=attachments.of(EVIDENCE, credit.id), logs=workflow.logs("credit", credit.id),
            statuses=CREDIT_STATUSES, number=number, slug=svc.SLUGS.get(credit.activity_type))

    @expose("/credit/<int:credit_id>/file/<int:att_id>")
    @has_access
    @permission_name("read")
    def credit_file(self, credit_id, att_id):
        credit = self._credit(credit_id)
        att = attachment_in_scope(db.session, current_scope(), att_id)
        if att is None or att.owner_id != credit.id:
            abort(404)
        return send_attachment(att, download=request.args.get("download") == "1")

    # ------------------------------------------------------------------ wizard
    def _draft(self, draft_id: int) -> GrantDraft:
        """The user's own open draft; a submitted one sends the user back to its type's page."""
        draft = db.session.get(GrantDraft, draft_id)
        if draft is None or draft.user_id != _user().id:
            abort(404)
        if draft.status != "open":
            flash(_("该学分已提交，不能重复提交"), "warning")
            abort(redirect(url_for("ActivityView.type_page", slug=svc.SLUGS[draft.activity_type])))
        return draft

    def _render(self, step: int, draft: GrantDraft | None, activity_type: str | None = None, **kwargs):
        activity_type = activity_type or draft.activity_type
        kwargs.setdefault("errors", {})
        return self.render_template(f"activities/step{step}.html", draft=draft, step=step, titles=STEP_TITLES,
                                    activity_type=activity_type, slug=svc.SLUGS[activity_type], **kwargs)

    def _step1_page(self, draft: GrantDraft | None, activity_type: str, errors: dict | None = None):
        rule_set = svc.wizard_rule_set(db.session)
        standards = svc.standards_for(db.session, activity_type, rule_set)
        return self._render(1, draft, activity_type, standards=standards, rule_set=rule_set, errors=errors or {})

    @staticmethod
    def _after_step1(draft: GrantDraft) -> str:
        saving = request.form.get("action") == "save"
        return url_for("ActivityView.step1" if saving else "ActivityView.step2", draft_id=draft.id)

    @expose("/<slug>/new", methods=["GET", "POST"])
    @has_access
    @permission_name("grant")
    @once
    def new(self, slug):
        """Step 1 of a new credit. Opening it writes nothing: the draft is made by the first save (issue 15.3)."""
        activity_type = svc.TYPES.get(slug) or abort(404)
        if request.method == "GET":
            return self._step1_page(None, activity_type)
        user_id = _user().id
        if "standard_id" not in request.form and "action" not in request.form:  # a bare POST: an empty draft
            return act(lambda: svc.start(db.session, user_id, activity_type),
                       then=lambda d: url_for("ActivityView.step1", draft_id=d.id))

        def create() -> GrantDraft:
            draft = svc.start(db.session, user_id, activity_type)
            svc.choose_standard(db.session, draft, request.form.get("standard_id"))
            return draft

        return act(create, done=lambda _d: _("已保存") if request.form.get("action") == "save" else None,
                   then=self._after_step1,
                   failed=lambda exc: (self._step1_page(None, activity_type, {"standard_id": str(exc)}), 422))

    @expose("/wizard/<int:draft_id>/delete", methods=["POST"])
    @has_access
    @permission_name("grant")
    def delete(self, draft_id):
        draft = self._draft(draft_id)
        return act(lambda: svc.delete_draft(db.session, draft), done=_("草稿已删除"),
                   then=url_for("ActivityView.type_page", slug=svc.SLUGS[draft.activity_type]))

    @expose("/wizard/<int:draft_id>/1", methods=["GET", "POST"])
    @has_access
    @permission_name("grant")
    def step1(self, draft_id):
        draft = self._draft(draft_id)
        if request.method == "GET":
            return self._step1_page(draft, draft.activity_type)
        return act(lambda: svc.choose_standard(db.session, draft, request.form.get("standard_id")),
                   done=lambda _s: _("已保存") if request.form.get("action") == "save" else None,
                   then=lambda _s: self._after_step1(draft),
                   failed=lambda exc: (self._step1_page(draft, draft.activity_type, {"standard_id": str(exc)}), 422))

    def _search_args(self) -> dict[str, str]:
        source = request.form if request.method == "POST" else request.args
        return {"card": source.get("card", "").strip()[:32], "name": source.get("name", "").strip()[:64],
                "department": source.get("department", "").strip()[:64]}

    @expose("/wizard/<int:draft_id>/2", methods=["GET", "POST"])
    @has_access
    @permission_name("grant")
    def step2(self, draft_id):
        """授予名单: the scope's persons are listed at once (no search needed); 全部添加 takes every person
        the list shows (all its pages), 添加 the ticked ones."""
        draft = self._draft(draft_id)
        if draft.standard_id is None:
            flash(_("请先选择一条适用的标准"), "warning")
            return redirect(url_for("ActivityView.step1", draft_id=draft.id))
        filters = self._search_args()
        if request.method == "POST":
            return self._step2_post(draft, filters)
        page, gpage = _page(), _page("gpage")
        results, more = svc.search_page(db.session, current_scope(), draft, page, **filters)
        granted, total = svc.grant_list(db.session, draft, page=gpage)
        names = _org_names({p.institution_id for p in results + granted} | {p.department_id for p in results + granted})
        activities = (svc.signed_in_activities(db.session, current_scope())
                      if draft.activity_type == PRACTICE else None)
        return self._render(2, draft, filters=filters, results=results, more=more, page=page,
                            searched=any(filters.values()), granted=granted, total=total, gpage=gpage,
                            gpages=max(1, -(-total // svc.PAGE)), names=names, standard=draft.standard,
                            activities=activities)

    def _step2_post(self, draft: GrantDraft, filters: dict):
        action = request.form.get("action")
        scope = current_scope()
        moves = {
            "add": lambda: _("已添加%(n)s人到授予名单", n=svc.add_persons(
                db.session, draft, scope, request.form.getlist("person_id"))),
            "add_all": lambda: _("已添加%(n)s人到授予名单", n=svc.add_matching(db.session, draft, scope, **filters)),
            "remove": lambda: _("已从授予名单移出%(n)s人", n=svc.remove_persons(
                db.session, draft, request.form.getlist("grant_person_id"))),
            "add_signed": lambda: _signed_in_added(*svc.add_signed_in(
                db.session, draft, scope, request.form.get("activity_id"))),
            "save": lambda: _("已保存"), "prev": lambda: None, "next": lambda: None,
        }
        if action not in moves:
            abort(400)
        back = url_for("ActivityView.step2", draft_id=draft.id, **{k: v for k, v in filters.items() if v})
        if action == "next" and not svc.grant_list(db.session, draft, page=1)[1]:
            flash(_("授予名单为空，请先添加人员"), "warning")
            return redirect(back)
        then = {"prev": url_for("ActivityView.step1", draft_id=draft.id),
                "next": url_for("ActivityView.step3", draft_id=draft.id)}.get(action, back)
        return act(moves[action], done=lambda message: message, then=then)

    def _step3_context(self, draft: GrantDraft, values: dict) -> dict:
        standard = draft.standard
        granted, total = svc.grant_list(db.session, draft, page=1)
        user = _user()
        own_inst = getattr(getattr(user, "org", None), "institution_id", None)
        unit = svc.amount_unit(standard) if standard else None
        return dict(standard=standard, values=values, rule_detail=svc.rule_detail(standard) if standard else "",
                    unit=unit, unit_label=svc.AMOUNT_LABELS.get(unit, "") if unit else "",
                    unit_labels=UNIT_LABELS, total=total, first_person=granted[0].id if granted else None,
                    forms=svc.activity_forms(db.session, draft.activity_type),
                    plans=svc.plans_for(db.session, draft, current_scope(), own_inst)
                    if draft.activity_type == PRACTICE else [],
                    notes=svc.EVIDENCE_NOTES.get(draft.activity_type, []), files=svc.evidence(db.session, draft),
                    max_mb=svc.evidence_max_bytes(db.session) // (1024 * 1024), is_practice=draft.activity_type == PRACTICE)

    @staticmethod
    def _draft_values(draft: GrantDraft) -> dict:
        values = {}
        for key in svc.DETAIL_FIELDS:
            value = getattr(draft, key)
            values[key] = "" if value is None else (number(value) if key in (
                "amount", "session_hours", "project_credits", "entered_credits", "hours") else str(value))
        if not values["activity_form"] and draft.standard is not None and draft.activity_type != PRACTICE:
            values["activity_form"] = draft.standard.activity_form or ""
        return values

    def _store_uploads(self, draft: GrantDraft) -> list[Attachment]:
        """Check every file sent, then keep them all as the draft's evidence (committed: a later refusal of
        the details or of the submission never drops them). One bad file and none is kept."""
        max_bytes = svc.evidence_max_bytes(db.session)
        uploads = [(storage.filename, attachments.check(storage, max_bytes=max_bytes))
                   for storage in request.files.getlist("evidence") if storage and storage.filename]
        stored = [attachments.store_bytes(data, kind, name, "grant_draft", draft.id, user_id=_user().id)
                  for name, (data, kind) in uploads]
        if stored:
            db.session.commit()
        return stored

    def _save_step3(self, draft: GrantDraft) -> bool:
        self._store_uploads(draft)
        svc.save_details(draft, request.form)
        return True

    def _step3_again(self, draft_id: int, values: dict, exc: DomainError):
        """Step 3 again after a refusal: every problem at its field, the persons' problems grouped."""
        draft = db.session.get(GrantDraft, draft_id)
        if draft.status != "open":  # submitted meanwhile (a second click)
            flash(str(exc), "danger")
            return redirect(url_for("ActivityView.type_page", slug=svc.SLUGS[draft.activity_type]))
        errors, general, people = sort_problems(getattr(exc, "problems", None) or [str(exc)])
        return self._render(3, draft, errors=errors, general=general, people=people,
                            **self._step3_context(draft, values)), 422

    @expose("/wizard/<int:draft_id>/3", methods=["GET", "POST"])
    @has_access
    @permission_name("grant")
    @once
    def step3(self, draft_id):
        draft = self._draft(draft_id)
        if draft.standard_id is None:
            flash(_("请先选择一条适用的标准"), "warning")
            return redirect(url_for("ActivityView.step1", draft_id=draft.id))
        if request.method == "GET":
            return self._render(3, draft, **self._step3_context(draft, self._draft_values(draft)))
        action = request.form.get("action", "save")
        values = {k: request.form.get(k, "") for k in svc.DETAIL_FIELDS}
        # What was typed (and the files, stored first) stays in the draft, even when the submission is refused.
        saved = act(lambda: self._save_step3(draft), failed=lambda exc: self._step3_again(draft_id, values, exc))
        if saved is not True:
            return saved
        if action == "submit":
            return act(lambda: svc.submit(db.session, draft, _ctx()),
                       log=(MODULE, "授分", lambda credits: f"{draft.activity_type}：{draft.standard.name}，{len(credits)}人"),
                       done=lambda credits: _("已为%(n)s人授予学分", n=len(credits)),
                       then=url_for("ActivityView.type_page", slug=svc.SLUGS[draft.activity_type]),
                       failed=lambda exc: self._step3_again(draft_id, values, exc))
        if action == "prev":
            return redirect(url_for("ActivityView.step2", draft_id=draft.id))
        flash(_("已保存"), "success")
        return redirect(url_for("ActivityView.step3", draft_id=draft.id))

    def _evidence(self, draft: GrantDraft, att_id: int) -> Attachment:
        att = db.session.get(Attachment, att_id)
        if att is None or att.owner_type != "grant_draft" or att.owner_id != draft.id:
            abort(404)
        return att

    @expose("/wizard/<int:draft_id>/evidence/<int:att_id>")
    @has_access
    @permission_name("grant")
    def evidence(self, draft_id, att_id):
        return send_attachment(self._evidence(self._draft(draft_id), att_id))

    @expose("/wizard/<int:draft_id>/evidence", methods=["POST"])
    @has_access
    @permission_name("grant")
    def evidence_upload(self, draft_id):
        """Evidence sent as soon as it is chosen (activities.js, with progress): JSON of the stored files."""
        draft = self._draft(draft_id)
        stored = act(lambda: self._store_uploads(draft), failed=lambda exc: exc)
        if isinstance(stored, DomainError):
            return jsonify(message=str(stored)), 422
        if not stored:
            return jsonify(message=_("请选择要上传的文件")), 422
        return jsonify(files=[{"id": a.id, "name": a.name, "kb": round(a.size / 1024),
                               "url": url_for("ActivityView.evidence", draft_id=draft.id, att_id=a.id),
                               "delete": url_for("ActivityView.evidence_delete", draft_id=draft.id, att_id=a.id)}
                              for a in stored])

    @expose("/wizard/<int:draft_id>/evidence/<int:att_id>/delete", methods=["POST"])
    @has_access
    @permission_name("grant")
    def evidence_delete(self, draft_id, att_id):
        draft = self._draft(draft_id)
        evidence = self._evidence(draft, att_id)
        if request.accept_mimetypes.best == "application/json":
            act(lambda: db.session.delete(evidence))
            return jsonify(deleted=att_id)
        return act(lambda: db.session.delete(evidence), done=_("已删除附件"),
                   then=url_for("ActivityView.step3", draft_id=draft.id))


# Where a refusal of step 3 belongs: the first field whose words open the message, else the first it names.
FIELD_WORDS = [("session_hours", ("单次学时",)), ("evidence", ("留档", "请上传")),
               ("practice_plan_id", ("教学活动计划", "有组织的继续医学教育实践活动须选择")),
               ("activity_form", ("活动形式",)), ("subject", ("所属学科",)), ("activity_date", ("活动日期",)),
               ("content", ("活动内容",)), ("hours", ("学时",)), ("amount", ("实际完成",)), ("sessions", ("次数",)),
               ("project_credits", ("项目学分",)), ("table_row", ("类别",)), ("table_col", ("排序",)),
               ("allowed_value", ("来源",))]
# "张三（A0000001）：理由" / "张三（A0000001）已停用…": a person's problem.
PERSON_PROBLEM = re.compile(r"^(?P<who>[^：（；]+（[^）]*）)(?P<reason>：.+|已停用.+|不属于.+|已有相同.+)$")


def _field_of(message: str) -> str | None:
    for key, words in FIELD_WORDS:
        if any(message.startswith((w, f"请填写{w}", f"请选择{w}")) for w in words):
            return key
    return next((key for key, words in FIELD_WORDS if any(w in message for w in words)), None)


def sort_problems(problems: list[str]) -> tuple[dict[str, str], list[str], list[tuple[str, list[str]]]]:
    """(field → message, problems of no field, [(reason, persons)]): the persons sharing a reason together
    (a problem of one person as it was said)."""
    errors: dict[str, str] = {}
    general: list[str] = []
    people: dict[str, list[str]] = {}
    said: dict[str, str] = {}  # a reason only one person has reads as the service wrote it
    for message in problems:
        person = PERSON_PROBLEM.match(message)
        if person:
            reason = person["reason"].lstrip("：")
            people.setdefault(reason, []).append(person["who"])
            said.setdefault(reason, message)
            continue
        field = _field_of(message)
        if field and field not in errors:
            errors[field] = message
        else:
            general.append(message)
    return errors, general, [(said[r], who) if len(who) == 1 else (r, who) for r, who in people.items()]


def _org_names(ids: set) -> dict:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return dict(db.session.execute(select(Org.id, Org.name).where(Org.id.in_(ids))).tuples().all())


def credit_extras(credit_id) -> dict | None:
    """For FAB's 学分详情 (CreditView.show): the credit's evidence, with a link the user may open, and its
    review log — None when the credit is not in the user's scope."""
    credit = db.session.scalar(current_scope().filter(select(Credit.id).where(Credit.id == credit_id), Credit))
    if credit is None:
        return None
    sm = current_app.appbuilder.sm
    files = attachments.of(EVIDENCE, credit) + attachments.of(UNIT_CERT, credit)
    if sm.has_access("can_file", "ManualCreditView"):
        links = [(f, url_for("ManualCreditView.file", attachment_id=f.id)) for f in files]
    elif sm.has_access("can_read", "ActivityView"):
        links = [(f, url_for("ActivityView.credit_file", credit_id=credit, att_id=f.id)) for f in files]
    else:
        links = [(f, None) for f in files]
    return {"files": links, "logs": workflow.logs("credit", credit)}


def register(appbuilder) -> None:
    current_app.jinja_env.globals["credit_extras"] = credit_extras
    from app.views.practice import PracticePlanReviewView, PracticePlanView

    label = _l("可授学分的继续医学教育活动")
    appbuilder.add_view(ActivityView, "活动总览", label=_l("活动总览"), icon="fa-th-large", category=CATEGORY,
                        category_label=label, category_icon="fa-stethoscope")
    for slug, text in (("project", _l("继续医学教育项目")), ("study", _l("进修学习")),
                       ("degree", _l("在职学历(学位)教育")), ("practice", _l("有组织的继续医学教育实践活动")),
                       ("gov", _l("政府指令性医疗卫生任务")), ("selfstudy", _l("有计划的自学")),
                       ("other", _l("符合规定的其他方式"))):
        appbuilder.add_link(svc.TYPES[slug], href=f"/activities/{slug}/", label=text, icon="fa-angle-right",
                            category=CATEGORY)
    appbuilder.add_view(PracticePlanView, "教学活动计划上传", label=_l("教学活动计划上传"), icon="fa-upload",
                        category=CATEGORY)
    appbuilder.add_view(PracticePlanReviewView, "教学活动计划审核", label=_l("教学活动计划审核"), icon="fa-check",
                        category=CATEGORY)
