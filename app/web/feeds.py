"""Subscribable calendar feeds of the programme (METHOD:PUBLISH): whole, per quadrant, per kind.

Each event keeps one UID for ever and its SEQUENCE rises with every change, so a subscribed
calendar moves or cancels the event it already shows. No join links, no personal data.
"""

from __future__ import annotations

import datetime as dt

from litestar import Controller, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from app.areas import council
from app.calendar.ics import feed
from app.config import Config
from app.programme.calendar import calendar_item, event_uid
from app.programme.services import EventFilters, list_events, list_kinds
from app.web.dependencies import ConfigDep, Now
from app.web.page_cache import PAGE_SECONDS

ICS = "text/calendar"  # Litestar adds "; charset=utf-8" to text types


def feed_links(config: Config, kinds: list[dict[str, str]]) -> list[dict[str, str]]:
    """The feeds with their https and webcal addresses, for the programme page."""
    paths = [("The whole programme", "/calendar/programme.ics")]
    paths += [(f"{label} forums and training", f"/calendar/quadrant/{q}.ics") for q, label in council().labels.items()]
    paths += [("Online sessions", "/calendar/quadrant/online.ics")]
    paths += [(k["name"], f"/calendar/kind/{k['code']}.ics") for k in kinds]
    webcal_base = "webcal://" + config.base_url.split("://", 1)[-1]
    return [{"name": name, "https": config.base_url + path, "webcal": webcal_base + path} for name, path in paths]


async def _feed(name: str, filters: EventFilters, config: Config, now: dt.datetime) -> Response[bytes]:
    events = await list_events(filters, now)
    items = [calendar_item(e, uid=event_uid(e, config), sequence=e.sequence, config=config) for e in events]
    body = feed(f"{name} – {config.service_name}", items, now)
    return Response(body, media_type=ICS, headers={"Cache-Control": "public, max-age=900"})


def _without_ics(file: str) -> str:
    if not file.endswith(".ics"):
        raise NotFoundException()
    return file.removesuffix(".ics")


class FeedController(Controller):
    path = "/calendar"
    include_in_schema = False

    @get("/programme.ics", name="feed_programme", cache=PAGE_SECONDS)
    async def programme(self, config: ConfigDep, now: Now) -> Response[bytes]:
        return await _feed("Safeguarding forums and training", EventFilters(), config, now)

    @get("/quadrant/{file:str}", name="feed_quadrant", cache=PAGE_SECONDS)
    async def quadrant(self, file: FromPath[str], config: ConfigDep, now: Now) -> Response[bytes]:
        quadrant = _without_ics(file)
        if quadrant == "online":
            return await _feed("Online sessions", EventFilters(online=True), config, now)
        if not council().is_area(quadrant):
            raise NotFoundException()
        return await _feed(f"{council().label(quadrant)} forums", EventFilters(quadrant=quadrant), config, now)

    @get("/kind/{file:str}", name="feed_kind", cache=PAGE_SECONDS)
    async def kind(self, file: FromPath[str], config: ConfigDep, now: Now) -> Response[bytes]:
        code = _without_ics(file)
        kinds = {k["code"]: k["name"] for k in await list_kinds()}
        if code not in kinds:
            raise NotFoundException()
        return await _feed(kinds[code], EventFilters(kind=code), config, now)
