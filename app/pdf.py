"""Documents as PDF: a Jinja template in templates/documents/ made into a PDF/UA-1 file by
WeasyPrint, so it is tagged for screen readers (headings, paragraphs, tables, language, title).

Making a PDF is CPU work (tens of milliseconds): callers on the event loop use `pdf_apart`, which
runs it in a worker thread."""

from __future__ import annotations

import asyncio
from functools import lru_cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

import base64

from app.config import TEMPLATES_DIR, Config
from app.formats import clock_time, long_date, time_range


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES_DIR / "documents")),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(long_date=long_date, clock_time=clock_time)
    env.globals.update(time_range=time_range)
    return env


def identity(config: Config) -> dict[str, Any]:
    """What every document shows of the council: its name, colour and logo (an SVG, drawn by
    WeasyPrint as it is)."""
    logo = base64.b64encode(config.logo_svg.read_bytes()).decode("ascii") if config.logo_svg else ""
    return {"council_name": config.council_name, "brand_colour": config.brand_colour, "logo_data": logo}


def html_of(template: str, **context: Any) -> str:
    return _environment().get_template(template).render(**context)


def make_pdf(template: str, **context: Any) -> bytes:
    """The template rendered and laid out as a tagged PDF (PDF/UA-1)."""
    import weasyprint  # imported when first needed: it loads Pango

    html = html_of(template, **context)
    return weasyprint.HTML(string=html, base_url=str(TEMPLATES_DIR / "documents")).write_pdf(
        pdf_variant="pdf/ua-1")


async def pdf_apart(template: str, **context: Any) -> bytes:
    """`make_pdf` in a worker thread, so the event loop keeps answering requests."""
    return await asyncio.to_thread(make_pdf, template, **context)
