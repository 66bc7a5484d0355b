"""What every page shares: the Jinja environment with GOV.UK Frontend, date formats, errors."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Annotated

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    PrefixLoader,
    select_autoescape,
)
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

from app.areas import council
from app.config import PROJECT_ROOT, TEMPLATES_DIR, Config
from app.formats import clock_time, long_date, time_range
from app.questionnaire.answers import facts_words, given, given_details, shape

#: A page form's fields, as Litestar hands them to a handler.
FormData = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]

ASSETS_DIR = PROJECT_ROOT / "frontend" / "dist"


def choice_items(pairs: list[tuple[str, str]], chosen: str | list[str]) -> list[dict[str, object]]:
    """GOV.UK radios' or checkboxes' items from (value, text) pairs, those chosen checked."""
    picked = set(chosen) if isinstance(chosen, (list, tuple, set)) else {chosen}
    return [{"value": value, "text": text, "checked": value in picked} for value, text in pairs]


def select_items(pairs: list[tuple[str, str]], chosen: str | None) -> list[dict[str, object]]:
    """GOV.UK select's items from (value, text) pairs, the chosen one selected."""
    return [{"value": value, "text": text, "selected": value == chosen} for value, text in pairs]


def make_environment(config: Config) -> Environment:
    env = Environment(
        loader=ChoiceLoader([
            FileSystemLoader(str(TEMPLATES_DIR)),
            PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
        ]),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(long_date=long_date, clock_time=clock_time, app_merge_item=lambda s: {
        "value": str(s["id"]), "text": f"{s['name']}" + (f" (URN {s['urn']})" if s.get("urn") else "")})
    env.globals.update(
        time_range=time_range,
        answer_given=given,
        answer_details=given_details,
        question_shape=shape,
        choice_items=choice_items,
        facts_words=facts_words,
        table_id=lambda: f"table-{next(_TABLE_IDS)}",
        service_name=config.service_name,
        council_name=config.council_name,
        booking_support_email=config.booking_support_email,
        privacy_url=config.privacy_url,
        accessibility_url=config.accessibility_url,
        council_site_url=config.council_site_url,
        has_logo=config.logo_svg is not None,
        base_url=config.base_url,
        offers_stop_hours=config.offers_stop_hours,
        password_sign_in=config.password_sign_in,
        provider_name=config.oidc_provider_name if config.provider_sign_in else "",
        areas=council,  # the council's areas, read when a page is drawn: `areas().word`, "quadrant" in Essex
    )
    return env


#: Ids that label each table's scrolling box by its caption (unique across the process's pages).
_TABLE_IDS = itertools.count(1)


def template_config(config: Config) -> TemplateConfig[JinjaTemplateEngine]:
    env = make_environment(config)
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(env))


def assets_ready(path: Path = ASSETS_DIR) -> bool:
    return (path / "council.css").exists()
