"""The privacy notice and the accessibility statement, linked from every page's footer and from
every form that collects personal data. The retention periods are read from the purge itself, so
the notice states what the code does."""

from __future__ import annotations

from litestar import Controller, get
from litestar.datastructures import CacheControlHeader
from litestar.response import Template

from app.retention.services import MAIL_AFTER, PEOPLE_AFTER
from app.web.limits import LIMITS


class InformationPages(Controller):
    include_in_schema = False
    cache_control = CacheControlHeader(max_age=300, public=True)  # the same for everyone

    @get("/privacy", name="privacy")
    async def privacy(self) -> Template:
        return Template("information/privacy.html", context={
            "people_years": PEOPLE_AFTER.days // 365, "mail_days": MAIL_AFTER.days,
            "longest_limit_minutes": max(limit.seconds for rules in LIMITS.values() for limit in rules.values()) // 60,
        })

    @get("/accessibility", name="accessibility")
    async def accessibility(self) -> Template:
        return Template("information/accessibility.html")
