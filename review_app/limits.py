"""Request bodies are capped before anything reads them.

FastAPI parses a form body (spooling large multipart parts to a temporary file) before the dependencies that check
the session run, so without a cap a client without a session could make the app store 500 MB before its 401. This
ASGI middleware answers 413 at once when ``Content-Length`` announces more than the cap, and otherwise reads the
body itself, counting the bytes as they stream in (chunked uploads have no length), and answers 413 as soon as the
count passes the cap; the app only ever sees a body within the cap.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

TOO_LARGE = b"Request body too large.\n"


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def _refuse(self, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", str(len(TOO_LARGE)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": TOO_LARGE})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = [value for name, value in scope.get("headers", []) if name == b"content-length"]
        if declared:
            try:
                length = int(declared[0])
            except ValueError:
                length = self.max_body_bytes + 1
            if length > self.max_body_bytes:
                await self._refuse(send)
                return
        messages: list[Message] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away: let the app see it
                messages.append(message)
                break
            received += len(message.get("body", b""))
            if received > self.max_body_bytes:
                await self._refuse(send)
                return
            messages.append(message)
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            if messages:
                return messages.pop(0)
            return await receive()  # after the body: only http.disconnect can come

        await self.app(scope, replay, send)
