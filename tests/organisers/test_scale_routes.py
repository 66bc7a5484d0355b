"""Every organiser page and export answers 200 on a generated county-like data set, on both
engines: the route list comes from the app itself, so a new page is walked without an edit here.

The set is small enough for the suite (`generate-scale` at a fiftieth of the county: 50 settings,
200 people, 2,000 bookings over three years); `make bench` and `python -m tests.bench.run_bench
--only scale` time the full 2,500 settings and 100,000 bookings."""

import re

from app.attendance.teams_import import preview_report
from app.programme.dated_notices import seed_notices
from app.tables.webhooks import WebhookEndpoint
from tests.scale_data import generate
from app.tables.attendance import Attendance
from app.tables.bookings import Booking
from app.tables.programme import DatedNotice, Event, Venue
from app.tables.questionnaire import Response
from app.tables.register import Person, Setting
from tests.attendance import teams_samples
from tests.organisers.test_accounts import PUBLIC_PATHS, every_route

#: Paths that act rather than show, though they answer GET.
NOT_PAGES = re.compile(r"/sign-out|/check-in/")


async def ids_for_paths(now) -> dict[str, str]:
    event = await Event.select(Event.id).where(Event.ends_at < now).order_by(Event.id, ascending=False).first()
    booking = await Booking.select(Booking.id, Booking.person, Booking.setting, Booking.checkin_token).where(
        Booking.event == event["id"]).first()
    venue = await Venue.select(Venue.id).first()
    response = await Response.select(Response.id).first()
    await seed_notices()  # the briefing's dated notices, for their pages (the county-scale bench walks them too)
    notice = await DatedNotice.select(DatedNotice.id).first()
    return {"event_id": str(event["id"]), "booking_id": str(booking["id"]), "person_id": str(booking["person"]),
            "setting_id": str(booking["setting"]), "venue_id": str(venue["id"]),
            "response_id": str(response["id"]) if response else "1", "token": booking["checkin_token"] or "x",
            "notice_id": str(notice["id"])}


async def test_every_organiser_get_route_answers_at_scale(signed_in, organiser, now):
    # A webhook registered first: the generated bookings' messages queue for it (its pages count them).
    [hook] = await WebhookEndpoint.insert(WebhookEndpoint(url="https://crm.example.org/hooks", description="CRM",
                                                          secret="whsec_x", created_at=now)).returning(WebhookEndpoint.id)
    report = await generate(settings=50, people=200, bookings=2000, now=now)
    assert report.bookings == 2000 and await Attendance.count() > 1000
    assert await Setting.count() >= 50 and await Person.count() >= 200
    ids = await ids_for_paths(now)
    ids["endpoint_id"] = str(hook["id"])
    ids["preview_id"] = str(await preview_report(int(ids["event_id"]), teams_samples.as_teams_downloads_it(),
                                                 minimum_minutes=30, organiser=organiser, now=now,
                                                 config=signed_in.app.state["config"], other_day=True))
    walked = []
    for path, method, _ in every_route(signed_in.app):
        if method != "GET" or PUBLIC_PATHS.search(path) or NOT_PAGES.search(path):
            continue
        url = re.sub(r"\{(\w+)(:\w+)?\}", lambda m: ids.get(m.group(1), "1"), path)
        response = await signed_in.get(url)
        assert response.status_code == 200, f"GET {url}: {response.status_code} {response.text[:300]}"
        walked.append(url)
    assert len(walked) >= 20, walked
