"""The positive controls (fusion/evaluation/controls.py): fusions made of real music with no model,
a medley in time and a hybrid in aspect, each way round by row and seed."""
import random

import pytest

from fusion.evaluation import controls
from fusion.melody import Melody, Note


def line(genre: str, pitches, step: float, beats: float = 16.0, meter=(4, 4), source="x") -> Melody:
    """A melody of ``genre`` whose notes (one every ``step`` beats) cycle through ``pitches``."""
    n = int(beats / step)
    notes = tuple(Note(pitches[i % len(pitches)], i * step, step * 0.9) for i in range(n))
    return Melody(notes=notes, genre=genre, source_id=source, title=source, meter=meter, length=beats)


JAZZ = line("jazz", (60, 63, 65, 66, 67, 70), 0.5, source="j1")  # 32 notes
FOLK = line("folk", (72, 74, 76, 77, 79), 1.0, source="f1")  # 16 notes


def test_a_medley_is_the_first_half_of_one_excerpt_then_the_second_half_of_the_other():
    m = controls.medley(JAZZ, FOLK)
    first = [n for n in m.notes if n.onset < 8]
    second = [n for n in m.notes if n.onset >= 8]
    assert [n.pitch for n in first] == [n.pitch for n in JAZZ.notes if n.onset < 8]
    assert [(n.pitch, n.onset) for n in second] == [(n.pitch, n.onset) for n in FOLK.notes if n.onset >= 8]
    assert m.span == 16 and m.genre is None and m.meter == (4, 4)
    assert m.extra == {"control": "medley", "way": ("jazz", "folk"), "sources": ("j1", "f1")}
    assert "then" in m.title
    # a half that cannot show its genre is refused, not silently kept
    sparse = Melody(notes=(Note(60, 0.0, 1.0), Note(62, 9.0, 1.0)), genre="folk", length=16.0)
    with pytest.raises(controls.ControlError, match="two notes"):
        controls.medley(JAZZ, sparse)


def test_a_hybrid_keeps_the_rhythm_and_takes_the_tune_pitches_in_order():
    tune = controls.tune([FOLK], 8, random.Random(0))
    rhythm = JAZZ.window(0.0, 4.0)  # 8 notes of jazz rhythm
    h = controls.hybrid(rhythm, tune)
    assert [(n.onset, n.duration) for n in h.notes] == [(n.onset, n.duration) for n in rhythm.notes]
    assert [n.pitch for n in h.notes] == [n.pitch for n in tune.notes[:8]]
    assert set(h.pitches) <= {72, 74, 76, 77, 79}  # every pitch is the folk tune's
    assert h.extra["way"] == ("jazz", "folk") and h.extra["rhythm"] == "jazz" and h.genre is None


def test_a_tune_runs_on_in_its_piece_past_a_window_and_is_drawn_again_when_too_short():
    long_folk = line("folk", (72, 74, 76, 77, 79), 1.0, beats=64.0, source="f2")  # 64 notes, one a beat
    rng = random.Random(3)
    for _ in range(20):
        t = controls.tune([long_folk], 40, rng)  # more notes than any 16-beat window of it holds
        assert len(t.notes) >= 40 and t.extra["window_start"] % long_folk.bar_beats == 0
    with pytest.raises(controls.ControlError, match="no real tune has 100 notes"):
        controls.tune([long_folk], 100, rng)


def test_draw_alternates_the_ways_by_row_and_seed_and_is_reproducible():
    windows = {"jazz": [JAZZ, line("jazz", (61, 64), 0.5, source="j2")],
               "folk": [FOLK, line("folk", (71, 73), 1.0, source="f3")]}
    pieces = {"jazz": [line("jazz", (60, 62), 0.5, beats=64.0, source="jp")],
              "folk": [line("folk", (72, 74), 1.0, beats=64.0, source="fp")]}
    for kind in controls.KINDS:
        for seed in (0, 1):
            got = controls.draw(kind, windows, pieces, 6, seed)
            assert [m.extra["way"] for m in got] == [controls.order(i, seed) for i in range(6)]
            assert got == controls.draw(kind, windows, pieces, 6, seed)
        assert controls.order(0, 0) == ("jazz", "folk") and controls.order(0, 1) == ("folk", "jazz")
    hybrids = controls.draw("hybrid", windows, pieces, 6, 0)
    for h in hybrids:  # the tune's pitches are its genre's piece's, on the rhythm of the other genre's window
        assert set(h.pitches) <= ({60, 62} if h.extra["way"][1] == "jazz" else {72, 74})
    with pytest.raises(ValueError, match="unknown control 'splice'"):
        controls.draw("splice", windows, pieces, 1, 0)
    with pytest.raises(controls.ControlError, match="no real folk excerpts"):
        controls.draw("medley", {"jazz": [JAZZ], "folk": []}, pieces, 1, 0)
