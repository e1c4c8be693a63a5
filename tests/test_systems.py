"""Every system, as the demo, the evaluation and the listening test sample it: a melody asked for
N bars sounds through N bars (the phrase rule of :mod:`fusion.model.grammar`; issue "N bars means
N bars"), and its MIDI file and audio last exactly N bars. A property test over random systems,
seeds, lengths, tempos and slider positions, on the committed checkpoints."""
import functools
import io

import pretty_midi
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fusion import registry
from fusion.melody import Melody, Note
from fusion.model import systems
from fusion.model.grammar import PHRASE
from fusion.render import midi
from fusion.render.audio import default_renderer

BEAT = 1e-9  # tolerance in beats
pytestmark = pytest.mark.slow  # a few hundred melodies of up to 32 bars: about two minutes


@functools.cache
def system(name):
    return systems.load_generator(name)


@functools.cache
def slider(position):
    from fusion.demo import MIDPOINT, slider_weights
    return systems.Mixture(MIDPOINT, [system(n) for n in ("jazz", MIDPOINT, "folk")], slider_weights(position))


def silences(melody, span):
    t, inner = 0.0, []
    for n in melody.notes:
        inner.append(n.onset - t)
        t = n.end
    return max(inner, default=0.0), span - t


def assert_fills(melody, bars, start=0.0):
    span = start + bars * 4
    assert melody.span == pytest.approx(span)
    assert melody.notes and melody.notes[-1].end <= span + BEAT
    new = Melody(tuple(Note(n.pitch, n.onset - start, n.duration) for n in melody.notes if n.onset >= start - BEAT))
    inner, final = silences(new, bars * 4)
    assert inner <= PHRASE.max_rest / 12 + BEAT, f"a rest of {inner} beats"
    assert final <= PHRASE.max_final_rest / 12 + BEAT, f"the melody ends {final} beats early"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(registry.TRAINED), seed=st.integers(0, 10**6), bars=st.integers(1, 32),
       temperature=st.sampled_from([0.5, 1.0, 1.5, 2.0]))
def test_every_system_fills_the_bars_it_is_asked_for(name, seed, bars, temperature):
    for m in system(name).sample(2, bars=bars, seed=seed, temperature=temperature):
        assert_fills(m, bars)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(position=st.floats(-1, 1), seed=st.integers(0, 10**6), bars=st.integers(1, 16))
def test_the_fusion_slider_fills_the_bars(position, seed, bars):
    for m in slider(round(position, 2)).sample(2, bars=bars, seed=seed):
        assert_fills(m, bars)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(registry.TRAINED), seed=st.integers(0, 10**6), bars=st.integers(1, 8),
       last=st.floats(0.25, 15.0))
def test_a_continuation_starts_at_the_primers_bar_line_and_fills_its_bars(name, seed, bars, last):
    # a 4-bar primer whose last note ends anywhere in it: the new bars start at beat 16
    primer = Melody(notes=(Note(60, 0.0, 0.25), Note(64, round(last * 12) / 12, 0.25)), length=16.0)
    for m in system(name).sample(1, bars=bars, seed=seed, primer=primer):
        assert m.notes[:2] == primer.notes
        assert_fills(m, bars, start=16.0)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(registry.TRAINED), seed=st.integers(0, 10**6), bars=st.integers(1, 32),
       tempo=st.integers(40, 240))
def test_midi_and_audio_last_exactly_the_bars_asked_for(name, seed, bars, tempo):
    m = system(name).sample(1, bars=bars, seed=seed)[0].replace(tempo=tempo)
    seconds = bars * 4 * 60 / tempo
    pm = pretty_midi.PrettyMIDI(io.BytesIO(midi.midi_bytes(m)))
    assert pm.get_end_time() == pytest.approx(seconds, abs=2e-3)
    renderer = default_renderer()
    audio = renderer.render(m)
    assert len(audio) / renderer.sample_rate >= seconds - 1e-3  # the final rest is heard, then the release
    assert len(audio) / renderer.sample_rate <= seconds + 3.0
