"""Organisers read the service's records: the audit trail by date and event (CSV too), and how
the scheduled jobs and the outbox are doing."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Response, get
from litestar.params import FromQuery
from litestar.response import Template

from app.areas import LONDON
from app.spreadsheets import table_csv
from app.audit.services import audit_trail, count_audit_trail
from app.jobs import job_runs
from app.mail.outbox import outbox_state
from app.web.dependencies import Now, Organiser
from app.web.errors import error_summary

PAGE = 50
HEADER = ["When (UTC)", "Action", "Actor", "Event", "Booking", "Person", "Detail"]


def _day(text: str | None, name: str, label: str, errors: dict[str, str]) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        errors[name] = f"Enter the {label} date as a real date, like 2024-03-13"
        return None


def _filters(since: str | None, until: str | None, event: str | None) -> tuple[dict[str, Any], dict[str, str]]:
    errors: dict[str, str] = {}
    start, end = _day(since, "from", "from", errors), _day(until, "to", "to", errors)
    event_id = None
    if event:
        if event.strip().isdigit() and 0 < int(event) < 2**31:
            event_id = int(event)
        else:
            errors["event"] = "Enter the event's number, like 42 (from its page's address)"
    if start and end and end < start:
        errors["to"] = "The to date must be the same as or after the from date"
    return {"since": dt.datetime.combine(start, dt.time(), LONDON) if start else None,
            "until": dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), LONDON) if end else None,
            "event_id": event_id}, errors


def _row(r: dict[str, Any]) -> list[str]:
    detail = r["detail"] if isinstance(r["detail"], dict) else {}
    return [r["created_at"].astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S"), r["action"], r["actor"],
            r["event_title"] or "", r["reference"] or "", r["person_name"] or "",
            json.dumps(detail, ensure_ascii=False, default=str) if detail else ""]


class RecordsAdmin(Controller):
    path = "/organisers"
    include_in_schema = False

    @get("/audit", name="organiser_audit")
    async def audit(self, organiser: Organiser, since: FromQuery[str | None] = None,
                    until: FromQuery[str | None] = None, event: FromQuery[str | None] = None,
                    page: FromQuery[int] = 1) -> Template:
        filters, errors = _filters(since, until, event)
        total = 0 if errors else await count_audit_trail(**filters)
        pages = max(1, -(-total // PAGE))
        page = min(max(1, page), pages)
        rows = [] if errors else await audit_trail(**filters, limit=PAGE, offset=(page - 1) * PAGE)
        query = {k: v for k, v in (("since", since), ("until", until), ("event", event)) if v}

        def href(n: int) -> str:
            return "/organisers/audit?" + urlencode({**query, "page": n})

        return Template("organisers/audit.html", status_code=400 if errors else 200, context={
            "organiser": organiser, "rows": [_row(r) for r in rows], "header": HEADER, "total": total,
            "form": {"since": since or "", "until": until or "", "event": event or ""},
            "field_errors": errors, "errors": error_summary(errors), "page": page, "pages": pages,
            "previous": href(page - 1) if page > 1 else None, "next": href(page + 1) if page < pages else None,
            "csv": "/organisers/audit.csv" + ("?" + urlencode(query) if query else "")})

    @get("/audit.csv", name="organiser_audit_csv")
    async def audit_csv(self, organiser: Organiser, since: FromQuery[str | None] = None,
                        until: FromQuery[str | None] = None, event: FromQuery[str | None] = None) -> Response[Any]:
        filters, errors = _filters(since, until, event)
        if errors:
            return Response({"errors": errors}, status_code=400)
        rows = [_row(r) for r in await audit_trail(**filters, limit=None)]
        return Response(await asyncio.to_thread(table_csv, HEADER, rows), media_type="text/csv", headers={
            "Content-Disposition": 'attachment; filename="audit-trail.csv"', "Cache-Control": "no-store"})

    @get("/service", name="organiser_service")
    async def service(self, organiser: Organiser, now: Now) -> Template:
        """When each scheduled job last ran and what it did; how the outbox is doing."""
        return Template("organisers/service.html", context={
            "organiser": organiser, "jobs": await job_runs(), "outbox": await outbox_state(now), "now": now})
