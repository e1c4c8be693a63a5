"""The listening test on the web: the participant's page and JSON API, and the researchers'
results page (FastAPI routes, mounted beside the Gradio app by ``app.py``).

Participant routes (no login; the secret token in the URL is the key):

* ``GET  /survey`` -- the page (``?PROLIFIC_PID=...`` or ``?token=...`` to resume);
* ``POST /survey/api/start``  ``{"external_id": ...}`` or ``{"token": ...}`` -> state;
* ``GET  /survey/api/state?token=`` -> state;
* ``GET  /survey/api/audio/{position}?token=`` -> the clip (WAV);
* ``POST /survey/api/answer`` ``{"token", "position", "question", "choice"}`` -> new state.

Refusals are JSON ``{"error": message}`` with the status of :class:`listening_test.flow.SurveyError`.

Researcher routes need ``FUSION_RESEARCHER_TOKEN`` (set in the app's environment, read through
:mod:`fusion.config`): as the password of ``/results/login`` (a cookie follows), or
``Authorization: Bearer <token>``. Without it they serve nothing but a login form: ``/results``
(the page), ``/results/api/table``, ``/results/table.csv``, ``/results/answers.csv``. With the
variable unset they are disabled.

Two decorators carry the rules once: :func:`refusing` (a :class:`SurveyError` becomes its JSON
refusal) on the participant routes, :func:`researchers_only` on the researcher routes.
"""
from __future__ import annotations

import functools
import hashlib
import hmac
import html
import inspect
import json
from pathlib import Path
from typing import Callable

import pandas as pd
import plotly.graph_objects as go
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from plotly.offline import get_plotlyjs

from fusion import config
from fusion.evaluation import paper
from listening_test import analysis
from listening_test.flow import QUESTIONS, Survey, SurveyError

STATIC = Path(__file__).parent / "static"
COOKIE = "fusion_results"


def _refuse(exc: SurveyError) -> JSONResponse:
    return JSONResponse({"error": exc.message}, status_code=exc.status)


def refusing(handler: Callable) -> Callable:
    """A route whose :class:`SurveyError` becomes its JSON refusal (``{"error": message}`` with the
    error's status). Keeps the handler's signature (FastAPI reads it) and whether it is async."""
    if inspect.iscoroutinefunction(handler):
        @functools.wraps(handler)
        async def wrapped_async(*args, **kwargs):
            try:
                return await handler(*args, **kwargs)
            except SurveyError as exc:
                return _refuse(exc)
        return wrapped_async

    @functools.wraps(handler)
    def wrapped(*args, **kwargs):
        try:
            return handler(*args, **kwargs)
        except SurveyError as exc:
            return _refuse(exc)
    return wrapped


def survey_routes(survey: Survey) -> APIRouter:
    r = APIRouter()

    @r.get("/survey", response_class=HTMLResponse)
    def page():
        return HTMLResponse((STATIC / "survey.html").read_text(), headers={"Cache-Control": "no-store"})

    @r.post("/survey/api/start")
    @refusing
    async def start(request: Request):
        body = await _json(request)
        return survey.start(external_id=body.get("external_id"), token=body.get("token"),
                            create=not body.get("resume_only"))

    @r.get("/survey/api/state")
    @refusing
    def state(token: str = ""):
        return survey.state(token)

    @r.get("/survey/api/audio/{position}")
    @refusing
    def audio(position: int, token: str = ""):
        return Response(survey.audio(token, position), media_type="audio/wav",
                        headers={"Cache-Control": "private, max-age=3600"})

    @r.post("/survey/api/answer")
    @refusing
    async def answer(request: Request):
        body = await _json(request)
        return survey.answer(body.get("token", ""), body.get("position"), str(body.get("question", "")),
                             str(body.get("choice", "")))

    return r


async def _json(request: Request) -> dict:
    try:
        body = await request.json()
    except Exception:
        raise SurveyError(400, "the request body must be JSON") from None
    if not isinstance(body, dict):
        raise SurveyError(400, "the request body must be a JSON object")
    return body


# results ---------------------------------------------------------------------------------------------
def researcher_token() -> str | None:
    """``$FUSION_RESEARCHER_TOKEN`` (:mod:`fusion.config`), or None: the results are then disabled."""
    return config.researcher_token()


def _cookie_value(token: str) -> str:
    return hashlib.sha256(("fusiongan-results:" + token).encode()).hexdigest()


def authorised(request: Request) -> bool:
    token = researcher_token()
    if not token:
        return False
    bearer = request.headers.get("authorization", "")
    if bearer.startswith("Bearer ") and hmac.compare_digest(bearer[7:].encode(), token.encode()):
        return True
    cookie = request.cookies.get(COOKIE, "")
    return bool(cookie) and hmac.compare_digest(cookie.encode(), _cookie_value(token).encode())


def _login_page(message: str = "", status: int = 401) -> HTMLResponse:
    if not researcher_token():
        message, status = "The results page is disabled: set FUSION_RESEARCHER_TOKEN when starting the app.", 403
    body = (f"<!doctype html><meta charset=utf-8><meta name=viewport content='width=device-width'>"
            f"<title>FusionGAN results</title><h1>Listening test results</h1><p>{html.escape(message)}</p>"
            "<form method=post action=/results/login><label>Researcher password "
            "<input type=password name=password autocomplete=current-password></label> "
            "<button>Open</button></form>")
    return HTMLResponse(body, status_code=status)


def _json_refusal() -> JSONResponse:
    return JSONResponse({"error": "researchers only"}, status_code=401)


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
            return handler(*args, **kwargs)
        return wrapped
    return decorate


def results_routes(sessions) -> APIRouter:
    r = APIRouter()

    def frames(request: Request):
        q = request.query_params
        df = analysis.answers_frame(sessions)
        chosen = analysis.filtered(df, qualified=q.get("qualified") == "1", attentive=q.get("attentive") == "1")
        return df, chosen

    @r.post("/results/login")
    def login(password: str = Form("")):
        token = researcher_token()
        if not token or not hmac.compare_digest(password.encode(), token.encode()):
            return _login_page("Wrong password.")
        resp = RedirectResponse("/results", status_code=303)
        resp.set_cookie(COOKIE, _cookie_value(token), httponly=True, samesite="strict", max_age=8 * 3600)
        return resp

    @r.get("/results/plotly.min.js")
    def plotly_js():
        return Response(get_plotlyjs(), media_type="application/javascript",
                        headers={"Cache-Control": "public, max-age=86400"})

    @r.get("/results/api/table")
    @researchers_only()
    def table_json(request: Request):
        df, chosen = frames(request)
        nan_free = lambda v: None if v != v else v  # noqa: E731 - JSON has no NaN
        return {"table": json.loads(analysis.table_ii(chosen).to_json(orient="records")),
                "qualification_accuracy": nan_free(analysis.qualification_accuracy(df)),
                "fleiss_kappa": nan_free(analysis.fleiss_kappa(chosen)),
                "participants": int(df.participant.nunique()), "kept_participants": int(chosen.participant.nunique())}

    @r.get("/results/api/assignment")
    @researchers_only()
    def assignment(request: Request, participant: str = ""):
        """What each of a participant's clips is (for the simulated crowd and for audits)."""
        return analysis.assignment_of(sessions, participant)

    @r.get("/results/table.csv")
    @researchers_only()
    def table_csv(request: Request):
        _, chosen = frames(request)
        return Response(analysis.safe_csv(analysis.table_ii(chosen).round(3)), media_type="text/csv",
                        headers={"Content-Disposition": "attachment; filename=table_ii.csv"})

    @r.get("/results/answers.csv")
    @researchers_only()
    def answers_csv(request: Request):
        df, _ = frames(request)
        return Response(analysis.safe_csv(df), media_type="text/csv",
                        headers={"Content-Disposition": "attachment; filename=answers.csv"})

    @r.get("/results", response_class=HTMLResponse)
    @researchers_only(lambda: _login_page("Researchers only."))
    def results(request: Request):
        df, chosen = frames(request)
        return HTMLResponse(_results_html(request, df, chosen), headers={"Cache-Control": "no-store"})

    return r


def _results_html(request: Request, df: pd.DataFrame, chosen: pd.DataFrame) -> str:
    q = request.query_params
    table = analysis.table_ii(chosen)
    shown = table.copy()
    for c in shown.columns:
        if shown[c].dtype.kind == "f":
            shown[c] = shown[c].map(lambda v: "" if pd.isna(v) else f"{v:.1f}")
    printed = pd.DataFrame([{"system": s, **v} for s, v in paper.TABLE_II.items()])
    fig = go.Figure([go.Bar(y=table.system, x=table[lab], name=lab, orientation="h") for lab in QUESTIONS["fusion"]])
    fig.update_layout(barmode="stack", height=380, title="Fusion recognition (percent of answers)",
                      template="plotly_white", yaxis=dict(autorange="reversed"))
    chart = fig.to_html(full_html=False, include_plotlyjs=False)
    kappa = analysis.fleiss_kappa(chosen)
    query = "&".join(f"{k}={v}" for k, v in q.items() if k in ("qualified", "attentive"))
    check = lambda k: "checked" if q.get(k) == "1" else ""  # noqa: E731
    return f"""<!doctype html><html><head><meta charset=utf-8><meta name=viewport content="width=device-width">
<title>FusionGAN listening test: results</title><script src="/results/plotly.min.js"></script>
<style>body{{font-family:system-ui,sans-serif;margin:1.5em;max-width:1100px}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:.25em .5em;text-align:right}}</style></head><body>
<h1>Listening test: results</h1>
<form method=get><label><input type=checkbox name=qualified value=1 {check('qualified')}> qualified participants only
(at least {analysis.QUALIFIED:.0%} of qualification clips right)</label>
<label><input type=checkbox name=attentive value=1 {check('attentive')}> exclude participants failing a catch trial</label>
<button>Apply</button></form>
<p>Participants: {df.participant.nunique()} (kept: {chosen.participant.nunique()}); answers: {len(df)};
qualification accuracy (all): {analysis.qualification_accuracy(df):.1%}; Fleiss' kappa of the fusion answers:
{kappa:.3f}.</p>
<h2>Table II (ours)</h2>{shown.to_html(index=False, escape=True)}
<p>FL in percent with a 95% bootstrap interval over participants; <code>paper_fl_recomputed</code> is the
paper's formula on its printed percentages.</p>
{chart}
<h2>Table II (paper, as printed)</h2>{printed.to_html(index=False, escape=True)}
<p><a href="/results/table.csv?{query}">table (CSV)</a> · <a href="/results/answers.csv">raw answers (CSV)</a></p>
</body></html>"""
