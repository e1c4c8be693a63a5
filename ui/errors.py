"""A visitor's mistake (an empty, corrupt, drum-only or oversized MIDI file, a number out of range)
is answered with a message on the page and one line in the app's log: the logger's name and what
was wrong. Tracebacks are kept for real faults of the program.

Gradio prints a traceback for every :class:`gradio.Error` unless it was made with
``print_exception=False``, including the ones its own components raise for an out-of-range slider
or an unknown choice: :class:`Page` logs those as one line instead.
"""
from __future__ import annotations

import logging

import gradio as gr

log = logging.getLogger("fusiongan.app")
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging() -> None:
    """One line per record on stderr (``time level logger: message``), the app's own records from
    INFO up, other libraries' from WARNING up."""
    logging.basicConfig(level=logging.WARNING, format=LOG_FORMAT)
    log.setLevel(logging.INFO)


def refused(what: str, exc: Exception | str) -> gr.Error:
    """The error shown to the visitor for a refused request, logged as one line (no traceback).

    Parameters
    ----------
    what : str
        What was asked for (``"generate"``, ``"continue"``, ...), for the log.
    exc : Exception or str
        What was wrong, in words the visitor reads.
    """
    log_refusal(what, str(exc))
    return gr.Error(str(exc), print_exception=False)


def log_refusal(what: str, message: str) -> None:
    """One line in the log: what was refused and why."""
    log.info("refused %s: %s", what, message.replace("\n", " "))


class Page(gr.Blocks):
    """The Gradio page: a :class:`gradio.Error` raised while checking a request's values (Gradio's
    own checks included: a value above a slider's maximum, a choice not in a list) is logged as one
    line instead of a traceback, and still shown to the visitor."""

    async def process_api(self, block_fn, *args, **kwargs):
        try:
            return await super().process_api(block_fn, *args, **kwargs)
        except gr.Error as exc:
            if exc.print_exception:
                fn = self.fns[block_fn] if isinstance(block_fn, int) else block_fn
                log_refusal(getattr(fn, "api_name", None) or getattr(fn, "name", "a request"), str(exc.message))
                exc.print_exception = False
            raise


class UploadRefusals:
    """ASGI middleware: an upload refused as too large (HTTP 413) leaves one line in the log. (The
    page itself refuses such a file before sending it; this catches API clients and scripts.)"""

    def __init__(self, app, paths=("/gradio_api/upload",)):
        self.app, self.paths = app, tuple(paths)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope.get("path", "").startswith(self.paths):
            return await self.app(scope, receive, send)

        async def watched(message):
            if message["type"] == "http.response.start" and message["status"] == 413:
                size = dict(scope.get("headers", [])).get(b"content-length", b"?").decode("latin-1")
                log.info("refused upload: %s bytes is over the upload limit", size)
            await send(message)
        return await self.app(scope, receive, watched)
