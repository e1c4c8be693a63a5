"""The demo engine (fusion/demo.py) in-process: generation, the fusion slider, continuation,
batches, the judge's verdict, and bad input."""
import io
import zipfile

import numpy as np
import pretty_midi
import pytest
from scipy.io import wavfile

from fusion import demo as D
from fusion import features
from fusion.evaluation import controls
from fusion.render import midi
from fusion.melody import Melody, Note


@pytest.fixture(scope="module")
def engine(wjazzd_dir, essen_dir, tmp_path_factory):
    return D.Demo(background=False, workdir=tmp_path_factory.mktemp("demo"))


def test_slider_weights():
    assert D.slider_weights(-1) == (1.0, 0.0, 0.0)
    assert D.slider_weights(0) == (0.0, 1.0, 0.0)
    assert D.slider_weights(1) == (0.0, 0.0, 1.0)
    assert D.slider_weights(0.25) == (0.0, 0.75, 0.25)
    assert D.slider_weights(-0.5) == (0.5, 0.5, 0.0)
    with pytest.raises(ValueError, match="fusion must be from -1.0 to 1.0"):
        D.slider_weights(1.5)


@pytest.mark.parametrize("field,value,message", [
    ("bars", 0, "bars must be from 1 to 32"), ("bars", 2.5, "whole number"), ("tempo", "fast", "tempo must be a number"),
    ("temperature", float("nan"), "temperature must be from"), ("seed", -1, "seed must be from"),
    ("system", "polka", "system must be one of"), ("instrument", "Kazoo", "instrument must be one of")])
def test_bad_settings_are_clear_errors(field, value, message):
    with pytest.raises(ValueError, match=message):
        D.Settings(**{field: value}).checked()


@pytest.mark.data
@pytest.mark.slow
def test_one_melody_with_everything_shown(engine):
    out = engine.generate(D.Settings(system="fusion", bars=8, tempo=120, seed=3, instrument="Alto Sax"))
    m = out.melodies[0]
    assert 0 < m.duration <= 32 + 1e-9 and m.tempo == 120
    assert m.span == 32  # 8 bars of 4/4, its final rest included
    rate, samples = out.samples
    seconds = len(samples) / rate
    assert 16 <= seconds <= 16 + 3  # 8 bars at 120 bpm = 16 s, plus the release
    assert np.sqrt(np.mean(samples.astype(float) ** 2)) > 100  # not silent
    import soundfile  # the page's MP3 and the download's WAV hold the same audio
    mp3, mp3_rate = soundfile.read(out.audio, dtype="int16")
    wav, wav_rate = soundfile.read(out.wav_path, dtype="int16")
    assert out.audio.suffix == ".mp3" and mp3_rate == wav_rate == rate
    assert np.array_equal(wav, samples) and abs(len(mp3) - len(wav)) < 0.1 * rate
    assert out.audio.stat().st_size < out.wav_path.stat().st_size / 5
    back = midi.midi_to_melody(out.midi_path)
    assert back.pitches == m.pitches
    assert pretty_midi.PrettyMIDI(str(out.midi_path)).instruments[0].program == D.INSTRUMENTS["Alto Sax"]
    assert len(out.roll.data) == 1 and len(out.roll.data[0].x) == len(m.notes)
    assert {t.name for t in out.histogram.data} >= {"real jazz", "real folk"}
    assert out.verdict.startswith("**The automatic judge hears ") and "P(jazz)" not in out.verdict
    assert "seed **3**" in out.provenance and "[model card](/models/fusion)" in out.provenance
    assert set(out.seconds) == {"sample", "audio_midi", "figures", "judge", "score", "total"}
    assert out.musicxml_path.parent == out.midi_path.parent and out.musicxml_path.suffix == ".musicxml"
    from music21 import converter

    written = converter.parse(str(out.musicxml_path))
    assert [n.pitch.midi for n in written.stripTies().flatten().notes] == m.pitches
    assert len(written.parts[0].getElementsByClass("Measure")) == 8
    assert out.score_svg.count('class="score-page"') == 2  # the wide and the narrow layout


@pytest.mark.data
@pytest.mark.slow
def test_same_settings_and_seed_give_the_same_midi(engine):
    s = D.Settings(system="gan", bars=4, seed=11, temperature=0.9)
    a, b = engine.generate(s), engine.generate(s)
    assert a.midi_path.read_bytes() == b.midi_path.read_bytes()
    c = engine.generate(D.Settings(system="gan", bars=4, seed=12, temperature=0.9))
    assert c.melodies[0].notes != a.melodies[0].notes


@pytest.mark.data
@pytest.mark.slow
def test_slider_middle_is_the_midpoint_system(engine):
    s = D.Settings(system=D.MIDPOINT, fusion=0.0, bars=4, seed=5)
    assert engine._sample(s, 3, None) == engine.systems[D.MIDPOINT].sample(3, bars=4, seed=5)
    # the slider applies to the midpoint system only
    other = D.Settings(system="fusion", fusion=1.0, bars=4, seed=5)
    assert engine._sample(other, 3, None) == engine.systems["fusion"].sample(3, bars=4, seed=5)


@pytest.mark.parametrize("position,genre,other", [(-1.0, "jazz", "folk"), (1.0, "folk", "jazz")])
@pytest.mark.data
@pytest.mark.slow
def test_slider_extremes_sound_like_their_genre(engine, position, genre, other):
    mels = engine._sample(D.Settings(system=D.MIDPOINT, fusion=position, bars=4, seed=2), 80, None)
    pc, du = features.NPD.histogram(mels), D.duration_classes(mels)
    real_pc, real_du = engine.real_histograms[genre]
    far_pc, far_du = engine.real_histograms[other]
    assert np.linalg.norm(pc - real_pc) < np.linalg.norm(pc - far_pc)
    assert np.linalg.norm(du - real_du) < np.linalg.norm(du - far_du)


@pytest.mark.data
@pytest.mark.slow
def test_real_excerpts_are_held_out_and_of_the_asked_length(engine):
    out = engine.generate(D.Settings(system="real folk", bars=4, seed=1))
    m = out.melodies[0]
    assert m.duration <= 4 * m.bar_beats + 1e-9 and len(m.notes) >= 2
    test_ids = {p.source_id for p in engine.corpora["folk"].pieces["test"]}
    assert m.source_id in test_ids
    assert "test split" in out.provenance


@pytest.mark.data
@pytest.mark.slow
@pytest.mark.parametrize("seed", [4, 5])
def test_real_fusions_are_made_of_held_out_music_of_both_genres(engine, seed):
    test_ids = {g: {p.source_id for p in engine.corpora[g].pieces["test"]} for g in ("jazz", "folk")}
    medley = engine.generate(D.Settings(system="real medley", bars=4, seed=seed)).melodies[0]
    first, second = medley.extra["way"]
    assert {first, second} == {"jazz", "folk"} and medley.title.startswith("real medley")
    assert [medley.extra["sources"][i] in test_ids[g] for i, g in enumerate((first, second))] == [True, True]
    out = engine.generate(D.Settings(system="real hybrid", bars=4, seed=seed))
    hybrid = out.melodies[0]
    rhythm, tune = hybrid.extra["way"]
    assert (rhythm, tune) == (first, second) == controls.order(0, seed)  # seed 4 jazz first, seed 5 folk first
    src_rhythm, src_tune = hybrid.extra["sources"]
    assert src_rhythm in test_ids[rhythm] and src_tune in test_ids[tune]
    piece = next(p for p in engine.corpora[tune].pieces["test"] if p.source_id == src_tune)
    line = "".join(chr(p) for p in piece.pitches)  # the hybrid's pitches are a run of its tune's, in order
    assert "".join(chr(p) for p in hybrid.pitches) in line
    assert "no model" in out.provenance and len(hybrid.notes) >= 2


@pytest.mark.data
@pytest.mark.slow
def test_continue_a_real_excerpt_and_an_uploaded_file(engine, tmp_path):
    primer = engine.real_excerpts("jazz", 1, 4, seed=3)[0]
    out = engine.generate(D.Settings(system="mle", bars=2, seed=1), primer=primer)
    m = out.melodies[0]
    assert m.notes[: len(primer.notes)] == primer.quantize().notes
    assert m.duration > primer.duration
    # an upload in E major: transposed to C for the model and back to E
    e_major = Melody(notes=tuple(Note(64 + p, float(i), 1.0) for i, p in enumerate([0, 2, 4, 5, 7, 9, 11, 12] * 2)))
    path = midi.save_midi(e_major, tmp_path / "scale.mid")
    p, back = engine.primer_from_midi(str(path))
    assert back == 4 and p.pitches[:3] == [60, 62, 64]
    out = engine.generate(D.Settings(system="folk", bars=2, seed=1), primer=p, shift_back=back)
    assert out.melodies[0].pitches[:16] == e_major.pitches[:16]


@pytest.mark.parametrize("content,error", [
    (b"", midi.MidiFileError), (b"hello, I am not a MIDI file", midi.NotMidiError),
    (b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01\xe0MTrk\x00\x00\xff\xff", midi.MidiFileError)])
@pytest.mark.data
@pytest.mark.slow
def test_bad_uploads_are_clear_errors(engine, tmp_path, content, error):
    path = tmp_path / "upload.mid"
    path.write_bytes(content)
    with pytest.raises(error):
        engine.primer_from_midi(str(path))


@pytest.mark.data
@pytest.mark.slow
def test_drum_only_and_oversized_uploads(engine, tmp_path):
    pm = pretty_midi.PrettyMIDI()
    drums = pretty_midi.Instrument(program=0, is_drum=True)
    drums.notes.append(pretty_midi.Note(velocity=100, pitch=36, start=0, end=0.5))
    pm.instruments.append(drums)
    path = tmp_path / "drums.mid"
    pm.write(str(path))
    with pytest.raises(midi.DrumOnlyError, match="only drum notes"):
        engine.primer_from_midi(str(path))
    big = tmp_path / "big.mid"
    big.write_bytes(b"MThd" + b"\x00" * (midi.MAX_MIDI_BYTES + 10))
    with pytest.raises(midi.MidiTooLargeError):
        engine.primer_from_midi(str(big))


@pytest.mark.data
@pytest.mark.slow
def test_batch_zip_of_midi_and_wav(engine):
    steps = []
    path, mels = engine.batch(D.Settings(system="rl", bars=2, seed=7), 3, progress=lambda f, desc="": steps.append(f))
    assert len(mels) == 3 and steps[-1] == 1.0 and len(steps) == 4
    with zipfile.ZipFile(path) as z:
        names = sorted(z.namelist())
        assert names == sorted([f"0{i}-rl-seed{6 + i}.{ext}" for i in (1, 2, 3) for ext in ("mid", "wav")] + ["README.txt"])
        rate, data = wavfile.read(io.BytesIO(z.read("01-rl-seed7.wav")))
        assert rate == 44100 and np.abs(data).max() > 1000
        assert midi.midi_to_melody(z.read("02-rl-seed8.mid")).pitches == mels[1].pitches
    assert engine.verdict(mels).startswith(f"**The automatic judge on the batch of {len(mels)}:**")
    _, outs = engine.batch_outputs(D.Settings(system="rl", bars=2, seed=7), 3)
    assert [o.melodies[0] for o in outs] == mels  # the same melodies, each with its own answer
    assert all(o.verdict.startswith("**The automatic judge hears ") and o.audio.stat().st_size and not o.score_svg
               for o in outs)


@pytest.mark.data
@pytest.mark.slow
def test_compare_is_the_same_seed_at_the_slider_s_ends_and_middle(engine):
    outs = engine.compare(D.Settings(system="gan", fusion=0.3, bars=2, seed=4))
    expected = [engine.generate(D.Settings(system=D.MIDPOINT, fusion=f, bars=2, seed=4)).melodies[0]
                for f in D.COMPARE]
    assert [o.melodies[0] for o in outs] == expected
    assert len({o.melodies[0].notes for o in outs}) == 3
    assert all(o.score_svg.count('class="score-page"') == 1 and 'data-layout="narrow"' in o.score_svg for o in outs)


@pytest.mark.data
@pytest.mark.slow
def test_a_continuation_marks_the_new_bars_in_roll_and_score(engine):
    primer = engine.real_excerpts("folk", 1, 4, 3)[0]
    out = engine.generate(D.Settings(system="fusion", bars=2, seed=1), primer=primer)
    end = D.primer_end(primer)
    m = out.melodies[0]
    assert m.notes[:len(primer.quantize().notes)] == primer.quantize().notes
    colours = list(out.roll.data[0].marker.color)
    assert colours == ["#9a9a9a" if n.onset < end else "#4c72b0" for n in m.notes]
    assert any(a.text.startswith("new bars") and a.x == end for a in out.roll.layout.annotations)
    xml = out.musicxml_path.read_text()
    assert xml.count("<words") == 1 and "new bars" in xml
    assert len(out.score_svg) and "new bars" in out.score_svg


# what is written beside a melody: plain functions of their inputs; what the page is told ---------------
class _StubJudge:
    """Answers like fusion.evaluation.judge.Judge.judge, one fixed verdict per melody."""

    def judge(self, melodies):
        return [{"label": "mixture", "p_jazz": 0.5, "ood": 1.0, "threshold": 3.0,
                 "opinions": {"pitch": 0.8, "rhythm": 0.2, "none": None}} for _ in melodies]


def test_verdict_is_a_plain_function():
    m = Melody((Note(60, 0.0, 1.0),))
    assert "being trained" in D.verdict([m], None, ready=False)
    assert D.verdict([m], None, ready=True, error="OSError: no data") == \
        "*The automatic judge is not available: OSError: no data*"
    one = D.verdict([m], _StubJudge())  # plain words: no "P(jazz) = 0.50", no file paths
    assert one.startswith("**The automatic judge hears a mixture of jazz and folk.** Its pitch sounds like jazz; "
                          "its rhythm sounds like folk. Overall it leans to 50% jazz. It sounds like ordinary music")
    assert "unusualness 1.0: how far it is from the real melodies" in one and "P(jazz)" not in one and ".md" not in one
    assert D.verdict([m, m], _StubJudge()) == ("**The automatic judge on the batch of 2:** 0 heard as jazz, 0 heard as "
                                               "folk, 2 heard as a mixture, 0 heard as neither. On average they lean "
                                               "50% to jazz.")


def test_provenance_is_a_plain_function():
    s = D.Settings(system=D.MIDPOINT, fusion=-0.5, bars=4, seed=9, instrument="Violin").checked()
    text = D.provenance(s, 3, "Continues a file.", {"command": "python -m fusion train", "commit": {"commit": "abcdef123"}})
    assert f"trained by `python -m fusion train` at commit `abcdef1` ([model card](/models/{D.MIDPOINT})" in text
    assert "checkpoints/" not in text  # a link, not a file path
    assert "fusion slider -0.50 (weights jazz 0.50" in text and "seeds 9..11" in text
    assert text.endswith("Continues a file.")
    assert "trained by `?` at commit `?`" in D.provenance(D.Settings(system="gan"), 1)
    assert "test split" in D.provenance(D.Settings(system="real jazz"), 1)


def test_status_says_what_is_loaded(engine):
    st = engine.status()
    assert set(st.systems) == set(engine.systems) and "fusion" in st.systems
    assert st.data_ready and st.error is None and st.judge == "ready" and st.judge_ready
    assert [c.genre for c in st.corpora] == ["jazz", "folk"]
    assert all(c.read >= c.kept > 0 and c.notes > 0 for c in st.corpora)


def test_an_uploaded_file_is_continued_from_its_last_note(tmp_path):
    """A file whose music ends mid-bar (17.5 beats): the primer is the last four bars up to that
    end, so no note is dropped, and it spans whole bars, so the new bars start on a bar line."""
    import pretty_midi

    pm = pretty_midi.PrettyMIDI(initial_tempo=120)
    piano = pretty_midi.Instrument(program=0)
    scale = [60, 62, 64, 65, 67, 69, 71, 72]
    piano.notes += [pretty_midi.Note(90, scale[i % 8], i * 0.5, i * 0.5 + 0.25) for i in range(18)]  # a note on each beat, the last ending at 17.5
    pm.instruments.append(piano)
    pm.write(str(tmp_path / "tune.mid"))
    primer, back = D.Demo.primer_from_midi(str(tmp_path / "tune.mid"))
    assert primer.span == 16 and primer.notes[-1].onset == 13.0  # beats 4..20 of the file, shifted to 0
    assert len(primer.notes) == 14  # the notes of beats 4..17.5; before, bars 0..16 were kept and 17.5 lost
    assert D.primer_end(primer) == 16
