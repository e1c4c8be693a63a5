"""Histogram features (fusion/features.py) on hand-made melodies."""
import numpy as np
import pytest

from fusion import features as F
from fusion.melody import Melody, Note

# C4 one beat, E4 an eighth, an eighth rest, G4 a half note
TUNE = Melody(notes=(Note(60, 0.0, 1.0), Note(64, 1.0, 0.5), Note(67, 2.0, 2.0)))


def _nonzero(v):
    return {int(i): float(v[i]) for i in np.flatnonzero(v)}


def test_note_histograms_by_hand():
    assert _nonzero(F.NPD.counts(TUNE)) == {0: 1, 4: 1, 7: 1}
    assert _nonzero(F.DD.counts(TUNE)) == {11: 1, 5: 1, 23: 1}  # 12, 6 and 24 ticks
    assert F.DD.positions[[5, 11, 23]] == pytest.approx([0.5, 1.0, 2.0])  # positions in beats


def test_sequential_histograms_by_hand():
    assert _nonzero(F.INTERVAL.counts(TUNE)) == {12 + 4: 1, 12 + 3: 1}  # up a major, then a minor third
    assert _nonzero(F.PC_TRANSITION.counts(TUNE)) == {0 * 12 + 4: 1, 4 * 12 + 7: 1}
    # IOIs: C->E one beat, E->G one beat (eighth + eighth rest): class 4 -> class 4
    assert _nonzero(F.IOI_TRANSITION.counts(TUNE)) == {4 * 10 + 4: 1}


def test_clipping_of_long_notes_and_wide_leaps():
    m = Melody(notes=(Note(40, 0.0, 6.0), Note(80, 6.0, 1.0)))
    assert _nonzero(F.DD.counts(m)) == {47: 1, 11: 1}  # 6 beats falls in the last class
    assert _nonzero(F.INTERVAL.counts(m)) == {24: 1}  # +40 semitones: the outer bin


def test_ioi_classes():
    assert [F.ioi_class(t) for t in (3, 4, 6, 9, 12, 18, 24, 36, 48, 60)] == list(range(10))
    assert F.ioi_class(5) == 2  # 5/12 beat: nearer an eighth than a triplet eighth on a log scale


def test_histogram_of_a_set_counts_every_note_once():
    other = Melody(notes=(Note(62, 0.0, 1.0),))
    h = F.NPD.histogram([TUNE, other])
    assert h.sum() == pytest.approx(1.0)
    assert _nonzero(h) == pytest.approx({0: 0.25, 2: 0.25, 4: 0.25, 7: 0.25})
    assert F.NPD.matrix([TUNE, other]).shape == (2, 12)
    with pytest.raises(ValueError, match="no melodic intervals"):
        F.INTERVAL.histogram([other])


def test_ground_costs():
    c = F.PC_TRANSITION.cost
    assert c.shape == (144, 144)
    assert c[0 * 12 + 0, 11 * 12 + 1] == 2  # C->C to B->C#: one semitone on each axis, around the circle
    assert np.allclose(c, c.T) and np.all(np.diag(c) == 0)
    k = F.IOI_TRANSITION.cost
    assert k[0, 1] == pytest.approx(np.log2(1 / 3) - np.log2(1 / 4))  # 16th -> 16th vs 16th -> triplet 8th


def test_ioi_classes_agree_with_ioi_class_on_every_length():
    from fusion.features import ioi_class, ioi_classes

    lengths = np.arange(1, 8 * 12 + 1)
    assert list(ioi_classes(lengths)) == [ioi_class(int(n)) for n in lengths]
    assert ioi_classes([]).shape == (0,)


def test_rest_lengths_count_the_rests_between_notes_only():
    assert _nonzero(F.REST.counts(TUNE)) == {5: 1}  # the eighth rest between E and G (6 ticks)
    # a rest before the first note and after the last is the window's edge, not counted;
    # a rest longer than a whole note falls in the last class
    m = Melody(notes=(Note(60, 2.0, 1.0), Note(62, 9.0, 1.0), Note(64, 10.0, 1.0)), length=16.0)
    assert _nonzero(F.REST.counts(m)) == {47: 1}
    assert F.REST.counts(Melody(notes=(Note(60, 0.0, 1.0),))).sum() == 0
    assert F.REST not in F.NOTE_FEATURES + F.SEQUENTIAL_FEATURES  # the decoding rule's, not the tables'
