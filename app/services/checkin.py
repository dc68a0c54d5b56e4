"""Check-in (签到, ICME-5): card-reader files, QR sign-in and manual entry.

Seed 002 二 3 / 三 3: "由项目主办单位负责组织学员签到、刷卡，参会人员不得代刷或多刷，做到一人一卡。刷卡记录需在项目
结束一周内上传 ICME 系统". Each swipe is matched to a person by card number and to the project's topic whose
sign-in window (or, without one, its teaching time) holds the swipe time. The first check-in of a person at a
topic counts; later ones are kept as duplicates; swipes outside every topic are listed back. Card numbers are
normalised (full-width, lost leading zeros) and a file naming a card the system does not know writes nothing.
"""
from __future__ import annotations

import csv
import datetime
import io
import unicodedata
from dataclasses import dataclass, field

from sqlalchemy import false, insert, select
from sqlalchemy.orm import Session

from app.i18n import _mark
from app.models import Person
from app.models.projects import AttendanceUpload, CheckIn, Project, SwipeProblem, Topic
from app.services import projects as svc
from app.services import sheets, upsert
from app.services.errors import DomainError
from app.services.projects import say
from app.services.sheets import text as _text
from app.services.uploads import format_size, sniff

# Header names card readers and people use for the three columns (first match wins).
HEADERS = {"card": ("卡号", "IC卡号", "ic卡号", "card", "card_no", "cardno"),
           "time": ("刷卡时间", "时间", "签到时间", "time", "swipe_time", "datetime"),
           "reader": ("读卡器编号", "读卡器", "设备号", "设备编号", "reader", "reader_id")}
LABELS = {"card": _mark("卡号"), "time": _mark("刷卡时间"), "reader": _mark("读卡器编号")}
TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M",
                "%Y%m%d%H%M%S", "%Y-%m-%dT%H:%M:%S", "%Y.%m.%d %H:%M:%S")
MAX_ROWS = 200_000


class CheckInError(DomainError):
    """A refused file or check-in: a Chinese message id with named parameters (issue 14)."""


@dataclass
class Swipe:
    row: int
    card: str
    at: datetime.datetime
    reader: str | None


@dataclass
class RowError:
    row: int
    column: str
    reason: str


@dataclass
class UploadResult:
    upload: AttendanceUpload
    matched: int = 0
    duplicates: int = 0
    unknown: list[Swipe] = field(default_factory=list)
    outside: list[tuple[Swipe, str]] = field(default_factory=list)


# --------------------------------------------------------------------------------------- reading
def read_swipes(data: bytes, max_bytes: int) -> list[Swipe]:
    """Parse a card-reader export (.xlsx or CSV in UTF-8 / GBK). Any bad row refuses the whole file,
    naming row, column and reason."""
    if not data:
        raise CheckInError("文件为空")
    if len(data) > max_bytes:
        raise CheckInError("文件过大，不能超过%(size)s", size=format_size(max_bytes))
    kind = sniff(data)
    if kind == "xlsx":
        rows = _xlsx_rows(data)
    elif kind is None and b"\x00" not in data[:4096]:
        rows = _csv_rows(data)
    else:
        raise CheckInError("文件类型不正确，只能上传刷卡机导出的CSV文件或Excel(.xlsx)文件")
    header = next(rows, None)
    if header is None:
        raise CheckInError("文件中没有数据")
    names = [str(h).strip().lstrip("\ufeff").lstrip("*").lower() if h is not None else "" for h in header]
    index = {}
    for key, aliases in HEADERS.items():
        found = next((i for i, n in enumerate(names) if n in {a.lower() for a in aliases}), None)
        if found is None and key != "reader":
            raise CheckInError("表头不正确，缺少列：%(column)s（应包含 卡号、刷卡时间、读卡器编号）",
                              column=say(LABELS[key]))
        index[key] = found
    swipes: list[Swipe] = []
    errors: list[RowError] = []
    for number, values in enumerate(rows, start=2):
        if values is None or all(v is None or str(v).strip() == "" for v in values):
            continue
        if len(swipes) + len(errors) >= MAX_ROWS:
            raise CheckInError("文件行数超过%(n)s行，请分批上传", n=MAX_ROWS)

        card = normalise_card(_cell(values, index["card"]))
        raw_time = _cell(values, index["time"])
        at = _time(raw_time)
        if not card:
            errors.append(RowError(number, "卡号", say(_mark("卡号不能为空"))))
        elif len(card) > 32:
            errors.append(RowError(number, "卡号", say(_mark("卡号不能超过32个字符"))))
        if at is None:
            raw = _text(raw_time)
            errors.append(RowError(number, "刷卡时间", say(_mark("刷卡时间不能为空")) if not raw else
                                   say(_mark("刷卡时间“%(raw)s”格式不正确，应为 2025-04-24 08:30:00"), raw=raw)))
        reader = _text(_cell(values, index["reader"]))[:64] or None
        if card and at is not None and len(card) <= 32:
            swipes.append(Swipe(number, card, at, reader))
    if errors:
        raise _row_errors([(e.row, e.column, e.reason) for e in errors])
    if not swipes:
        raise CheckInError("文件中没有刷卡记录")
    return swipes


def _row_errors(errors: list[tuple[int, str, str]]) -> CheckInError:
    """All or nothing: the count of bad rows and the first ten (row, column, reason)."""
    detail = "；".join(say(_mark("第%(row)s行“%(column)s”：%(reason)s"), row=row, column=say(column), reason=reason)
                      for row, column, reason in errors[:10])
    more = say(_mark("（另有%(n)s处）"), n=len(errors) - 10) if len(errors) > 10 else ""
    return CheckInError("共%(n)s处错误，未导入任何数据。%(detail)s%(more)s", n=len(errors), detail=detail, more=more)


def normalise_card(value) -> str:
    """A card number as typed or exported: full-width characters made half-width (ＡＢ０１ → AB01),
    spaces removed, an Excel number without its ".0"."""
    return "".join(unicodedata.normalize("NFKC", _text(value)).split())


def match_cards(session: Session, cards: set[str]) -> dict[str, Person]:
    """Persons by the card numbers of a file. A number Excel stored as a number lost its leading zeros
    (00012345 → 12345): an all-digit card not found as is matches the one stored card that is it padded
    with zeros."""
    found: dict[str, Person] = {}
    ordered = sorted(cards)
    for start in range(0, len(ordered), 500):
        for p in session.scalars(select(Person).where(Person.card_no.in_(ordered[start:start + 500]))):
            found[p.card_no] = p
    for card in ordered:
        if card in found or not card.isdigit() or len(card) >= 32:
            continue
        padded = [card.zfill(n) for n in range(len(card) + 1, 33)]
        matches = list(session.scalars(select(Person).where(Person.card_no.in_(padded)).limit(2)))
        if len(matches) == 1:
            found[card] = matches[0]
    return found


def _cell(values, i):
    return values[i] if i is not None and i < len(values) else None


def _xlsx_rows(data: bytes):
    """The first sheet's rows, after the size checks every import makes before parsing (issue 17.6)."""
    try:
        wb, sheet = sheets.open_first_sheet(io.BytesIO(data), max_rows=MAX_ROWS, unreadable="无法读取Excel文件")
        try:
            yield from sheets.limited(sheet.iter_rows(values_only=True), MAX_ROWS)
        finally:
            wb.close()
    except sheets.ImportFileError as exc:
        raise CheckInError(str(exc)) from None
    except CheckInError:
        raise
    except Exception as exc:
        raise CheckInError("无法读取Excel文件") from exc


def _csv_rows(data: bytes):
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise CheckInError("无法识别CSV文件的编码，请保存为UTF-8或GBK编码")
    try:
        dialect = csv.Sniffer().sniff(text[:2048], delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    return iter(list(csv.reader(io.StringIO(text), dialect)))


def _time(value) -> datetime.datetime | None:
    if isinstance(value, datetime.datetime):
        return value.replace(microsecond=0, tzinfo=None)
    text = _text(value)
    for fmt in TIME_FORMATS:
        try:
            return datetime.datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


# --------------------------------------------------------------------------------------- matching
def topic_window(topic: Topic) -> tuple[datetime.datetime, datetime.datetime]:
    if topic.signin_from is not None and topic.signin_to is not None:
        return topic.signin_from, topic.signin_to
    return topic.starts_at, topic.ends_at


def find_topic(topics: list[Topic], at: datetime.datetime) -> Topic | None:
    for topic in topics:
        start, end = topic_window(topic)
        if start <= at <= end:
            return topic
    return None


def import_swipes(session: Session, project: Project, swipes: list[Swipe], filename: str | None,
                  operator: str | None, now: datetime.datetime | None = None) -> UploadResult:
    """Match and store the swipes of one file in the caller's transaction (set-based: one query for the
    cards, one for existing check-ins, bulk inserts)."""
    now = now or datetime.datetime.now()
    topics = list(project.topics)
    if not topics:
        raise CheckInError("项目还没有课题，请先添加课题再上传刷卡数据")
    people = match_cards(session, {s.card for s in swipes})
    unknown = [s for s in swipes if s.card not in people]
    if unknown:
        # All or nothing, like the other imports: a card the system does not know is a wrong row.
        raise _row_errors([(s.row, "卡号", say(_mark("卡号%(card)s在系统中不存在"), card=s.card)) for s in unknown])
    counted = set(session.execute(select(CheckIn.topic_id, CheckIn.person_id).where(
        CheckIn.project_id == project.id, CheckIn.duplicate.is_(False))).tuples())
    upload = AttendanceUpload(project_id=project.id, institution_id=project.institution_id,
                              district_id=project.district_id, filename=(filename or "")[:256],
                              uploaded_at=now, uploaded_by=operator, total=len(swipes))
    session.add(upload)
    session.flush()
    result = UploadResult(upload=upload)
    rows, problems = [], []
    for swipe in sorted(swipes, key=lambda s: (s.at, s.row)):
        person = people.get(swipe.card)
        if person is None:
            result.unknown.append(swipe)
            problems.append({"upload_id": upload.id, "project_id": project.id, "row": swipe.row,
                             "card_no": swipe.card, "swiped_at": swipe.at, "reader_id": swipe.reader,
                             "kind": "unknown"})
            continue
        topic = find_topic(topics, swipe.at)
        if topic is None:
            result.outside.append((swipe, person.name))
            problems.append({"upload_id": upload.id, "project_id": project.id, "row": swipe.row,
                             "card_no": swipe.card, "swiped_at": swipe.at, "reader_id": swipe.reader,
                             "kind": "outside", "person_name": person.name})
            continue
        duplicate = (topic.id, person.id) in counted
        counted.add((topic.id, person.id))
        if duplicate:
            result.duplicates += 1
        else:
            result.matched += 1
        rows.append({"project_id": project.id, "topic_id": topic.id, "person_id": person.id,
                     "institution_id": project.institution_id, "district_id": project.district_id,
                     "source": "card", "checked_at": swipe.at, "reader_id": swipe.reader, "upload_id": upload.id,
                     "duplicate": duplicate, "credited": False, "created_at": now})
    for start in range(0, len(rows), 1000):
        session.execute(insert(CheckIn), rows[start:start + 1000])
    for start in range(0, len(problems), 1000):
        session.execute(insert(SwipeProblem), problems[start:start + 1000])
    upload.matched, upload.duplicates = result.matched, result.duplicates
    upload.unknown, upload.outside = len(result.unknown), len(result.outside)
    upload.late = svc.upload_is_late(session, project, now)
    project.first_upload_at = project.first_upload_at or now
    project.last_upload_at = now
    svc.refresh_flags(session, project)
    return result


# --------------------------------------------------------------------------------------- one check-in
@dataclass
class Outcome:
    duplicate: bool
    checkin: CheckIn


def check_in(session: Session, topic: Topic, person: Person, source: str, at: datetime.datetime,
             reader: str | None = None) -> Outcome:
    """Record one person at one topic (QR or manual): the first counts, a repeat is a duplicate. A race
    between two scans is settled by the unique index (the loser is stored as the duplicate)."""
    exists = session.scalar(select(CheckIn.id).where(CheckIn.topic_id == topic.id, CheckIn.person_id == person.id,
                                                     CheckIn.duplicate.is_(False)))
    values = {"project_id": topic.project_id, "topic_id": topic.id, "person_id": person.id,
              "institution_id": topic.institution_id, "district_id": topic.district_id, "source": source,
              "checked_at": at, "reader_id": reader, "credited": False}
    first = CheckIn.duplicate == false()  # the partial unique index uq_cme_checkin_first
    # INSERT … ON CONFLICT (topic_id, person_id) WHERE NOT duplicate DO NOTHING: of two scans at once
    # one is the first; the other is stored as the duplicate below.
    if exists is None and upsert.insert_ignore(session, CheckIn, {**values, "duplicate": False},
                                               ["topic_id", "person_id"], where=first):
        return Outcome(False, session.scalars(select(CheckIn).where(
            CheckIn.topic_id == topic.id, CheckIn.person_id == person.id, first)).one())
    row = CheckIn(duplicate=True, **values)
    session.add(row)
    session.flush()
    return Outcome(True, row)


def find_signer(session: Session, card: str, name: str, id_last4: str) -> Person | None:
    """The person a phone sign-in names: card number, name and the last 4 characters of the ID number
    must all agree (one message for any mismatch, so the form reveals nothing)."""
    card, name, last4 = (card or "").strip(), (name or "").strip(), (id_last4 or "").strip().upper()
    if not card or not name or len(last4) != 4:
        return None
    person = session.scalar(select(Person).where(Person.card_no == card))
    if person is None or person.name != name or person.id_number[-4:].upper() != last4:
        return None
    return person


def window_text(topic: Topic) -> str:
    window = svc.signin_window(topic)
    if window is None:
        return say(_mark("未设置签到时间"))
    return say(_mark("%(start)s 至 %(end)s"), start=f"{window[0]:%Y-%m-%d %H:%M}", end=f"{window[1]:%Y-%m-%d %H:%M}")
