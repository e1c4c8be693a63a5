"""The statistics critic (fusion.model.stats_critic): its features read a melody's global
statistics correctly, and trained with the penalty it is 1-Lipschitz in them and tells genres apart."""
import pytest
import torch

from fusion.data.tokens import Vocabulary
from fusion.melody import Melody, Note
from fusion.model import losses
from fusion.model.critic import input_gradient_norms
from fusion.model.grammar import Grammar
from fusion.model.stats_critic import N_INTERVALS, StatsCritic, features, feature_size

V = Vocabulary()
G = Grammar(V)
D = V.max_duration_ticks


def tokens(*melodies, beats=16):
    rows = [V.encode(m, total_beats=beats, bos_eos=True) for m in melodies]
    L = max(map(len, rows))
    return torch.tensor([r + [V.pad_id] * (L - len(r)) for r in rows])


def zigzag(step=1.0, start=60, n=8, leap=2):
    """n notes of ``step`` beats, alternating between ``start`` and ``start + leap``."""
    return Melody(tuple(Note(start + leap * (i % 2), i * step, step) for i in range(n)))


def test_features_of_a_known_melody():
    m = Melody((Note(60, 0, 1), Note(62, 1, 1), Note(64, 2, 2), Note(72, 6, 6)))  # a 2-beat rest at 4
    phi = features(tokens(m), G)[0]
    assert phi.shape == (feature_size(V),)
    pc, note_len, rest_len = phi[:12], phi[12:12 + D], phi[12 + D:12 + 2 * D]
    intervals, scalars = phi[12 + 2 * D:12 + 2 * D + N_INTERVALS], phi[-4:]
    assert pc[0] == 0.5 and pc[2] == 0.25 and pc[4] == 0.25  # C twice (60, 72), D, E
    # lengths 1, 1, 2 beats and 6 beats (two tied tokens: 4 + 2, capped at the largest class, 4 beats)
    assert note_len[11] == 0.5 and note_len[23] == 0.25 and note_len[D - 1] == 0.25
    assert rest_len[23] == 0.5 and rest_len[D - 1] == 0.5  # a 2-beat rest inside, a 4-beat one at the end
    assert intervals[12 + 2] == 2 / 3 and intervals[12 + 8] == 1 / 3  # +2, +2, +8 semitones
    assert scalars[0] == 4 / 16 / 4  # notes per beat / 4
    assert abs(float(scalars[1]) - (2 + 4) / 16) < 1e-6  # rests: 2 beats inside, 4 at the end
    assert abs(float(scalars[2]) - 12 / 24) < 1e-6 and abs(float(scalars[3]) - (60 + 62 + 64 + 72) / 4 / 128) < 1e-6


def test_features_are_the_same_whatever_the_padding():
    a, b = zigzag(), zigzag(0.5, 62, 16)
    one = features(tokens(a), G)
    both = features(tokens(a, b), G)
    assert torch.allclose(one[0], both[0])


@pytest.mark.slow  # 300 critic steps: about 20 s
def test_trained_with_the_penalty_it_is_lipschitz_and_tells_the_genres_apart():
    torch.manual_seed(0)
    critic = StatsCritic(G)
    opt = torch.optim.Adam(critic.parameters(), lr=2e-3, betas=(0.5, 0.9))
    # "jazz": fast, leaping; "folk": quarter notes, stepwise
    jazz = tokens(*[zigzag(0.5, 55 + i % 7, 32, leap=5 - i % 3) for i in range(16)])
    folk = tokens(*[zigzag(1.0, 60 + i % 5, 16, leap=1 + i % 2) for i in range(16)])
    for _ in range(300):
        d = {"xa": critic(jazz), "xb": critic(folk)}
        w = losses.wasserstein([d["xa"]], [d["xb"]])
        gp = ((input_gradient_norms(critic, jazz, folk, create_graph=True) - 1) ** 2).mean()
        opt.zero_grad()
        (-w + 10 * gp).backward()
        opt.step()
    norms = input_gradient_norms(critic, jazz, folk)
    assert 0.7 < float(norms.mean()) < 1.3
    with torch.no_grad():
        assert float(critic(jazz).mean() - critic(folk).mean()) > 0.1
