"""Issue 25, points 2 and 3: reminders 60 and 14 days before a lead's date, once each, dates due
together in one email with the sessions that renew them, stopped by RFC 8058's one-click POST or
the page's button; and the welcome a DSL gets, once, when an organiser records them."""

from __future__ import annotations

import datetime as dt
from email import message_from_string, policy

from app.areas import local
from app.clocks.reminders import send_reminders
from app.settings_register.services import record_lead
from app.tables.mail import OutboxMessage
from app.tables.register import LeadSource
from app.tables.training import ClockReminder, LeadClock
from tests import factories as f
from tests.support import csrf_token, plain_text

EMAIL = "jo@oak.example"


async def _lead_with_dates(now: dt.datetime, due: dt.date) -> str:
    oak = await f.setting("Oak Nursery", quadrant="west", setting_type="nursery", now=now)
    await record_lead(oak, role="dsl", name="Jo Barclay", email=EMAIL, since=None, actor="o@essex.gov.uk", now=now)
    return await f.lead_clock(EMAIL, now=now, knowledge=due, prevent=due,
                              sources={"prevent": "declared by the setting"})


async def _reminders() -> list:
    rows = await OutboxMessage.select(OutboxMessage.raw).where(OutboxMessage.kind == "clock_reminder").order_by(
        OutboxMessage.id)
    return [message_from_string(r["raw"], policy=policy.default) for r in rows]


async def test_reminders_go_60_and_14_days_before_once_each_and_one_click_stops_them(db, client, now):
    today = local(now).date()
    due = today + dt.timedelta(days=70)
    token = await _lead_with_dates(now, due)
    forum = await f.event(now=now, starts_in=dt.timedelta(days=20), quadrant="west", title="West Safeguarding Forum")
    prevent = await f.event(now=now, starts_in=dt.timedelta(days=25), quadrant=None, kind_code="prevent",
                            title="Prevent awareness")
    day = dt.timedelta(days=1)
    assert await send_reminders(now=now, config=f.CONFIG) == 0  # 70 days before
    assert await send_reminders(now=now + 10 * day, config=f.CONFIG) == 1  # 60 days before: both dates, one email
    assert await send_reminders(now=now + 10 * day + dt.timedelta(hours=2), config=f.CONFIG) == 0
    assert await send_reminders(now=now + 11 * day, config=f.CONFIG) == 0
    assert await send_reminders(now=now + 56 * day, config=f.CONFIG) == 1  # 14 days before
    assert await send_reminders(now=now + 57 * day, config=f.CONFIG) == 0
    assert await ClockReminder.count() == 4  # two dates, two thresholds
    first, second = await _reminders()
    assert first["To"] == EMAIL
    assert first["List-Unsubscribe"] == f"<http://testserver.local/reminders/{token}/one-click>"
    assert first["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = plain_text(first.as_string())
    assert "Knowledge refreshed: " in text and "Prevent awareness: " in text and "in 60 days" in text
    assert f"http://testserver.local/events/{forum}/book" in text
    assert f"http://testserver.local/events/{prevent}/book" in text
    assert f"http://testserver.local/reminders/{token}" in text
    assert "in 14 days" in plain_text(second.as_string())
    # Following the link changes nothing; the page's button, or the mail client's one-click POST, stops them.
    page = await client.get(f"/reminders/{token}")
    assert page.status_code == 200 and "Stop these reminders" in page.text
    assert (await LeadClock.select(LeadClock.reminders_stopped_at).first())["reminders_stopped_at"] is None
    refused = await client.post(f"/reminders/{token}/one-click", data={"List-Unsubscribe": "yes"})
    assert refused.status_code == 400
    stopped = await client.post(f"/reminders/{token}/one-click", data={"List-Unsubscribe": "One-Click"})
    assert stopped.status_code == 200
    assert "These reminders are stopped" in (await client.get(f"/reminders/{token}")).text
    await LeadClock.update({LeadClock.knowledge_due: due + 30 * day}).where(LeadClock.email == EMAIL)
    assert await send_reminders(now=now + 40 * day, config=f.CONFIG) == 0
    assert (await client.get("/reminders/not-a-token")).status_code == 404


async def test_the_stop_page_stops_them_with_its_button(db, client, now):
    token = await _lead_with_dates(now, local(now).date() + dt.timedelta(days=30))
    page = await client.get(f"/reminders/{token}")
    done = await client.post(f"/reminders/{token}", data={"_csrf_token": csrf_token(page.text)})
    assert done.status_code == 200
    assert "These reminders are stopped" in done.text
    assert await send_reminders(now=now, config=f.CONFIG) == 0


async def test_a_dsl_recorded_by_an_organiser_is_welcomed_once(db, signed_in, now):
    oak = await f.setting("Oak Nursery", quadrant="west", setting_type="nursery", now=now)
    forum = await f.event(now=now, starts_in=dt.timedelta(days=20), quadrant="west", title="West Safeguarding Forum")
    await f.event(now=now, starts_in=dt.timedelta(days=25), quadrant=None, kind_code="prevent", title="Prevent awareness")
    page = await signed_in.get(f"/organisers/settings/{oak}")
    form = {"role": "dsl", "name": "Jo Barclay", "email": "Jo@Oak.example", "_csrf_token": csrf_token(page.text)}
    for _ in range(2):  # the same DSL saved twice
        assert (await signed_in.post(f"/organisers/settings/{oak}/leads", data=form)).status_code == 200
    await signed_in.post(f"/organisers/settings/{oak}/leads", data={**form, "role": "deputy_dsl",
                                                                         "email": "sam@oak.example"})
    # The setting naming its DSL on its questionnaire is not an organiser recording them: no welcome.
    await record_lead(oak, role="dsl", name="Kim Lee", email="kim@oak.example", since=None, actor="q", now=now,
                      source=LeadSource.questionnaire)
    rows = await OutboxMessage.select(OutboxMessage.recipient, OutboxMessage.raw).where(
        OutboxMessage.kind == "lead_welcome")
    assert [r["recipient"] for r in rows] == ["jo@oak.example"]
    text = plain_text(rows[0]["raw"])
    assert "recorded as the Designated Safeguarding Lead / Lead Practitioner for Oak Nursery" in text
    assert f"http://testserver.local/events/{forum}/book" in text
    assert "Prevent awareness: nothing recorded in this service" in text
    shown = await signed_in.get(f"/organisers/settings/{oak}")
    assert "Their safeguarding dates" in shown.text and "Level 3: nothing recorded in this service" in shown.text
