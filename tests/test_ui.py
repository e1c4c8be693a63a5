"""The demo page's parts (ui/): links that carry a melody's settings, the first-run loading
banner, the session zip, and one log line per refused request."""
import io
import json
import logging
import zipfile
from urllib.parse import parse_qsl

import pretty_midi
import pytest

from fusion import demo as D
from fusion.melody import Melody, Note
from fusion.render import midi
from fusion.render.audio import Renderer
from ui import errors, links, loading, session


def test_a_link_brings_back_every_setting():
    s = D.Settings(system="blend", fusion=-0.35, bars=12, tempo=96, temperature=0.85, seed=123456, instrument="Alto Sax")
    q = links.query(s)
    assert q.startswith("?system=blend&") and "instrument=Alto+Sax" in q and "seed=123456" in q
    values, problems = links.read(dict(parse_qsl(q[1:])))
    assert problems == []
    assert D.Settings(**values).checked() == s.checked()


def test_bad_link_values_are_named_and_left_out():
    values, problems = links.read({"system": "polka", "bars": "500", "tempo": "100.5", "seed": "-3",
                                   "temperature": "nan", "fusion": "0.33", "instrument": "Kazoo", "other": "x"})
    assert values == {"fusion": 0.35}  # rounded to the slider's step
    assert [p.split("=")[0] for p in problems] == ["system", "bars", "tempo", "temperature", "seed", "instrument"]
    assert "bars=500: bars must be from 1 to 32" in problems[1]
    assert links.read({}) == ({}, [])
    assert links.describe({}) == ""
    assert "Press Generate" in links.describe({"seed": 4}) and "Press Generate" not in links.describe({"bars": 4})


def _status(**kw):
    base = dict(systems=("blend", "jazz"), data_ready=False, corpora=(), judge="training", error=None)
    return D.Status(**{**base, **kw})


def test_the_loading_banner_says_what_is_under_way_and_what_waits():
    text = loading.banner(_status(loading="folk", loading_seconds=75))
    assert "Essen" in text and "**reading now** (1 min 15 s so far)" in text
    assert "Weimar Jazz Database (real jazz solos): ready" in text
    assert "automatic judge (trained once per machine, then cached): waiting" in text
    assert "real excerpts" in text and not loading.real_ready(_status()) and not loading.settled(_status())
    assert "waiting to start" in loading.banner(_status())
    corpus = D.CorpusStatus("jazz", "csv", 1, 1, 1)
    judging = _status(data_ready=True, corpora=(corpus,), loading="judge", loading_seconds=3)
    assert "**training now** (3 s so far)" in loading.banner(judging) and loading.real_ready(judging)
    done = _status(data_ready=True, corpora=(corpus,), judge="ready")
    assert loading.banner(done) == "" and loading.settled(done)
    failed = _status(data_ready=True, judge="unavailable", error="FileNotFoundError: no wjazzd")
    assert "could not be loaded" in loading.banner(failed) and loading.settled(failed) and not loading.real_ready(failed)


def test_the_session_zip_holds_every_melody_with_its_settings(tmp_path):
    melodies = [Melody((Note(60 + i, 0.0, 1.0), Note(64 + i, 1.0, 1.0))) for i in range(3)]
    entries = [session.entry("generate", {"system": "blend", "seed": 10 + i, "instrument": "Flute"},
                             midi.midi_bytes(m, program=73), f"seed **{10 + i}**", f"?seed={10 + i}")
               for i, m in enumerate(melodies)]
    with Renderer() as renderer:
        path = session.write_zip(entries, renderer, tmp_path)
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        assert sorted(n for n in names if n.endswith("settings.json")) == \
            [f"0{i}-blend-seed{9 + i}/settings.json" for i in (1, 2, 3)]
        record = json.loads(z.read("02-blend-seed11/settings.json"))
        assert record["seed"] == 11 and record["link"] == "?seed=11" and record["kind"] == "generate"
        assert midi.midi_to_melody(z.read("03-blend-seed12/melody.mid")).pitches == melodies[2].pitches
        assert pretty_midi.PrettyMIDI(io.BytesIO(z.read("01-blend-seed10/melody.mid"))).instruments[0].program == 73
        assert z.getinfo("01-blend-seed10/melody.wav").file_size > 44100  # a second of 16-bit audio at least
        assert "seed 12" in z.read("README.txt").decode()
    with pytest.raises(ValueError, match="nothing made in this session yet"):
        session.write_zip([], None, tmp_path)
    with pytest.raises(ValueError, match="kind must be one of"):
        session.entry("remix", {}, b"")


def test_a_refusal_is_one_log_line_and_a_quiet_page_error(caplog):
    with caplog.at_level(logging.INFO, logger="fusiongan.app"):
        err = errors.refused("continue", ValueError("The file is empty.\nTry another."))
    assert err.print_exception is False and "The file is empty." in err.message
    assert [r.getMessage() for r in caplog.records] == ["refused continue: The file is empty. Try another."]
    assert caplog.records[0].name == "fusiongan.app"
