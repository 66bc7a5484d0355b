"""Organiser pages before, on and after the day: register, exports, sign-in sheet, phone bookings,
marking attendance (also by QR code), walk-ins, no-shows and chases, and the audit trail."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template

from app.attendance.chase import chase_no_shows
from app.bookings.priority import is_repeat_no_show, lift_repeat_no_show
from app.attendance.exports import register_csv, register_xlsx
from app.spreadsheets import built_apart
from app.attendance.services import (
    NotAttendable,
    TooEarlyToRecord,
    admit_walk_in,
    attendance_counts,
    booking_for_checkin,
    count_not_recorded,
    list_no_shows,
    mark,
    mark_rest_absent,
    register,
    repeat_no_shows,
)
from app.attendance.teams_import import OtherDay, confirm_preview, load_preview, preview_report, resolve
from app.attendance.teams_report import NotATeamsReport
from app.audit.services import history
from app.bookings.services import (
    BookingError,
    EventAlreadyStarted,
    EventFull,
    NotMovable,
    book_place,
    cancel_booking,
    move_bookers,
)
from app.bookings.validation import FORM_FIELD_IDS, InvalidBooking, booking_from_form
from app.errors import DomainError, InvalidInput, NotFound
from app.organisers.services import OrganiserView
from app.programme.services import EventFilters, get_event, list_events
from app.tables.attendance import MarkSource, Outcome
from app.tables.bookings import LEAD_ANSWER_LABELS, ROLE_LABELS, ROLE_SHORT, Booking, BookingSource, BookingStatus
from app.tables.programme import EventStatus
from app.tables.register import Person
from app.web.dependencies import ConfigDep, Now, Organiser
from app.web.errors import error_summary, field_errors
from app.web.forms import CancelBookingForm, ChaseForm, MarkForm, TeamsMinimumForm, radio_items, read
from app.web.paging import paginate
from app.web.templating import FormData

OUTCOME_LABELS = {Outcome.attended.value: "Attended", Outcome.absent.value: "Absent", None: "Not marked"}
#: Each mark as a tag: in words first, its colour only repeating them.
OUTCOME_TAGS = {Outcome.attended.value: "govuk-tag--green", Outcome.absent.value: "govuk-tag--red", None: "govuk-tag--grey"}


def _wants_json(request: Request[Any, Any, Any]) -> bool:
    return "application/json" in request.headers.get("accept", "")


class RegisterPages(Controller):
    path = "/organisers"
    include_in_schema = False

    @get("/events/{event_id:int}", name="organiser_register")
    async def register_page(self, organiser: Organiser, event_id: FromPath[int], now: Now,
                            created: FromQuery[bool] = False, updated: FromQuery[int | None] = None,
                            q: FromQuery[str | None] = None, page: FromQuery[int | None] = None) -> Template:
        """The register a hundred bookings a page, or those matching `q` (name, email, setting or
        reference); the counts are the whole event's."""
        event, rows, counts = await register(event_id, now)
        term = (q or "").strip().lower()
        if term:
            rows = [r for r in rows if any(term in text.lower() for text in (r.name, r.email, r.setting, r.reference))]
        shown = paginate(rows, page, path=f"/organisers/events/{event_id}", params={"q": q or ""})
        return Template("organisers/register.html", context={
            "organiser": organiser, "event": event, "rows": shown.items, "shown": shown, "q": q or "",
            "counts": counts, "roles": ROLE_SHORT,
            "outcomes": OUTCOME_LABELS, "created": created, "updated": updated, "ended": now >= event.ends_at,
            "started": now >= event.starts_at})

    @get("/events/{event_id:int}/sign-in-sheet", name="organiser_sign_in_sheet")
    async def sign_in_sheet(self, organiser: Organiser, event_id: FromPath[int], now: Now) -> Template:
        event, rows, _ = await register(event_id, now)
        return Template("organisers/sign_in_sheet.html", context={
            "organiser": organiser, "event": event, "roles": ROLE_SHORT,
            "rows": [r for r in rows if r.status == BookingStatus.confirmed.value]})

    @get("/events/{event_id:int}/register.csv", name="organiser_register_csv")
    async def export_csv(self, organiser: Organiser, event_id: FromPath[int], now: Now) -> Response[bytes]:
        event, rows, _ = await register(event_id, now)
        return Response(await asyncio.to_thread(register_csv, rows), media_type="text/csv", headers={
            "Content-Disposition": f'attachment; filename="register-{event_id}.csv"', "Cache-Control": "no-store"})

    @get("/events/{event_id:int}/register.xlsx", name="organiser_register_xlsx")
    async def export_xlsx(self, organiser: Organiser, event_id: FromPath[int], now: Now) -> Response[bytes]:
        event, rows, _ = await register(event_id, now)
        return Response(await built_apart(register_xlsx, rows, f"{event.title}, {event.local_start:%d/%m/%Y}"),
                        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", headers={
                            "Content-Disposition": f'attachment; filename="register-{event_id}.xlsx"',
                            "Cache-Control": "no-store"})

    @get("/events/{event_id:int}/bookings/new", name="organiser_booking_new")
    async def booking_form(self, organiser: Organiser, event_id: FromPath[int], now: Now,
                           walk_in: FromQuery[bool] = False) -> Template:
        event, _, counts = await register(event_id, now)
        return _person_form(organiser, event, counts, {}, {}, walk_in=walk_in)

    @post("/events/{event_id:int}/bookings/new", name="organiser_booking_create")
    async def booking_create(self, organiser: Organiser, event_id: FromPath[int], data: FormData, now: Now,
                             config: ConfigDep) -> Template | Redirect:
        walk_in = data.get("walk_in") == "true"
        override = data.get("override") == "yes"
        event, _, counts = await register(event_id, now)
        try:
            request = booking_from_form(data)
            if walk_in:
                await admit_walk_in(event_id, request, organiser=organiser, override=override, now=now,
                                    config=config)
            else:
                await book_place(event_id, request, now=now, config=config, actor=organiser.email,
                                 source=BookingSource.organiser)
        except InvalidBooking as exc:
            errors = field_errors(exc, ids=FORM_FIELD_IDS, default_field="name", only_ids=True)
            return _person_form(organiser, event, counts, data, errors, walk_in=walk_in, status_code=400)
        except EventFull:
            if not walk_in:
                raise
            message = "The event is full: to admit this person anyway, confirm the override below"
            return _person_form(organiser, event, counts, data, {"override": message},
                                walk_in=walk_in, status_code=409, show_override=True)
        except (BookingError, TooEarlyToRecord) as exc:
            errors = field_errors(exc, ids=FORM_FIELD_IDS, default_field="name", organiser=True)
            return _person_form(organiser, event, counts, data, errors, walk_in=walk_in, status_code=409)
        target = "attendance" if walk_in else ""
        return Redirect(f"/organisers/events/{event_id}/{target}".rstrip("/"), status_code=303)

    @get("/events/{event_id:int}/bookings/{booking_id:int}/cancel", name="organiser_booking_cancel_form")
    async def booking_cancel_form(self, organiser: Organiser, event_id: FromPath[int], booking_id: FromPath[int],
                                  now: Now) -> Template:
        event, rows, _ = await register(event_id, now)
        row = next((r for r in rows if r.booking_id == booking_id), None)
        if row is None:
            raise NotFoundException()
        return Template("organisers/booking_cancel.html", context={
            "organiser": organiser, "event": event, "row": row, "field_errors": {}, "form": {}})

    @post("/events/{event_id:int}/bookings/{booking_id:int}/cancel", name="organiser_booking_cancel")
    async def booking_cancel(self, organiser: Organiser, event_id: FromPath[int], booking_id: FromPath[int], data: FormData,
                             now: Now, config: ConfigDep) -> Template | Redirect:
        found = await Booking.select(Booking.manage_token).where(
            (Booking.id == booking_id) & (Booking.event == event_id)).first()
        if found is None:
            raise NotFoundException()
        try:
            form = read(CancelBookingForm, data)
        except DomainError as exc:
            event, rows, _ = await register(event_id, now)
            row = next(r for r in rows if r.booking_id == booking_id)
            errors = field_errors(exc, default_field="reason")
            return Template("organisers/booking_cancel.html", status_code=400, context={
                "organiser": organiser, "event": event, "row": row, "field_errors": errors,
                "errors": error_summary(errors), "form": dict(data)})
        try:
            await cancel_booking(found["manage_token"], actor=organiser.email, reason=form.reason, now=now,
                                 config=config, apology=form.apology == "yes")
        except EventAlreadyStarted:
            pass  # the register shows it is still confirmed; attendance is the record now
        return Redirect(f"/organisers/events/{event_id}", status_code=303)

    @get("/events/{event_id:int}/move-bookers", name="organiser_move_bookers_form")
    async def move_bookers_form(self, organiser: Organiser, event_id: FromPath[int], now: Now) -> Template:
        return await _move_bookers_page(organiser, event_id, now)

    @post("/events/{event_id:int}/move-bookers", name="organiser_move_bookers")
    async def move_bookers(self, organiser: Organiser, event_id: FromPath[int], data: FormData, now: Now,
                           config: ConfigDep) -> Template:
        chosen = str(data.get("to", ""))
        try:
            if not chosen.isdigit():
                raise NotMovable("Select the event to move the bookers to")
            report = await move_bookers(event_id, int(chosen), actor=organiser.email, now=now, config=config)
        except NotMovable as exc:
            errors = field_errors(exc, default_field="to", ids={"event": "to"}, only_ids=True)
            return await _move_bookers_page(organiser, event_id, now, errors=errors, status_code=400)
        return await _move_bookers_page(organiser, event_id, now, report=report, to=int(chosen))

    @get("/events/{event_id:int}/attendance", name="organiser_attendance")
    async def attendance(self, organiser: Organiser, event_id: FromPath[int], now: Now,
                         q: FromQuery[str | None] = None, page: FromQuery[int | None] = None) -> Template:
        return await _attendance_page(organiser, event_id, now, q=q, page=page)

    @post("/events/{event_id:int}/attendance/{booking_id:int}", name="organiser_mark")
    async def mark_one(self, organiser: Organiser, event_id: FromPath[int], booking_id: FromPath[int], data: FormData,
                       request: Request[Any, Any, Any], now: Now, config: ConfigDep) -> Response[Any] | Redirect:
        try:
            form = read(MarkForm, data)
        except DomainError as exc:
            return Response({"detail": exc.message if not isinstance(exc, InvalidInput) else next(iter(exc.errors.values()))},
                            status_code=400)
        outcome = form.outcome
        try:
            await mark(booking_id, Outcome(outcome), organiser=organiser, now=now, config=config, event_id=event_id)
        except NotAttendable:
            raise NotFoundException() from None
        except TooEarlyToRecord as exc:
            if _wants_json(request):
                return Response({"detail": exc.message}, status_code=409)
            return await _attendance_page(organiser, event_id, now, q=form.q, page=form.page, refused=exc)
        if _wants_json(request):
            person = await Booking.select(Booking.person.name.as_alias("name")).where(Booking.id == booking_id).first()
            counts = await attendance_counts(event_id)
            return Response({"outcome": outcome, "label": OUTCOME_LABELS[outcome], "tag": OUTCOME_TAGS[outcome],
                             "name": person["name"], "counts": counts,
                             "counts_text": f"{counts['attended']} attended, {counts['absent']} absent, "
                                            f"{counts['unmarked']} not marked."})
        back = f"/organisers/events/{event_id}/attendance"
        query = {k: v for k, v in (("q", form.q), ("page", str(form.page) if form.page > 1 else "")) if v}
        if query:
            back += "?" + urlencode(query)
        return Redirect(f"{back}#booking-{booking_id}", status_code=303)

    @post("/events/{event_id:int}/attendance/rest-absent", name="organiser_mark_rest_absent")
    async def rest_absent(self, organiser: Organiser, event_id: FromPath[int], now: Now) -> Template | Redirect:
        try:
            await mark_rest_absent(event_id, organiser=organiser, now=now)
        except TooEarlyToRecord as exc:
            return await _attendance_page(organiser, event_id, now, refused=exc)
        return Redirect(f"/organisers/events/{event_id}/attendance", status_code=303)

    @get("/check-in/{token:str}", name="organiser_check_in")
    async def check_in(self, organiser: Organiser, token: FromPath[str], now: Now) -> Template:
        row = await booking_for_checkin(token)
        if row is None:
            raise NotFoundException()
        return Template("organisers/check_in.html", context={
            "organiser": organiser, "row": row, "event": await get_event(row["event"], now), "token": token,
            "roles": ROLE_LABELS, "done": False})

    @post("/check-in/{token:str}", name="organiser_check_in_mark")
    async def check_in_mark(self, organiser: Organiser, token: FromPath[str], now: Now, config: ConfigDep) -> Template:
        row = await booking_for_checkin(token)
        if row is None:
            raise NotFoundException()
        event = await get_event(row["event"], now)
        try:
            await mark(row["id"], Outcome.attended, organiser=organiser, now=now, config=config, source=MarkSource.qr)
            done, problem = True, ""
        except NotAttendable:
            done, problem = False, "This booking is not confirmed, so it cannot be marked"
        except TooEarlyToRecord as exc:
            done, problem = False, exc.message
        return Template("organisers/check_in.html", status_code=200 if done else 409, context={
            "organiser": organiser, "row": row, "event": event, "token": token, "roles": ROLE_LABELS,
            "done": done, "problem": problem})

    @get("/events/{event_id:int}/no-shows", name="organiser_no_shows")
    async def no_shows(self, organiser: Organiser, event_id: FromPath[int], now: Now,
                       chased: FromQuery[int | None] = None) -> Template:
        event, rows = await list_no_shows(event_id, now)
        return Template("organisers/no_shows.html", context={
            "organiser": organiser, "event": event, "rows": rows, "ended": now >= event.ends_at,
            "not_recorded": await count_not_recorded(event_id, now),
            "to_chase": sum(r.chased_at is None for r in rows), "chased": chased, "outcomes": OUTCOME_LABELS})

    @post("/events/{event_id:int}/no-shows/chase", name="organiser_chase")
    async def chase(self, organiser: Organiser, event_id: FromPath[int], data: FormData, now: Now,
                    config: ConfigDep) -> Redirect:
        form = read(ChaseForm, data)
        count = await chase_no_shows(event_id, organiser=organiser, materials=form.materials, now=now,
                                     config=config)
        return Redirect(f"/organisers/events/{event_id}/no-shows?chased={count}", status_code=303)

    @get("/no-shows", name="organiser_repeat_no_shows")
    async def repeat(self, organiser: Organiser, now: Now, people_page: FromQuery[int | None] = None,
                     settings_page: FromQuery[int | None] = None) -> Template:
        """A hundred people and a hundred settings a page (across a county, thousands)."""
        found = await repeat_no_shows(now)
        pages = {"people_page": str(people_page or ""), "settings_page": str(settings_page or "")}
        people = paginate([r for r in found if r.kind == "person"], people_page, path="/organisers/no-shows",
                          params={k: v for k, v in pages.items() if k != "people_page"}, key="people_page")
        settings = paginate([r for r in found if r.kind == "setting"], settings_page, path="/organisers/no-shows",
                            params={k: v for k, v in pages.items() if k != "settings_page"}, key="settings_page")
        return Template("organisers/repeat_no_shows.html", context={
            "organiser": organiser, "people": people, "settings": settings})

    @get("/events/{event_id:int}/history", name="organiser_event_history")
    async def event_history(self, organiser: Organiser, event_id: FromPath[int], now: Now) -> Template:
        event = await get_event(event_id, now)
        return Template("organisers/history.html", context={
            "organiser": organiser, "heading": f"History of the {event.title}, {event.local_start:%d/%m/%Y}",
            "records": await history(event_id=event_id), "back": f"/organisers/events/{event_id}"})

    @get("/people/{person_id:int}", name="organiser_person")
    async def person(self, organiser: Organiser, person_id: FromPath[int], now: Now) -> Template:
        person = await Person.select(Person.name, Person.email).where(Person.id == person_id).first()
        if person is None:
            raise NotFoundException()
        return Template("organisers/history.html", context={
            "organiser": organiser, "heading": f"History of {person['name']} ({person['email']})",
            "records": await history(person_id=person_id), "back": "/organisers",
            "record_href": f"/organisers/people/{person_id}/record",
            "repeat_no_show": await is_repeat_no_show(person_id, now), "person_id": person_id})

    @post("/people/{person_id:int}/lift-no-show-rule", name="organiser_person_lift_no_shows")
    async def lift_no_shows(self, organiser: Organiser, person_id: FromPath[int], now: Now) -> Redirect:
        if not await Person.exists().where(Person.id == person_id):
            raise NotFoundException()
        await lift_repeat_no_show(person_id, actor=organiser.email, now=now)
        return Redirect(f"/organisers/people/{person_id}", status_code=303)


def _person_form(organiser: OrganiserView, event: Any, counts: Any, form: dict[str, str], errors: dict[str, str], *,
                 walk_in: bool, status_code: int = 200, show_override: bool = False) -> Template:
    return Template("organisers/person_form.html", status_code=status_code, context={
        "organiser": organiser, "event": event, "counts": counts, "form": form, "field_errors": errors,
        "errors": error_summary(errors), "walk_in": walk_in, "role_items": radio_items(ROLE_LABELS, form.get("role")),
        "lead_items": radio_items(LEAD_ANSWER_LABELS, form.get("lead")),
        "show_override": show_override or (walk_in and counts.places_left == 0)})


class TeamsImportPages(Controller):
    path = "/organisers/events/{event_id:int}/teams-import"
    include_in_schema = False

    @get("/", name="organiser_teams_import")
    async def form(self, organiser: Organiser, event_id: FromPath[int], now: Now, config: ConfigDep) -> Template:
        return Template("organisers/teams_import.html", context={
            "organiser": organiser, "event": await get_event(event_id, now), "field_errors": {},
            "minimum": config.teams_min_minutes})

    @post("/", name="organiser_teams_import_upload")
    async def upload(self, organiser: Organiser, event_id: FromPath[int], now: Now, config: ConfigDep,
                     data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]) -> Template:
        event = await get_event(event_id, now)
        errors: dict[str, str] = {}
        other_day = False
        minimum_text = str(data.get("minimum", "")).strip()
        try:
            minimum = read(TeamsMinimumForm, {"minimum": minimum_text}).minimum
        except InvalidInput as exc:
            errors.update(exc.errors)
        upload = data.get("report")
        content = await upload.read() if upload is not None and hasattr(upload, "read") else b""
        if not content:
            errors["report"] = "Select the attendance report file downloaded from Teams"
        if not errors:
            try:
                preview_id = await preview_report(event_id, content, minimum_minutes=minimum, organiser=organiser,
                                                  now=now, config=config, other_day=data.get("other_day") == "yes")
            except NotATeamsReport as exc:
                errors["report"] = exc.message  # which line, where it can say
            except OtherDay as exc:
                errors["report"] = exc.message
                other_day = True
            except TooEarlyToRecord as exc:
                errors["report"] = exc.message
            except (ValueError, UnicodeDecodeError):
                errors["report"] = NotATeamsReport.message
            else:
                return Redirect(f"/organisers/events/{event_id}/teams-import/preview/{preview_id}", status_code=303)
        return Template("organisers/teams_import.html", status_code=400, context={
            "organiser": organiser, "event": event, "field_errors": errors, "errors": error_summary(errors),
            "minimum": minimum_text, "other_day": other_day})

    @get("/preview/{preview_id:int}", name="organiser_teams_preview")
    async def preview(self, organiser: Organiser, event_id: FromPath[int], preview_id: FromPath[int], now: Now) -> Template:
        try:
            preview = await load_preview(preview_id, event_id)
        except NotFound:
            raise NotFoundException() from None
        return Template("organisers/teams_preview.html", context={
            "organiser": organiser, "event": await get_event(event_id, now), "preview": preview,
            "expired": preview.expires_at <= now, "errors": []})

    @post("/preview/{preview_id:int}", name="organiser_teams_confirm")
    async def confirm(self, organiser: Organiser, event_id: FromPath[int], preview_id: FromPath[int], now: Now,
                      config: ConfigDep) -> Template:
        event = await get_event(event_id, now)
        try:
            preview = await confirm_preview(preview_id, event_id, organiser=organiser, now=now, config=config)
        except NotFound:
            raise NotFoundException() from None
        except DomainError as exc:  # already confirmed, expired, or the marks changed since
            preview = await load_preview(preview_id, event_id)
            return Template("organisers/teams_preview.html", status_code=409, context={
                "organiser": organiser, "event": event, "preview": preview, "expired": True,
                "errors": [{"text": exc.message, "href": "#report-upload"}]})
        return Template("organisers/teams_result.html", context={
            "organiser": organiser, "event": event, "preview": preview, "minimum": preview.plan["minimum"]})

    @post("/resolve", name="organiser_teams_resolve")
    async def resolve_unmatched(self, organiser: Organiser, event_id: FromPath[int], data: FormData,
                                now: Now, config: ConfigDep) -> Redirect:
        minimum = read(TeamsMinimumForm, {"minimum": data.get("minimum") or config.teams_min_minutes}).minimum
        choices = []
        for key, value in data.items():
            if key.startswith("booking-") and value.isascii() and value.isdigit():  # not "²" or "١"
                index = key.removeprefix("booking-")
                minutes = data.get(f"minutes-{index}", "0")
                choices.append((int(value), int(minutes) if minutes.isascii() and minutes.isdigit() else 0))
        await resolve(event_id, choices, minimum_minutes=minimum, organiser=organiser, now=now, config=config)
        return Redirect(f"/organisers/events/{event_id}/attendance", status_code=303)


async def _attendance_page(organiser: OrganiserView, event_id: int, now: dt.datetime, *, q: str | None = None,
                           page: int | None = None, refused: DomainError | None = None) -> Template:
    """The attendance page; with `refused`, its message in an error summary (409: nothing recorded)."""
    event, rows, counts = await register(event_id, now)
    confirmed = [r for r in rows if r.status == BookingStatus.confirmed.value]
    if q:
        term = q.strip().lower()
        confirmed = [r for r in confirmed if term in r.name.lower() or term in r.setting.lower()]
    shown = paginate(confirmed, page, path=f"/organisers/events/{event_id}/attendance", params={"q": q or ""})
    errors = [{"text": refused.message, "href": "#attendance-list"}] if refused else None
    return Template("organisers/attendance.html", status_code=409 if refused else 200, context={
        "organiser": organiser, "event": event, "rows": shown.items, "shown": shown, "counts": counts,
        "q": q or "", "outcomes": OUTCOME_LABELS, "outcome_tags": OUTCOME_TAGS, "errors": errors})


async def _move_bookers_page(organiser: OrganiserView, event_id: int, now: dt.datetime, *,
                             errors: dict[str, str] | None = None, status_code: int = 200,
                             report: Any = None, to: int | None = None) -> Template:
    event, _, counts = await register(event_id, now)
    targets = [e for e in await list_events(EventFilters(when="upcoming"), now)
               if e.id != event.id and e.status is EventStatus.scheduled]
    return Template("organisers/move_bookers.html", status_code=status_code, context={
        "organiser": organiser, "event": event, "counts": counts, "targets": targets,
        "field_errors": errors or {}, "errors": error_summary(errors or {}), "report": report,
        "moved_to": next((e for e in targets if e.id == to), None)})
