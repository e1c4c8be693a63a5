"""The critic (fusion.model.critic): scores, padding, and the Lipschitz penalty on its one-hot input."""
import torch

from fusion.data.tokens import Vocabulary
from fusion.model.critic import Critic, CriticConfig, gradient_penalty, input_gradient_norms

V = Vocabulary()


def sequences(pitches, n, seed):
    """``n`` token rows BOS (PITCH DUR)* EOS with pitches drawn from ``pitches``."""
    g = torch.Generator().manual_seed(seed)
    rows = []
    for _ in range(n):
        body = []
        for i in torch.randint(len(pitches), (16,), generator=g).tolist():
            body += [V.pitch_id(pitches[i]), V.duration_id(12)]
        rows.append([V.bos_id, *body, V.eos_id])
    return torch.tensor(rows)


def train(lam, steps=150):
    torch.manual_seed(0)
    critic = Critic(CriticConfig(vocab_size=len(V), embed=8, widths=(1, 2, 3), filters=8, dropout=0.0), V.pad_id)
    opt = torch.optim.Adam(critic.parameters(), lr=3e-3)
    pos, neg = sequences((60, 62, 64), 64, 1), sequences((61, 63, 66), 64, 2)
    for _ in range(steps):
        loss = -(critic(pos).mean() - critic(neg).mean())
        if lam:
            loss = loss + lam * gradient_penalty(critic, pos, neg)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return critic, pos, neg


def test_penalised_critic_is_about_1_lipschitz_on_interpolates():
    critic, pos, neg = train(lam=10.0)
    norms = input_gradient_norms(critic, pos, neg, generator=torch.Generator().manual_seed(3))
    assert 0.8 < float(norms.mean()) < 1.2
    # and its estimate is bounded: at most the one-hot distance between the sets
    with torch.no_grad():
        gap = float(critic(pos).mean() - critic(neg).mean())
    assert 0 < gap <= (2 * 16) ** 0.5


def test_without_the_penalty_the_gradient_grows():
    critic, pos, neg = train(lam=0.0)
    norms = input_gradient_norms(critic, pos, neg, generator=torch.Generator().manual_seed(3))
    assert float(norms.mean()) > 1.5


def test_the_penalty_reaches_the_embedding_table():
    critic, pos, neg = train(lam=0.0, steps=1)
    critic.zero_grad()
    gradient_penalty(critic, pos, neg).backward()
    assert critic.embed.weight.grad is not None and critic.embed.weight.grad.abs().sum() > 0
