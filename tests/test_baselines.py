"""RM and MC: fitted from both genres with equal weight, exact-length samples, stored as JSON."""
import pytest

from fusion.model.baselines import REST, NoteDistribution, events_of
from fusion.melody import Melody, Note

JAZZ = [Melody((Note(60, 0, 0.5), Note(62, 0.5, 0.5), Note(64, 1, 0.5), Note(65, 2, 1)))]  # 4 notes, 1 rest
FOLK = [Melody((Note(67, 0, 1),))]


def test_events_include_inner_rests_only():
    assert events_of(JAZZ[0]) == [(60, 6), (62, 6), (64, 6), (REST, 6), (65, 12)]


def test_mc_weighs_each_genre_half():
    d = NoteDistribution.fit("mc", JAZZ, FOLK)
    assert d.events[67] == pytest.approx(0.5)  # folk's only note: half of all mass
    assert d.events[60] == pytest.approx(0.5 / 5)
    assert d.durations[12] == pytest.approx(0.5 / 5 + 0.5)
    assert sum(d.events.values()) == pytest.approx(1) and sum(d.durations.values()) == pytest.approx(1)


def test_rm_is_uniform_over_seen_values():
    d = NoteDistribution.fit("rm", JAZZ, FOLK)
    assert set(d.events) == {60, 62, 64, 65, 67, REST}
    assert all(p == pytest.approx(1 / 6) for p in d.events.values())
    assert set(d.durations) == {6, 12}


def test_samples_have_exact_length_and_are_reproducible(tmp_path):
    d = NoteDistribution.fit("mc", JAZZ, FOLK)
    a = d.sample(5, 48, seed=3)
    assert a == d.sample(5, 48, seed=3) and a != d.sample(5, 48, seed=4)
    for m in a:
        assert all(n.end <= 4 + 1e-9 for n in m.notes)
    d.save(tmp_path / "d.json")
    assert NoteDistribution.load(tmp_path / "d.json") == d


def test_primer_is_continued():
    d = NoteDistribution.fit("mc", JAZZ, FOLK)
    primer = Melody((Note(72, 0, 1),))
    m = d.sample(1, 24, seed=0, primer=primer)[0]
    assert m.notes[0] == Note(72, 0, 1) and all(n.onset >= 1 for n in m.notes[1:])
    assert max(n.end for n in m.notes) <= 3 + 1e-9


def test_a_melody_is_never_silent():
    only_rests_mostly = NoteDistribution("mc", {REST: 0.99, 60: 0.01}, {48: 1.0})
    for m in only_rests_mostly.sample(50, 48, seed=0):
        assert m.notes and max(n.end for n in m.notes) <= 4 + 1e-9
