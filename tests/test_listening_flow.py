"""The survey flow (listening_test/flow.py) on a real SQLite database: assignment, order, every
answer rule, identity (secrets, platform ids, resume codes), resuming."""
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from listening_test import db
from listening_test.db import Answer, Assignment, Stimulus
from listening_test.flow import MAIN_GROUPS, Design, Ids, Survey, SurveyError, normalise_id, secret_hash


@pytest.fixture
def survey(fresh_survey_db):
    return Survey(db.sessions(db.make_engine(fresh_survey_db)))


def _start(survey, pid=None):
    """A new attempt after consent: its state, with its browser secret under ``token``."""
    state, secret = survey.begin(None, Ids.of(pid), consent=True)
    assert secret and "token" not in state and secret not in str(state)
    return {**state, "token": secret}


def _served_long_ago(survey, token):
    """Mark every clip of the participant as served a minute ago (the listening rule has its own test)."""
    with survey.sessions() as s:
        pid = s.scalar(select(db.Participant.id).where(db.Participant.secret_hash == secret_hash(token)))
        for a in s.scalars(select(Assignment).where(Assignment.participant_id == pid)):
            a.served_at = db.now() - timedelta(minutes=1)
        s.commit()


def _finish(survey, state, choose=lambda st: st["choices"][0]):
    token = state["token"]
    _served_long_ago(survey, token)
    while state["step"] != "done":
        state = survey.answer(token, state["position"], state["question"], choose(state))
    return state


def _clips(survey, token):
    with survey.sessions() as s:
        pid = s.scalar(select(db.Participant.id).where(db.Participant.secret_hash == secret_hash(token)))
        return s.execute(select(Assignment.position, Assignment.phase, Stimulus.role, Stimulus.system)
                         .join(Stimulus, Stimulus.id == Assignment.stimulus_id)
                         .where(Assignment.participant_id == pid).order_by(Assignment.position)).all()


@pytest.mark.data
def test_each_participant_hears_one_clip_of_every_system_and_control(survey):
    design = Design()
    for _ in range(5):
        st = _start(survey)
        clips = _clips(survey, st["token"])
        assert [c.phase for c in clips[:design.qualification]] == ["qualification"] * design.qualification
        genres = Counter(c.system for c in clips[:design.qualification])  # both genres, as evenly as 3 allows
        assert sorted(genres) == ["real folk", "real jazz"] and sorted(genres.values()) == [1, 2]
        main = [c for c in clips if c.phase == "main"]
        assert Counter(c.system for c in main if c.role == "main") == Counter(MAIN_GROUPS)
        catch = [i for i, c in enumerate(main) if c.role == "catch"]
        assert len(catch) == design.catch
        assert 0 < catch[0] and catch[-1] < len(main) - 1 and catch[1] - catch[0] > 1  # spread through
        assert st["step"] == "qualification" and st["position"] == 0 and st["question"] == "genre"
        assert st["clips"] == design.qualification + len(MAIN_GROUPS) + design.catch


@pytest.mark.data
def test_a_pool_prepared_before_a_system_joined_keeps_its_survey_running(survey):
    # a live survey's pool cannot be replaced once participants started (stimuli.prepare refuses),
    # so a system that joins the test later (Hybrid, 2026-12-07) must not stop the survey's starts
    with survey.sessions() as s:
        s.query(Stimulus).filter(Stimulus.role == "main", Stimulus.system == "hybrid").delete()
        s.commit()
    design = Design()
    st = _start(survey)
    main = [c.system for c in _clips(survey, st["token"]) if c.phase == "main" and c.role == "main"]
    assert Counter(main) == Counter(g for g in MAIN_GROUPS if g != "hybrid")
    assert st["clips"] == design.qualification + len(MAIN_GROUPS) - 1 + design.catch
    assert survey.minutes() >= 1
    done = _finish(survey, st)
    assert done["step"] == "done" and done["answered"] == 3 + 2 * (len(MAIN_GROUPS) - 1 + 2)


@pytest.mark.data
def test_orders_differ_and_clips_are_used_evenly(survey):
    orders = [tuple(c.system for c in _clips(survey, _start(survey)["token"])) for _ in range(6)]
    assert len(set(orders)) > 1
    with survey.sessions() as s:
        per_clip = Counter(dict(s.execute(select(Assignment.stimulus_id, func.count()).join(Stimulus)
                                          .where(Stimulus.role == "main").group_by(Assignment.stimulus_id)).all()))
    assert max(per_clip.values()) - min(per_clip.values()) <= 1  # 2 clips per system, 6 participants: 3 each


@pytest.mark.data
def test_the_path_to_a_completion_code(survey):
    st = _start(survey, "PID-1")
    token = st["token"]
    seen = [(st["step"], st["question"])]
    _served_long_ago(survey, token)
    while st["step"] != "done":
        st = survey.answer(token, st["position"], st["question"], st["choices"][-1])
        seen.append((st["step"], st.get("question")))
    assert st["completion_code"] and len(st["completion_code"]) == 10 and "completion_url" not in st
    assert seen[:4] == [("qualification", "genre")] * 3 + [("main", "fusion")]
    assert seen[4] == ("main", "musicality")
    assert st["answered"] == st["questions"] == 3 + 2 * (len(MAIN_GROUPS) + 2)


@pytest.mark.data
def test_the_browser_secret_resumes_and_a_platform_id_is_never_a_password(survey):
    st = _start(survey, "PROLIFIC-42")
    _served_long_ago(survey, st["token"])
    survey.answer(st["token"], 0, "genre", "jazz")
    again, new = survey.begin(st["token"], Ids.of(" prolific-42 "))  # the same browser, the same (normalised) id
    assert new is None and again["position"] == 1 and again["resume_code"] == st["resume_code"]
    assert survey.begin(st["token"])[0]["position"] == 1  # no id in the link: the browser's attempt
    for other_browser in (None, "x" * 24):  # another browser with the same PID gets a message, not the session
        with pytest.raises(SurveyError, match="already started the survey in another browser") as info:
            survey.begin(other_browser, Ids.of("PROLIFIC-42"), consent=True)
        assert info.value.status == 409 and info.value.reason == "elsewhere"
    # a shared computer: the next person's PID starts a new attempt, never the first person's
    nxt, secret = survey.begin(st["token"], Ids.of("someone-else"), consent=True)
    assert secret and nxt["position"] == 0 and nxt["resume_code"] != st["resume_code"]
    consent, none = survey.begin(None, Ids.of("someone-new"))
    assert none is None and consent["step"] == "consent" and consent["minutes"] == survey.minutes()
    assert "study's description" in consent["contact"]
    assert Survey(survey.sessions, contact="study@example.org").begin(None)[0]["contact"] == "study@example.org"


@pytest.mark.data
def test_a_resume_code_moves_the_attempt_to_a_second_device(survey):
    st = _start(survey, "pid-7")
    _served_long_ago(survey, st["token"])
    survey.answer(st["token"], 0, "genre", "folk")
    code = st["resume_code"]
    assert len(code) == 11 and code[5] == "-"
    moved, secret = survey.resume(code.lower().replace("-", " "), Ids.of("PID-7"))
    assert moved["position"] == 1 and secret != st["token"]
    assert survey.state(secret)["position"] == 1
    with pytest.raises(SurveyError, match="No survey is open in this browser") as info:
        survey.state(st["token"])  # the first device's secret stopped working
    assert info.value.status == 401
    with pytest.raises(SurveyError, match="belongs to another participant id"):
        survey.resume(code, Ids.of("pid-8"))
    for bad, message in (("ABCDE-FGHJK", "no attempt has this resume code"), ("short", "a resume code has")):
        with pytest.raises(SurveyError, match=message):
            survey.resume(bad)


@pytest.mark.parametrize("raw, stored", [("ABC", "abc"), ("  abc\t", "abc"), ("ＡＢＣ", "abc"), ("", None), (None, None)])
def test_platform_ids_are_normalised(raw, stored):
    assert normalise_id(raw) == stored


@pytest.mark.parametrize("bad", ["a b", "x" * 65, "a\x00b", "\ud800", 12, ["a"]])
def test_bad_platform_ids_are_refused(bad):
    with pytest.raises(SurveyError, match="participant id must be") as info:
        normalise_id(bad, "the participant id")
    assert info.value.status == 400


def _count(survey):
    with survey.sessions() as s:
        return s.scalar(select(func.count()).select_from(Answer))


@pytest.mark.data
def test_forged_and_bad_answers_are_refused_and_change_nothing(survey):
    a, b = _start(survey), _start(survey)
    _served_long_ago(survey, a["token"])
    cases = [
        (("no-such-token", 0, "genre", "jazz"), 401, "No survey is open in this browser"),
        (("x" * 24, 0, "genre", "jazz"), 401, "No survey is open in this browser"),
        ((a["token"], 0, "genre", "mixture"), 400, "not an answer to this question"),
        ((a["token"], 0, "tempo", "fast"), 400, "unknown question"),
        ((a["token"], "zero", "genre", "jazz"), 400, "whole number"),
        ((a["token"], True, "genre", "jazz"), 400, "whole number"),
        ((a["token"], 1, "genre", "jazz"), 409, "answer in order"),
        ((a["token"], 99, "fusion", "jazz"), 409, "not assigned to you"),
        ((a["token"], 0, "musicality", "robot"), 409, "not assigned to you"),
        ((b["token"], 0, "genre", "jazz"), 425, "play the clip"),  # b never fetched the audio
    ]
    for args, status, message in cases:
        with pytest.raises(SurveyError, match=message) as info:
            survey.answer(*args)
        assert info.value.status == status
    assert _count(survey) == 0


@pytest.mark.data
def test_an_answer_before_the_clip_has_been_heard_is_refused(survey):
    st = _start(survey)
    survey.audio(st["token"], 0)  # served now; the clips last one second
    with pytest.raises(SurveyError, match="listen to the whole clip") as info:
        survey.answer(st["token"], 0, "genre", "jazz")
    assert info.value.status == 425 and _count(survey) == 0
    import time

    time.sleep(1.0)
    assert survey.answer(st["token"], 0, "genre", "jazz")["position"] == 1


@pytest.mark.data
def test_retries_are_idempotent_and_answers_cannot_change(survey):
    st = _start(survey)
    _served_long_ago(survey, st["token"])
    first = survey.answer(st["token"], 0, "genre", "folk")
    again = survey.answer(st["token"], 0, "genre", "folk")
    assert first["repeated"] is False and again["repeated"] is True
    assert again["position"] == first["position"] == 1 and _count(survey) == 1
    with pytest.raises(SurveyError, match="already answered") as info:
        survey.answer(st["token"], 0, "genre", "jazz")
    assert info.value.status == 409 and _count(survey) == 1


@pytest.mark.data
def test_audio_only_for_ones_own_current_or_earlier_clips(survey):
    a, b = _start(survey), _start(survey)
    wav = survey.stimulus_audio(survey.audio(a["token"], 0))
    assert wav[:4] == b"RIFF" and wav[8:12] == b"WAVE"
    with pytest.raises(SurveyError, match="answer the current clip first"):
        survey.audio(a["token"], 5)
    with pytest.raises(SurveyError, match="not assigned"):
        survey.audio(a["token"], 500)
    with pytest.raises(SurveyError, match="No survey is open"):
        survey.audio("forged", 0)
    assert survey.stimulus_audio(survey.audio(b["token"], 0))[:4] == b"RIFF"


def test_an_empty_pool_is_a_clear_error(tmp_path):
    empty = Survey(db.sessions(db.make_engine(f"sqlite:///{tmp_path / 'empty.sqlite'}")))
    with pytest.raises(SurveyError, match="not prepared") as info:
        empty.begin(None, consent=True)
    assert info.value.status == 503
    closed, secret = empty.begin(None)  # the page says so before consent, and how to prepare
    assert secret is None and closed["step"] == "closed" and "python -m listening_test prepare" in closed["message"]


@pytest.mark.data
def test_every_clip_has_the_same_length(survey):
    with survey.sessions() as s:
        lengths = set(s.scalars(select(Stimulus.seconds)))
        sizes = {len(w) for w in s.scalars(select(Stimulus.audio))}
    assert lengths == {1.0} and len(sizes) == 1


@pytest.mark.data
def test_the_sound_check_is_recorded_and_examples_are_not_ones_own_clips(survey):
    st = _start(survey)
    n = survey.sound_check_count(st["token"])
    assert 3 <= n <= 6 and survey.sound_check_count(st["token"]) == n
    assert survey.check_sound(st["token"], n + 1) is False and survey.state(st["token"])["sound_check"] == "failed"
    assert survey.check_sound(st["token"], n) is True and survey.state(st["token"])["sound_check"] == "passed"
    with survey.sessions() as s:
        assert s.scalar(select(db.Participant.sound_tries)) == 2
    for token in [st["token"]] + [_start(survey)["token"] for _ in range(7)]:  # every attempt has both
        mine = {c.stimulus_id for c in survey._load(survey.sessions(), token).clips}
        for genre in ("jazz", "folk"):
            sid = survey.example(token, genre)
            assert sid not in mine
            with survey.sessions() as s:
                assert s.get(Stimulus, sid).genre == genre and s.get(Stimulus, sid).role == "qualification"


@pytest.mark.data
def test_the_headphone_check_is_seeded_and_recorded(survey):
    st = _start(survey)
    trials = survey.headphone_trials(st["token"])
    assert trials == survey.headphone_trials(st["token"]) and len(trials) == 6
    assert all(sorted(t) == ["antiphase", "normal", "quiet"] for t in trials) and len(set(trials)) > 1
    right = [t.index("quiet") + 1 for t in trials]
    wrong = [r % 3 + 1 for r in right]
    assert survey.check_headphones(st["token"], wrong[:2] + right[2:]) is False  # 4 of 6
    assert survey.state(st["token"])["headphone_check"] == "failed 4/6"
    assert survey.check_headphones(st["token"], wrong[:1] + right[1:]) is True  # 5 of 6 passes
    assert survey.state(st["token"])["headphone_check"] == "passed 5/6"
    with pytest.raises(SurveyError, match="all 6 trials"):
        survey.check_headphones(st["token"], right[:3])


def test_an_antiphase_trial_cancels_on_loudspeakers_and_not_on_headphones():
    import io

    import numpy as np
    from scipy.io import wavfile

    from listening_test import web

    rate, x = wavfile.read(io.BytesIO(web.antiphase_trial(("quiet", "antiphase", "normal"))))
    assert x.ndim == 2 and x.shape[1] == 2
    x = x.astype(float)
    start = [round((0.3 + k * 1.3) * rate) for k in range(3)]  # 0.3 s lead-in, 0.8 s tones, 0.5 s gaps
    segments = [x[a:a + round(0.8 * rate)] for a in start]
    assert len(x) == round(0.3 * rate) + 3 * (round(0.8 * rate) + round(0.5 * rate))
    per_ear = [np.sqrt((s[:, 0] ** 2).mean()) for s in segments]  # what one headphone plays
    in_the_room = [np.sqrt(((s[:, 0] + s[:, 1]) ** 2).mean()) for s in segments]  # both speakers summed
    assert np.argmin(per_ear) == 0 and np.argmin(in_the_room) == 1
    assert per_ear[0] == pytest.approx(per_ear[2] / 2, rel=0.02) and in_the_room[1] < 1e-6 * in_the_room[2]


def test_a_database_of_the_old_schema_is_rebuilt_if_empty_and_refused_if_someone_started(tmp_path):
    import sqlite3

    for started in (False, True):
        path = tmp_path / f"old-{started}.sqlite"
        con = sqlite3.connect(path)  # the participants table as it was before the attempt's secret
        con.execute("CREATE TABLE participants (id INTEGER PRIMARY KEY, token VARCHAR(64), external_id VARCHAR(128), "
                    "seed INTEGER, completion_code VARCHAR(32), created_at DATETIME, finished_at DATETIME)")
        if started:
            con.execute("INSERT INTO participants VALUES (1, 'tok', 'pid', 1, 'CODE', '2026-01-01', NULL)")
        con.commit()
        con.close()
        if started:
            with pytest.raises(db.SchemaError, match="holds 1 participants: keep it for its answers"):
                db.make_engine(f"sqlite:///{path}")
            assert sqlite3.connect(path).execute("SELECT count(*) FROM participants").fetchone() == (1,)
        else:
            engine = db.make_engine(f"sqlite:///{path}")
            columns = {c[1] for c in sqlite3.connect(path).execute("PRAGMA table_info(participants)")}
            assert {"secret_hash", "resume_code", "device", "headphone_check"} <= columns
            engine.dispose()


def test_prepare_refuses_too_few_qualification_clips_for_the_step_and_its_examples(capsys, tmp_path, monkeypatch):
    """Two per genre would leave a participant with two clips of one genre no labelled example of it."""
    from listening_test import cli

    monkeypatch.setenv("FUSION_SURVEY_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert cli.main(["prepare", "--qualification", "2"]) == 1
    assert "--qualification must be in 3..1000" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())  # refused before anything was made
