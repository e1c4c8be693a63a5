"""Equal evidence (fusion.model.evidence): the genre generators' opinions are +1 / -1 on the
windows they were calibrated on, the acceptance is 1/2 exactly where both find a melody equally
likely, and a melody of both genres earns more of the blend reward than a pure one."""
import pytest
import torch

from fusion.data.tokens import Vocabulary
from fusion.melody import Melody
from fusion.model import blend, evidence
from fusion.model.generator import Generator, GeneratorConfig
from fusion.model.grammar import Grammar

V = Vocabulary()
G = Grammar(V)
JAZZ = (61, 63, 66, 68, 70)  # black keys
FOLK = (60, 62, 64, 65, 67)  # white keys


def tokens(pitches, step=1.0):
    m = Melody.from_notes([(p, i * step, step) for i, p in enumerate(pitches)])
    return [V.bos_id, *V.encode(m), V.eos_id]


def batch(rows):
    L = max(len(r) for r in rows)
    return torch.tensor([r + [V.pad_id] * (L - len(r)) for r in rows])


def melodies(keys, n, seed):
    g = torch.Generator().manual_seed(seed)
    return batch([tokens([keys[int(i)] for i in torch.randint(0, 5, (16,), generator=g)]) for _ in range(n)])


def fitted_generator(seq, seed):
    """A tiny LSTM fitted by MLE to ``seq`` (a few hundred steps: it learns which keys its genre uses)."""
    torch.manual_seed(seed)
    g = Generator(GeneratorConfig(vocab_size=len(V), embed=16, hidden=32))
    opt = torch.optim.Adam(g.parameters(), lr=1e-2)
    total = G.ticks[seq].sum(1)
    for _ in range(150):
        loss, n = g.nll(seq, G, total)
        opt.zero_grad()
        (loss / n).backward()
        opt.step()
    return g.eval()


@pytest.fixture(scope="module")
def fitted():
    jazz, folk = melodies(JAZZ, 64, 0), melodies(FOLK, 64, 1)
    ga, gb = fitted_generator(jazz, 0), fitted_generator(folk, 1)
    held = {"jazz": melodies(JAZZ, 32, 2), "folk": melodies(FOLK, 32, 3)}
    return evidence.Evidence.fit(ga, gb, G, held["jazz"], held["folk"]), held


def test_opinions_are_plus_and_minus_one_on_the_calibration_windows(fitted):
    ev, held = fitted
    for genre, sign in (("jazz", 1.0), ("folk", -1.0)):
        o = ev.opinions(held[genre])
        for part in ("whole", "pitch", "first", "second"):
            assert float(torch.nanmean(o[part])) == pytest.approx(sign, abs=1e-6), (genre, part)
    assert all(h > 0 for h in ev.half.values())


def test_the_acceptance_is_one_half_at_equal_evidence_and_monotone(fitted):
    ev, _ = fitted
    for part in evidence.PIECES:
        o0 = ev.middle(part)
        assert (0 - ev.mid[part]) / ev.half[part] == pytest.approx(o0)  # a mean ratio of 0
        o = torch.tensor([-3.0, -1.0, o0, 1.0, 3.0, float("nan")], dtype=torch.float64)
        j = ev.jazz_acceptance(o, part).tolist()
        assert j[:5] == pytest.approx([0.0, 0.0, 0.5, 1.0, 1.0], abs=1e-6) and j[5] == 0.0
        grid = torch.linspace(-1, 1, 41, dtype=torch.float64)
        assert bool((ev.jazz_acceptance(grid, part).diff() >= 0).all())


def test_both_genres_in_one_melody_earn_more_than_either_alone(fitted):
    ev, held = fitted
    both = batch([tokens([(JAZZ if i % 2 else FOLK)[i % 5] for i in range(16)])])
    acc = {name: ev.acceptances(x) for name, x in (("jazz", held["jazz"]), ("folk", held["folk"]), ("both", both))}
    j = {name: float(a["whole"][0].mean()) for name, a in acc.items()}
    assert j["jazz"] > 0.8 and j["folk"] < 0.2 and 0.2 < j["both"] < 0.8
    for a in acc.values():
        for jj, ff in a.values():
            assert torch.allclose(jj + ff, torch.ones_like(jj))
    fuse = {name: float(blend.softmin(*a["whole"]).mean()) for name, a in acc.items()}
    assert fuse["both"] > fuse["jazz"] + 0.1 and fuse["both"] > fuse["folk"] + 0.1


def test_the_reward_with_evidence_survives_a_checkpoint_round_trip(fitted):
    from fusion.model.critic import Critic, CriticConfig

    ev, held = fitted
    torch.manual_seed(0)
    ca, cb = (Critic(CriticConfig(embed=8, widths=(1, 2, 3), filters=4), pad_id=V.pad_id).eval() for _ in range(2))
    cal = blend.Calibration({(k, p, g): float(i) for i, (k, p, g) in enumerate(
        (k, p, g) for k in ("A", "B") for p in blend.PIECES for g in ("jazz", "folk"))})
    made = blend.Reward(ca, cb, cal, G, None, ev)
    back = blend.Reward.from_checkpoint(made.to_config(), made.tensors(), G)
    seq = torch.cat([held["jazz"][:4], held["folk"][:4]])
    assert back.evidence is not None and back.evidence.mid == pytest.approx(ev.mid)
    assert torch.allclose(back(seq), made(seq))
    parts = blend.reward_parts(ca, cb, cal, seq, G, evidence=ev)
    assert {"j_whole", "f_whole", "j_first", "f_second"} <= set(parts)
    # the soft minimum of the critics' and the generators' acceptances is at most the smallest + tau log 4
    for piece in blend.PIECES:
        least = torch.stack([parts[f"{k}_{piece}"] for k in "abjf"]).min(0).values
        assert bool((parts[f"fuse_{piece}"] <= least + blend.TAU * torch.log(torch.tensor(4.0)) + 1e-6).all())
