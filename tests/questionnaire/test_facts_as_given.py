"""Issue 11's facts, tried as an organiser and a booker would: no-shows as the briefing means them,
a chase that fits what was missed, the DSL on record, venue notes, assumed capacities, Reply-To by
purpose and the dashboard's year. Each runs on SQLite and PostgreSQL."""

import datetime as dt
import re
from email import message_from_string, policy
from pathlib import Path

from app.attendance.services import mark_rest_absent
from app.jobs import deliver_due
from app.mail.sender import FileTransport
from app.programme.seeding import seed_programme
from app.tables.bookings import Booking
from app.tables.mail import OutboxMessage
from app.tables.programme import Event
from tests import factories as f
from tests.attendance.test_registers_and_attendance import book, end_event, token
from tests.questionnaire.test_evidence import forum, person, setting, went


async def test_a_missed_hsb_session_offers_the_next_hsb_session_not_a_forum(signed_in, now, organiser):
    await f.event(now=now, starts_in=dt.timedelta(days=10), title="West Safeguarding Forum")
    next_hsb = await f.event(now=now, starts_in=dt.timedelta(days=40), quadrant=None, kind_code="hsb",
                             title="Harmful Sexual Behaviour (HSB) training")
    missed = await f.event(now=now, quadrant=None, kind_code="hsb", title="Harmful Sexual Behaviour (HSB) training")
    await book(signed_in, missed, 1)
    await end_event(missed, now)
    assert await mark_rest_absent(missed, organiser=organiser, now=now) == 1
    page = await signed_in.get(f"/organisers/events/{missed}/no-shows")
    chased = await signed_in.post(f"/organisers/events/{missed}/no-shows/chase", follow_redirects=False,
                                  data={"materials": "", "_csrf_token": token(page.text)})
    assert chased.headers["location"].endswith("chased=1")
    [raw] = [r["raw"] for r in await OutboxMessage.select(OutboxMessage.raw).where(OutboxMessage.kind == "chase")]
    message = message_from_string(raw, policy=policy.default)
    text = message.get_body(("plain",)).get_content()
    offered = text[text.index("You can book this instead:"):].splitlines()
    assert offered[1].startswith("- Harmful Sexual Behaviour (HSB) training")
    assert f"/events/{next_hsb}" in text and "Forum" not in text


async def test_the_dashboard_counts_marked_absences_per_kind_and_opens_on_the_latest_year_with_attendance(
        signed_in, now, organiser):
    oak = await setting("Oak Primary", "west")
    jo, sam, alex = await person("Jo Barclay"), await person("Sam Patel"), await person("Alex Jones")
    in_person = await forum(dt.date(2023, 11, 15))
    online = await forum(dt.date(2023, 11, 21), title="Online Safeguarding Forum", quadrant=None)
    await went(in_person, jo, oak)
    await went(in_person, sam, oak, outcome="absent")
    await went(in_person, alex, oak, outcome=None)   # nobody marked Alex: not recorded, not a no-show
    await went(online, sam, oak, outcome="absent")
    await went(in_person, await person("Kim Lee"), oak, apologies="late")  # gave the place up: never a no-show
    page = await signed_in.get("/organisers/dashboard/")
    assert "<h1 class=\"govuk-heading-l\">Dashboard 2023/24</h1>" in page.text  # the latest year with attendance
    assert "Show the current year" in page.text
    rates = page.text[page.text.index('id="no-show-rates"'):]
    assert "Safeguarding Forum (in person)</th>" in rates and "Safeguarding Forum (online)</th>" in rates
    in_person_row = rates[rates.index("Safeguarding Forum (in person)"):rates.index("Safeguarding Forum (online)")]
    cells = [c.split(">")[-1] for c in in_person_row.split("</td>")[:-1]]
    assert cells == ["2", "1", "50%", "1", "1 (1 late)"]  # recorded, absent, rate, not recorded, apologies
    west_autumn = page.text[page.text.index('id="dashboard-table"'):]
    assert ">50% (1)<" in west_autumn  # West's in-person rate: 1 absent of 2 recorded; the online one apart


async def test_the_dsl_on_record_is_set_and_corrected_by_an_organiser_with_clear_errors(signed_in, now):
    oak = await setting("Oak Primary", "west")
    page = await signed_in.get(f"/organisers/settings/{oak}")
    bad = await signed_in.post(f"/organisers/settings/{oak}/leads", data={
        "role": "", "name": "", "email": "jo@", "since-day": "31", "since-month": "2", "since-year": "2024",
        "_csrf_token": token(page.text)})
    assert bad.status_code == 400 and "There is a problem" in bad.text
    for message in ("Select DSL / Lead Practitioner or deputy", "Enter their full name",
                    "Enter an email address in the correct format", "must be a real date"):
        assert message in bad.text
    assert 'href="#since-day"' in bad.text
    ok = await signed_in.post(f"/organisers/settings/{oak}/leads", follow_redirects=False, data={
        "role": "dsl", "name": "Jo Barclay", "email": "Jo.Barclay@Oak.example.org", "since-day": "1",
        "since-month": "9", "since-year": "2023", "_csrf_token": token(page.text)})
    assert ok.status_code == 303
    shown = await signed_in.get(f"/organisers/settings/{oak}")
    assert "jo.barclay@oak.example.org" in shown.text and "Friday 1 September 2023" in shown.text
    assert "Counted: forum attendance of the setting&#39;s DSL / Lead Practitioner on record (Jo Barclay)" in shown.text
    contact = await signed_in.post(f"/organisers/settings/{oak}/contact", data={"email": "office@", "_csrf_token": token(page.text)})
    assert contact.status_code == 400 and 'href="#contact_email"' in contact.text


async def test_the_south_change_of_venue_is_a_note_on_its_two_forums_reaching_page_and_invite(
        signed_in, now, tmp_path):
    """The briefing's "Please note change of venue" is on the South row of the 2023/24 programme:
    a note on those two forums, not on the venue (an event there next year carries none)."""
    await seed_programme(demo=True, now=now)
    noted = await Event.select(Event.id, Event.seed_key).where(Event.note == "Please note change of venue.")
    assert sorted(r["seed_key"] for r in noted) == ["demo:forum/spring/south", "demo:forum/summer/south"]
    south = noted[0]
    assert "Please note change of venue." in (await signed_in.get(f"/events/{south['id']}")).text
    venue = (await Event.select(Event.venue).where(Event.id == south["id"]).first())["venue"]
    later = await f.event(now=now, starts_in=dt.timedelta(days=400), quadrant="south")
    await Event.update({Event.venue: venue}).where(Event.id == later)
    assert "Please note change of venue." not in (await signed_in.get(f"/events/{later}")).text
    await book(signed_in, south["id"], 1)
    await deliver_due(FileTransport(tmp_path), config=f.CONFIG, now=lambda: now + dt.timedelta(minutes=1))
    [raw] = [r["raw"] for r in await OutboxMessage.select(OutboxMessage.raw).where(OutboxMessage.kind == "confirmation")]
    message = message_from_string(raw, policy=policy.default)
    assert "Please note change of venue." in message.get_body(("plain",)).get_content()
    [invite] = [p.get_content() for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert "Please note change of venue." in invite.replace("\r\n ", "")
    assert message["Reply-To"] == f.CONFIG.reply_to_bookings
    register = await signed_in.get(f"/organisers/events/{south['id']}")
    assert 'id="capacity-assumed"' in register.text
    edit = await signed_in.get(f"/organisers/events/{south['id']}/edit")
    form = dict(re.findall(r'name="([\w-]+)"[^>]*value="([^"]*)"', edit.text))
    row = await Event.select(Event.kind, Event.venue, Event.quadrant).where(Event.id == south["id"]).first()
    form.update({"kind": str(row["kind"]), "venue": str(row["venue"]), "where": row["quadrant"]})
    saved = await signed_in.post(f"/organisers/events/{south['id']}/edit", follow_redirects=False, data=form)
    assert saved.status_code == 303, saved.text
    assert 'id="capacity-assumed"' not in (await signed_in.get(f"/organisers/events/{south['id']}")).text


async def test_questionnaire_and_chase_replies_go_to_the_safeguarding_mailbox(signed_in, now):
    from app.mail.outbox import reply_to_for

    config = f.CONFIG.with_overrides(reply_to_bookings="bookings@council.example.org",
                                     reply_to_safeguarding="safeguarding@council.example.org")
    assert {kind: reply_to_for(kind, config) for kind in ("confirmation", "reminder", "questionnaire", "chase")} == {
        "confirmation": "bookings@council.example.org", "reminder": "bookings@council.example.org",
        "questionnaire": "safeguarding@council.example.org", "chase": "safeguarding@council.example.org"}
    assert reply_to_for("questionnaire", f.CONFIG.with_overrides(reply_to_safeguarding="")) == f.CONFIG.organiser_mailbox
    oak = await setting("Oak Primary", "west")
    page = await signed_in.get(f"/organisers/settings/{oak}")
    await signed_in.post(f"/organisers/settings/{oak}/questionnaire", data={"email": "dsl@oak.example.org",
                                                                        "_csrf_token": token(page.text)})
    [raw] = [r["raw"] for r in await OutboxMessage.select(OutboxMessage.raw).where(OutboxMessage.kind == "questionnaire")]
    assert message_from_string(raw, policy=policy.default)["Reply-To"] == f.CONFIG.organiser_mailbox
    assert await Booking.count() == 0


#: The council's source documents as given to the team (`../shared/source-documents/`), kept with the
#: seeds they are the source of, so a clone alone can check its seeds against them.
SOURCE = Path(__file__).resolve().parents[2] / "seeds" / "sources" / "spring-2024-briefing-and-questionnaire.txt"


def test_the_kept_copy_of_the_source_documents_is_the_one_given():
    given = Path(__file__).resolve().parents[3] / "shared" / "source-documents"
    if given.is_dir():  # beside the team's workspace; a clone elsewhere has only the kept copy
        assert SOURCE.read_bytes() in {p.read_bytes() for p in given.glob("*.txt")}
    assert "Child Protection File – review record" in SOURCE.read_text()


async def test_question_17_links_the_briefings_cp_file_review_record_a_blank_form(signed_in, now):
    """Issue 21 point 7: the template that goes with Q15-Q17, its fields as the documents give
    them, apart from the guidance list; nothing about any child is asked or stored."""
    import io
    import re

    import pypdf

    from app.questionnaire.seeding import seed_questionnaire
    from app.web.information import cp_file_review_record
    from tests.questionnaire.test_evidence import setting
    from tests.questionnaire.test_questionnaire_pages import send_link

    source = " ".join(SOURCE.read_text().split())
    template = cp_file_review_record()
    for text in (template["title"], template["introduction"], *template["fields"]):
        assert " ".join(text.split()) in source, text
    pdf = await signed_in.get("/documents/cp-file-review-record.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = " ".join(pypdf.PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text().split())
    assert "Child Protection File – review record" in text and "Date next review is due" in text
    await seed_questionnaire()
    link = await send_link(signed_in, await setting("Oak Nursery"))
    page = (await signed_in.get(f"{link}/questions/17")).text
    assert re.search(r'id="related-template">Related template from the briefing: <a[^>]+cp-file-review-record\.pdf', page)
    guidance = page[page.index("Framework and guidance"):page.index("related-template")] if "Framework and guidance" in page else ""
    assert "review record" not in guidance  # apart from the guidance list
