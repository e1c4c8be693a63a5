"""Monte-Carlo rollouts: batched == the naive loop in what they produce, prefixes kept, rewards
assigned to the right tokens, and the rollout network trails the generator."""
import torch

from fusion.model import rollout
from fusion.model.generator import Generator, GeneratorConfig
from fusion.model.grammar import Grammar
from fusion.model.sampling import sample
from fusion.data.tokens import Vocabulary

V = Vocabulary()
G = Grammar(V)
TICKS = 96


def setup(seed=0, n=6):
    torch.manual_seed(seed)
    g = Generator(GeneratorConfig(embed=8, hidden=16))
    seq = sample([g], [1.0], n, TICKS, G, generator=torch.Generator().manual_seed(seed))
    return g, seq


def test_prefix_lengths_are_inside_each_sequence():
    _, seq = setup()
    keep = rollout.prefix_lengths(seq, G, 3)
    n = rollout.lengths(seq, G)
    assert (keep >= 1).all() and (keep <= n[:, None]).all()
    assert (keep[:, 1:] >= keep[:, :-1]).all()


def test_batched_rollouts_keep_prefixes_and_complete_valid_melodies():
    g, seq = setup()
    net = rollout.make_rollout_net(g)
    keep = rollout.prefix_lengths(seq, G, 3)
    done = rollout.rollouts(net, seq, keep, 4, G, TICKS, generator=torch.Generator().manual_seed(1))
    assert done.shape[0] == 6 * 3 * 4
    assert G.is_valid(done, TICKS).all()
    rows = done.view(6, 3, 4, -1)
    for b in range(6):
        for p in range(3):
            k = int(keep[b, p])
            assert (rows[b, p, :, :k] == seq[b, :k]).all()


def test_naive_and_batched_agree_on_the_whole_sequence_prefix():
    """From the whole melody (prefix = everything up to EOS) a rollout adds nothing, in both."""
    g, seq = setup(2)
    net = rollout.make_rollout_net(g)
    keep = rollout.lengths(seq, G)[:, None]
    for fn in (rollout.rollouts, rollout.rollouts_naive):
        done = fn(net, seq, keep, 2, G, TICKS, generator=torch.Generator().manual_seed(0))
        L = seq.shape[1]
        assert torch.equal(done.view(6, 2, -1)[:, 0, :L], seq)


def test_naive_and_batched_sample_from_the_same_distribution():
    """With a rollout network that puts (nearly) all mass on one continuation, both give it."""
    g, seq = setup(3, n=4)
    net = rollout.make_rollout_net(g)
    with torch.no_grad():
        net.out.bias.zero_()
        net.out.weight.zero_()
        net.out.bias[V.pitch_id(67)] = 1000.0
        for d in range(1, 49):  # the longest duration that fits, by a wide margin
            net.out.bias[V.duration_id(d)] = 20.0 * d
    keep = rollout.prefix_lengths(seq, G, 2)
    a = rollout.rollouts(net, seq, keep, 3, G, TICKS)
    b = rollout.rollouts_naive(net, seq, keep, 3, G, TICKS)
    L = min(a.shape[1], b.shape[1])
    assert torch.equal(a[:, :L], b[:, :L])


def test_token_rewards():
    keep = torch.tensor([[2, 4]])
    q = torch.tensor([[10.0, 20.0]])
    full = torch.tensor([30.0])
    r = rollout.token_rewards(q, full, keep, 6)
    # tokens 1 (in prefix of 2), 2..3 (prefix of 4), 4..6 (the whole melody)
    assert r.tolist() == [[10.0, 20.0, 20.0, 30.0, 30.0, 30.0]]


def test_rollout_network_trails_the_generator():
    g, _ = setup()
    net = rollout.make_rollout_net(g)
    before = net.out.bias.clone()
    with torch.no_grad():
        g.out.bias.add_(1.0)
    rollout.trail(net, g, keep=0.8)
    assert torch.allclose(net.out.bias, 0.8 * before + 0.2 * g.out.bias)
