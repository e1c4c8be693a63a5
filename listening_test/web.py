"""The listening test on the web: the participant's page and JSON API, and the researchers'
results page (FastAPI routes, mounted beside the Gradio app by ``app.py`` through :func:`install`).

Participant routes (no login; an attempt is opened by the secret in the HttpOnly cookie
``fusion_survey``, which the server sets and which never appears in a URL or a response body):

* ``GET  /survey`` -- the page; crowd platforms link to ``/survey?PROLIFIC_PID=..&STUDY_ID=..&SESSION_ID=..``;
* ``POST /survey/api/start``  ``{"PROLIFIC_PID", "STUDY_ID", "SESSION_ID", "consent"}`` -> state
  (``{"step": "consent"}`` until consent; sets the cookie when an attempt is created);
* ``POST /survey/api/resume`` ``{"resume_code", "PROLIFIC_PID"}`` -> state (moves the attempt here);
* ``GET  /survey/api/state`` -> state;
* ``GET  /survey/api/audio/{position}`` -> the clip (WAV; byte ranges answered with 206);
* ``GET  /survey/api/example/{jazz|folk}`` -> a labelled example (a real clip this participant is
  not asked about);
* ``GET  /survey/api/sound-check`` -> a few tones; ``POST`` ``{"count"}`` -> ``{"passed"}`` (recorded);
* ``GET  /survey/api/headphone-check/{trial}`` -> three tones, one in antiphase (when the
  researcher switched the check on); ``POST`` ``{"answers": [1..3, ...]}`` -> ``{"passed"}`` (recorded);
* ``POST /survey/api/answer`` ``{"position", "question", "choice"}`` -> new state.

**Every refusal is JSON** ``{"error": message}`` (and ``reason`` where the page acts on it), with a
4xx status: 400 for a body that fails its schema (strict types: no ``0.9``, ``true`` or ``"0"`` for
a whole number; strings capped), 401 without an attempt, 403 for a cross-site request, 409 for an
answer out of order, 411/413 for a missing or too-large body (over :data:`MAX_BODY` bytes, refused
before it is read), 415 unless ``application/json``, 425 before the clip has been heard, 429 when
rate-limited; 503 with ``Retry-After`` when the database is busy (the page retries). Database work
runs in worker threads (:func:`offloaded`: eight for the participants' routes, one more for
starts, which run one at a time), so a locked database never stalls the event loop: ``GET
/survey`` is served from memory meanwhile.

Researcher routes need ``FUSION_RESEARCHER_TOKEN`` (read through :mod:`fusion.config`): as the
password of ``/results/login`` (a signed, expiring session cookie follows; ``/results/logout``
ends it; failures are rate-limited), or ``Authorization: Bearer <token>``. Without it they serve
nothing but a login form: ``/results`` (the page), ``/results/api/table``, ``/results/table.csv``,
``/results/answers.csv`` (every answer, with served and answered times in UTC, the participant's
flags and code), ``/results/participants.csv`` (one row per attempt: ids, device, times,
duration, scores, code, why excluded). With the variable unset they are disabled.

Pages carry a Content-Security-Policy (scripts from this site only, or with the page's nonce), and
may not be framed.
"""
from __future__ import annotations

import functools
import hashlib
import hmac
import html
import inspect
import logging
import re
import secrets
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Annotated, Callable, Literal
from urllib.parse import urlencode, urlsplit

import anyio
import pandas as pd
import plotly.graph_objects as go
from fastapi import APIRouter, FastAPI, Form, Query, Request
from fastapi import Path as PathParam
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from plotly.offline import get_plotlyjs
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from sqlalchemy.exc import TimeoutError as PoolTimeout

from fusion import config, registry
from fusion.evaluation import paper
from listening_test import analysis, figures
from listening_test.flow import ID_MAX, QUESTIONS, Ids, Survey, SurveyError
from listening_test.throttle import Throttle

log = logging.getLogger("listening_test.web")
STATIC = Path(__file__).parent / "static"
COOKIE = "fusion_survey"
RESULTS_COOKIE = "fusion_results"
SESSION_S = 8 * 3600  # a researcher's login lasts this long
ATTEMPT_COOKIE_S = 14 * 24 * 3600
MAX_BODY = 4096  # bytes: the largest body a survey or results request may have
RETRY_AFTER_S = 1
AUDIO_CACHE_BYTES = 64 * 2**20
WORKER_THREADS = 8  # threads for the participants' database work (docs/performance.md)
RESEARCHER_THREADS = 2  # threads for the researchers' routes
GUARDED = ("/survey", "/results")
CSP = ("default-src 'self'; script-src 'self'{nonce}; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "media-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'")


# request bodies -------------------------------------------------------------------------------------
def _printable(v: str) -> str:
    if not v.isprintable():
        raise ValueError("must be printable text")
    return v


ShortText = Annotated[str, Field(max_length=ID_MAX * 2), AfterValidator(_printable)]


class _Body(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class StartBody(_Body):
    PROLIFIC_PID: ShortText | None = None
    STUDY_ID: ShortText | None = None
    SESSION_ID: ShortText | None = None
    consent: bool = False
    device: Literal["phone", "tablet", "desktop"] | None = None


class ResumeBody(_Body):
    resume_code: Annotated[str, Field(max_length=32), AfterValidator(_printable)]
    PROLIFIC_PID: ShortText | None = None


class SoundCheckBody(_Body):
    count: Annotated[int, Field(ge=0, le=20)]


class HeadphoneBody(_Body):
    answers: Annotated[list[Annotated[int, Field(ge=1, le=3)]], Field(min_length=1, max_length=12)]


class AnswerBody(_Body):
    position: Annotated[int, Field(ge=0, le=10_000)]
    question: Literal["genre", "fusion", "musicality"]
    choice: Annotated[str, Field(max_length=16), AfterValidator(_printable)]


# refusals ---------------------------------------------------------------------------------------------
def _error(status: int, message: str, reason: str | None = None, headers: dict | None = None) -> JSONResponse:
    body = {"error": message, **({"reason": reason} if reason else {})}
    return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store", **(headers or {})})


def _whole_number(high: int):
    """A path segment that is a whole number from 0 to ``high`` written in ASCII digits only, as the
    page writes it. A path parameter typed ``int`` is read in lax mode, which also takes "0.0",
    "+0" or " 0 " for 0: a forged spelling of a position is refused (400), never served."""
    def check(segment: str) -> int:
        number = int(segment)
        if number > high:
            raise ValueError(f"must be at most {high}")
        return number

    return Annotated[str, PathParam(pattern=r"^[0-9]{1,6}$"), AfterValidator(check)]


def _busy() -> JSONResponse:
    return _error(503, "The server is busy; trying again…", "busy", {"Retry-After": str(RETRY_AFTER_S)})


def refusing(handler: Callable) -> Callable:
    """A synchronous route whose refusals become JSON: a :class:`SurveyError` its status and
    message; a busy database (a lock not granted within ``db.LOCK_WAIT_S``, a full connection
    pool) 503 with ``Retry-After``; anything else 500 with a message, logged with its traceback."""
    if inspect.iscoroutinefunction(handler):
        raise TypeError("refusing wraps synchronous routes only: database work must not block the event loop")

    @functools.wraps(handler)
    def wrapped(*args, **kwargs):
        try:
            return handler(*args, **kwargs)
        except SurveyError as exc:
            headers = {"Retry-After": str(RETRY_AFTER_S)} if exc.status == 503 else None
            return _error(exc.status, exc.message, exc.reason, headers)
        except (OperationalError, PoolTimeout) as exc:
            log.warning("database busy: %s", str(exc).splitlines()[0][:200])
            return _busy()
        except Exception:
            log.exception("unexpected error in %s", handler.__name__)
            return _error(500, "Something went wrong on our side; your saved answers are safe. Please try again.")
    return wrapped


def offloaded(limiter: anyio.CapacityLimiter) -> Callable[[Callable], Callable]:
    """A synchronous route run in a worker thread of ``limiter`` (not FastAPI's shared pool of 40):
    few threads share the GIL, so each request finishes sooner, and requests waiting for a thread
    wait on the event loop, where waiting costs nothing."""
    def decorate(handler: Callable) -> Callable:
        @functools.wraps(handler)  # FastAPI reads the handler's signature through the wrapper
        async def wrapped(*args, **kwargs):
            return await anyio.to_thread.run_sync(functools.partial(handler, *args, **kwargs), limiter=limiter)
        return wrapped
    return decorate


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


# the guard in front of every survey and results route -------------------------------------------------
class Guard:
    """ASGI middleware for the paths under :data:`GUARDED`: bodies over :data:`MAX_BODY` bytes get
    413 and bodies without a length 411, before they are read; a POST from another site's page
    (its ``Origin`` is not this host) gets 403; a JSON API POST must say ``application/json`` (415;
    so a plain form or ``text/plain`` from another site cannot reach it); every response carries
    the security headers (CSP, no framing, no sniffing, no referrer to other sites; not
    ``no-referrer``, under which Chromium sends ``Origin: null`` with a form POST, which the origin
    check refuses) and ``Server-Timing: app;dur=``
    (milliseconds from the request's arrival in the app to its response; the benchmark reads it)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(GUARDED):
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        refusal = self._check(scope["method"], path, headers)
        if refusal is not None:
            return await self._send_refusal(refusal, scope, receive, send)

        t0 = time.perf_counter()

        async def secured(message):
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in self._security_headers() if k not in present]
                extra.append((b"server-timing", f"app;dur={1000 * (time.perf_counter() - t0):.1f}".encode()))
                message = {**message, "headers": list(message.get("headers", [])) + extra}
            await send(message)
        return await self.app(scope, receive, secured)

    @staticmethod
    def _security_headers():
        return [(b"content-security-policy", CSP.format(nonce="").encode()), (b"x-frame-options", b"DENY"),
                (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin")]

    @staticmethod
    def _check(method: str, path: str, headers: dict) -> JSONResponse | None:
        if method not in ("POST", "PUT", "PATCH", "DELETE"):
            return None
        length = headers.get("content-length")
        if length is None:
            return _error(411, "the request needs a Content-Length")
        if not length.isdigit():
            return _error(400, "the Content-Length is not a number")
        if int(length) > MAX_BODY:
            return _error(413, f"the request body is larger than {MAX_BODY} bytes")
        origin = headers.get("origin")
        if origin is not None and (origin == "null" or urlsplit(origin).netloc != headers.get("host")):
            return _error(403, "cross-site requests are refused")
        if "/api/" in path and headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
            return _error(415, "send the request as application/json")
        return None

    async def _send_refusal(self, response, scope, receive, send):
        response.headers.update({k.decode(): v.decode() for k, v in self._security_headers()})
        response.headers["Connection"] = "close"  # the unread body is not drained
        await response(scope, receive, send)


async def _validation_error(request: Request, exc: RequestValidationError):
    """A body or parameter that fails its schema: 400 with the fields at fault, never the input."""
    parts = []
    for e in exc.errors()[:5]:
        where = ".".join(str(x) for x in e.get("loc", ())[1:]) or "body"
        parts.append(f"{where}: {e.get('msg', 'invalid')}")
    return _error(400, "invalid request: " + "; ".join(parts))


async def _http_error(request: Request, exc: StarletteHTTPException):
    """Framework refusals (an unparsable body, an unknown path, a wrong method) as our JSON
    ``{"error": ...}`` on the survey and results paths; FastAPI's own answer elsewhere."""
    if not request.url.path.startswith(GUARDED):
        return await http_exception_handler(request, exc)
    message = "the request body is not valid JSON" if "parsing the body" in str(exc.detail) else str(exc.detail)
    return _error(exc.status_code, message, headers=getattr(exc, "headers", None))


def install(api: FastAPI, sessions, completion_url: str | None = None, contact: str | None = None,
            headphones: bool = False) -> Survey:
    """The survey and the results on ``api``: routes, the :class:`Guard`, JSON refusals for
    schema failures and framework errors. Returns the :class:`Survey`."""
    survey = Survey(sessions, completion_url=completion_url, contact=contact, headphones=headphones)
    api.add_middleware(Guard)
    api.add_exception_handler(RequestValidationError, _validation_error)
    api.add_exception_handler(StarletteHTTPException, _http_error)
    api.include_router(survey_routes(survey))
    api.include_router(results_routes(sessions))
    return survey


# the participant's side -------------------------------------------------------------------------------
class AudioCache:
    """The WAV bytes of recently served clips (clips never change), up to ``budget`` bytes."""

    def __init__(self, budget: int = AUDIO_CACHE_BYTES):
        self.budget, self._items, self._size, self._lock = budget, OrderedDict(), 0, threading.Lock()

    def get(self, key: int, load: Callable[[int], bytes]) -> bytes:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        data = load(key)
        with self._lock:
            if key not in self._items and len(data) <= self.budget:
                self._items[key] = data
                self._size += len(data)
                while self._size > self.budget:
                    _, old = self._items.popitem(last=False)
                    self._size -= len(old)
        return data


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The one ``(start, end)`` (inclusive) that a ``Range: bytes=...`` header asks of ``size``
    bytes; None to send everything (no header, several ranges, or another unit). Raises
    ValueError when the range cannot be satisfied (416)."""
    if not header or not header.strip().lower().startswith("bytes=") or "," in header:
        return None
    spec = header.split("=", 1)[1].strip()
    first, _, last = spec.partition("-")
    try:
        if first == "":
            n = int(last)
            if n <= 0:
                raise ValueError
            return max(0, size - n), size - 1
        start = int(first)
        end = int(last) if last else size - 1
    except ValueError:
        raise ValueError("bad range") from None
    if start >= size or end < start:
        raise ValueError("bad range")
    return start, min(end, size - 1)


def wav_response(request: Request, data: bytes) -> Response:
    """WAV bytes, or the one byte range the request asks for (206; 416 when it cannot be served):
    seeking needs ranges, and Safari on iPhones plays nothing without them."""
    headers = {"Cache-Control": "private, max-age=3600", "Accept-Ranges": "bytes"}
    try:
        part = byte_range(request.headers.get("range"), len(data))
    except ValueError:
        return Response(status_code=416, headers={**headers, "Content-Range": f"bytes */{len(data)}"})
    if part is None:
        return Response(data, media_type="audio/wav", headers=headers)
    start, end = part
    return Response(data[start:end + 1], status_code=206, media_type="audio/wav",
                    headers={**headers, "Content-Range": f"bytes {start}-{end}/{len(data)}"})


@functools.lru_cache(maxsize=8)
def tones(count: int, rate: int = 22050) -> bytes:
    """The sound check: ``count`` short 660 Hz tones, 0.6 s apart, after half a second of silence
    (WAV, 16-bit mono)."""
    import io

    import numpy as np
    from scipy.io import wavfile

    t = np.arange(int(0.2 * rate)) / rate
    tone = 0.3 * np.sin(2 * np.pi * 660 * t) * np.minimum(1, np.minimum(t, t[::-1]) / 0.02)
    gap = np.zeros(int(0.4 * rate))
    audio = np.concatenate([np.zeros(int(0.5 * rate))] + [np.concatenate([tone, gap]) for _ in range(count)])
    buf = io.BytesIO()
    wavfile.write(buf, rate, (audio * 32767).astype(np.int16))
    return buf.getvalue()


@functools.lru_cache(maxsize=8)
def antiphase_trial(order: tuple[str, ...], rate: int = 22050) -> bytes:
    """One trial of the headphone check: three 200 Hz tones of 0.8 s, 0.5 s apart, stereo, in
    ``order`` (``normal``; ``quiet``, 6 dB lower; ``antiphase``, the right channel inverted)."""
    import io

    import numpy as np
    from scipy.io import wavfile

    t = np.arange(int(0.8 * rate)) / rate
    tone = 0.4 * np.sin(2 * np.pi * 200 * t) * np.minimum(1, np.minimum(t, t[::-1]) / 0.1)
    gap = np.zeros((int(0.5 * rate), 2))
    parts = [np.zeros((int(0.3 * rate), 2))]
    for kind in order:
        left = tone * (0.5 if kind == "quiet" else 1.0)
        right = -left if kind == "antiphase" else left
        parts += [np.stack([left, right], axis=1), gap]
    buf = io.BytesIO()
    wavfile.write(buf, rate, (np.concatenate(parts) * 32767).astype(np.int16))
    return buf.getvalue()


def _set_attempt_cookie(response: Response, request: Request, secret: str) -> None:
    response.set_cookie(COOKIE, secret, max_age=ATTEMPT_COOKIE_S, path="/survey", httponly=True,
                        samesite="strict", secure=_https(request))


def _https(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto", "").lower() == "https"


def _json(data: dict, secret: str | None = None, request: Request | None = None) -> JSONResponse:
    response = JSONResponse(data, headers={"Cache-Control": "no-store"})
    if secret is not None:
        _set_attempt_cookie(response, request, secret)
    return response


def survey_routes(survey: Survey, starts_per_hour: int | None = None) -> APIRouter:
    r = APIRouter()
    starts = Throttle(config.starts_per_hour() if starts_per_hour is None else starts_per_hour, 3600)
    resumes = Throttle(10, 900)  # failed resume codes per address
    audio_cache = AudioCache()
    one_start = anyio.CapacityLimiter(1)
    workers = anyio.CapacityLimiter(WORKER_THREADS)
    page_html = (STATIC / "survey.html").read_bytes()
    page_js = (STATIC / "survey.js").read_bytes()

    @r.get("/survey")
    async def page():  # from memory, on the event loop: it answers even while the database is locked
        return Response(page_html, media_type="text/html; charset=utf-8", headers={"Cache-Control": "no-store"})

    @r.get("/survey/survey.js")
    async def script():
        return Response(page_js, media_type="application/javascript; charset=utf-8",
                        headers={"Cache-Control": "no-cache"})

    @r.post("/survey/api/start")
    @offloaded(one_start)  # starts run one at a time (clip assignment is serialised), beside the others
    @refusing
    def start(body: StartBody, request: Request):
        ids = Ids.of(body.PROLIFIC_PID, body.STUDY_ID, body.SESSION_ID)
        secret = request.cookies.get(COOKIE)
        client = client_of(request)
        state, _ = survey.begin(secret, ids, consent=False)
        if state["step"] != "consent" or not body.consent:
            return _json(state)
        wait = starts.retry_after(client)
        if wait:
            raise SurveyError(429, f"Too many new surveys from this address; try again in {wait / 60:.0f} minutes.",
                              "rate_limited")
        state, new_secret = survey.create(ids, body.device)  # begin's checks were just made
        starts.record(client)
        return _json(state, new_secret, request)

    @r.post("/survey/api/resume")
    @offloaded(workers)
    @refusing
    def resume(body: ResumeBody, request: Request):
        client = client_of(request)
        wait = resumes.retry_after(client)
        if wait:
            raise SurveyError(429, f"Too many wrong codes; try again in {wait / 60:.0f} minutes.", "rate_limited")
        try:
            state, secret = survey.resume(body.resume_code, Ids.of(body.PROLIFIC_PID))
        except SurveyError as exc:
            if exc.reason == "bad_code" or exc.status == 400:
                resumes.record(client)
            raise
        return _json(state, secret, request)

    @r.get("/survey/api/state")
    @offloaded(workers)
    @refusing
    def state(request: Request):
        return _json(survey.state(request.cookies.get(COOKIE)))

    @r.get("/survey/api/audio/{position}")
    @offloaded(workers)
    @refusing
    def audio(request: Request, position: _whole_number(10_000)):
        sid = survey.audio(request.cookies.get(COOKIE), position)
        return wav_response(request, audio_cache.get(sid, survey.stimulus_audio))

    @r.get("/survey/api/example/{genre}")
    @offloaded(workers)
    @refusing
    def example(request: Request, genre: Literal["jazz", "folk"]):
        sid = survey.example(request.cookies.get(COOKIE), genre)
        return wav_response(request, audio_cache.get(sid, survey.stimulus_audio))

    @r.get("/survey/api/sound-check")
    @offloaded(workers)
    @refusing
    def sound_check_audio(request: Request):
        return wav_response(request, tones(survey.sound_check_count(request.cookies.get(COOKIE))))

    @r.get("/survey/api/headphone-check/{trial}")
    @offloaded(workers)
    @refusing
    def headphone_audio(request: Request, trial: _whole_number(11)):
        trials = survey.headphone_trials(request.cookies.get(COOKIE))
        if trial >= len(trials):
            raise SurveyError(404, "no such trial")
        return wav_response(request, antiphase_trial(trials[trial]))

    @r.post("/survey/api/headphone-check")
    @offloaded(workers)
    @refusing
    def headphone_check(body: HeadphoneBody, request: Request):
        return _json({"passed": survey.check_headphones(request.cookies.get(COOKIE), body.answers)})

    @r.post("/survey/api/sound-check")
    @offloaded(workers)
    @refusing
    def sound_check(body: SoundCheckBody, request: Request):
        return _json({"passed": survey.check_sound(request.cookies.get(COOKIE), body.count)})

    @r.post("/survey/api/answer")
    @offloaded(workers)
    @refusing
    def answer(body: AnswerBody, request: Request):
        return _json(survey.answer(request.cookies.get(COOKIE), body.position, body.question, body.choice))

    return r


# results ---------------------------------------------------------------------------------------------
def researcher_token() -> str | None:
    """``$FUSION_RESEARCHER_TOKEN`` (:mod:`fusion.config`), or None: the results are then disabled."""
    return config.researcher_token()


def _session_key(token: str) -> bytes:
    return hashlib.sha256(("fusiongan-results-session:" + token).encode()).digest()


def new_session(token: str, lifetime: float = SESSION_S) -> str:
    """A signed researcher session: ``expiry.nonce.mac``; a new random one at every login. Changing
    the password ends every session."""
    payload = f"{int(time.time() + lifetime)}.{secrets.token_urlsafe(16)}"
    mac = hmac.new(_session_key(token), payload.encode(), hashlib.sha256).hexdigest()
    return f"{payload}.{mac}"


def valid_session(value: str, token: str) -> bool:
    try:
        expiry, nonce, mac = value.split(".")
        good = hmac.new(_session_key(token), f"{expiry}.{nonce}".encode(), hashlib.sha256).hexdigest()
        return hmac.compare_digest(mac.encode(), good.encode()) and int(expiry) > time.time()
    except (ValueError, UnicodeEncodeError):
        return False


def _same_secret(given: str, token: str) -> bool:
    """Constant-time comparison that does not reveal the length either."""
    return hmac.compare_digest(hashlib.sha256(given.encode("utf-8", "replace")).digest(),
                               hashlib.sha256(token.encode()).digest())


def authorised(request: Request) -> bool:
    token = researcher_token()
    if not token:
        return False
    bearer = request.headers.get("authorization", "")
    if bearer.startswith("Bearer ") and _same_secret(bearer[7:], token):
        return True
    cookie = request.cookies.get(RESULTS_COOKIE, "")
    return bool(cookie) and valid_session(cookie, token)


def _login_page(message: str = "", status: int = 401, headers: dict | None = None) -> HTMLResponse:
    if not researcher_token():
        message, status = "The results page is disabled: set FUSION_RESEARCHER_TOKEN when starting the app.", 403
    body = (f"<!doctype html><html lang=en><meta charset=utf-8><meta name=viewport content='width=device-width'>"
            f"<title>FusionGAN results</title><h1>Listening test results</h1><p role=alert>{html.escape(message)}</p>"
            "<form method=post action=/results/login><label>Researcher password "
            "<input type=password name=password autocomplete=current-password></label> "
            "<button>Open</button></form></html>")
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store", **(headers or {})})


def _json_refusal() -> JSONResponse:
    return _error(401, "researchers only")


def researchers_only(refusal: Callable[[], Response] = _json_refusal) -> Callable[[Callable], Callable]:
    """A (synchronous) route that takes ``request`` and answers only :func:`authorised` requests;
    the others get ``refusal()`` (by default 401 ``{"error": "researchers only"}``)."""
    def decorate(handler: Callable) -> Callable:
        if inspect.iscoroutinefunction(handler):
            raise TypeError("researchers_only wraps synchronous routes only")

        @functools.wraps(handler)  # FastAPI reads the handler's signature through the wrapper
        def wrapped(*args, **kwargs):
            if not authorised(kwargs["request"]):  # FastAPI passes every parameter by name
                return refusal()
            try:
                return handler(*args, **kwargs)
            except (OperationalError, PoolTimeout):
                return _busy()
        return wrapped
    return decorate


def download(content: str | bytes, filename: str, media_type: str = "text/csv; charset=utf-8") -> Response:
    """A file to save: ``content`` as ``filename``."""
    return Response(content, media_type=media_type, headers={"Content-Disposition": f"attachment; filename={filename}"})


def _filters(request: Request) -> dict:
    """The page's three filters from the query, as booleans (anything but ``1`` is off)."""
    q = request.query_params
    return {k: q.get(k) == "1" for k in ("qualified", "attentive", "unfinished")}


def results_routes(sessions, failures: Throttle | None = None) -> APIRouter:
    r = APIRouter()
    failures = failures or Throttle(5, 900)  # failed logins per address per 15 minutes
    readers = anyio.CapacityLimiter(RESEARCHER_THREADS)  # the researchers' reads never crowd the participants'

    def researchers_get(path: str, refusal: Callable[[], Response] = _json_refusal, **kwargs):
        """A GET route for researchers only, run in their own threads."""
        def decorate(handler: Callable) -> Callable:
            return r.get(path, **kwargs)(offloaded(readers)(researchers_only(refusal)(handler)))
        return decorate

    def frames(request: Request):
        df = analysis.answers_frame(sessions)
        return df, analysis.filtered(df, **_filters(request))

    @r.post("/results/login")
    def login(request: Request, password: Annotated[str, Form(max_length=256)] = ""):
        token = researcher_token()
        client = client_of(request)
        wait = failures.retry_after(client)
        if wait:
            return _login_page(f"Too many wrong passwords: try again in {wait / 60:.0f} minutes.", 429,
                               {"Retry-After": str(int(wait) + 1)})
        if not token or not _same_secret(password, token):
            failures.record(client)
            return _login_page("Wrong password.")
        failures.clear(client)
        resp = RedirectResponse("/results", status_code=303)
        resp.set_cookie(RESULTS_COOKIE, new_session(token), httponly=True, samesite="strict", max_age=SESSION_S,
                        path="/results", secure=_https(request))
        return resp

    @r.post("/results/logout")
    def logout(request: Request):
        resp = RedirectResponse("/results", status_code=303)
        resp.delete_cookie(RESULTS_COOKIE, path="/results", httponly=True, samesite="strict", secure=_https(request))
        return resp

    @r.get("/results/plotly.min.js")
    def plotly_js():
        return Response(get_plotlyjs(), media_type="application/javascript",
                        headers={"Cache-Control": "public, max-age=86400"})

    @researchers_get("/results/api/table")
    def table_json(request: Request):
        df, chosen = frames(request)
        nan_free = lambda v: None if v != v else v  # noqa: E731 - JSON has no NaN
        return {"table": analysis.records(analysis.table_ii(chosen)),
                "qualification_accuracy": nan_free(analysis.qualification_accuracy(df)),
                "fleiss_kappa": nan_free(analysis.fleiss_kappa(chosen)),
                "participants": int(df.participant.nunique()), "kept_participants": int(chosen.participant.nunique())}

    @researchers_get("/results/api/assignment")
    def assignment(request: Request, secret: Annotated[str, Query(max_length=64)] = ""):
        """What each of an attempt's clips is, by the attempt's secret (for the simulated crowd)."""
        return analysis.assignment_of(sessions, secret)

    @researchers_get("/results/table.csv")
    def table_csv(request: Request):
        _, chosen = frames(request)
        return download(analysis.safe_csv(analysis.table_ii(chosen).round(3)), "table_ii.csv")

    @researchers_get("/results/answers.csv")
    def answers_csv(request: Request):
        df, _ = frames(request)
        people = analysis.participants_frame(sessions, df)
        out = df.merge(people[["participant", "device", "qualified", "attentive", "completion_code"]],
                       on="participant", how="left")
        return download(analysis.safe_csv(out), "answers.csv")

    @researchers_get("/results/participants.csv")
    def participants_csv(request: Request):
        df, _ = frames(request)
        return download(analysis.safe_csv(_excluded(analysis.participants_frame(sessions, df), request)),
                        "participants.csv")

    @researchers_get("/results/table_ii.tex")
    def table_tex(request: Request):
        _, chosen = frames(request)
        return download(figures.latex(analysis.table_ii(chosen)), "table_ii.tex", "text/plain; charset=utf-8")

    @researchers_get("/results/differences.csv")
    def differences_csv(request: Request):
        _, chosen = frames(request)
        return download(analysis.safe_csv(figures.paired_differences(chosen).round(3)), "differences.csv")

    @researchers_get("/results/musicality.csv")
    def musicality_csv(request: Request):
        _, chosen = frames(request)
        return download(analysis.safe_csv(figures.musicality(chosen).round(2)), "musicality.csv")

    @researchers_get("/results/{name}.{fmt}")  # last of the /results/x.y routes: it would shadow those after it
    def figure_image(request: Request, name: Literal["fl", "differences", "musicality"], fmt: Literal["svg", "png"]):
        _, chosen = frames(request)
        return download(figures.image(figures.figure(name, chosen), fmt), f"{name}.{fmt}",
                        "image/svg+xml" if fmt == "svg" else "image/png")

    @researchers_get("/results", lambda: _login_page("Researchers only."), response_class=HTMLResponse)
    def results(request: Request):
        df, chosen = frames(request)
        people = _excluded(analysis.participants_frame(sessions, df), request)
        nonce = secrets.token_urlsafe(16)
        return HTMLResponse(_results_html(request, df, chosen, nonce, people),
                            headers={"Cache-Control": "no-store",
                                     "Content-Security-Policy": CSP.format(nonce=f" 'nonce-{nonce}'")})

    return r


def _excluded(people: pd.DataFrame, request: Request) -> pd.DataFrame:
    """``excluded_because`` as the page's filters decide it (:func:`analysis.exclusion`)."""
    f = _filters(request)
    people = people.copy()
    people["excluded_because"] = [analysis.exclusion(r.finished or f["unfinished"], r.qualified, r.attentive,
                                                     f["qualified"], f["attentive"]) for r in people.itertuples()]
    return people


def _participants_html(people: pd.DataFrame) -> str:
    if not len(people):
        return "<p>No participant has started yet.</p>"
    reasons = people.excluded_because[people.excluded_because != ""].value_counts()
    why = "; ".join(f"{n} {html.escape(r)}" for r, n in reasons.items()) or "none"
    shown = people.copy()
    for c in ("started_at", "finished_at"):
        shown[c] = shown[c].map(lambda t: "" if pd.isna(t) else t.strftime("%Y-%m-%d %H:%M:%S UTC"))
    shown["qualification_accuracy"] = shown.qualification_accuracy.map(lambda v: "n/a" if pd.isna(v) else f"{v:.0%}")
    cols = ["participant", "external_id", "study_id", "session_id", "device", "sound_check", "headphone_check", "started_at",
            "finished_at",
            "duration_s", "answers", "qualification_accuracy", "attentive", "completion_code", "excluded_because"]
    return (f"<p>Participants: {len(people)}; finished: {int(people.finished.sum())}; left out of Table II: "
            f"{int((people.excluded_because != '').sum())} ({why}).</p><details><summary>Every participant</summary>"
            f"{shown[cols].to_html(index=False, escape=True, na_rep='n/a')}</details>")


def _html_table(df: pd.DataFrame) -> str:
    shown = df.copy()
    for c in shown.columns:
        if shown[c].dtype.kind == "f":
            shown[c] = shown[c].map(lambda v: "n/a" if pd.isna(v) else f"{v:.1f}" if abs(v) >= 1 or v == 0
                                    else f"{v:.3f}")
    return shown.to_html(index=False, escape=True, na_rep="n/a") if len(shown) else "<p>No answers yet.</p>"


def _results_html(request: Request, df: pd.DataFrame, chosen: pd.DataFrame, nonce: str, people: pd.DataFrame) -> str:
    filters = _filters(request)
    table = analysis.table_ii(chosen)
    shown = table.copy()
    for c in shown.columns:
        if shown[c].dtype.kind == "f":
            shown[c] = shown[c].map(lambda v: "n/a" if pd.isna(v) else f"{v:.1f}")
    fig = go.Figure([go.Bar(y=table.system, x=table[lab], name=lab, orientation="h") for lab in QUESTIONS["fusion"]])
    fig.update_layout(barmode="stack", height=380, title="Fusion recognition (percent of answers)",
                      template="plotly_white", yaxis=dict(autorange="reversed"))
    charts = "".join(f.to_html(full_html=False, include_plotlyjs=False) for f in (fig, figures.fl_figure(table)))
    chart = re.sub(r"<script(?=[\s>])", f'<script nonce="{nonce}"', charts)
    beside = _html_table(figures.side_by_side(table))
    diffs = figures.paired_differences(chosen)
    focus = diffs[diffs.system.isin(figures.FOCUS)] if len(diffs) else diffs
    differences = _html_table(focus)
    music = _html_table(figures.musicality(chosen))
    kappa = analysis.fleiss_kappa(chosen)
    accuracy = analysis.qualification_accuracy(df)
    query = html.escape(urlencode({k: "1" for k, on in filters.items() if on}))
    check = lambda k: "checked" if filters[k] else ""  # noqa: E731
    number = lambda v, fmt: "n/a" if v != v else format(v, fmt)  # noqa: E731
    return f"""<!doctype html><html lang="en"><head><meta charset=utf-8><meta name=viewport content="width=device-width">
<title>FusionGAN listening test: results</title><script src="/results/plotly.min.js"></script>
<style>body{{font-family:system-ui,sans-serif;margin:1.5em;max-width:1100px}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:.25em .5em;text-align:right}}</style></head><body>
<form method=post action=/results/logout style="float:right"><button>Log out</button></form>
<h1>Listening test: results</h1>
<form method=get><label><input type=checkbox name=qualified value=1 {check('qualified')}> qualified participants only
(at least {analysis.QUALIFIED:.0%} of qualification clips right)</label>
<label><input type=checkbox name=attentive value=1 {check('attentive')}> exclude participants failing a catch trial</label>
<label><input type=checkbox name=unfinished value=1 {check('unfinished')}> include unfinished participants</label>
<button>Apply</button></form>
{_participants_html(people)}
<p>Participants who answered: {df.participant.nunique()} (kept: {chosen.participant.nunique()}); answers: {len(df)};
qualification accuracy (all): {number(accuracy, '.1%')}; Fleiss' kappa of the fusion answers:
{number(kappa, '.3f')}.</p>
<h2>Table II (ours)</h2>{shown.to_html(index=False, escape=True, na_rep="n/a")}
<p>FL in percent with a 95% bootstrap interval over participants; <code>paper_fl_recomputed</code> is the
paper's formula on its printed percentages.</p>
{chart}
<h2>Table II (paper, as printed) beside ours</h2>{beside}
<h2>Paired differences in Fusion Level: {", ".join(registry.spec(s).short for s in figures.FOCUS)} against each system</h2>
<p>FL(system) minus FL(versus), the same listeners resampled for both (2,000 bootstrap draws);
<code>p_le_0</code>: share of draws where the difference is at most 0.
All pairs: <a href="/results/differences.csv?{query}">differences (CSV)</a>.</p>{differences}
<h2>Musicality by system and listener group</h2>{music}
<p>For a paper: figures of the Fusion Level (<a href="/results/fl.svg?{query}">SVG</a>,
<a href="/results/fl.png?{query}">PNG</a>), the paired differences (<a href="/results/differences.svg?{query}">SVG</a>,
<a href="/results/differences.png?{query}">PNG</a>) and musicality (<a href="/results/musicality.svg?{query}">SVG</a>,
<a href="/results/musicality.png?{query}">PNG</a>) · <a href="/results/table_ii.tex?{query}">Table II beside the
paper's (LaTeX)</a> · <a href="/results/musicality.csv?{query}">musicality (CSV)</a></p>
<p><a href="/results/table.csv?{query}">table (CSV)</a> · <a href="/results/answers.csv?{query}">answers (CSV)</a> ·
<a href="/results/participants.csv?{query}">participants (CSV)</a></p>
</body></html>"""
