"""The copying check (fusion/evaluation/novelty.py)."""
import pytest

from fusion.data import corpus
from fusion.evaluation import novelty
from fusion.melody import Melody, Note


TUNE = [60, 64, 67, 72, 71, 67, 62, 65, 69, 67, 64, 60]


def _scale(start=60, n=10, rest=0.0):
    return Melody(notes=tuple(Note(start + i, i * (1.0 + rest), 1.0) for i in range(n)))


def _tune(shift=0, n=12, rest=0.0):
    return Melody(notes=tuple(Note(p + shift, i * (1.0 + rest), 1.0) for i, p in enumerate(TUNE[:n])))


def test_ngrams_by_hand():
    grams = novelty.ngrams(_scale(n=10))
    assert len(grams) == 3
    assert grams[0] == tuple((60 + i, 12, 0) for i in range(8))
    assert novelty.ngrams(_scale(n=7)) == []


def test_copies_are_found_and_changes_are_not():
    index = novelty.NgramIndex([_tune()])
    assert len(index) == 5
    assert index.copied(_tune(n=9)) == (2, 2)
    assert index.copied(_tune(shift=1, n=9)) == (0, 2)  # transposed: not verbatim
    assert index.copied(_tune(n=9, rest=0.5)) == (0, 2)  # rests added: not verbatim


@pytest.mark.data
def test_real_training_windows_are_found_in_the_index(wjazzd_dir):
    c = corpus.load("jazz")
    index = novelty.NgramIndex(c.pieces["train"])
    w = c.windows("train")[10]
    inner = w.replace(notes=w.notes[:-1])  # the window's last note may be cut at its end
    found, total = index.copied(inner)
    assert total > 0 and found == total
