"""The listening test served by the app over HTTP on 127.0.0.1: the researchers-only results,
forged requests, a simulated crowd of 100 at once, a SIGKILL in the middle of a run, and two app
processes sharing one PostgreSQL server."""
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from listening_test import db, simulate, stimuli, web
from listening_test.db import Answer, Assignment, Stimulus
from listening_test.flow import MAIN_GROUPS, PHASE_QUESTIONS, Design, Survey
from tests import helpers

TOKEN = "researcher-secret-for-tests"
QUESTIONS_PER_PARTICIPANT = Design().qualification + 2 * (len(MAIN_GROUPS) + Design().catch)


class App(helpers.App):
    """``python app.py`` in a subprocess on one database, started at once."""

    def __init__(self, database_url: str, log: Path, port: int | None = None):
        super().__init__(port, env={**helpers.QUIET_ENV, "DATABASE_URL": database_url,
                                    "FUSION_RESEARCHER_TOKEN": TOKEN}, log=log, answers="/survey", poll=0.2)
        self.database_url = database_url
        self.start()


def _answers(url):
    sessions = db.sessions(db.make_engine(url))
    with sessions() as s:
        rows = s.execute(select(Answer.participant_id, Answer.position, Answer.question, Answer.choice)).all()
        per_system = Counter(dict(s.execute(
            select(Stimulus.system, func.count()).select_from(Answer)
            .join(Assignment, (Assignment.participant_id == Answer.participant_id)
                  & (Assignment.position == Answer.position))
            .join(Stimulus, Stimulus.id == Assignment.stimulus_id)
            .where(Stimulus.role == "main", Answer.question == "fusion").group_by(Stimulus.system)).all()))
    return rows, per_system


# researchers only, forged requests: the routes in-process -------------------------------------------------
@pytest.fixture
def site(fresh_survey_db, monkeypatch):
    monkeypatch.setenv("FUSION_RESEARCHER_TOKEN", TOKEN)
    sessions = db.sessions(db.make_engine(fresh_survey_db))
    api = FastAPI()
    api.include_router(web.survey_routes(Survey(sessions)))
    api.include_router(web.results_routes(sessions))
    return TestClient(api)


@pytest.mark.data
def test_results_are_served_to_researchers_only(site, monkeypatch):
    st = site.post("/survey/api/start", json={"external_id": "=HYPERLINK(\"http://evil\")"}).json()
    for path in ("/results", "/results/api/table", "/results/table.csv", "/results/answers.csv",
                 f"/results/api/assignment?participant={st['token']}"):
        r = site.get(path)
        assert r.status_code == 401, path
        assert "HYPERLINK" not in r.text and "qualification" not in r.text
        r = site.get(path, headers={"Authorization": "Bearer wrong"})
        assert r.status_code == 401, path
    assert site.post("/results/login", data={"password": "wrong"}).status_code == 401
    ok = site.get("/results/api/table", headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200 and ok.json()["participants"] == 0
    r = site.post("/results/login", data={"password": TOKEN}, follow_redirects=False)
    assert r.status_code == 303 and "httponly" in r.headers["set-cookie"].lower()
    page = site.get("/results")  # the cookie now travels with the client
    assert page.status_code == 200 and "Table II (ours)" in page.text and "Table II (paper" in page.text
    monkeypatch.delenv("FUSION_RESEARCHER_TOKEN")
    off = site.get("/results")
    assert off.status_code == 403 and "disabled" in off.text
    assert site.get("/results/api/table", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 401


@pytest.mark.data
def test_forged_requests_are_refused_with_a_message_and_change_nothing(site, fresh_survey_db):
    a = site.post("/survey/api/start", json={}).json()
    b = site.post("/survey/api/start", json={}).json()
    site.get(f"/survey/api/audio/0?token={a['token']}")
    forged = [
        ({"token": b["token"], "position": 0, "question": "genre", "choice": "jazz"}, 425, "play the clip"),
        ({"token": "stolen", "position": 0, "question": "genre", "choice": "jazz"}, 404, "unknown participant"),
        ({"token": a["token"], "position": 7, "question": "fusion", "choice": "jazz"}, 409, "answer in order"),
        ({"token": a["token"], "position": 0, "question": "genre", "choice": "polka"}, 400, "not an answer"),
        ({"token": a["token"], "position": 0, "question": "genre", "choice": "jazz"}, 425, "listen to the whole clip"),
    ]
    for body, status, message in forged:
        r = site.post("/survey/api/answer", json=body)
        assert r.status_code == status and message in r.json()["error"], (body, r.text)
    assert site.post("/survey/api/answer", content=b"not json").status_code == 400
    assert site.get(f"/survey/api/audio/0?token={a['token']}x").status_code == 404
    assert site.get(f"/survey/api/audio/9?token={a['token']}").status_code == 409
    assert _answers(fresh_survey_db)[0] == []


@pytest.mark.data
def test_the_survey_page_is_served(site):
    r = site.get("/survey")
    assert r.status_code == 200 and "/survey/api/answer" in r.text and "PROLIFIC_PID" in r.text


# a crowd against a real server -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sqlite_app(survey_pool, tmp_path_factory):
    import shutil

    folder = tmp_path_factory.mktemp("sqlite-app")
    shutil.copyfile(survey_pool, folder / "survey.sqlite")
    url = f"sqlite:///{folder / 'survey.sqlite'}"
    app = App(url, folder / "app.log")
    yield app
    if app.proc.poll() is None:
        app.stop()


@pytest.mark.data
@pytest.mark.slow
def test_a_hundred_participants_at_once_lose_and_duplicate_nothing(sqlite_app):
    report = simulate.simulate(sqlite_app.url, 100, simulate.paper_profile(), TOKEN, seed=1, concurrency=100)
    assert report.errors == [] and report.finished == 100
    rows, per_system = _answers(sqlite_app.database_url)
    assert len(rows) == len(set(rows)) == len(report.acks) == 100 * QUESTIONS_PER_PARTICIPANT
    assert {(r[1], r[2], r[3]) for r in rows} >= {(p, q, c) for _, p, q, c in report.acks}
    assert set(per_system.values()) == {100} and set(per_system) == set(MAIN_GROUPS)  # balanced
    assert len(set(report.codes)) == 100


@pytest.mark.data
@pytest.mark.slow
def test_the_paper_profile_reproduces_the_papers_fusion_levels(sqlite_app):
    report = simulate.simulate(sqlite_app.url, 200, simulate.paper_profile(), TOKEN, seed=2, concurrency=100)
    assert report.errors == []
    table = httpx.get(sqlite_app.url + "/results/api/table", headers={"Authorization": f"Bearer {TOKEN}"}).json()
    assert table["participants"] >= 300
    assert 0.55 < table["qualification_accuracy"] < 0.78  # the paper's 66.5%
    for row in table["table"]:
        if row["paper_fl"] is not None:
            assert row["fl_ci_low"] <= row["paper_fl_recomputed"] <= row["fl_ci_high"], row


@pytest.mark.data
@pytest.mark.slow
def test_sigkill_in_the_middle_loses_no_acknowledged_answer_and_participants_resume(survey_pool, tmp_path):
    import shutil
    import threading

    shutil.copyfile(survey_pool, tmp_path / "survey.sqlite")
    url = f"sqlite:///{tmp_path / 'survey.sqlite'}"
    app = App(url, tmp_path / "app.log")
    report = simulate.Report()
    threads = [threading.Thread(target=_quietly, args=(app.url, i, report)) for i in range(20)]
    for t in threads:
        t.start()
    deadline = time.time() + 60
    while len(report.acks) < 60 and time.time() < deadline:
        time.sleep(0.1)
    app.kill()  # SIGKILL: no shutdown, no flush
    for t in threads:
        t.join(timeout=60)
    acked = list(report.acks)
    assert len(acked) >= 60
    rows, _ = _answers(url)
    saved = {(p, q, c) for _, p, q, c in rows}
    assert len(rows) >= len(acked)
    assert all((p, q, c) in saved for _, p, q, c in acked)
    app.start()  # the same database, the same port
    try:
        again = simulate.simulate(app.url, 0, simulate.paper_profile(), TOKEN, seed=3, tokens=list(report.tokens))
        assert again.errors == [] and again.finished == len(report.tokens) == 20
        rows, per_system = _answers(url)
        assert len(rows) == len(set(rows)) == 20 * QUESTIONS_PER_PARTICIPANT
        assert set(per_system.values()) == {20}
    finally:
        app.stop()


def _quietly(url, i, report):
    try:
        simulate.participant(url, simulate.paper_profile(), 500 + i, report, TOKEN)
    except Exception:  # the server was killed under it
        pass


# PostgreSQL ----------------------------------------------------------------------------------------------------
@pytest.mark.data
@pytest.mark.slow
@pytest.mark.postgres
def test_two_app_processes_sharing_one_postgresql(postgres_url, tmp_path):
    engine = db.make_engine(postgres_url)
    from tests.conftest import POOL

    stimuli.prepare(db.sessions(engine), log=lambda m: None, **POOL)
    apps = [App(postgres_url, tmp_path / f"app{i}.log") for i in range(2)]
    try:
        report = simulate.simulate([a.url for a in apps], 40, simulate.paper_profile(), TOKEN, seed=4, concurrency=40)
        assert report.errors == [] and report.finished == 40
        rows, per_system = _answers(postgres_url)
        assert len(rows) == len(set(rows)) == len(report.acks) == 40 * QUESTIONS_PER_PARTICIPANT
        assert set(per_system.values()) == {40} and set(per_system) == set(MAIN_GROUPS)
        # one participant, two devices, two processes: the same place in the survey
        token = report.tokens[0]
        states = [httpx.get(a.url + "/survey/api/state", params={"token": token}).json() for a in apps]
        assert states[0] == states[1] and states[0]["step"] == "done"
    finally:
        for a in apps:
            a.stop()
    assert PHASE_QUESTIONS["main"] == ("fusion", "musicality")


# the page in a real browser -------------------------------------------------------------------------------------
@pytest.mark.data
@pytest.mark.slow
@pytest.mark.browser
def test_survey_page_in_chromium_answers_and_resumes_after_a_refresh(sqlite_app):
    from playwright.sync_api import sync_playwright

    from tests.test_app import ARGS, ARTIFACTS, CHROMIUM

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS + ["--autoplay-policy=no-user-gesture-required"])
        page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
        page.goto(sqlite_app.url + "/survey?PROLIFIC_PID=browser-1")
        page.click("#agree")
        page.wait_for_selector("#item:not([hidden])")
        assert "token=" in page.url and "Warm-up clip 1" in page.inner_text("#progress")
        for k in range(2):  # two qualification clips: play to the end, choose, next
            page.evaluate("document.getElementById('player').play()")
            page.locator("input[value=jazz]").check()
            page.wait_for_function("!document.getElementById('next').disabled", timeout=20000)
            page.click("#next")
            page.wait_for_function(f"document.getElementById('progress').innerText.includes('clip {k + 2} ')",
                                   timeout=20000)
        page.evaluate("document.getElementById('player').play()")
        page.locator("input[value=folk]").check()
        page.wait_for_function("!document.getElementById('next').disabled", timeout=20000)
        page.dblclick("#next")  # an impatient double click answers once
        page.wait_for_function("document.getElementById('progress').innerText.startsWith('Clip')", timeout=20000)
        page.reload()  # a refresh resumes at the fourth clip, the first main one
        page.wait_for_selector("#item:not([hidden])")
        assert page.inner_text("#progress").startswith("Clip 4 ")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "survey.png"), full_page=True)
        token = page.url.split("token=")[1]
        state = httpx.get(sqlite_app.url + "/survey/api/state", params={"token": token}).json()
        assert state["answered"] == 3 and state["position"] == 3 and state["question"] == "fusion"
        browser.close()
