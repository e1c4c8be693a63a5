"""The listening test against a hostile and a careless crowd: malformed and forged requests,
platform ids used as passwords, a locked database, cross-site requests, script injection on the
results page, formula injection in the exports, bursts of simultaneous starts (SQLite in-process,
PostgreSQL with two app processes). Every refusal must be a 4xx with a message, and the app must
keep serving."""
import csv
import io
import json
import random
import sqlite3
import statistics
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from listening_test import analysis, db, web
from listening_test.db import Assignment, Participant, Stimulus
from listening_test.flow import Survey, secret_hash
from tests.test_listening_app import TOKEN, App, make_site

pytestmark = pytest.mark.data
BEARER = {"Authorization": f"Bearer {TOKEN}"}
ANSWER = {"position": 0, "question": "genre", "choice": "jazz"}


@pytest.fixture
def api(fresh_survey_db, monkeypatch):
    monkeypatch.setenv("FUSION_RESEARCHER_TOKEN", TOKEN)
    monkeypatch.setenv("FUSION_STARTS_PER_HOUR", "0")
    return make_site(fresh_survey_db)


def client(api) -> TestClient:
    """One participant's browser (its own cookies); server errors come back as responses."""
    return TestClient(api, raise_server_exceptions=False)


def started(api, pid=None) -> TestClient:
    c = client(api)
    r = c.post("/survey/api/start", json={"PROLIFIC_PID": pid, "consent": True})
    assert r.status_code == 200, r.text
    return c


def heard(database_url: str, c: TestClient) -> None:
    """Mark every clip of this browser's attempt as served a minute ago."""
    sessions = db.sessions(db.make_engine(database_url))
    with sessions() as s:
        pid = s.scalar(select(Participant.id).where(Participant.secret_hash == secret_hash(c.cookies[web.COOKIE])))
        s.execute(update(Assignment).where(Assignment.participant_id == pid)
                  .values(served_at=db.now() - timedelta(minutes=1)))
        s.commit()


def finish(database_url: str, c: TestClient) -> dict:
    heard(database_url, c)
    state = c.get("/survey/api/state").json()
    while state["step"] != "done":
        state = c.post("/survey/api/answer", json={"position": state["position"], "question": state["question"],
                                                   "choice": state["choices"][-1]}).json()
    return state


def refused(r: httpx.Response, status: int | None = None) -> str:
    """The message of a 4xx refusal (asserting it is one)."""
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:300])
    if status is not None:
        assert r.status_code == status, (r.status_code, r.text[:300])
    return r.json()["error"]


# malformed requests ---------------------------------------------------------------------------------
def test_the_malformed_requests_of_the_report_get_a_4xx_with_a_message(api):
    c = started(api)
    raw = {"Content-Type": "application/json"}
    cases = [
        ('{"position": Infinity, "question": "genre", "choice": "jazz"}', "position"),
        ('{"position": NaN, "question": "genre", "choice": "jazz"}', "position"),
        ('{"position": 0.9, "question": "genre", "choice": "jazz"}', "position"),
        ('{"position": true, "question": "genre", "choice": "jazz"}', "position"),
        ('{"position": "0", "question": "genre", "choice": "jazz"}', "position"),
        ('{"position": 100000000000000000000, "question": "genre", "choice": "jazz"}', "position"),
        ('{"position": 0, "question": "genre", "choice": "\\ud800"}', "choice"),
        ('{"position": 0, "question": "genre", "choice": ["jazz"]}', "choice"),
        ('{"position": 0, "question": "tempo", "choice": "jazz"}', "question"),
        ('{"position": 0, "question": "genre", "choice": "jazz", "token": "x"}', "token"),
        ('[1, 2]', "body"), ('"jazz"', "body"), ('{"position": 0', "body"), ('', "body"),
    ]
    for body, field in cases:
        message = refused(c.post("/survey/api/answer", content=body.encode(), headers=raw), 400)
        assert field in message or "JSON" in message or "invalid" in message, (body, message)
    for body in ('{"PROLIFIC_PID": "\\ud800", "consent": true}', '{"PROLIFIC_PID": 12}', '{"consent": "yes"}',
                 '{"PROLIFIC_PID": "' + "x" * 200 + '"}', '{"PROLIFIC_PID": "a b", "consent": true}'):
        refused(c.post("/survey/api/start", content=body.encode(), headers=raw), 400)
    for path in ("/survey/api/audio/99999999999999999999", "/survey/api/audio/-1", "/survey/api/audio/x"):
        refused(c.get(path), 400)
    assert "larger than" in refused(c.post("/survey/api/answer", content=b"{" + b" " * 10_000 + b"}", headers=raw), 413)
    assert "application/json" in refused(c.post("/survey/api/answer", content=json.dumps(ANSWER),
                                                 headers={"Content-Type": "text/plain"}), 415)
    assert "application/json" in refused(c.post("/survey/api/start", data={"consent": "true"}), 415)
    assert "cross-site" in refused(c.post("/survey/api/start", json={"consent": True},
                                          headers={"Origin": "https://evil.example"}), 403)
    assert c.get("/survey").status_code == 200


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12)
FIELDS = ["position", "question", "choice", "PROLIFIC_PID", "STUDY_ID", "SESSION_ID", "consent", "resume_code",
          "count", "device"]
BODIES = st.one_of(JSON_VALUES, st.dictionaries(st.sampled_from(FIELDS), JSON_VALUES, max_size=5))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(["/survey/api/answer", "/survey/api/start", "/survey/api/resume",
                              "/survey/api/sound-check"]), body=BODIES)
def test_no_body_makes_the_server_fail(api, path, body):
    c = started(api) if path in ("/survey/api/answer", "/survey/api/sound-check") else client(api)
    r = c.post(path, content=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    assert r.status_code < 500, (path, body, r.status_code, r.text[:300])
    if r.status_code >= 400:
        assert r.json()["error"]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(segment=st.text(max_size=30) | st.integers(-2**80, 2**80).map(str))
def test_no_audio_path_makes_the_server_fail(api, segment):
    from urllib.parse import quote

    r = started(api).get("/survey/api/audio/" + quote(segment, safe=""))
    assert r.status_code < 500 and (r.status_code != 200 or _reads_as_zero(segment)), (segment, r.status_code)


def _reads_as_zero(segment: str) -> bool:
    """Whether a path segment is the number 0 in digits ("0", "000"): the only clip a participant who
    has just started may fetch. Other spellings ("0.0", "+0", " 0", "0_0") are refused."""
    return segment.isascii() and segment.isdigit() and len(segment) <= 6 and int(segment) == 0


@pytest.mark.parametrize("segment,status", [("0", 200), ("000", 200), ("0.0", 400), ("+0", 400), ("%200", 400),
                                            ("0_0", 400), ("0e0", 400), ("10001", 400), ("1", 409)])
def test_a_position_is_read_only_from_digits(api, segment, status):
    assert started(api).get("/survey/api/audio/" + segment).status_code == status


# identity -----------------------------------------------------------------------------------------------
def test_a_platform_id_never_fetches_a_secret_or_a_completion_code(api, fresh_survey_db):
    owner = started(api, "5f1a2b3c4d5e6f7a8b9c0d1e")
    done = finish(fresh_survey_db, owner)
    assert done["step"] == "done" and done["completion_code"]
    for pid in ("5f1a2b3c4d5e6f7a8b9c0d1e", "5F1A2B3C4D5E6F7A8B9C0D1E", " 5f1a2b3c4d5e6f7a8b9c0d1e "):
        thief = client(api)
        for consent in (False, True):
            r = thief.post("/survey/api/start", json={"PROLIFIC_PID": pid, "consent": consent})
            assert "another browser" in refused(r, 409) and r.json()["reason"] == "elsewhere"
            assert "set-cookie" not in r.headers and done["completion_code"] not in r.text
            assert done["resume_code"].replace("-", "") not in r.text.replace("-", "")
        assert refused(thief.get("/survey/api/state"), 401)
    state = owner.get("/survey/api/state").json()  # the owner still holds it
    assert state["completion_code"] == done["completion_code"]


def test_a_shared_computer_gives_the_next_person_their_own_attempt(api):
    lab = started(api, "first-person")
    first = lab.get("/survey/api/state").json()
    second = lab.post("/survey/api/start", json={"PROLIFIC_PID": "second-person", "consent": False}).json()
    assert second["step"] == "consent"  # the link's new id: consent first, not the first person's session
    second = lab.post("/survey/api/start", json={"PROLIFIC_PID": "second-person", "consent": True}).json()
    assert second["resume_code"] != first["resume_code"] and second["answered"] == 0


def test_the_secret_never_travels_in_a_url_or_a_body(api):
    c = client(api)
    r = c.post("/survey/api/start", json={"consent": True})
    secret = c.cookies[web.COOKIE]
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/survey" in cookie
    assert secret not in r.text and secret not in c.get("/survey/api/state").text
    assert "token" not in c.get("/survey/survey.js").text.lower()


def test_new_attempts_and_wrong_resume_codes_are_rate_limited(fresh_survey_db):
    api = FastAPI()
    api.include_router(web.survey_routes(Survey(db.sessions(db.make_engine(fresh_survey_db))), starts_per_hour=3))
    for _ in range(3):
        assert client(api).post("/survey/api/start", json={"consent": True}).status_code == 200
    assert client(api).post("/survey/api/start", json={"consent": False}).json()["step"] == "consent"
    r = client(api).post("/survey/api/start", json={"consent": True})
    assert "Too many new surveys" in refused(r, 429)
    c = client(api)
    for _ in range(10):
        refused(c.post("/survey/api/resume", json={"resume_code": "ABCDE-FGHJK"}), 404)
    assert "Too many wrong codes" in refused(c.post("/survey/api/resume", json={"resume_code": "ABCDE-FGHJK"}), 429)


# the researchers' page ----------------------------------------------------------------------------------------
def test_no_script_injection_on_the_results_page(api):
    site = client(api)
    evil = '"><script>alert(1)</script>'
    r = site.get("/results", params={"qualified": evil, "attentive": "1" + evil}, headers=BEARER)
    assert r.status_code == 200 and "<script>alert" not in r.text and evil not in r.text
    csp = r.headers["content-security-policy"]
    nonce = csp.split("'nonce-")[1].split("'")[0]
    assert "frame-ancestors 'none'" in csp and r.headers["x-frame-options"] == "DENY"
    import re

    for tag in re.findall(r"<script[^>]*>", r.text):
        assert 'src="/results/plotly.min.js"' in tag or f'nonce="{nonce}"' in tag, tag
    assert site.get("/results", headers=BEARER).headers["content-security-policy"] != csp  # a nonce per page


def test_researcher_sessions_are_random_expire_and_end(api, monkeypatch):
    a, b = client(api), client(api)
    for c in (a, b):
        assert c.post("/results/login", data={"password": TOKEN}, follow_redirects=False).status_code == 303
    assert a.cookies[web.RESULTS_COOKIE] != b.cookies[web.RESULTS_COOKIE]
    assert a.get("/results/api/table").status_code == 200
    import hashlib

    forged = client(api)
    for value in (hashlib.sha256(("fusiongan-results:" + TOKEN).encode()).hexdigest(),  # the old fixed cookie
                  web.new_session(TOKEN, lifetime=-1), web.new_session("another-password"),
                  _flip_last(a.cookies[web.RESULTS_COOKIE])):
        forged.cookies.set(web.RESULTS_COOKIE, value, path="/results")
        assert forged.get("/results/api/table").status_code == 401
    a.post("/results/logout")
    assert a.get("/results/api/table").status_code == 401


def _flip_last(value: str) -> str:
    return value[:-1] + ("1" if value[-1] == "0" else "0")


def test_wrong_passwords_are_slowed_down(api):
    c = client(api)
    for _ in range(5):
        assert c.post("/results/login", data={"password": "guess"}).status_code == 401
    r = c.post("/results/login", data={"password": TOKEN}, follow_redirects=False)
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0 and "Too many" in r.text


HOSTILE_IDS = ["a;=1+1;b", "=cmd|'/c_calc'!a0", "＝1+1", "@sum(a1)", "-2+3", "+1", "a,=1", 'x";=1;"', "ok|=2"]
FORMULA = tuple("=+-@＝＋－＠\t\r")


def test_csv_cells_are_inert_in_comma_and_semicolon_locales(api, fresh_survey_db):
    for pid in HOSTILE_IDS:
        c = started(api, pid)
        heard(fresh_survey_db, c)
        assert c.post("/survey/api/answer", json=ANSWER).status_code == 200
    text = client(api).get("/results/answers.csv", headers=BEARER).text
    rows = list(csv.reader(io.StringIO(text)))
    assert len({r[rows[0].index("external_id")] for r in rows[1:]}) == len(HOSTILE_IDS)
    for line in text.splitlines():
        assert line.startswith('"') and line.endswith('"')  # every field quoted
        for sep in (",", ";", "|", "\t"):  # however a spreadsheet splits the line, no cell starts a formula
            for cell in line.split(sep):
                assert not cell.strip().strip("\"' ").startswith(FORMULA) or cell.strip().strip('" ').startswith("'"), \
                    (sep, cell, line)
    assert analysis.neutralise("a;=1+1;b") == "a;'=1+1;b" and analysis.neutralise(-2) == -2


# ranges ----------------------------------------------------------------------------------------------------------
def test_audio_answers_byte_ranges(api):
    c = started(api)
    whole = c.get("/survey/api/audio/0")
    assert whole.status_code == 200 and whole.headers["accept-ranges"] == "bytes"
    size = len(whole.content)
    for header, (start, end) in (("bytes=0-", (0, size - 1)), ("bytes=100-199", (100, 199)),
                                 ("bytes=-50", (size - 50, size - 1)), (f"bytes=10-{10 * size}", (10, size - 1))):
        r = c.get("/survey/api/audio/0", headers={"Range": header})
        assert r.status_code == 206 and r.headers["content-range"] == f"bytes {start}-{end}/{size}", header
        assert r.content == whole.content[start:end + 1]
    r = c.get("/survey/api/audio/0", headers={"Range": f"bytes={size}-"})
    assert r.status_code == 416 and r.headers["content-range"] == f"bytes */{size}"
    assert c.get("/survey/api/audio/0", headers={"Range": "bytes=0-1,5-9"}).status_code == 200


# bursts of starts ---------------------------------------------------------------------------------------------------
def _spread(sessions) -> dict:
    """Per (role, system): the largest minus the smallest number of times its clips were assigned."""
    with sessions() as s:
        used = Counter(s.scalars(select(Assignment.stimulus_id)))
        clips = s.execute(select(Stimulus.id, Stimulus.role, Stimulus.system)).all()
    groups: dict = {}
    for sid, role, system in clips:
        groups.setdefault((role, system if role == "main" else role), []).append(used.get(sid, 0))
    return {k: max(v) - min(v) for k, v in groups.items()}


def _burst(n: int, start) -> list:
    barrier, results = threading.Barrier(n), []

    def one(i):
        barrier.wait()
        results.append(start(i))
    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def test_simultaneous_starts_stay_balanced_on_sqlite(fresh_survey_db):
    survey = Survey(db.sessions(db.make_engine(fresh_survey_db)))
    results = _burst(40, lambda i: survey.begin(None, consent=True)[1])
    assert len(set(results)) == 40 and None not in results
    spread = _spread(survey.sessions)
    assert max(spread.values()) <= 1, spread


@pytest.mark.slow
@pytest.mark.postgres
def test_a_hundred_simultaneous_starts_on_two_processes_stay_balanced_on_postgresql(postgres_url, tmp_path):
    import psycopg

    from tests.conftest import POOL
    from listening_test import stimuli

    plain = postgres_url.replace("+psycopg", "")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute("CREATE DATABASE starts")
    url = postgres_url.rsplit("/", 1)[0] + "/starts"
    sessions = db.sessions(db.make_engine(url))
    stimuli.prepare(sessions, log=lambda m: None, **POOL)
    apps = [App(url, tmp_path / f"app{i}.log") for i in range(2)]
    try:
        def start(i):
            with httpx.Client(base_url=apps[i % 2].url, timeout=60) as http:
                for _ in range(20):  # a busy answer (503) is retried, as the page does
                    r = http.post("/survey/api/start", json={"PROLIFIC_PID": f"burst-{i}", "consent": True})
                    if r.status_code != 503:
                        return r.status_code
                    time.sleep(float(r.headers.get("retry-after", 1)))
                return 503
        codes = _burst(100, start)
    finally:
        for a in apps:
            a.stop()
    assert Counter(codes) == {200: 100}
    spread = _spread(sessions)
    assert max(spread.values()) <= 1, spread
    with sessions() as s:
        assert len(s.scalars(select(Participant.id)).all()) == 100


# a real app on SQLite: a held lock, a flood of malformed requests ---------------------------------------------------------
@pytest.fixture(scope="module")
def hostile_app(survey_pool, tmp_path_factory):
    import shutil

    folder = tmp_path_factory.mktemp("hostile-app")
    shutil.copyfile(survey_pool, folder / "survey.sqlite")
    app = App(f"sqlite:///{folder / 'survey.sqlite'}", folder / "app.log")
    app.path = folder / "survey.sqlite"
    app.wait_settled()  # the lock test times the answer: not while the app reads its corpora and judge
    yield app
    app.stop()


@pytest.mark.slow
def test_a_locked_database_gives_503_at_once_and_the_page_keeps_being_served(hostile_app):
    with httpx.Client(base_url=hostile_app.url, timeout=30) as http:
        assert http.post("/survey/api/start", json={"consent": True}).status_code == 200
        http.get("/survey/api/audio/0")
        time.sleep(1.2)  # the clip (1 s) has been heard
        lock = sqlite3.connect(hostile_app.path, timeout=0)
        lock.execute("BEGIN IMMEDIATE")  # another writer holds the database
        try:
            pending = []
            waiting = [threading.Thread(target=lambda: pending.append(
                httpx.post(hostile_app.url + "/survey/api/answer", json=ANSWER, cookies=http.cookies, timeout=30)))
                for _ in range(8)]  # eight answers queue on the lock at once
            for t in waiting:
                t.start()
            page_s = []
            for _ in range(7):
                t0 = time.perf_counter()
                assert httpx.get(hostile_app.url + "/survey", timeout=30).status_code == 200
                page_s.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            r = http.post("/survey/api/answer", json=ANSWER)
            answer_s = time.perf_counter() - t0
            for t in waiting:
                t.join()
        finally:
            lock.rollback()
            lock.close()
        assert r.status_code == 503 and r.headers["retry-after"] == "1" and r.json()["reason"] == "busy"
        assert answer_s < 1.0, answer_s  # the lock wait is 0.5 s, not 30 s
        assert statistics.median(page_s) < 0.1, page_s  # the page never waits for the database
        assert {p.status_code for p in pending} == {503}
        time.sleep(float(r.headers["retry-after"]))  # as the page does
        again = http.post("/survey/api/answer", json=ANSWER)  # the page's retry, once the lock is gone
        assert again.status_code == 200 and again.json()["position"] == 1 and again.json()["repeated"] is False
        assert http.post("/survey/api/answer", json=ANSWER).json()["repeated"] is True


def _malformed(rng: random.Random) -> tuple[str, str, bytes, dict]:
    """One random malformed request: method, path, body, headers."""
    junk = [float("inf"), float("nan"), 0.9, True, "0", None, [], {}, "\ud800", "x" * 300, 10**20, -1, "jazz"]
    kind = rng.randrange(6)
    if kind == 0:
        body = {"position": rng.choice(junk), "question": rng.choice(junk + ["genre"]), "choice": rng.choice(junk)}
        return "POST", "/survey/api/answer", json.dumps(body).encode(), {"Content-Type": "application/json"}
    if kind == 1:
        bad = [float("inf"), float("nan"), 0.9, [], {}, "\ud800", "x" * 300, 10**20, -1, "a b"]  # wrong for every field
        body = {rng.choice(FIELDS + ["token", "x"]): rng.choice(bad) for _ in range(rng.randrange(1, 4))}
        return "POST", rng.choice(["/survey/api/start", "/survey/api/resume"]), json.dumps(body).encode(), \
            {"Content-Type": "application/json"}
    if kind == 2:
        return "GET", f"/survey/api/audio/{rng.choice(['-1', '1' * 20, 'x', '%00', '0.5', '9999'])}", b"", {}
    if kind == 3:
        return "POST", "/survey/api/answer", bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200))), \
            {"Content-Type": rng.choice(["application/json", "text/plain", "application/x-www-form-urlencoded"])}
    if kind == 4:
        return "POST", "/survey/api/start", b"{" + b" " * rng.randrange(5000, 20000) + b"}", \
            {"Content-Type": "application/json"}
    return "GET", rng.choice(["/results", "/results/api/table", "/results/answers.csv"]), b"", \
        {"Authorization": rng.choice(["Bearer %C3%A9", "Bearer " + "x" * 500, "Basic abc"])}


@pytest.mark.slow
def test_a_thousand_malformed_requests_get_4xx_and_the_app_keeps_serving(hostile_app):
    rng = random.Random(12)
    statuses = Counter()
    with httpx.Client(base_url=hostile_app.url, timeout=30) as http:
        http.post("/survey/api/start", json={"consent": True})
        for _ in range(1000):
            method, path, body, headers = _malformed(rng)
            r = http.request(method, path, content=body or None, headers=headers)
            statuses[r.status_code] += 1
            assert 400 <= r.status_code < 500, (method, path, body[:80], r.status_code, r.text[:200])
            assert r.json()["error"] if "json" in r.headers.get("content-type", "") else r.text
        assert http.get("/survey").status_code == 200
        assert http.get("/survey/api/state").json()["position"] == 0
    assert len(statuses) >= 4, statuses
