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
    return Page(shown, number, pages, len(items), start + 1 if shown else 0, start + len(shown),
                _links(number, pages, path=path, params=params, key=key))


def page_of(items: list[T], total: int, number: int, *, path: str, params: dict[str, str],
            size: int = PAGE_SIZE, key: str = "page") -> Page[T]:
    """A page read by the database (LIMIT and OFFSET): its `items`, and how many in all."""
    pages = max(1, math.ceil(total / size))
    start = (number - 1) * size
    return Page(items, number, pages, total, start + 1 if items else 0, start + len(items),
                _links(number, pages, path=path, params=params, key=key))


def page_number(number: int | None) -> int:
    return max(1, min(number or 1, 100_000))


def _links(number: int, pages: int, *, path: str, params: dict[str, str], key: str) -> dict[str, Any] | None:
    def href(n: int) -> str:
        query = urlencode({**{k: v for k, v in params.items() if v}, **({key: n} if n > 1 else {})})
        return f"{path}?{query}" if query else path

    if pages <= 1:
        return None
    # Around the page shown, with the first and last: a county's list runs to a hundred pages.
    shown = sorted({1, pages, *range(max(1, number - 2), min(pages, number + 2) + 1)})
    items: list[dict[str, Any]] = []
    for n in shown:
        if items and n - items[-1]["number"] > 1:
            items.append({"ellipsis": True, "number": n - 1})
        items.append({"number": n, "href": href(n), "current": n == number})
    for item in items:
        if item.get("ellipsis"):
            item.pop("number")
    return {"items": items, "previous": {"href": href(number - 1)} if number > 1 else None,
            "next": {"href": href(number + 1)} if number < pages else None}
