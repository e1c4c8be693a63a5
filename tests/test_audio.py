"""fusion.render.audio: real FluidSynth renders with the SoundFont bundled in pretty_midi."""
from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pretty_midi  # noqa: E402
import pytest  # noqa: E402
from scipy.io import wavfile  # noqa: E402

PROJECT_ROOT = Path(__file__).resolve().parent.parent

from fusion.render import audio  # noqa: E402
from fusion.melody import Melody, Note  # noqa: E402
from fusion.render.midi import melody_to_midi  # noqa: E402

SR = 44100
TAIL_S = 2.5  # allowed release tail after the last note


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def tune(rest: float = 1.0) -> Melody:
    """A leading rest of ``rest`` beats, then eighths and quarters in G major, 10 beats long."""
    notes, t = [], rest
    for pitch, beats in [(67, 0.5), (71, 0.5), (74, 1), (72, 0.5), (71, 0.5), (69, 1),
                         (67, 0.5), (66, 0.5), (67, 2), (62, 2)]:
        notes.append(Note(pitch, t, beats))
        t += beats
    return Melody(notes=tuple(notes), tempo=120, meter=(4, 4), title="tune")


def sustained_chords() -> Melody:
    """Long, loud notes to leave a tail in the synthesizer (rendered with strings)."""
    return Melody(notes=tuple(Note(p, i * 2.0, 2.0) for i, p in enumerate([48, 55, 84, 36])),
                  tempo=60)


@pytest.fixture(scope="module")
def renderer():
    with audio.Renderer() as r:
        yield r


# -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("tempo", [60, 120, 200])
def test_render_is_audible_and_as_long_as_the_melody(renderer, tempo):
    melody = tune()
    out = renderer.render(melody, tempo=tempo)
    assert out.dtype == np.float32 and out.ndim == 1
    assert np.abs(out).max() <= 1.0
    assert rms(out) > 0.02
    expected = melody.duration * 60 / tempo
    seconds = len(out) / SR
    assert expected <= seconds <= expected + TAIL_S


def test_melody_tempo_is_the_default(renderer):
    slow = tune().replace(tempo=60)
    assert len(renderer.render(slow)) == len(renderer.render(tune(), tempo=60))
    assert len(renderer.render(slow)) > 1.5 * len(renderer.render(slow.replace(tempo=120)))


def test_leading_rest_is_silent_and_the_first_note_sounds_on_time(renderer):
    melody = tune(rest=2.0)  # first note at beat 2 = 1.0 s at 120 bpm
    out = renderer.render(melody)
    assert np.abs(out[: int(0.95 * SR)]).max() < 1e-3
    assert rms(out[int(1.0 * SR): int(1.25 * SR)]) > 0.02


def test_same_renderer_gives_the_same_audio_twice(renderer):
    first = renderer.render(tune())
    second = renderer.render(tune())
    assert first.shape == second.shape
    assert np.abs(first - second).max() < 2e-3  # at most a couple of dither LSBs


def test_previous_render_does_not_bleed_into_the_next(renderer):
    reference = renderer.render(tune())
    renderer.render(sustained_chords(), program=48)  # strings: long release tails
    after = renderer.render(tune())
    assert after.shape == reference.shape
    assert rms(after - reference) < 1e-2 * rms(reference)
    with audio.Renderer() as fresh:
        assert rms(fresh.render(tune()) - reference) < 1e-2 * rms(reference)


def test_first_render_of_a_fresh_renderer_matches_a_used_one(renderer):
    """Voice slots keep traces of earlier notes; the reset gives them all the same history."""
    renderer.render(tune(rest=0.5).transpose(-5), program=0)
    used = renderer.render(tune())
    with audio.Renderer() as fresh:
        first = fresh.render(tune())
    assert np.abs(first - used).max() < 2e-3


def test_different_programs_give_different_audio(renderer):
    piano = renderer.render(tune(), program=0)
    flute = renderer.render(tune(), program=73)
    sax = renderer.render(tune(), program=65)
    assert piano.shape == flute.shape == sax.shape
    for a, b in [(piano, flute), (piano, sax), (flute, sax)]:
        assert rms(a - b) > 0.2 * rms(a)
    # and the instrument is audible as a different spectrum, not only a different waveform
    def centroid(x):
        spectrum = np.abs(np.fft.rfft(x))
        return float((spectrum * np.fft.rfftfreq(len(x), 1 / SR)).sum() / spectrum.sum())
    assert abs(centroid(piano) - centroid(flute)) > 50


def test_invalid_program_is_rejected(renderer):
    with pytest.raises(ValueError):
        renderer.render(tune(), program=128)


def test_too_long_music_is_refused_before_rendering():
    with audio.Renderer(max_seconds=60) as r:
        long_melody = Melody(notes=(Note(60, 0.0, 1.0), Note(62, 130.0, 1.0)), tempo=120)  # 65.5 s
        with pytest.raises(ValueError, match="minutes"):
            r.render(long_melody)
        assert rms(r.render(long_melody, tempo=240)) > 0.001  # 32.75 s is fine


def test_empty_melody_gives_one_second_of_silence(renderer):
    out = renderer.render(Melody(notes=()))
    assert out.dtype == np.float32 and len(out) == SR and not out.any()


def test_render_pretty_midi_with_its_own_program_or_an_override(renderer):
    pm = melody_to_midi(tune(), program=73)
    own = renderer.render(pm)
    flute = renderer.render(tune(), program=73)
    assert np.abs(own - flute).max() < 2e-3
    piano = renderer.render(pm, program=0)
    assert rms(piano - own) > 0.2 * rms(own)
    assert pm.instruments[0].program == 73  # the caller's object is not changed
    with pytest.raises(ValueError):
        renderer.render(pm, tempo=100)
    with pytest.raises(TypeError):
        renderer.render("tune.mid")


def test_drums_in_a_pretty_midi_are_rendered(renderer):
    pm = pretty_midi.PrettyMIDI(initial_tempo=120)
    drums = pretty_midi.Instrument(program=0, is_drum=True)
    drums.notes += [pretty_midi.Note(110, 38, i * 0.5, i * 0.5 + 0.1) for i in range(4)]
    pm.instruments.append(drums)
    out = renderer.render(pm)
    assert rms(out) > 0.005 and 2.0 <= len(out) / SR <= 2.0 + TAIL_S


def test_other_sample_rate(tmp_path):
    with audio.Renderer(sample_rate=22050) as r:
        out = r.render(tune())
        expected = tune().duration * 60 / 120
        assert expected <= len(out) / 22050 <= expected + TAIL_S
        assert r.to_gradio(out)[0] == 22050
        path = r.write_wav(out, tmp_path / "low.wav")
    rate, data = wavfile.read(str(path))
    assert rate == 22050 and len(data) == len(out)


def test_effects_on_still_renders_the_melody():
    with audio.Renderer(effects=True) as wet, audio.Renderer() as dry:
        a, b = wet.render(tune(), program=48), dry.render(tune(), program=48)
    expected = tune().duration * 60 / 120
    assert expected <= len(a) / SR <= expected + TAIL_S and rms(a) > 0.02
    assert rms(a - b) > 0.05 * rms(b)  # reverb and chorus change the sound


def test_bad_sample_rate_is_rejected():
    with pytest.raises(ValueError):
        audio.Renderer(sample_rate=100)


# -------------------------------------------------------------------------------------------------
# SoundFonts
def test_user_soundfont_path(tmp_path, renderer):
    copy = tmp_path / "my font.sf2"
    shutil.copyfile(audio.bundled_soundfont(), copy)
    with audio.Renderer(sf2_path=copy) as mine:
        assert mine.sf2_path == copy
        out = mine.render(tune(), program=40)
    reference = renderer.render(tune(), program=40)
    assert out.shape == reference.shape
    assert rms(out - reference) < 1e-2 * rms(reference)  # the same font sounds the same


def test_missing_soundfont_is_an_audio_error(tmp_path):
    with pytest.raises(audio.AudioError, match="not found"):
        audio.Renderer(sf2_path=tmp_path / "nowhere.sf2")


def test_text_file_named_sf2_is_an_audio_error(tmp_path):
    bogus = tmp_path / "bogus.sf2"
    bogus.write_text("this is not a SoundFont\n")
    with pytest.raises(audio.AudioError, match="SoundFont"):
        audio.Renderer(sf2_path=bogus)


def test_damaged_soundfont_is_an_audio_error(tmp_path):
    """Right header, garbage body: FluidSynth itself refuses it."""
    damaged = tmp_path / "damaged.sf2"
    damaged.write_bytes(b"RIFF" + (5000).to_bytes(4, "little") + b"sfbk" + bytes(range(256)) * 20)
    with pytest.raises(audio.AudioError):
        audio.Renderer(sf2_path=damaged)


def test_audio_error_is_a_runtime_error():
    assert issubclass(audio.AudioError, RuntimeError)


def test_missing_fluidsynth_library_is_reported_at_renderer_creation():
    """Without FluidSynth, importing fusion.render.audio still works; creating a Renderer explains the
    fix. The missing library is simulated in a separate interpreter (``fluidsynth`` blocked)."""
    code = (
        "import sys; sys.modules['fluidsynth'] = None\n"
        "import fusion.render.audio as a\n"
        "print('imported')\n"
        "try:\n"
        "    a.Renderer()\n"
        "except a.AudioError as e:\n"
        "    print('AudioError:', e)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          cwd=str(PROJECT_ROOT), timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "imported"
    assert lines[1].startswith("AudioError:") and "apt-get install -y libfluidsynth3" in lines[1]


# -------------------------------------------------------------------------------------------------
# output formats, lifetime, threads
def test_wav_written_and_read_back(tmp_path, renderer):
    out = renderer.render(tune())
    path = renderer.write_wav(out, tmp_path / "tune.wav")
    rate, data = wavfile.read(str(path))
    assert rate == SR
    assert data.dtype == np.int16 and data.ndim == 1 and len(data) == len(out)
    assert np.abs(data.astype(np.float64) / 32767 - out).max() < 1e-4
    assert np.abs(data).max() > 20000  # peak-normalised, not quiet


def test_to_gradio(renderer):
    out = renderer.render(tune())
    rate, data = renderer.to_gradio(out)
    assert rate == SR and data.dtype == np.int16 and data.shape == out.shape
    np.testing.assert_array_equal(audio.to_int16(np.array([-2.0, -1.0, 0.0, 0.5, 1.0, 3.0])),
                                  np.array([-32767, -32767, 0, 16384, 32767, 32767], dtype=np.int16))


def test_closed_renderer_refuses_to_render():
    r = audio.Renderer()
    r.close()
    r.close()  # twice is fine
    assert r.closed
    with pytest.raises(audio.AudioError, match="closed"):
        r.render(tune())


def test_context_manager_closes():
    with audio.Renderer() as r:
        assert not r.closed
        assert rms(r.render(tune())) > 0.02
    assert r.closed


def test_default_renderer_is_shared_and_recreated_after_close():
    first = audio.default_renderer()
    assert audio.default_renderer() is first
    first.close()
    second = audio.default_renderer()
    assert second is not first and not second.closed
    assert rms(second.render(tune())) > 0.02


def test_concurrent_renders_from_threads_are_not_mixed(renderer):
    melodies = [tune(), sustained_chords(), tune(), sustained_chords()] * 2
    programs = [0, 48, 0, 48] * 2
    expected = {0: renderer.render(tune()), 48: renderer.render(sustained_chords(), program=48)}
    with ThreadPoolExecutor(max_workers=4) as pool:
        outs = list(pool.map(lambda mp: renderer.render(mp[0], program=mp[1]),
                             zip(melodies, programs)))
    for out, program in zip(outs, programs):
        ref = expected[program]
        assert out.shape == ref.shape
        assert rms(out - ref) < 1e-2 * rms(ref)


def test_mp3_for_the_page_holds_the_same_music_in_a_seventh_of_the_bytes(tmp_path):
    import soundfile

    from fusion.render.audio import Renderer, write_mp3

    with Renderer() as r:
        m = Melody(tuple(Note(60 + (i * 5) % 12, i * 0.5, 0.5) for i in range(16)), tempo=120)
        audio = r.render(m, program=65)
        wav = r.write_wav(audio, tmp_path / "m.wav")
        mp3 = write_mp3(audio, tmp_path / "m.mp3", r.sample_rate)
    back, rate = soundfile.read(mp3, dtype="float32")
    assert rate == r.sample_rate and mp3.stat().st_size * 5 < wav.stat().st_size
    # LAME adds an encoder delay: align, then the decoded waveform follows the original closely
    n = len(audio)
    lag = max(range(0, 3000), key=lambda k: float(np.dot(back[k:k + 20000], audio[:20000])))
    x, y = audio[: n - 3000], back[lag: lag + n - 3000]
    assert np.corrcoef(x, y[: len(x)])[0, 1] > 0.95
