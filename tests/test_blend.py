"""The blend reward (fusion.model.blend): halves of token sequences, calibration, and the ordering
it must give: pure melodies of either genre < a medley < a melody that blends both all through."""
import pytest
import torch

from fusion.data.tokens import Vocabulary
from fusion.melody import Melody
from fusion.model import blend
from fusion.model.grammar import Grammar

V = Vocabulary()
G = Grammar(V)
JAZZ = (61, 63, 66, 68, 70)  # the "jazz" critic below counts these pitches (black keys)
FOLK = (60, 62, 64, 65, 67)  # the "folk" critic these (white keys)


def tokens(pitches, beats=16):
    """One melody of equal notes filling ``beats`` beats, as a BOS .. EOS token row."""
    step = beats / len(pitches)
    m = Melody.from_notes([(p, i * step, step) for i, p in enumerate(pitches)])
    return [V.bos_id, *V.encode(m), V.eos_id]


def batch(rows):
    L = max(len(r) for r in rows)
    return torch.tensor([r + [V.pad_id] * (L - len(r)) for r in rows])


class ShareCritic(torch.nn.Module):
    """A hand-made genre critic: the share of a melody's notes whose pitch is in ``pitches``."""

    def __init__(self, pitches):
        super().__init__()
        self.ids = torch.tensor([V.pitch_id(p) for p in pitches])

    def forward(self, seq):
        notes = G.is_pitch[seq]
        mine = torch.isin(seq, self.ids)
        return mine.float().sum(1) / notes.float().sum(1).clamp_min(1)


def test_halves_split_events_at_the_middle_and_keep_them_whole():
    row = tokens([60, 62, 64, 65, 67, 69, 71, 72])  # eight half notes over 16 beats
    first, second = blend.halves(batch([row]), G)
    dec = [V.decode([t for t in x[0].tolist() if t != V.pad_id]) for x in (first, second)]
    assert [n.pitch for n in dec[0].notes] == [60, 62, 64, 65]
    assert [n.pitch for n in dec[1].notes] == [67, 69, 71, 72]
    assert all(x[0, 0] == V.bos_id for x in (first, second))
    assert all((x[0] == V.eos_id).sum() == 1 for x in (first, second))


def test_halves_of_a_batch_match_one_row_at_a_time():
    rows = [tokens([60, 62, 64]), tokens([61, 63, 66, 68, 70, 72, 74]), tokens([65] * 16)]
    first, second = blend.halves(batch(rows), G)
    for i, r in enumerate(rows):
        f1, s1 = blend.halves(batch([r]), G)
        strip = lambda x: [t for t in x.tolist() if t != V.pad_id]  # noqa: E731
        assert strip(first[i]) == strip(f1[0]) and strip(second[i]) == strip(s1[0])


def test_softmin_is_a_smooth_minimum():
    a, b = torch.tensor([0.0, 1.0, 0.5]), torch.tensor([1.0, 0.0, 0.5])
    s = blend.softmin(a, b, tau=0.1)
    assert s[0] == pytest.approx(s[1]) and 0.0 < float(s[0]) < 0.1  # tau * log 2 above the minimum, at most
    assert float(s[2]) == pytest.approx(0.5, abs=1e-6)
    assert float(blend.softmin(torch.tensor([0.3]), torch.tensor([0.9]), 0.01)) == pytest.approx(0.3, abs=0.01)


@pytest.fixture(scope="module")
def setting():
    ca, cb = ShareCritic(JAZZ), ShareCritic(FOLK)
    real_jazz = batch([tokens([JAZZ[(i + k) % 5] for i in range(8)]) for k in range(5)])
    real_folk = batch([tokens([FOLK[(i + k) % 5] for i in range(8)]) for k in range(5)])
    return ca, cb, blend.Calibration.fit(ca, cb, real_jazz, real_folk, G)


def test_calibration_maps_real_folk_to_0_and_real_jazz_to_1(setting):
    ca, cb, cal = setting
    a, b = cal.acceptances(torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0]), "whole")
    assert a.tolist() == pytest.approx([1.0, 0.0]) and b.tolist() == pytest.approx([0.0, 1.0])
    assert all(v > 0 for v in cal.separations().values())


def test_pure_melodies_earn_less_than_a_medley_and_a_medley_less_than_a_blend(setting):
    ca, cb, cal = setting
    pure_jazz = tokens([61, 63, 66, 68, 70, 68, 66, 63])
    pure_folk = tokens([60, 62, 64, 65, 67, 65, 64, 62])
    medley = tokens([61, 63, 66, 68, 60, 62, 64, 65])  # jazz bars, then folk bars
    blended = tokens([61, 60, 63, 62, 66, 64, 68, 65])  # both all through
    r = blend.reward(ca, cb, cal, batch([pure_jazz, pure_folk, medley, blended]), G).tolist()
    assert r[0] < 0.1 and r[1] < 0.1
    assert r[2] > r[0] + 0.05 and r[2] > r[1] + 0.05
    assert r[3] > r[2] + 0.2
    parts = blend.reward_parts(ca, cb, cal, batch([medley]), G)
    assert float(parts["fuse_whole"][0]) > 0.4 and float(parts["fuse_first"][0]) < 0.1  # the halves expose it


def test_reward_object_survives_a_checkpoint_round_trip():
    from fusion.model.critic import Critic, CriticConfig
    from fusion.model.stats_critic import StatsCritic

    torch.manual_seed(0)
    vocab = Vocabulary()
    grammar = Grammar(vocab)
    ca, cb = (Critic(CriticConfig(embed=8, widths=(1, 2, 3), filters=4), pad_id=vocab.pad_id).eval() for _ in range(2))
    sa, sb = StatsCritic(grammar).eval(), StatsCritic(grammar).eval()
    cal = blend.Calibration({(k, p, g): float(i) for i, (k, p, g) in enumerate(
        (k, p, g) for k in ("A", "B", "SA", "SB") for p in blend.PIECES for g in ("jazz", "folk"))})
    made = blend.Reward(ca, cb, cal, grammar, (sa, sb))
    seq = torch.tensor([vocab.encode(Melody.from_notes([(60 + i % 5, i * 0.5, 0.5) for i in range(16)]), bos_eos=True)])
    back = blend.Reward.from_checkpoint(made.to_config(), made.tensors(), grammar)
    assert set(made.tensors()) == {k for k in made.tensors() if k.split(".")[1] in ("C_A", "C_B", "S_A", "S_B")}
    assert torch.allclose(back(seq), made(seq))
    assert back.calibration.means == cal.means


def test_equal_density_lies_nearer_the_tighter_genre_and_reads_one_half():
    assert blend.equal_density(1.0, 0.3, -1.0, 0.3) == pytest.approx(0.0)
    x0 = blend.equal_density(1.0, 0.4, -1.0, 0.1)  # own genre broad, the other tight
    assert -1.0 < x0 < -0.5
    from scipy.stats import norm
    assert norm.pdf(x0, 1.0, 0.4) == pytest.approx(norm.pdf(x0, -1.0, 0.1))
    m = {}
    for piece in blend.PIECES:  # C_A: jazz (own) broad, folk tight; C_B: folk (own) tight, jazz broad
        m.update({("A", piece, "jazz"): 1.0, ("A", piece, "jazz_sd"): 0.4, ("A", piece, "folk"): -1.0,
                  ("A", piece, "folk_sd"): 0.1, ("B", piece, "folk"): 1.0, ("B", piece, "folk_sd"): 0.1,
                  ("B", piece, "jazz"): -1.0, ("B", piece, "jazz_sd"): 0.4})
    cal = blend.Calibration(m)
    ua, ub = cal.middle("A", "whole"), cal.middle("B", "whole")
    assert ua < 0.5 < ub  # both on the folk side
    a, b = cal.acceptances(torch.tensor([-1.0, x0, 1.0]), torch.tensor([-1.0, 2 * ua - 1 + 0.0, 1.0]), "whole")
    assert a.tolist() == pytest.approx([0.0, 0.5, 1.0], abs=1e-6)
    assert b[0] == pytest.approx(0.0) and b[2] == pytest.approx(1.0)
    # without the spreads (an older checkpoint) the map stays linear
    old = blend.Calibration({k: v for k, v in m.items() if not k[2].endswith("_sd")})
    a, _ = old.acceptances(torch.tensor([0.0]), torch.tensor([0.0]), "whole")
    assert old.middle("A", "whole") == 0.5 and float(a[0]) == pytest.approx(0.5)


def test_calibration_fit_keeps_each_genres_spread(setting):
    _, _, cal = setting
    assert all((k, p, f"{g}_sd") in cal.means for k in ("A", "B") for p in blend.PIECES for g in ("jazz", "folk"))
    assert all(0.05 <= v <= 0.95 for v in cal.middles().values())
