"""The transcript (学分档案): a person's credit year with its explained compliance, and the person
list's 学分档案 links (ICME-10). The person comes through the user's data scope (another
institution's person answers 404)."""
from __future__ import annotations

from flask import abort, current_app, request
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.security.decorators import permission_name
from flask_appbuilder.widgets import ListWidget
from flask_babel import gettext as _
from flask_login import current_user

from app.extensions import db
from app.models import Person
from app.models.credits import CREDIT_SOURCES, CREDIT_STATUSES
from app.services import credit_records
from app.views.pickers import resolve_person
from app.views.widgets import number, transcript_prefix


class PersonListWidget(ListWidget):
    """The person list with a 学分档案 link on each row (PersonView.list_widget)."""

    template = "credits/_person_list_widget.html"

    def __call__(self, **kwargs):
        kwargs["transcript"] = current_app.appbuilder.sm.has_access("can_read", "TranscriptView")
        kwargs["transcript_url"] = transcript_prefix()
        return super().__call__(**kwargs)


PERSON_SHOW_TEMPLATE = "credits/person_show.html"  # the person's detail page with a 学分档案 button


class TranscriptView(BaseView):
    """A person's credit year: header, the year's credits and the explained compliance."""

    route_base = "/transcript"
    default_view = "me"

    def _render(self, person: Person | None):
        region = credit_records.region(db.session)
        choices = credit_records.years(db.session, region)
        year = request.args.get("year", type=int) or credit_records.default_year(db.session, region)
        if person is None or year is None:
            return self.render_template("credits/transcript.html", person=person, data=None, years=choices,
                                        year=year, region=region, title=_("学分档案"))
        data = credit_records.transcript(db.session, person, year, region)
        lines = {ln.credit_id: ln for ln in data.evaluation.lines} if data.evaluation else {}
        return self.render_template("credits/transcript.html", person=person, data=data, lines=lines,
                                    years=sorted(set(choices) | {year}, reverse=True), year=year, region=region,
                                    number=number, sources=CREDIT_SOURCES, statuses=CREDIT_STATUSES,
                                    title=_("学分档案"))

    @expose("/<int:person_id>")
    @has_access
    @permission_name("read")
    def person(self, person_id):
        person = resolve_person(person_id)  # scoped: another institution's person is 404
        if person is None:
            abort(404)
        return self._render(person)

    @expose("/me")
    @has_access
    @permission_name("me")
    def me(self):
        person = resolve_person(current_user.person_id) if current_user.person_id else None
        return self._render(person)

