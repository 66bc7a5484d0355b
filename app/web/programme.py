"""Public pages of the programme: the list with filters, and one event."""

from __future__ import annotations

from litestar import Controller, get
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from app.areas import Term, council, local
from app.programme.dated_notices import shown_notices
from app.programme.services import EventFilters, EventView, get_event, list_events, list_kinds
from app.settings_register.importer import district_quadrants_by_name
from app.settings_register.services import find_public_settings, quadrants_at_postcode
from app.web.dependencies import ConfigDep, Now
from app.web.errors import error_summary
from app.web.feeds import feed_links
from app.web.page_cache import PAGE_SECONDS, REVALIDATE
from app.web.templating import select_items


def parse_filters(quadrant: str | None, kind: str | None, term: str | None,
                  academic_year: str | None = None, *, when: str = "all") -> EventFilters:
    """Filters from query values; unknown values are ignored (pages) or rejected (API, which
    validates before calling this)."""
    return EventFilters(
        quadrant=quadrant if council().is_area(quadrant) else None,
        online=quadrant == "online",
        kind=kind or None,
        term=Term(term) if term in Term._value2member_map_ else None,
        academic_year=academic_year or None,
        when=when,
    )


def page_filters(quadrant: str | None, kind: str | None, term: str | None, when: str) -> EventFilters:
    """The programme page's filters: a quadrant keeps everything open to it (its forum, the
    online forum, the online training); "online" keeps the online events."""
    return EventFilters(
        open_to=quadrant if council().is_area(quadrant) else None,
        online=quadrant == "online",
        kind=kind or None,
        term=Term(term) if term in Term._value2member_map_ else None,
        when="past" if when == "past" else "upcoming",
    )


def by_term(events: list[EventView]) -> list[tuple[str, list[EventView]]]:
    """Events grouped by term in the order given ("Spring term 2023/24")."""
    groups: list[tuple[str, list[EventView]]] = []
    for event in events:
        label = f"{event.term.label} term {event.academic_year}"
        if not groups or groups[-1][0] != label:
            groups.append((label, []))
        groups[-1][1].append(event)
    return groups


class ProgrammePages(Controller):
    include_in_schema = False

    @get("/", name="programme", cache=PAGE_SECONDS, cache_control=REVALIDATE)
    async def programme(self, now: Now, config: ConfigDep, quadrant: FromQuery[str | None] = None,
                        kind: FromQuery[str | None] = None, term: FromQuery[str | None] = None,
                        when: FromQuery[str | None] = None) -> Template:
        """The front door: every public journey by name, then the programme, soonest first by
        term (past events on their own page, latest first)."""
        filters = page_filters(quadrant, kind, term, when or "")
        events = await list_events(filters, now)
        kinds = await list_kinds()
        quadrants = [*council().labels.items(), ("online", "Online")]
        return Template("programme/list.html", context={
            "events": events, "groups": by_term(events), "past": filters.when == "past",
            "query": {k: v for k, v in {"quadrant": quadrant, "kind": kind, "term": term}.items() if v},
            "filtered": any([filters.open_to, filters.online, filters.kind, filters.term]),
            "demo_data": any(e.is_demo for e in events),
            "quadrant_options": select_items(quadrants, quadrant),
            "kind_options": select_items([(k["code"], k["name"]) for k in kinds], kind),
            "term_options": select_items([(t.value, t.label) for t in Term], term),
            "feeds": feed_links(config, kinds),
            "notices": await shown_notices(now), "today": local(now).date(),
        })

    @get("/quadrant", name="which_quadrant", opt={"limit": "lookup"})
    async def which_quadrant(self, q: FromQuery[str | None] = None, district: FromQuery[str | None] = None) -> Template:
        """"Which quadrant am I in?": from a school's or nursery's name or URN on the register, a
        postcode matching one, or the district chosen from the list. Only the quadrant is shown."""
        districts = district_quadrants_by_name()
        found: list[dict] = []
        answer: str | None = None
        errors: dict[str, str] = {}
        if district:
            if district in districts:
                answer = districts[district]
            else:
                errors["district"] = "Choose your district from the list"
        elif q is not None:
            text = q.strip()
            if len(text) < 2:
                errors["q"] = "Enter the name or URN of your school or setting, or its postcode"
            else:
                at_postcode = await quadrants_at_postcode(text)
                if len(at_postcode) == 1:
                    answer = next(iter(at_postcode))
                else:
                    found = await find_public_settings(text)
                    if len(found) == 1 and found[0]["quadrant"]:
                        answer = found[0]["quadrant"]
                    elif not found:
                        errors["q"] = ("We could not find a school or setting with that name, URN or postcode "
                                       "on our register: choose your district instead")
        return Template("programme/quadrant.html", status_code=400 if errors else 200, context={
            "q": q or "", "district": district or "", "found": found,
            "answer": council().area(answer) if council().is_area(answer) else None, "field_errors": errors,
            "errors": error_summary(errors),
            "district_options": [{"value": "", "text": "Choose a district"}] + [
                {"value": name, "text": name, "selected": name == district} for name in districts]})

    @get("/events/{event_id:int}", name="event", cache=PAGE_SECONDS, cache_control=REVALIDATE)
    async def event(self, event_id: FromPath[int], now: Now) -> Template:
        event = await get_event(event_id, now)
        notices = await shown_notices(now, event.quadrant) if event.quadrant else []
        return Template("programme/event.html", context={"event": event, "demo_data": event.is_demo,
                                                         "notices": notices, "today": local(now).date()})
