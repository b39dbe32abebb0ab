"""Server-sent events from work that runs in a thread of its own (a query's tokens, an add's progress).

The work gets `emit(event, data)`; each call becomes one SSE message, `event: NAME` and `data: JSON`. The work's
last act is its `done` (or `error`) event. A client that goes away does not stop the work: a change in progress
still lands whole or not at all, as every change does.
"""

from __future__ import annotations

import asyncio
import json
import threading

from wikismith.errors import WikismithError
from wikismith.web.errors import code_of

END = object()


def message(event: str, data) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False, sort_keys=True)}\n\n".encode("utf-8")


def stream(work, kbs):
    """A StreamingResponse of text/event-stream fed by work(kb, emit), run in a new thread with its own KB."""
    from fastapi.responses import StreamingResponse

    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()

    def emit(event: str, data) -> None:
        loop.call_soon_threadsafe(queue.put_nowait, message(event, data))

    def run() -> None:
        kb = kbs.fresh()
        try:
            work(kb, emit)
        except WikismithError as exc:
            emit("error", {"code": code_of(exc), "message": str(exc)})
        except OSError as exc:
            emit("error", {"code": "storage_error", "message": f"{exc.strerror or exc}; nothing was left half-done"})
        except Exception as exc:  # noqa: BLE001 - reported as an event, never a traceback
            emit("error", {"code": "internal_error", "message": f"unexpected {type(exc).__name__}"})
        finally:
            kb.close()
            loop.call_soon_threadsafe(queue.put_nowait, END)

    threading.Thread(target=run, name="wikismith-sse", daemon=True).start()

    async def body():
        while True:
            item = await queue.get()
            if item is END:
                return
            yield item

    return StreamingResponse(body(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
