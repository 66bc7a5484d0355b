"""Public pages from memory: the programme, event pages, the JSON list and the calendar feeds.

Litestar's response cache keeps each page's rendered bytes, keyed by path and query, for at most
`PAGE_SECONDS` in this process's memory: every process shows a change within a second, and the
process that makes a change (any successful POST, PUT, PATCH or DELETE) drops its entries at once
(`drop_after_changes`). Booking itself always checks capacity in the database.

`with_etags` answers those pages with an ETag (a hash of the bytes) and a 304 to a client that
already holds them (`If-None-Match`), so a browser or a feed reader asking again gets no body.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from litestar.config.response_cache import ResponseCacheConfig
from litestar.datastructures import CacheControlHeader
from litestar.stores.memory import MemoryStore

PAGE_SECONDS = 1
STORE = "pages"
#: Browsers keep the page but ask again each time (and get a 304 if it has not changed).
REVALIDATE = CacheControlHeader(no_cache=True)
#: The cached routes, for the ETag wrapper (which runs before routing).
CACHED_PATHS = re.compile(r"^/$|^/events/\d+$|^/api/events(/\d+)?$|^/calendar/[a-z_/-]+\.ics$")


def page_cache_config() -> ResponseCacheConfig:
    return ResponseCacheConfig(default_expiration=PAGE_SECONDS, store=STORE)


def page_store() -> MemoryStore:
    return MemoryStore()


Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]


async def drop_after_changes(message: Message, scope: Scope) -> None:
    """A before_send hook: a change made here (a successful unsafe request) empties this
    process's page cache as its answer starts."""
    if (message["type"] == "http.response.start" and message["status"] < 400
            and scope.get("method") not in ("GET", "HEAD", "OPTIONS")):
        await scope["app"].stores.get(STORE).delete_all()
Send = Callable[[Message], Awaitable[None]]


async def with_etags(scope: Scope, send: Send, call: Callable[[Send], Awaitable[None]]) -> None:
    """Run `call` for a GET of a cached page, holding its answer back to add an ETag, or to
    answer 304 Not Modified if the client's If-None-Match already names it."""
    start: Message | None = None
    body: list[bytes] = []

    async def holding(message: Message) -> None:
        nonlocal start
        if message["type"] == "http.response.start":
            start = message
        elif message["type"] == "http.response.body":
            body.append(message.get("body", b""))
            if not message.get("more_body", False):
                await _answer(scope, send, start, b"".join(body))
        else:
            await send(message)

    await call(holding)


async def _answer(scope: Scope, send: Send, start: Message | None, body: bytes) -> None:
    assert start is not None
    if start["status"] != 200:
        await send(start)
        await send({"type": "http.response.body", "body": body})
        return
    etag = f'"{hashlib.blake2b(body, digest_size=12).hexdigest()}"'.encode()
    headers = [(k, v) for k, v in start.get("headers", []) if k.lower() not in (b"etag", b"content-length")]
    asked = dict(scope.get("headers", [])).get(b"if-none-match", b"")
    if etag in [tag.strip().removeprefix(b"W/") for tag in asked.split(b",")]:
        keep = {b"cache-control", b"etag", b"date", b"vary"}
        await send({"type": "http.response.start", "status": 304,
                    "headers": [(k, v) for k, v in headers if k.lower() in keep] + [(b"etag", etag)]})
        await send({"type": "http.response.body", "body": b""})
        return
    await send({**start, "headers": [*headers, (b"etag", etag), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
