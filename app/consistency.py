"""Read-your-writes across a read replica: the headers that carry the change feed's sequence.

A write that changed records answers ``Demarche-Sequence``, the last feed ``seq`` it committed;
a read that sends it back as ``Demarche-Min-Sequence`` is served by the read replica only once
the replica has replayed that far, else by the primary (:class:`app.db.ReadSession`). With a
replica set, a read answers ``Demarche-Read-Source`` (``replica`` or ``primary``).

This middleware sits inside the ``Idempotency-Key`` one, so that a write's stored answer keeps
its sequence, and a replay answers it too.
"""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.changes.service import SEQUENCE
from app.db import READ_SOURCE, READ_SOURCE_HEADER, SEQUENCE_HEADER


class SequenceHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})

        async def send_with_sequence(message: Message) -> None:
            if message["type"] == "http.response.start":
                sequence, source = state.get(SEQUENCE), state.get(READ_SOURCE)
                if sequence is not None or source is not None:
                    headers = list(message.get("headers", []))
                    if sequence is not None:
                        headers.append((SEQUENCE_HEADER.lower().encode(), str(sequence).encode()))
                    if source is not None:
                        headers.append((READ_SOURCE_HEADER.lower().encode(), source.encode()))
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_sequence)
