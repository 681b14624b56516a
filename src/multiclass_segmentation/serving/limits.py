"""An ASGI middleware that refuses request bodies over a size limit.

A declared Content-Length over the limit is refused before a byte of the body is
read; a body without one (chunked) is counted as it arrives: past the limit the
app is told the client left (FastAPI would turn an exception into a 400) and its
answer is replaced by the 413, so no upload larger than the limit is ever held.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[MutableMapping[str, Any], Receive, Send], Awaitable[None]]


class BodySizeLimit:
    """Answers 413 with a JSON error for a request body over ``max_bytes``."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await _json_error(send, 413, self._message(declared.decode("latin-1")))
            return
        received = 0
        over_limit = False

        async def counting_receive() -> Message:
            nonlocal received, over_limit
            if over_limit:
                return {"type": "http.disconnect"}
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                # The app sees the client leave; whatever it answers becomes the 413 below.
                over_limit = True
                return {"type": "http.disconnect"}
            return message

        async def replacing_send(message: Message) -> None:
            if not over_limit:
                await send(message)
            elif message["type"] == "http.response.start":
                await _json_error(send, 413, self._message(f"more than {self.max_bytes:,}"))

        await self.app(scope, counting_receive, replacing_send)

    def _message(self, size: str) -> str:
        return f"the request body has {size} bytes; the limit is {self.max_bytes:,} bytes"


async def _json_error(send: Send, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    # The unread body stays unread: the connection closes after this answer.
    headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
