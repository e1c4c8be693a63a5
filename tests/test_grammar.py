"""The token grammar: real windows are valid, and the mask forbids exactly what breaks a melody."""
import pytest
import torch

from fusion.data import corpus
from fusion.model.grammar import Grammar
from fusion.melody import Melody, Note
from fusion.data.tokens import Vocabulary

V = Vocabulary()
G = Grammar(V)


def seq(m: Melody, beats: float) -> torch.Tensor:
    return torch.tensor([[V.bos_id, *V.encode(m, total_beats=beats), V.eos_id]])


@pytest.mark.data
def test_real_windows_follow_the_grammar(jazz_melodies):
    c = corpus.load("jazz")
    ws = c.windows("val")[:300]
    seqs = [[V.bos_id, *V.encode(w, total_beats=16), V.eos_id] for w in ws]
    L = max(map(len, seqs))
    batch = torch.tensor([s + [V.pad_id] * (L - len(s)) for s in seqs])
    assert G.is_valid(batch, 16 * 12).all()


def test_mask_rules():
    m = Melody((Note(60, 0, 1), Note(62, 1, 3)))
    s = seq(m, 4)[0]  # BOS P60 DUR12 P62 DUR36 EOS
    el = G.elapsed(s[None])[0]
    assert el.tolist() == [0, 0, 12, 12, 48, 48]
    allowed = G.allowed(s, el, 48, G.has_note(s))
    assert allowed[0, V.pitch_id(60)] and not allowed[0, V.duration_id(1)]  # after BOS: an event
    assert allowed[1, V.duration_id(48)] and not allowed[1, V.pitch_id(60)]  # after a pitch: a duration
    assert not allowed[3, V.duration_id(37)] and allowed[3, V.duration_id(36)]  # only what fits
    assert allowed[4].nonzero().flatten().tolist() == [V.eos_id]  # time full: EOS only
    assert allowed[5].nonzero().flatten().tolist() == [V.pad_id]  # after EOS: PAD


def test_too_long_or_too_short_is_invalid():
    m = Melody((Note(60, 0, 2),))
    assert G.is_valid(seq(m, 4), 48).all()
    assert not G.is_valid(seq(m, 4), 36).any()  # a duration overruns the time
    assert not G.is_valid(seq(m, 2), 48).any()  # ends early
    tied = Melody((Note(60, 0, 8),))  # DUR_48 DUR_48: a tie after a whole note is allowed
    assert G.is_valid(seq(tied, 8), 96).all()


def test_a_melody_holds_at_least_one_note():
    rest = torch.tensor([V.bos_id, V.rest_id])
    el = G.elapsed(rest[None])[0]
    allowed = G.allowed(rest, el, 48, G.has_note(rest))
    assert allowed[1, V.duration_id(47)] and not allowed[1, V.duration_id(48)]  # a tick left for a note
    # one tick left and no note yet: only a note may start
    last, left = torch.tensor([V.duration_id(47)]), torch.tensor([47])
    ok = G.allowed(last, left, 48, torch.tensor([False]))[0]
    assert ok[V.pitch_id(60)] and not ok[V.rest_id]
    assert G.allowed(last, left, 48, torch.tensor([True]))[0, V.rest_id]
    silent = seq(Melody(()), 4)  # REST DUR_48: no note
    assert not G.is_valid(silent, 48).any()
