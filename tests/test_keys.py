"""Key annotations, analysis, and transposition to C."""
import random
from collections import Counter

import pytest

from fusion.data import corpus, keys
from fusion.melody import Melody, Note


@pytest.mark.parametrize("text, expected", [
    ("Bb-maj", (10, "major")), ("C-min", (0, "minor")), ("D-chrom", (2, "chromatic")),
    ("F#-min", (6, "minor")), ("Ab", (8, None)), ("", (None, None)), ("Db-dor", (1, "dorian")),
])
def test_wjazzd_keys(text, expected):
    assert keys.parse_wjazzd_key(text) == expected


@pytest.mark.parametrize("token, expected", [
    ("*G:", (7, "major")), ("*g:", (7, "minor")), ("*B-:", (10, "major")),
    ("*b-:", (10, "minor")), ("*f#:", (6, "minor")), ("*E-:", (3, "major")),
])
def test_kern_keys(token, expected):
    assert keys.parse_kern_key(token) == expected


@pytest.mark.parametrize("value, expected", [
    ("G", (7, None)), ("Gm", (7, "minor")), ("Bb", (10, None)), ("F#", (6, None)),
    ("H", (11, None)), ("Es", (3, None)), ("Ddor", (2, "dorian")), ("none", (None, None)),
])
def test_abc_keys(value, expected):
    assert keys.parse_abc_key(value) == expected


def test_shift_to_c_takes_the_smaller_step():
    assert [keys.shift_to_c(t) for t in range(12)] == [0, -1, -2, -3, -4, -5, -6, 5, 4, 3, 2, 1]


def _scale(steps, tonic_midi):
    return Melody(notes=tuple(Note(tonic_midi + s, i, 1.0) for i, s in enumerate(steps)))


def test_key_analysis_finds_major_and_minor():
    major = [0, 2, 4, 5, 7, 9, 11, 12, 7, 4, 0, 7, 0]
    minor = [0, 2, 3, 5, 7, 8, 11, 12, 7, 3, 0, 7, 0]
    assert keys.analyse_key(_scale(major, 62)) == (2, "major")
    assert keys.analyse_key(_scale(minor, 57)) == (9, "minor")
    # a tonic-only annotation gets its mode from the analysis
    assert keys.analyse_key(_scale(minor, 67), tonic=7) == (7, "minor")


@pytest.mark.data
def test_transposition_puts_the_annotated_tonic_on_c(jazz_melodies, kern_parsed):
    for m in list(jazz_melodies) + list(kern_parsed[0])[:2000]:
        if m.key_tonic is None:
            continue
        c = keys.to_c(m)
        assert c.key_tonic == 0
        shift = keys.shift_to_c(m.key_tonic)
        assert c.pitches == [p + shift for p in m.pitches]
        assert c.transposition == shift and -6 <= shift <= 5
    # Anthropology is in B-flat: up two semitones
    anthro = next(m for m in jazz_melodies if m.title == "Art Pepper - Anthropology")
    assert keys.to_c(anthro).pitches[:4] == [67, 65, 60, 63]


@pytest.mark.data
def test_c_major_pieces_use_c_major_pitch_classes_most(kern_parsed):
    """After normalisation the tonic triad's notes dominate a major folk tune's pitch classes."""
    tunes = [m for m in corpus.normalised(kern_parsed[0]) if m.key_mode == "major"]
    pcs = Counter(p % 12 for m in tunes for p in m.pitches)
    top = {pc for pc, _ in pcs.most_common(3)}
    assert top == {0, 4, 7}


def test_random_transposition_stays_in_range():
    m = _scale([0, 4, 7], 60)
    rng = random.Random(0)
    shifts = {keys.random_transposition(m, rng, -3, 2).transposition for _ in range(300)}
    assert shifts == {-3, -2, -1, 0, 1, 2}
    with pytest.raises(ValueError):
        keys.random_transposition(m, rng, 3, -3)
