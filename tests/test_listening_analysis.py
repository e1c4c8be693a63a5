"""Table II, Fleiss' kappa and the safe CSV export (listening_test/analysis.py)."""
import numpy as np
import pandas as pd
import pytest

from listening_test import analysis


def test_fleiss_kappa_of_the_textbook_example():
    # Fleiss (1971) as reproduced on Wikipedia: 10 subjects, 14 raters, 5 categories -> 0.210
    table = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
             [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]
    assert analysis.fleiss_kappa_of(table) == pytest.approx(0.210, abs=0.001)
    assert analysis.fleiss_kappa_of([[3, 0], [0, 3], [3, 0]]) == pytest.approx(1.0)
    assert np.isnan(analysis.fleiss_kappa_of([[1, 0], [0, 1]]))  # nobody shares a clip


def test_csv_cells_cannot_become_formulas():
    df = pd.DataFrame({"external_id": ["=HYPERLINK(\"http://x\")", "+1", "-2", "@SUM(A1)", "\tx", "fine"],
                       "n": [1, 2, 3, 4, 5, 6]})
    text = analysis.safe_csv(df)
    lines = text.splitlines()[1:]
    assert [line.split(",")[0].strip('"') for line in lines][:5] == ["'=HYPERLINK(\"\"http://x\"\")", "'+1", "'-2",
                                                                       "'@SUM(A1)", "'\tx"]
    assert lines[5] == '"fine","6"'  # every field quoted


def _frame(rows):
    return pd.DataFrame(rows, columns=["participant", "external_id", "position", "question", "choice", "answered_at",
                                       "stimulus", "role", "system", "genre"])


def test_table_ii_filters_and_fusion_level():
    rows = []
    for p in range(20):
        good = p < 15
        rows.append((p, None, 0, "genre", "jazz" if good else "folk", None, 1, "qualification", "real jazz", "jazz"))
        rows.append((p, None, 1, "fusion", "neither" if p != 3 else "jazz", None, 2, "catch", "catch", None))
        # fusion: half the listeners say jazz, half folk -> FL 100; musicality all expert
        rows.append((p, None, 2, "fusion", "jazz" if p % 2 else "folk", None, 10 + p % 2, "main", "fusion", None))
        rows.append((p, None, 2, "musicality", "expert", None, 10 + p % 2, "main", "fusion", None))
    df = _frame(rows)
    assert analysis.qualification_accuracy(df) == 0.75
    flags = analysis.participant_flags(df)
    assert flags.qualified.sum() == 15 and (~flags.attentive).sum() == 1
    assert analysis.filtered(df, qualified=True, attentive=True).participant.nunique() == 14
    t = analysis.table_ii(df, resamples=200).set_index("system")
    assert t.loc["fusion", "answers"] == 20 and t.loc["fusion", "participants"] == 20
    assert t.loc["fusion", "jazz"] == 50 and t.loc["fusion", "expert"] == 100
    assert t.loc["fusion", "fl"] == 100 and t.loc["fusion", "fl_ci_low"] <= 100 <= t.loc["fusion", "fl_ci_high"]
    assert t.loc["fusion", "paper_fl_recomputed"] == pytest.approx(70.0)
    assert t.loc["rm", "answers"] == 0 and np.isnan(t.loc["rm", "fl"])


# the researchers' tables from a real survey database ------------------------------------------------------
@pytest.mark.data
def test_participants_table_exclusions_and_timed_answers(fresh_survey_db, monkeypatch):
    import csv
    import io
    from datetime import timedelta

    from fastapi.testclient import TestClient
    from sqlalchemy import select, update

    from listening_test import db, web
    from listening_test.db import Assignment, Participant
    from listening_test.flow import secret_hash
    from tests.test_listening_app import TOKEN, make_site

    monkeypatch.setenv("FUSION_RESEARCHER_TOKEN", TOKEN)
    monkeypatch.setenv("FUSION_STARTS_PER_HOUR", "0")
    api = make_site(fresh_survey_db)
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    sessions = db.sessions(db.make_engine(fresh_survey_db))

    def take_part(pid, device, questions, catch_answer):
        c = TestClient(api)
        assert c.post("/survey/api/start", json={"PROLIFIC_PID": pid, "consent": True, "device": device}).status_code == 200
        secret = c.cookies[web.COOKIE]
        with sessions() as s:
            p = s.scalar(select(Participant.id).where(Participant.secret_hash == secret_hash(secret)))
            s.execute(update(Assignment).where(Assignment.participant_id == p)
                      .values(served_at=db.now() - timedelta(minutes=1)))
            s.commit()
        roles = {a["position"]: a["role"] for a in c.get("/results/api/assignment", params={"secret": secret},
                                                         headers=bearer).json()}
        state = c.get("/survey/api/state").json()
        for _ in range(questions):
            if state["step"] == "done":
                break
            choice = (catch_answer if roles[state["position"]] == "catch" and state["question"] == "fusion"
                      else state["choices"][0])
            state = c.post("/survey/api/answer", json={"position": state["position"], "question": state["question"],
                                                       "choice": choice}).json()
        return state

    assert take_part("finisher", "phone", 999, "neither")["step"] == "done"
    assert take_part("leaver", "desktop", 2, "neither")["step"] != "done"
    assert take_part("inattentive", None, 999, "jazz")["step"] == "done"
    site = TestClient(api)
    people = list(csv.DictReader(io.StringIO(site.get("/results/participants.csv", headers=bearer).text)))
    why = {p["external_id"]: p["excluded_because"] for p in people}
    assert why == {"finisher": "", "leaver": "unfinished", "inattentive": ""}
    strict = csv.DictReader(io.StringIO(site.get("/results/participants.csv?attentive=1", headers=bearer).text))
    assert {p["external_id"]: p["excluded_because"] for p in strict}["inattentive"] == "failed a catch trial"
    finisher = next(p for p in people if p["external_id"] == "finisher")
    assert finisher["device"] == "phone" and finisher["finished"] == "True" and float(finisher["duration_s"]) >= 0
    assert finisher["started_at"].endswith("+00:00") and finisher["completion_code"]
    table = site.get("/results/api/table", headers=bearer).json()
    assert table["participants"] == 3 and table["kept_participants"] == 2  # the unfinished one is left out
    assert site.get("/results/api/table?unfinished=1", headers=bearer).json()["kept_participants"] == 3
    answers = list(csv.DictReader(io.StringIO(site.get("/results/answers.csv", headers=bearer).text)))
    assert {"served_at", "answered_at", "qualified", "attentive", "completion_code", "device"} <= set(answers[0])
    assert all(a["answered_at"].endswith("+00:00") and a["served_at"] <= a["answered_at"] for a in answers)
    page = site.get("/results", headers=bearer).text
    assert "left out of Table II: 1 (1 unfinished)" in page and ">nan<" not in page
    assert "Paired differences" in page and "Musicality by system and listener group" in page
    assert "Paired differences in Fusion Level: Fusion, Blend, Hybrid against each system" in page  # the registry's
    tex = site.get("/results/table_ii.tex", headers=bearer)
    assert tex.status_code == 200 and "\\begin{tabular}" in tex.text and "nan" not in tex.text
    diffs = list(csv.DictReader(io.StringIO(site.get("/results/differences.csv", headers=bearer).text)))
    assert diffs and {"system", "versus", "difference", "ci_low", "ci_high", "p_le_0"} <= set(diffs[0])
    assert site.get("/results/fl.svg").status_code == 401  # researchers only


def test_paired_differences_musicality_and_latex():
    from listening_test import figures

    rows = []
    for p in range(30):
        rows.append((p, None, 0, "genre", "jazz" if p < 20 else "folk", None, 1, "qualification", "real jazz", "jazz"))
        # blend: half jazz, half folk (FL 100); mle: all jazz (FL 0)
        rows.append((p, None, 1, "fusion", "jazz" if p % 2 else "folk", None, 2, "main", "blend", None))
        rows.append((p, None, 1, "musicality", "expert" if p < 20 else "robot", None, 2, "main", "blend", None))
        rows.append((p, None, 2, "fusion", "jazz", None, 3, "main", "mle", None))
    df = _frame(rows)
    d = figures.paired_differences(df, resamples=300).set_index(["system", "versus"])
    assert set(d.index) == {("blend", "mle"), ("mle", "blend")}
    assert d.loc[("blend", "mle"), "difference"] == pytest.approx(100.0)
    assert d.loc[("blend", "mle"), "ci_low"] > 50 and d.loc[("blend", "mle"), "p_le_0"] == 0.0
    assert d.loc[("mle", "blend"), "difference"] == pytest.approx(-100.0) and d.loc[("mle", "blend"), "p_le_0"] == 1.0
    m = figures.musicality(df).set_index(["system", "group"])
    assert m.loc[("blend", "qualified"), "expert"] == 100 and m.loc[("blend", "not qualified"), "robot"] == 100
    assert m.loc[("blend", "qualified"), "answers"] == 20 and np.isnan(m.loc[("rm", "qualified"), "expert"])
    table = analysis.table_ii(df, resamples=100)
    beside = figures.side_by_side(table)
    assert list(beside.system[:6]) == ["rm", "mle", "gan", "rl", "mc", "fusion"]  # the paper's order first
    tex = figures.latex(table)
    assert "\\begin{tabular}" in tex and "n/a" in tex and "nan" not in tex.replace("nan", "", 0)
    assert "nan" not in tex


@pytest.mark.data
@pytest.mark.browser
def test_the_figures_download_as_svg_and_png(fresh_survey_db, monkeypatch):
    """Kaleido drives the system's Chromium, offline; with answers, so that every figure has data."""
    from fastapi.testclient import TestClient

    from tests.test_listening_app import TOKEN, make_site

    monkeypatch.setenv("FUSION_RESEARCHER_TOKEN", TOKEN)
    monkeypatch.setenv("FUSION_STARTS_PER_HOUR", "0")
    site = TestClient(make_site(fresh_survey_db))
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    _crowd(site, fresh_survey_db, 4)
    for name in ("fl", "differences", "musicality"):
        svg = site.get(f"/results/{name}.svg", headers=bearer)
        assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml" and b"<svg" in svg.content[:500]
        png = site.get(f"/results/{name}.png", headers=bearer)
        assert png.status_code == 200 and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert site.get("/results/other.svg", headers=bearer).status_code == 400


def _crowd(api_client, database_url, n):
    """``n`` participants who finish, answering every question with its first choice."""
    from datetime import timedelta

    from fastapi.testclient import TestClient
    from sqlalchemy import update

    from listening_test import db
    from listening_test.db import Assignment

    for _ in range(n):
        c = TestClient(api_client.app)
        c.post("/survey/api/start", json={"consent": True})
        sessions = db.sessions(db.make_engine(database_url))
        with sessions() as s:
            s.execute(update(Assignment).values(served_at=db.now() - timedelta(minutes=1)))
            s.commit()
        state = c.get("/survey/api/state").json()
        while state["step"] != "done":
            state = c.post("/survey/api/answer", json={"position": state["position"], "question": state["question"],
                                                       "choice": state["choices"][0]}).json()
