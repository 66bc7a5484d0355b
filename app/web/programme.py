"""Public pages of the programme: the list with filters, and one event."""

from __future__ import annotations

from litestar import Controller, get
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from app.areas import QUADRANT_LABELS, Quadrant, Term
from app.programme.services import EventFilters, get_event, list_events, list_kinds
from app.web.dependencies import ConfigDep, Now
from app.web.feeds import feed_links
from app.web.page_cache import PAGE_SECONDS, REVALIDATE


def parse_filters(quadrant: str | None, kind: str | None, term: str | None,
                  academic_year: str | None = None) -> EventFilters:
    """Filters from query values; unknown values are ignored (pages) or rejected (API, which
    validates before calling this)."""
    return EventFilters(
        quadrant=Quadrant(quadrant) if quadrant in Quadrant._value2member_map_ else None,
        online=quadrant == "online",
        kind=kind or None,
        term=Term(term) if term in Term._value2member_map_ else None,
        academic_year=academic_year or None,
    )


def _options(pairs: list[tuple[str, str]], selected: str | None) -> list[dict[str, object]]:
    return [{"value": value, "text": text, "selected": value == selected} for value, text in pairs]


class ProgrammePages(Controller):
    include_in_schema = False

    @get("/", name="programme", cache=PAGE_SECONDS, cache_control=REVALIDATE)
    async def programme(self, now: Now, config: ConfigDep, quadrant: FromQuery[str | None] = None,
                        kind: FromQuery[str | None] = None, term: FromQuery[str | None] = None) -> Template:
        filters = parse_filters(quadrant, kind, term)
        events = await list_events(filters, now)
        kinds = await list_kinds()
        quadrants = [(q.value, label) for q, label in QUADRANT_LABELS.items()] + [("online", "Online")]
        return Template("programme/list.html", context={
            "events": events,
            "filtered": any([filters.quadrant, filters.online, filters.kind, filters.term]),
            "demo_data": any(e.is_demo for e in events),
            "quadrant_options": _options(quadrants, quadrant),
            "kind_options": _options([(k["code"], k["name"]) for k in kinds], kind),
            "term_options": _options([(t.value, t.label) for t in Term], term),
            "feeds": feed_links(config, kinds),
        })

    @get("/events/{event_id:int}", name="event", cache=PAGE_SECONDS, cache_control=REVALIDATE)
    async def event(self, event_id: FromPath[int], now: Now) -> Template:
        event = await get_event(event_id, now)
        return Template("programme/event.html", context={"event": event, "demo_data": event.is_demo})
