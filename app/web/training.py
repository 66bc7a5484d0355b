"""Each person's training record on the web: certificates (download, public verification),
feedback through the certificate email's link, the record a person asks for by email, passing a
place to a colleague; and what organisers see of certificates and feedback."""

from __future__ import annotations

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from app.certificates.services import (
    NotCertifiable,
    check_certificate,
    certificate_for_booking,
    certificate_pdf_apart,
    certificates_for_event,
    reissue,
)
from app.spreadsheets import Table
from app.bookings.colleague import pass_to_colleague
from app.bookings.records import BookingError, get_booking
from app.errors import InvalidInput
from app.pdf import identity, pdf_apart
from app.programme.services import get_event
from app.questionnaire.services import chosen_year
from app.tables.bookings import ROLE_LABELS
from app.tables.register import Person
from app.training.feedback import (
    FEEDBACK_HEADER,
    USEFULNESS_LABELS,
    FeedbackGiven,
    event_summary,
    feedback_table,
    give_feedback,
    kind_summaries,
    target,
)
from app.training.record import email_for_token, request_link, training_record
from app.web.dependencies import ConfigDep, Now, Organiser
from app.web.downloads import table_download
from app.web.errors import error_summary, field_errors
from app.web.forms import RecordLinkForm, read
from app.web.limits import limit_email
from app.web.templating import FormData

PDF_HEADERS = {"Cache-Control": "no-store"}


def _pdf(data: bytes, name: str) -> Response[bytes]:
    return Response(data, media_type="application/pdf",
                    headers={**PDF_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'})


def _colleague_page(booking, form: dict[str, str], errors: dict[str, str], status_code: int = 200) -> Template:
    return Template("bookings/colleague.html", status_code=status_code, context={
        "booking": booking, "form": form, "field_errors": errors, "errors": error_summary(errors),
        "roles": [(r.value, label) for r, label in ROLE_LABELS.items()], "demo_data": booking.event.is_demo})


def _issue(value: str | None) -> int | None:
    """The issue number a QR code or a link gives; anything else is no issue given."""
    return int(value) if value and value.isdigit() and len(value) < 6 else None


class TrainingPages(Controller):
    """Public pages: every one under the abuse limits."""

    include_in_schema = False

    @get("/certificates/verify", name="certificate_verify", opt={"limit": "verify"})
    async def verify(self, code: FromQuery[str | None] = None, issue: FromQuery[str | None] = None) -> Template:
        """Anyone (an inspector) checks a certificate: what it says, and whether it still stands."""
        typed = (code or "").strip()[:40]
        found = await check_certificate(typed, _issue(issue)) if typed else None
        missing = bool(typed) and found is None
        return Template("training/verify.html", status_code=404 if missing else 200, context={
            "code": typed, "checked": bool(typed), "check": found,
            "errors": [{"text": "No certificate has this code: check it and try again", "href": "#code"}] if missing else []})

    @get("/bookings/{token:str}/certificate.pdf", name="booking_certificate", opt={"limit": "token"})
    async def booking_certificate(self, token: FromPath[str], now: Now, config: ConfigDep) -> Response[bytes]:
        booking = await get_booking(token, now)
        certificate = await certificate_for_booking(booking.id)
        if certificate is None or not certificate.valid:
            raise NotFoundException()
        return _pdf(await certificate_pdf_apart(certificate, config), f"certificate-{certificate.code}.pdf")

    @get("/bookings/{token:str}/colleague", name="colleague_form", opt={"limit": "token"})
    async def colleague_form(self, token: FromPath[str], now: Now) -> Template | Redirect:
        booking = await get_booking(token, now)
        if not booking.can_pass_on(now):
            return Redirect(f"/bookings/{token}", status_code=303)
        return _colleague_page(booking, {}, {})

    @post("/bookings/{token:str}/colleague", name="colleague_send", opt={"limit": "colleague"})
    async def colleague_send(self, request: Request, token: FromPath[str], data: FormData, now: Now,
                             config: ConfigDep) -> Template | Redirect:
        booking = await get_booking(token, now)
        email = (data.get("email") or "").strip().lower()
        if email:
            await limit_email(request, "colleague", email)
        try:
            passed = await pass_to_colleague(token, data, now=now, config=config)
        except InvalidInput as exc:
            return _colleague_page(booking, data, field_errors(exc, default_field="name"), status_code=400)
        except BookingError as exc:
            return _colleague_page(booking, data, field_errors(exc, default_field="name"), status_code=409)
        return Template("bookings/colleague_done.html", context={
            "booking": passed, "colleague": passed.person_name, "demo_data": passed.event.is_demo})

    @get("/feedback/{token:str}", name="feedback_form", opt={"limit": "token"})
    async def feedback_form(self, token: FromPath[str]) -> Template:
        found = await target(token)
        if found is None:
            raise NotFoundException()
        return Template("training/feedback.html", context={
            "target": found, "token": token, "form": {}, "field_errors": {}, "errors": [], "labels": USEFULNESS_LABELS})

    @post("/feedback/{token:str}", name="feedback_give", opt={"limit": "token"})
    async def feedback_give(self, token: FromPath[str], data: FormData, now: Now) -> Template:
        found = await target(token)
        if found is None:
            raise NotFoundException()
        try:
            await give_feedback(token, data, now=now)
        except FeedbackGiven:
            return Template("training/feedback_done.html", status_code=409, context={"target": found, "again": True})
        except InvalidInput as exc:
            errors = field_errors(exc, default_field="usefulness")
            return Template("training/feedback.html", status_code=400, context={
                "target": found, "token": token, "form": data, "field_errors": errors,
                "errors": error_summary(errors), "labels": USEFULNESS_LABELS})
        return Template("training/feedback_done.html", context={"target": found, "again": False})

    @get("/my-record", name="record_request_form", opt={"limit": "token"})
    async def record_form(self) -> Template:
        return Template("training/record_request.html", context={"form": {}, "field_errors": {}, "errors": []})

    @post("/my-record", name="record_request", opt={"limit": "record_link"})
    async def record_request(self, request: Request, data: FormData, now: Now, config: ConfigDep) -> Template:
        try:
            email = str(read(RecordLinkForm, data).email)
        except InvalidInput as exc:
            errors = field_errors(exc, default_field="email")
            return Template("training/record_request.html", status_code=400, context={
                "form": data, "field_errors": errors, "errors": error_summary(errors)})
        await limit_email(request, "record_link", email)
        await request_link(email, now=now, config=config)
        # The same answer whether or not the address is known: the page reveals nobody's bookings.
        return Template("training/record_sent.html", context={"email": email})

    @get("/my-record/{token:str}", name="record", opt={"limit": "token"})
    async def record(self, token: FromPath[str], now: Now, config: ConfigDep) -> Template:
        email = await email_for_token(token, now)
        if email is None:
            return Template("training/record_lapsed.html", status_code=404)
        return Template("training/record.html", context={
            "r": await training_record(email, now, config), "token": token, "today": now})

    @get("/my-record/{token:str}/record.pdf", name="record_pdf", opt={"limit": "token"})
    async def record_pdf(self, token: FromPath[str], now: Now, config: ConfigDep) -> Response[bytes]:
        email = await email_for_token(token, now)
        if email is None:
            raise NotFoundException()
        record = await training_record(email, now, config)
        data = await pdf_apart("record.html", r=record, today=now, **identity(config),
                               verify_url=f"{config.base_url}/certificates/verify")
        return _pdf(data, "safeguarding-training-record.pdf")

    @get("/my-record/{token:str}/certificates/{code:str}", name="record_certificate", opt={"limit": "token"})
    async def record_certificate(self, token: FromPath[str], code: FromPath[str], now: Now,
                                 config: ConfigDep) -> Response[bytes]:
        email = await email_for_token(token, now)
        if email is None:
            raise NotFoundException()
        record = await training_record(email, now, config)
        mine = {s.certificate.code: s.certificate for s in record.sessions if s.certificate and s.certificate.valid}
        if code not in mine:
            raise NotFoundException()
        return _pdf(await certificate_pdf_apart(mine[code], config), f"certificate-{code}.pdf")


class TrainingAdmin(Controller):
    """Organisers: certificates issued and feedback received, per event and per kind."""

    path = "/organisers"
    include_in_schema = False

    @get("/events/{event_id:int}/certificates", name="organiser_certificates")
    async def certificates(self, organiser: Organiser, event_id: FromPath[int], now: Now,
                           reissued: FromQuery[str | None] = None, problem: FromQuery[str | None] = None) -> Template:
        event = await get_event(event_id, now)
        return Template("organisers/certificates.html", context={
            "organiser": organiser, "event": event, "certificates": await certificates_for_event(event_id),
            "summary": await event_summary(event_id), "labels": USEFULNESS_LABELS, "reissued": reissued,
            "problem": problem})

    @post("/events/{event_id:int}/certificates/{booking_id:int}/reissue", name="organiser_certificate_reissue")
    async def reissue(self, organiser: Organiser, event_id: FromPath[int], booking_id: FromPath[int], now: Now,
                      config: ConfigDep) -> Redirect:
        try:
            certificate = await reissue(booking_id, actor=organiser.email, now=now, config=config)
        except NotCertifiable:
            return Redirect(f"/organisers/events/{event_id}/certificates?problem=not-attended", status_code=303)
        return Redirect(f"/organisers/events/{event_id}/certificates?reissued={certificate.code}", status_code=303)

    @get("/feedback", name="organiser_feedback")
    async def feedback(self, organiser: Organiser, now: Now, year: FromQuery[str | None] = None) -> Template:
        year = chosen_year(year, now)
        return Template("organisers/feedback.html", context={
            "organiser": organiser, "year": year, "summaries": await kind_summaries(year), "labels": USEFULNESS_LABELS})

    @get(["/feedback.csv", "/feedback.xlsx"], name="organiser_feedback_export")
    async def feedback_export(self, organiser: Organiser, request: Request, now: Now,
                              year: FromQuery[str | None] = None, event: FromQuery[int | None] = None) -> Response[bytes]:
        fmt = request.url.path.rsplit(".", 1)[-1]
        year = chosen_year(year, now)
        rows = await feedback_table(event_id=event, academic_year=None if event else year)
        name = f"feedback-event-{event}" if event else f"feedback-{year.replace('/', '-')}"
        return await table_download(name, fmt, Table(FEEDBACK_HEADER, rows))

    @get("/people/{person_id:int}/record", name="organiser_person_record")
    async def person_record(self, organiser: Organiser, person_id: FromPath[int], now: Now,
                            config: ConfigDep) -> Template:
        person = await Person.select(Person.email).where(Person.id == person_id).first()
        if person is None:
            raise NotFoundException()
        return Template("organisers/person_record.html", context={
            "organiser": organiser, "r": await training_record(person["email"], now, config), "person_id": person_id,
            "today": now})
