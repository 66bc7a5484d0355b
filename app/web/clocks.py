"""Organiser pages for the leads' safeguarding dates and the settings' cover (issue 25, points 1
to 3): counts per quadrant, a page of 100 at a time, CSV and Excel; and the public page that stops
a person's reminders."""

from __future__ import annotations

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from app.clocks.dates import LABELS, SOON_DAYS, WHICH
from app.clocks.lists import (
    NO_QUADRANT,
    STATES,
    clock_counts,
    clock_table,
    cover_counts,
    cover_gaps,
    cover_table,
    lead_dates,
    quadrant_words,
)
from app.areas import council, local
from app.clocks.reminders import reminders_state, stop_reminders
from app.web.dependencies import Now, Organiser
from app.web.templating import FormData, select_items
from app.web.downloads import table_download
from app.web.paging import page_number, page_of

def quadrant_choices() -> list[tuple[str, str]]:
    areas = council()
    return [("", f"All {areas.words}"), *areas.labels.items(), (NO_QUADRANT, f"No {areas.word} recorded")]


def _quadrant(value: str | None) -> str:
    return value if council().is_area(value) or value == NO_QUADRANT else ""


class ClocksAdmin(Controller):
    path = "/organisers/clocks"
    include_in_schema = False

    @get("/", name="organiser_clocks")
    async def index(self, organiser: Organiser, now: Now, which: FromQuery[str] = "knowledge",
                    show: FromQuery[str] = "", quadrant: FromQuery[str] = "",
                    page: FromQuery[int | None] = None) -> Template:
        today = local(now).date()
        which = which if which in WHICH else "knowledge"
        state = show if show in STATES else ""  # "state" is a name Litestar keeps for itself
        quadrant = _quadrant(quadrant)
        number = page_number(page)
        rows, total = await lead_dates(which, today, quadrant=quadrant or None, state=state, page=number)
        params = {"which": which, "show": state, "quadrant": quadrant}
        return Template("organisers/clocks.html", context={
            "organiser": organiser, "counts": await clock_counts(today), "labels": LABELS, "which": which,
            "state": state, "quadrant": quadrant, "states": STATES,
            "which_items": select_items(list(LABELS.items()), which),
            "show_items": select_items([("", "Every lead"), *STATES.items()], state),
            "quadrant_items": select_items(quadrant_choices(), quadrant),
            "shown": page_of(rows, total, number, path="/organisers/clocks/", params=params),
            "soon_days": SOON_DAYS, "today": today})

    @get(["/leads.csv", "/leads.xlsx"], name="organiser_clocks_download")
    async def download(self, organiser: Organiser, now: Now, request: Request,
                       quadrant: FromQuery[str] = "") -> Response[bytes]:
        fmt = request.url.path.rsplit(".", 1)[-1]
        quadrant = _quadrant(quadrant)
        name = f"safeguarding-dates-{quadrant.replace('_', '-')}" if quadrant else "safeguarding-dates"
        return await table_download(name, fmt, await clock_table(local(now).date(), quadrant=quadrant or None))

    @get("/cover", name="organiser_cover")
    async def cover(self, organiser: Organiser, now: Now, quadrant: FromQuery[str] = "",
                    page: FromQuery[int | None] = None) -> Template:
        today = local(now).date()
        quadrant = _quadrant(quadrant)
        number = page_number(page)
        rows, total = await cover_gaps(today, quadrant=quadrant or None, page=number)
        return Template("organisers/cover.html", context={
            "organiser": organiser, "counts": await cover_counts(today), "quadrant": quadrant,
            "quadrant_items": select_items(quadrant_choices(), quadrant), "quadrant_label": quadrant_words,
            "shown": page_of(rows, total, number, path="/organisers/clocks/cover", params={"quadrant": quadrant})})

    @get(["/cover.csv", "/cover.xlsx"], name="organiser_cover_download")
    async def cover_download(self, organiser: Organiser, now: Now, request: Request,
                             quadrant: FromQuery[str] = "") -> Response[bytes]:
        fmt = request.url.path.rsplit(".", 1)[-1]
        quadrant = _quadrant(quadrant)
        name = f"settings-cover-{quadrant.replace('_', '-')}" if quadrant else "settings-cover"
        return await table_download(name, fmt, await cover_table(local(now).date(), quadrant=quadrant or None))


class ReminderPages(Controller):
    """The page a reminder links to, with its "Stop these reminders" button (a POST: following the
    link changes nothing), and RFC 8058's one-click POST that mail clients send."""

    path = "/reminders"
    include_in_schema = False

    @get("/{token:str}", name="reminders_page", opt={"limit": "token"})
    async def page(self, token: FromPath[str]) -> Template:
        return Template("training/reminders.html", context={"token": token, "going": await reminders_state(token),
                                                            "stopped_now": False})

    @post("/{token:str}", name="reminders_stop", opt={"limit": "token"})
    async def stop(self, token: FromPath[str], now: Now) -> Template:
        await stop_reminders(token, now=now, how="page")
        return Template("training/reminders.html", context={"token": token, "going": False, "stopped_now": True})

    @post("/{token:str}/one-click", name="reminders_one_click", opt={"limit": "token"}, status_code=200)
    async def one_click(self, token: FromPath[str], now: Now, data: FormData) -> Response[str]:
        """RFC 8058: a POST of `List-Unsubscribe=One-Click` (no cookies, no CSRF token: the link's
        secret is the authority); anything else is refused and changes nothing."""
        if data.get("List-Unsubscribe") != "One-Click":
            return Response("Send List-Unsubscribe=One-Click to stop these reminders.\n", status_code=400,
                            media_type="text/plain")
        await stop_reminders(token, now=now, how="one-click")
        return Response("Reminders stopped.\n", media_type="text/plain")
