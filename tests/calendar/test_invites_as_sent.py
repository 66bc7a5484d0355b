"""The invite as a booker's calendar receives it (issue 20, point 8): no reply asked for, the
description saying that declining keeps the place, and no secret link anywhere in it."""

from email import message_from_string, policy

import icalendar

from app.bookings.services import book_place
from app.jobs import deliver_due
from app.mail.sender import FileTransport
from app.tables.bookings import Booking, BookingSource
from app.tables.mail import OutboxMessage
from tests import factories as f


async def test_the_confirmation_invite_asks_no_reply_and_carries_no_token(db, now, tmp_path):
    event_id = await f.event(now=now, capacity=5)
    made = await book_place(event_id, f.request(1), source=BookingSource.web, actor="public", now=now, config=f.CONFIG)
    await deliver_due(FileTransport(tmp_path), config=f.CONFIG, now=lambda: now)
    [raw] = [r["raw"] for r in await OutboxMessage.select(OutboxMessage.raw).where(OutboxMessage.kind == "confirmation")]
    message = message_from_string(raw, policy=policy.default)
    [ics] = [p.get_content() for p in message.walk() if p.get_content_type() == "text/calendar"]
    [event] = icalendar.Calendar.from_ical(ics).walk("VEVENT")
    assert event["ATTENDEE"].params["RSVP"] == "FALSE"
    assert "Declining this invitation does not cancel your place. To cancel, use the link in your confirmation " \
           "email." in str(event["DESCRIPTION"])
    booking = await Booking.select(Booking.manage_token, Booking.checkin_token).where(Booking.id == made.id).first()
    unfolded = ics.replace("\r\n ", "")
    assert made.manage_token in message.get_body(("plain",)).get_content()  # the email has it, the invite never
    assert booking["manage_token"] not in unfolded and booking["checkin_token"] not in unfolded
    assert "/bookings/" not in unfolded and str(event["URL"]).endswith(f"/events/{event_id}")
