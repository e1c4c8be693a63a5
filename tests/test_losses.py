"""Each loss term equals its formula on hand-made scores, balance terms vanish when balanced, and
gradients move their targets the intended way."""
import pytest
import torch

from fusion.model import losses
from fusion.model.generator import Generator, GeneratorConfig
from fusion.model.grammar import Grammar
from fusion.data.tokens import Vocabulary


def scores(**means):
    """Per-sample scores whose means are the given numbers (two samples each, +-0.5)."""
    return {k: torch.tensor([v - 0.5, v + 0.5], requires_grad=True) for k, v in means.items()}


D = dict(xa=3.0, xb=-1.0, ga=1.0, gb=0.5, gf=-2.0)


def test_eq8_and_eq9():
    d = scores(**D)
    assert losses.eq8_fusion_critic(d).item() == pytest.approx((3 - 1 + 1 + 0.5) / 4 - (-2))
    assert losses.eq9_fusion_balance(d).item() == pytest.approx(abs(1 - 0.5) + abs(3 + 1))
    assert losses.eq9_fusion_balance(scores(xa=2, xb=2, ga=-1, gb=-1, gf=5)).item() == 0


def test_eq11_for_both_source_critics():
    d = scores(**D)
    assert losses.eq11_source_critic(d, "xa").item() == pytest.approx(3 - (-1 + 1 + 0.5 - 2) / 4)
    assert losses.eq11_source_critic(d, "xb").item() == pytest.approx(-1 - (3 + 1 + 0.5 - 2) / 4)


def test_eq13_vanishes_exactly_when_eq12_holds():
    inside = scores(xa=3, gf=1, xb=-1, ga=0, gb=0)
    assert losses.eq13_source_balance(inside, "xa").item() == pytest.approx(0)
    above = scores(xa=3, gf=4, xb=-1, ga=0, gb=0)  # G_F scored more jazz than jazz itself
    assert losses.eq13_source_balance(above, "xa").item() == pytest.approx(2 * (4 - 3))
    below = scores(xa=3, gf=-3, xb=-1, ga=0, gb=0)
    assert losses.eq13_source_balance(below, "xa").item() == pytest.approx(2 * (-1 + 3))
    # the printed Eq. 13 would be |3-4| + |4+1| = 6: ours subtracts |xa - xb| = 4
    # for D_B the own genre is folk: X_B >= G_F >= X_A
    d = scores(xa=-1, gf=1, xb=3, ga=0, gb=0)
    assert losses.eq13_source_balance(d, "xb").item() == pytest.approx(0)


def test_critic_gradients_move_scores_the_intended_way():
    d = scores(**D)
    losses.critic_loss(losses.eq8_fusion_critic(d)).backward()
    # descending D_F's loss raises the scores of the four source sets and lowers G_F's
    assert all(d[k].grad.sum() < 0 for k in ("xa", "xb", "ga", "gb")) and d["gf"].grad.sum() > 0
    d = scores(xa=3, gf=1, xb=-1, ga=0, gb=0)
    losses.critic_loss(losses.eq11_source_critic(d, "xa")).backward()
    assert d["xa"].grad.sum() < 0 and all(d[k].grad.sum() > 0 for k in ("xb", "ga", "gb", "gf"))
    d = scores(xa=3, gf=4, xb=-1, ga=0, gb=0)
    losses.eq13_source_balance(d, "xa").backward()
    assert d["gf"].grad.sum() > 0  # descending lowers D_A(G_F) back into [D_A(X_B), D_A(X_A)]
    assert d["xa"].grad.sum() < 0  # ... or raises D_A(X_A) above it
    d = scores(xa=3, gf=-3, xb=-1, ga=0, gb=0)
    losses.eq13_source_balance(d, "xa").backward()
    assert d["gf"].grad.sum() < 0 and d["xb"].grad.sum() > 0


def test_balance_gradient_equalises_source_scores():
    d = scores(xa=3, xb=-1, ga=1, gb=0.5, gf=0)
    losses.eq9_fusion_balance(d).backward()
    assert d["xa"].grad.sum() > 0 and d["xb"].grad.sum() < 0  # pulls X_A down, X_B up
    assert d["ga"].grad.sum() > 0 and d["gb"].grad.sum() < 0


def test_wasserstein_is_shift_invariant():
    d = scores(**D)
    shifted = {k: v + 10 for k, v in d.items()}
    assert losses.eq8_fusion_critic(d).item() == pytest.approx(losses.eq8_fusion_critic(shifted).item())
    assert losses.eq11_source_critic(d).item() == pytest.approx(losses.eq11_source_critic(shifted).item())


def test_rewards_signs():
    z = torch.tensor([1.0])
    assert losses.eq4_fusion_reward(z, 2 * z, 3 * z).item() == 6
    # G_A: its own critic raises the reward, the other genre's critic lowers it
    assert losses.eq14_source_reward(z, 0 * z, 0 * z).item() > 0
    assert losses.eq14_source_reward(0 * z, z, 0 * z).item() < 0
    assert losses.eq14_source_reward(0 * z, 0 * z, z).item() > 0


def test_standardize():
    x = torch.tensor([1.0, 2.0, 3.0, 100.0])
    mask = torch.tensor([True, True, True, False])
    s = losses.standardize(x, mask)
    assert s[:3].mean().abs() < 1e-6 and abs(s[:3].std().item() - 1) < 1e-5


def test_policy_gradient_step_raises_probability_of_rewarded_sequence():
    torch.manual_seed(0)
    V = Vocabulary()
    G = Grammar(V)
    g = Generator(GeneratorConfig(embed=8, hidden=8))
    good = [V.bos_id, V.pitch_id(60), V.duration_id(12), V.eos_id]
    bad = [V.bos_id, V.pitch_id(72), V.duration_id(12), V.eos_id]
    seq = torch.tensor([good, bad])
    mask = seq[:, 1:] != V.pad_id
    adv = torch.tensor([[1.0] * 3, [-1.0] * 3])
    before = g.masked_log_probs(seq, G, 12).sum(1).detach()
    opt = torch.optim.SGD(g.parameters(), lr=0.5)
    loss = losses.policy_gradient_loss(g.masked_log_probs(seq, G, 12), adv, mask)
    loss.backward()
    opt.step()
    after = g.masked_log_probs(seq, G, 12).sum(1).detach()
    assert after[0] > before[0] and after[1] < before[1]


def test_eq13_is_taken_per_fused_melody():
    """A batch of G_F scores whose *mean* lies between the genres, but whose melodies lie outside
    (half score like super-jazz, half like super-folk): the per-melody penalty sees it."""
    d = {"xa": torch.tensor([3.0, 3.0]), "xb": torch.tensor([-1.0, -1.0]), "gf": torch.tensor([5.0, -3.0]),
         "ga": torch.zeros(2), "gb": torch.zeros(2)}
    assert losses.eq13_source_balance(d, "xa").item() == pytest.approx((2 * 2 + 2 * 2) / 2)
    inside = dict(d, gf=torch.tensor([2.0, 0.0]))
    assert losses.eq13_source_balance(inside, "xa").item() == pytest.approx(0)
