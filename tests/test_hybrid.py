"""Hybrid (``fusion/model/hybrid.py``): each aspect written by its own model, unexposed, then joined,
half the melodies each way round; its decoding rule keeps one of k joins of the same way round by
the statistics' tilt (docs/method.md, "Hybrid", "Hybrid's decoding rule")."""
import numpy as np
import pytest
import torch

from fusion.data.tokens import Vocabulary
from fusion.melody import Melody, Note
from fusion.model import hybrid, tilt
from fusion.model.generator import Generator, GeneratorConfig
from fusion.model.grammar import PHRASE, Grammar
from fusion.model.sampling import sample
from fusion.model.systems import System

V = Vocabulary()
G = Grammar(V)


def model(seed):
    torch.manual_seed(seed)
    return Generator(GeneratorConfig(embed=8, hidden=8))


def _two_member_system(rule, members):
    return System("hybrid", {"sampling": rule}, V, models=members)


def test_a_hybrid_keeps_the_rhythm_models_own_melody_and_the_pitch_models_own_line():
    lively = model(0)
    mono = model(2)  # a model that wants pitch 67 and holds it for a whole note
    with torch.no_grad():
        mono.out.bias.fill_(-30.0)
        mono.out.bias[V.pitch_id(67)] = 30.0
        mono.out.bias[V.duration_id(48)] = 20.0  # after a note's duration, the next note (30) beats a longer one
    hybrid = _two_member_system({"combine": "hybrid"}, [lively, mono])
    seed, bars = 3, 2
    mels = hybrid.sample(n=6, bars=bars, seed=seed)
    ticks = bars * 4 * 12
    # rows with i + seed even take member 0's rhythm, the others member 1's
    own = sample([lively], [1.0], 3, ticks, G, generator=torch.Generator().manual_seed(seed * 1009), phrase=PHRASE)
    own_rhythms = [[(n.onset, n.duration) for n in V.decode(r.tolist()).notes] for r in own]
    jazz_rows = [m for i, m in enumerate(mels) if (i + seed) % 2 == 0]
    folk_rows = [m for i, m in enumerate(mels) if (i + seed) % 2 == 1]
    assert [m.extra["rhythm"] for m in jazz_rows] == ["jazz"] * 3 and [m.extra["rhythm"] for m in folk_rows] == ["folk"] * 3
    # the rhythm is exactly member 0's own melody's, drawn as if alone (not exposed to the other's pitches)
    assert [[(n.onset, n.duration) for n in m.notes] for m in jazz_rows] == own_rhythms
    assert all(n.pitch == 67 for m in jazz_rows for n in m.notes)  # the pitches: member 1's line
    # the other way round: member 1's whole notes, under member 0's pitches (not all 67)
    assert all(n.duration == 4.0 for m in folk_rows for n in m.notes)
    assert any(n.pitch != 67 for m in folk_rows for n in m.notes)
    assert all(m.span == bars * 4 for m in mels)
    assert [[n.pitch for n in m.notes] for m in hybrid.sample(n=6, bars=bars, seed=seed)] == \
        [[n.pitch for n in m.notes] for m in mels]


def test_a_hybrids_tune_goes_on_until_every_note_of_the_rhythm_has_a_pitch():
    busy, sparse = model(0), model(2)
    with torch.no_grad():  # member 0 writes sixteenths; member 1 whole notes: 4 pitches per 4 bars of tune
        busy.out.bias.fill_(-30.0)
        busy.out.bias[V.pitch_id(60)] = 30.0
        busy.out.bias[V.duration_id(3)] = 20.0
        sparse.out.bias.fill_(-30.0)
        sparse.out.bias[V.pitch_id(72)] = 30.0
        sparse.out.bias[V.duration_id(48)] = 20.0
    mel = _two_member_system({"combine": "hybrid"}, [busy, sparse]).sample(n=1, bars=1, seed=0)[0]
    assert len(mel.notes) == 16 and all(n.pitch == 72 and n.duration == 0.25 for n in mel.notes)


def test_a_last_draw_stops_its_tunes_early_and_joins_exactly_what_a_full_draw_joins(monkeypatch):
    members = [model(0), model(1)]
    primer = V.encode(Melody(notes=(Note(60, 0, 1), Note(64, 1, 1))), total_beats=4)
    key = lambda ms: [[(x.pitch, x.onset, x.duration, m.extra["rhythm"]) for x in m.notes] for m in ms]
    for way in (0, 1):
        for primer_ids in ((), primer):
            full = hybrid.draw(members, G, V, way, 12, 96, *hybrid.generators(7, way), primer_ids=primer_ids)
            gen, tune_gen = hybrid.generators(7, way)
            cut = hybrid.draw(members, G, V, way, 12, 96, gen, tune_gen, primer_ids=primer_ids, last=True)
            assert key(cut) == key(full)
            # it did stop early: the tune stream was left at an earlier point than the full draw's
            _, after_full = hybrid.generators(7, way)
            hybrid.draw(members, G, V, way, 12, 96, hybrid.generators(7, way)[0], after_full, primer_ids=primer_ids)
            assert not torch.equal(tune_gen.get_state(), after_full.get_state())
    # Hybrid's samples, a pool and a rule's chunks included, are those of draws that never stop early:
    # only the last draw from each tune stream stops early
    rule = _rule_for_long_notes(4)
    drawn = lambda: (hybrid.sample(members, G, V, 12, 96, 5, rule=rule, candidates=4, chunk=2),
                     hybrid.sample(members, G, V, 6, 96, 5), hybrid.pool(members, G, V, 4, 3, 96, seed=5))
    early = drawn()
    full_draw = hybrid.draw
    monkeypatch.setattr(hybrid, "draw", lambda *a, last=False, **k: full_draw(*a, last=False, **k))
    full = drawn()
    assert [key(x) for x in early] == [key(x) for x in full]


def test_join_puts_the_tunes_pitches_in_order_on_the_rhythms_notes_and_refuses_a_short_tune():
    rhythm = Melody(notes=(Note(60, 0, 1), Note(62, 1, 0.5), Note(64, 2, 2)))
    tune = Melody(notes=(Note(70, 0, 4), Note(71, 4, 4), Note(72, 8, 4), Note(73, 12, 4)))
    joined = hybrid.join(rhythm, tune)
    assert [(n.pitch, n.onset, n.duration) for n in joined.notes] == [(70, 0, 1), (71, 1, 0.5), (72, 2, 2)]
    kept = hybrid.join(rhythm, tune, primer_notes=1)  # a primer's notes stay as they are
    assert [n.pitch for n in kept.notes] == [60, 71, 72]
    with pytest.raises(ValueError, match="notes"):
        hybrid.join(rhythm, Melody(notes=tune.notes[:2]))


def test_a_pool_is_made_of_groups_each_of_one_way_round():
    joins = hybrid.pool([model(0), model(1)], G, V, groups=4, k=3, ticks=48, seed=5)
    assert len(joins) == 12
    ways = [m.extra["rhythm"] for m in joins]
    assert ways == ["jazz"] * 3 + ["folk"] * 3 + ["jazz"] * 3 + ["folk"] * 3
    assert all(abs(m.span - 4) < 1e-9 for m in joins)


def _rule_for_long_notes(k):
    """A tilt that likes long notes: lambda on the note-duration histogram rises with the length."""
    bins = tilt.FEATURES["dd"].matrix([Melody(notes=(Note(60, 0, 1),))]).shape[1]
    return tilt.Tilt({"dd": np.linspace(-6.0, 6.0, bins)}, {"dd": 4.0}, k)


def test_the_rule_keeps_one_of_its_ways_own_candidates_and_leans_the_set_the_tilts_way():
    members = [model(0), model(1)]
    k, n, seed, ticks = 8, 12, 4, 96
    rule = _rule_for_long_notes(k)
    ruled = hybrid.sample(members, G, V, n, ticks, seed, rule=rule, candidates=k)
    again = hybrid.sample(members, G, V, n, ticks, seed, rule=rule, candidates=k)
    assert [[(x.pitch, x.onset) for x in m.notes] for m in ruled] == [[(x.pitch, x.onset) for x in m.notes] for m in again]
    for way in (0, 1):  # each kept melody is one of the k joins its way round drew for it, in order
        rows = [i for i in range(n) if hybrid.way_of(i, seed) == way]
        cands = hybrid.draw(members, G, V, way, len(rows) * k, ticks, *hybrid.generators(seed, way))
        key = lambda m: [(x.pitch, x.onset, x.duration) for x in m.notes]
        for j, i in enumerate(rows):
            assert key(ruled[i]) in [key(c) for c in cands[j * k:(j + 1) * k]]
            assert ruled[i].extra["rhythm"] == hybrid.GENRES[hybrid.WAYS[way][0]]
    free = hybrid.sample(members, G, V, 64, ticks, seed)
    kept = hybrid.sample(members, G, V, 64, ticks, seed, rule=rule, candidates=k)
    mean_len = lambda ms: np.mean([x.duration for m in ms for x in m.notes])
    assert mean_len(kept) > 1.2 * mean_len(free)


def test_a_hybrid_checkpoint_with_a_rule_samples_through_it():
    members = [model(0), model(1)]
    rule = _rule_for_long_notes(4)
    plain = _two_member_system({"combine": "hybrid"}, members).sample(n=16, bars=2, seed=1)
    ruled = _two_member_system({"combine": "hybrid", "tilt": rule.to_dict(), "candidates": 4},
                               members).sample(n=16, bars=2, seed=1)
    direct = hybrid.sample(members, G, V, 16, 96, 1, rule=rule, candidates=4)
    key = lambda ms: [[(x.pitch, x.onset, x.duration) for x in m.notes] for m in ms]
    assert key(ruled) == key(direct) and key(ruled) != key(plain)
    assert all(m.genre == "hybrid" and abs(m.span - 8) < 1e-9 for m in ruled)
