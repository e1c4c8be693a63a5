"""Sampling: valid melodies of the exact length, reproducible, mixing and top-k behave."""
import pytest
import torch

from fusion.model.generator import Generator, GeneratorConfig
from fusion.model.grammar import Grammar
from fusion.model.sampling import next_token_probs, sample
from fusion.data.tokens import Vocabulary
from fusion.melody import Melody, Note

V = Vocabulary()
G = Grammar(V)


def model(seed):
    torch.manual_seed(seed)
    return Generator(GeneratorConfig(embed=8, hidden=8))


def test_samples_are_valid_and_exactly_long():
    g = model(0)
    for ticks in (12, 48, 192):
        s = sample([g], [1.0], 16, ticks, G, generator=torch.Generator().manual_seed(1))
        assert G.is_valid(s, ticks).all()
        assert all(abs(V.decode(r.tolist()).duration * 12 - ticks) < 1e-9 or
                   V.decode(r.tolist()).duration * 12 < ticks for r in s)
        assert (G.elapsed(s)[:, -1] == ticks).all()
        assert all(V.decode(r.tolist()).notes for r in s)  # never a melody of rests only


def test_seed_reproducibility():
    g = model(0)
    a = sample([g], [1.0], 8, 96, G, generator=torch.Generator().manual_seed(5))
    b = sample([g], [1.0], 8, 96, G, generator=torch.Generator().manual_seed(5))
    c = sample([g], [1.0], 8, 96, G, generator=torch.Generator().manual_seed(6))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_enough_stops_once_every_row_has_its_notes_and_draws_what_the_full_draw_drew():
    g = model(0)
    full = sample([g], [1.0], 8, 384, G, generator=torch.Generator().manual_seed(3))
    enough = torch.tensor([1, 2, 3, 5, 8, 13, 4, 2])
    cut = sample([g], [1.0], 8, 384, G, generator=torch.Generator().manual_seed(3), enough=enough)
    assert cut.shape[1] < full.shape[1]  # it stopped early
    assert torch.equal(cut, full[:, :cut.shape[1]])  # the same tokens, up to where it stopped
    pitches = G.is_pitch[cut].sum(1)
    assert (pitches > enough).all() and (pitches == enough + 1).any()  # it stopped at the first step it could
    # the first `enough` notes are whole: the decoded cut has them, with the full draw's durations
    for r, k in enumerate(enough.tolist()):
        assert V.decode(cut[r].tolist()).notes[:k] == V.decode(full[r].tolist()).notes[:k]
        assert len(V.decode(cut[r].tolist()).notes) >= k
    # a row that cannot have that many notes: the draw runs to its end, as without `enough`
    whole = sample([g], [1.0], 8, 384, G, generator=torch.Generator().manual_seed(3),
                   enough=torch.full((8,), 10_000))
    assert torch.equal(whole, full)


def test_zero_weight_model_is_ignored():
    g, h = model(0), model(1)
    a = sample([g], [1.0], 8, 96, G, generator=torch.Generator().manual_seed(5))
    b = sample([g, h], [1.0, 0.0], 8, 96, G, generator=torch.Generator().manual_seed(5))
    assert torch.equal(a, b)


def test_mixture_and_top_k():
    allowed = torch.ones(1, 4, dtype=torch.bool)
    l1 = torch.log(torch.tensor([[0.7, 0.1, 0.1, 0.1]]))
    l2 = torch.log(torch.tensor([[0.1, 0.1, 0.1, 0.7]]))
    p = next_token_probs([l1, l2], [0.5, 0.5], allowed)
    assert torch.allclose(p, torch.tensor([[0.4, 0.1, 0.1, 0.4]]))
    p1 = next_token_probs([l1], [1.0], allowed, top_k=1)
    assert p1.tolist() == [[1.0, 0.0, 0.0, 0.0]]
    masked = allowed.clone()
    masked[0, 0] = False
    pm = next_token_probs([l1], [1.0], masked)
    assert pm[0, 0] == 0 and torch.isclose(pm.sum(), torch.tensor(1.0))


def test_primer_is_kept():
    g = model(0)
    primer = [V.pitch_id(60), V.duration_id(12), V.pitch_id(64), V.duration_id(6)]
    s = sample([g], [1.0], 4, 48, G, primer=primer, generator=torch.Generator().manual_seed(0))
    assert (s[:, 1:5] == torch.tensor(primer)).all()
    assert (G.elapsed(s)[:, -1] == 18 + 48).all()


def test_product_of_experts_keeps_only_what_both_models_like():
    allowed = torch.ones(1, 4, dtype=torch.bool)
    l1 = torch.log(torch.tensor([[0.45, 0.45, 0.05, 0.05]]))
    l2 = torch.log(torch.tensor([[0.05, 0.45, 0.45, 0.05]]))
    p = next_token_probs([l1, l2], [0.5, 0.5], allowed, combine="product")
    q = torch.sqrt(torch.tensor([0.45 * 0.05, 0.45 * 0.45, 0.05 * 0.45, 0.05 * 0.05]))
    assert torch.allclose(p, q / q.sum())
    assert int(p.argmax()) == 1  # the token both like, where the mixture would tie three ways
    one = next_token_probs([l1, l2], [1.0, 0.0], allowed, combine="product")
    assert torch.allclose(one, torch.tensor([[0.45, 0.45, 0.05, 0.05]]))
    masked = allowed.clone()
    masked[0, 1] = False
    pm = next_token_probs([l1, l2], [0.5, 0.5], masked, combine="product")
    assert pm[0, 1] == 0 and torch.isclose(pm.sum(), torch.tensor(1.0))


def test_product_samples_are_valid_and_seeded():
    g, h = model(0), model(1)
    a = sample([g, h], [0.6, 0.4], 8, 96, G, generator=torch.Generator().manual_seed(5), combine="product")
    b = sample([g, h], [0.6, 0.4], 8, 96, G, generator=torch.Generator().manual_seed(5), combine="product")
    assert torch.equal(a, b) and G.is_valid(a, 96).all()


def test_crossed_aspects_take_the_event_kind_from_one_model_and_the_pitch_from_the_other():
    # tokens: PAD BOS EOS REST, pitches 60 and 62, DUR_6 (a toy vocabulary's layout)
    pitch = torch.tensor([False, False, False, False, True, True, False])
    allowed = torch.tensor([[False, False, True, True, True, True, True]])
    rhythm = torch.log(torch.tensor([[1e-9, 1e-9, 0.1, 0.2, 0.3, 0.1, 0.3]]))  # a note: 0.4 of the mass
    tune = torch.log(torch.tensor([[1e-9, 1e-9, 0.5, 0.1, 0.1, 0.3, 1e-9]]))  # of its pitches: 62 three to one
    p = next_token_probs([rhythm, tune], [1.0, 1.0], allowed, combine="cross", pitch=pitch)
    assert torch.allclose(p, torch.tensor([[0.0, 0.0, 0.1, 0.2, 0.1, 0.3, 0.3]]), atol=1e-6)
    swapped = next_token_probs([tune, rhythm], [1.0, 1.0], allowed, combine="cross", pitch=pitch)
    assert not torch.allclose(p, swapped)  # which model gives which aspect matters
    only_low = allowed.clone()
    only_low[0, 5] = False  # the grammar forbids 62: a note (the rhythm model's 0.3 of 0.9 allowed) is 60
    q = next_token_probs([rhythm, tune], [1.0, 1.0], only_low, combine="cross", pitch=pitch)
    assert q[0, 5] == 0 and torch.isclose(q[0, 4], torch.tensor(1 / 3)) and torch.isclose(q.sum(), torch.tensor(1.0))
    with pytest.raises(ValueError, match="cross"):
        next_token_probs([rhythm], [1.0], allowed, combine="cross", pitch=pitch)
    with pytest.raises(ValueError, match="cross"):
        next_token_probs([rhythm, tune], [1.0, 1.0], allowed, combine="cross")


def test_crossed_samples_are_valid_seeded_and_keep_the_rhythm_models_events():
    g, h = model(0), model(1)
    a = sample([g, h], [1.0, 1.0], 8, 96, G, generator=torch.Generator().manual_seed(5), combine="cross")
    b = sample([g, h], [1.0, 1.0], 8, 96, G, generator=torch.Generator().manual_seed(5), combine="cross")
    assert torch.equal(a, b) and G.is_valid(a, 96).all()
    # with a pitch model that wants one pitch, every note takes it; the rhythm is still drawn
    mono = model(2)
    with torch.no_grad():
        mono.out.bias.fill_(-30.0)
        mono.out.bias[V.pitch_id(67)] = 30.0
    c = sample([g, mono], [1.0, 1.0], 8, 96, G, generator=torch.Generator().manual_seed(5), combine="cross")
    mels = [V.decode(r.tolist()) for r in c]
    assert all(n.pitch == 67 for m in mels for n in m.notes) and G.is_valid(c, 96).all()
    assert len({tuple(round(n.duration, 6) for n in m.notes) for m in mels}) > 1


# ---- the phrase rule: N bars means N bars (docs/method.md) ------------------------------------
def _rests(melody, span_beats):
    """The silences of a melody: every gap between notes, and the final rest up to ``span_beats``."""
    t, gaps = 0.0, []
    for n in melody.notes:
        gaps.append(n.onset - t)
        t = n.end
    return gaps, span_beats - t


def test_phrase_rule_limits_rests_even_for_a_model_that_loves_rests():
    g = model(0)
    with torch.no_grad():  # an untrained model pushed to pick REST and long durations
        g.out.bias[V.rest_id] += 8.0
        g.out.bias[V.first_duration_id + V.max_duration_ticks - 1] += 8.0
    free = sample([g], [1.0], 32, 16 * 12, G, generator=torch.Generator().manual_seed(3), phrase=None)
    ruled = sample([g], [1.0], 32, 16 * 12, G, generator=torch.Generator().manual_seed(3))
    assert G.is_valid(ruled, 16 * 12).all()
    free_gaps = [max(_rests(V.decode(r.tolist()), 16)[0] + [_rests(V.decode(r.tolist()), 16)[1]]) for r in free]
    assert max(free_gaps) > 6  # without the rule such a model falls silent for bars
    for r in ruled:
        inner, final = _rests(V.decode(r.tolist()), 16)
        assert max(inner, default=0) <= 6 + 1e-9 and final <= 2 + 1e-9
        assert V.decode(r.tolist()).span == 16


def test_phrase_rule_counts_the_primers_final_rest():
    g = model(0)
    with torch.no_grad():
        g.out.bias[V.rest_id] += 8.0
    primer = V.encode(Melody(notes=(Note(60, 0, 1),)), total_beats=8)  # ends in 7 beats of rest
    s = sample([g], [1.0], 16, 48, G, generator=torch.Generator().manual_seed(2), primer=primer)
    for r in s:  # the new bars start with a note: the rest may not grow longer still
        new = V.decode(r.tolist())
        assert any(abs(n.onset - 8) < 1e-9 for n in new.notes)
