"""A time limit on reading a request's body (uvicorn has none): a client that sends its headers
and then trickles the body, or stops, would otherwise hold a request (and its memory) open for as
long as it likes. The limit covers the whole body, from the first read to the last byte; what
follows (waiting for the client to disconnect) is not timed. Headers are the reverse proxy's to
time (`deploy/nginx.conf`: `client_header_timeout`)."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar.exceptions import HTTPException
from litestar.types import ASGIApp, Message, Receive, Scope, Send


class BodyReadTimeout(HTTPException):
    status_code = 408

    def __init__(self, seconds: float):
        super().__init__(detail=f"The request's body did not arrive within {seconds:g} seconds")


def body_read_timeout(seconds: float):
    """Middleware factory: the body must arrive within `seconds` (408 otherwise)."""

    def middleware_factory(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http" or seconds <= 0:
                await app(scope, receive, send)
                return
            loop = asyncio.get_running_loop()
            deadline: list[float | None] = [None]
            finished = [False]

            async def timed_receive() -> Message:
                if finished[0]:
                    return await receive()
                if deadline[0] is None:
                    deadline[0] = loop.time() + seconds
                try:
                    message: Any = await asyncio.wait_for(receive(), max(deadline[0] - loop.time(), 0.001))
                except asyncio.TimeoutError:
                    raise BodyReadTimeout(seconds) from None
                if message["type"] != "http.request" or not message.get("more_body", False):
                    finished[0] = True
                return message

            await app(scope, timed_receive, send)

        return middleware

    return middleware_factory
