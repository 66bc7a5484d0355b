"""What every page shares: the Jinja environment with GOV.UK Frontend, date formats, errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

from litestar.enums import RequestEncodingType
from litestar.params import Body
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, PrefixLoader, select_autoescape
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

from app.areas import local
from app.config import PROJECT_ROOT, Settings

#: A page form's fields, as Litestar hands them to a handler.
FormData = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]

TEMPLATES_DIR = PROJECT_ROOT / "templates"
ASSETS_DIR = PROJECT_ROOT / "frontend" / "dist"


def long_date(moment: dt.datetime | dt.date) -> str:
    """GOV.UK style: "Wednesday 13 March 2024" (London date for a moment)."""
    if isinstance(moment, dt.datetime):
        moment = local(moment)
    return f"{moment:%A} {moment.day} {moment:%B %Y}"


def clock_time(moment: dt.datetime) -> str:
    """GOV.UK style: "9:30am", "12pm", "6pm" (London time)."""
    moment = local(moment)
    hour = moment.hour % 12 or 12
    suffix = "am" if moment.hour < 12 else "pm"
    minutes = f":{moment.minute:02d}" if moment.minute else ""
    return f"{hour}{minutes}{suffix}"


def time_range(start: dt.datetime, end: dt.datetime) -> str:
    return f"{clock_time(start)} to {clock_time(end)}"


def make_environment(settings: Settings) -> Environment:
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
        service_name=settings.service_name,
        council_name=settings.council_name,
        booking_support_email=settings.booking_support_email,
        base_url=settings.base_url,
    )
    return env


def template_config(settings: Settings) -> TemplateConfig[JinjaTemplateEngine]:
    env = make_environment(settings)
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(env))


def error_summary(errors: dict[str, str]) -> list[dict[str, Any]]:
    """GOV.UK error summary items from {field id: message}."""
    return [{"text": message, "href": f"#{field}"} for field, message in errors.items()]


def assets_ready(path: Path = ASSETS_DIR) -> bool:
    return (path / "council.css").exists()
