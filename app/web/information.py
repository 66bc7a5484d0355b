"""The privacy notice and the accessibility statement, linked from every page's footer and from
every form that collects personal data. The retention periods are read from the purge itself, so
the notice states what the code does."""

from __future__ import annotations

import tomllib
from functools import lru_cache

from litestar import Controller, Response, get
from litestar.datastructures import CacheControlHeader
from litestar.exceptions import NotFoundException
from litestar.response import Template

from app.config import PROJECT_ROOT
from app.pdf import identity, pdf_apart

from app.retention.services import MAIL_AFTER, PEOPLE_AFTER
from app.webhooks.endpoints import personal_data_recipients
from app.web.dependencies import ConfigDep
from app.web.limits import LIMITS


@lru_cache(maxsize=1)
def cp_file_review_record() -> dict:
    """The briefing's CP file review record template (seeds/cp_file_review_record.toml)."""
    return tomllib.loads((PROJECT_ROOT / "seeds" / "cp_file_review_record.toml").read_text())


class InformationPages(Controller):
    include_in_schema = False
    cache_control = CacheControlHeader(max_age=300, public=True)  # the same for everyone

    @get("/privacy", name="privacy")
    async def privacy(self) -> Template:
        return Template("information/privacy.html", context={
            "people_years": PEOPLE_AFTER.days // 365, "mail_days": MAIL_AFTER.days,
            "longest_limit_minutes": max(limit.seconds for rules in LIMITS.values() for limit in rules.values()) // 60,
            "recipients": await personal_data_recipients(),
        })

    @get("/accessibility", name="accessibility")
    async def accessibility(self) -> Template:
        return Template("information/accessibility.html")

    @get("/brand.css", name="brand_css")
    async def brand(self, config: ConfigDep) -> Response[str]:
        """The council's colour as a CSS custom property, made from the configuration (checked for
        contrast at start): the compiled stylesheet reads it, so no Sass build is needed to rebrand."""
        return Response(f":root{{--council-brand:{config.brand_colour}}}\n", media_type="text/css")

    @get("/logo.svg", name="logo_svg")
    async def logo(self, config: ConfigDep) -> Response[bytes]:
        """The council's logo (LOGO_SVG, checked at start: no script), shown beside its name."""
        if config.logo_svg is None:
            raise NotFoundException()
        return Response(config.logo_svg.read_bytes(), media_type="image/svg+xml")

    @get("/documents/cp-file-review-record.pdf", name="cp_file_review_record")
    async def cp_file_review(self, config: ConfigDep) -> Response[bytes]:
        """A blank form (no data about any child is taken or kept here), linked under question 17."""
        pdf = await pdf_apart("cp_file_review.html", t=cp_file_review_record(), **identity(config))
        return Response(pdf, media_type="application/pdf", headers={
            "Content-Disposition": 'inline; filename="child-protection-file-review-record.pdf"'})
