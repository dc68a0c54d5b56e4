"""The person form's department picker in a real browser: it offers the chosen institution's
departments by AJAX (never a <select> of every department) and is cleared when the institution
changes."""
import datetime

from app.services import idcard


def _choose(page, field_id: str, text: str) -> None:
    """Open a Select2 box and click the option with ``text``."""
    page.click(f"#{field_id} + .select2-container")
    page.locator(".select2-results__option", has_text=text).first.click()


def _offered(page, field_id: str) -> list[str]:
    page.click(f"#{field_id} + .select2-container")
    page.wait_for_selector(".select2-results__option:not(.loading-results)")
    # A reopened box may still show the last results beside "搜索中…" until its request answers.
    page.wait_for_function("!document.querySelector('.select2-results__option.loading-results')")
    texts = [t.strip() for t in page.locator(".select2-results__option").all_inner_texts()]
    page.keyboard.press("Escape")
    return texts


def test_department_follows_the_chosen_institution(page, login_as, browser_app):
    login_as("district1")  # 东城区: 甲医院 (心内科, 骨科) and 丙社区卫生服务中心 (全科)
    page.goto("/persons/add")
    assert page.locator("select#department option").count() <= 1  # nothing preloaded
    _choose(page, "institution", "丙社区卫生服务中心")
    assert _offered(page, "department") == ["全科"]
    _choose(page, "department", "全科")
    assert page.locator("#select2-department-container").inner_text().strip().endswith("全科")

    _choose(page, "institution", "甲医院")  # another institution clears the department
    assert "全科" not in page.locator("#select2-department-container").inner_text()
    assert _offered(page, "department") == ["心内科", "骨科"]
    _choose(page, "department", "骨科")

    page.fill("#card_no", "BR000001")
    page.fill("#name", "钱九")
    page.fill("#id_number", idcard.make("110101", datetime.date(1985, 5, 5), 7))
    with page.expect_navigation():
        page.click("form:has(#card_no) [type=submit]")  # not the navbar's logout form
    assert "/persons/add" not in page.url, page.locator(".alert, .help-block").all_inner_texts()
    from app.extensions import db
    from app.models import Org, Person

    with browser_app.app_context():
        person = db.session.query(Person).filter_by(card_no="BR000001").one()
        try:
            assert db.session.get(Org, person.department_id).name == "骨科"
            assert db.session.get(Org, person.institution_id).name == "甲医院"
        finally:  # the browser app's world is shared by the whole session: leave it as it was
            db.session.delete(person)
            db.session.commit()
    assert not page.js_errors
