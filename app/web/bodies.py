"""Reading a JSON request body as the API accepts it: `application/json` only (another web site
cannot send that without the browser asking first), small, UTF-8, and not nested past reason.
Each refusal is a 4xx with its own code, never a 500."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request

from app.errors import DomainError

#: A booking is well under 1 KB; attendance marks are a few bytes.
MAX_BYTES = 16 * 1024
#: The deepest the API's bodies go is two ({"setting": {…}}).
MAX_DEPTH = 8


class UnreadableBody(DomainError):
    status = 400
    code = "malformed_json"
    message = "The request body is not valid JSON"


class UnsupportedMediaType(DomainError):
    status = 415
    code = "unsupported_media_type"
    message = "Send the body as JSON, with Content-Type: application/json"


class BodyTooLarge(DomainError):
    status = 413
    code = "body_too_large"
    message = f"The request body must be {MAX_BYTES // 1024} KB or less"


def _depth(text: str) -> int:
    """How deeply arrays and objects nest, strings skipped."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


async def json_body(request: Request[Any, Any, Any]) -> Any:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise UnsupportedMediaType()
    raw = await request.body()
    if len(raw) > MAX_BYTES:
        raise BodyTooLarge()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UnreadableBody("The request body is not UTF-8 text", code="not_utf8") from None
    if _depth(text) > MAX_DEPTH:
        raise UnreadableBody(f"The request body nests deeper than {MAX_DEPTH} levels", code="too_deep")
    try:
        return msgspec.json.decode(raw)
    except (msgspec.DecodeError, RecursionError):
        raise UnreadableBody() from None
