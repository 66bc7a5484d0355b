"""Long lists a page at a time (an event's register and attendance can run to thousands), with
the GOV.UK pagination component's links keeping the page's other query values."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode

T = TypeVar("T")
PAGE_SIZE = 100


@dataclass
class Page(Generic[T]):
    items: list[T]
    number: int
    pages: int
    total: int
    first: int  #: 1-based position of the first item shown (0 if none)
    last: int
    pagination: dict[str, Any] | None  #: govukPagination's parameters, or None for a single page


def paginate(items: list[T], number: int | None, *, path: str, params: dict[str, str],
             size: int = PAGE_SIZE, key: str = "page") -> Page[T]:
    """The `number`th page of `items`; links carry `params` (the page's other query values) and
    the page number as `key` (two lists on one page each take their own)."""
    pages = max(1, math.ceil(len(items) / size))
    number = min(max(1, number or 1), pages)
    start = (number - 1) * size
    shown = items[start:start + size]

    def href(n: int) -> str:
        query = urlencode({**{k: v for k, v in params.items() if v}, **({key: n} if n > 1 else {})})
        return f"{path}?{query}" if query else path

    pagination = None
    if pages > 1:
        pagination = {"items": [{"number": n, "href": href(n), "current": n == number} for n in range(1, pages + 1)],
                      "previous": {"href": href(number - 1)} if number > 1 else None,
                      "next": {"href": href(number + 1)} if number < pages else None}
    return Page(shown, number, pages, len(items), start + 1 if shown else 0, start + len(shown), pagination)
