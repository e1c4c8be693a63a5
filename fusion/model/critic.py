"""The critic: a TextCNN with an unbounded score, used as a Wasserstein critic (D_A, D_B, D_F).

    e = E[tokens]                                  (B, L, E) token embedding
    c_w = max_t relu(conv_w(e))                    one 1-D convolution per width w, max over time
    z = concat_w c_w;  z = g * relu(H z) + (1 - g) * z,  g = sigmoid(G z)     highway layer
    D(x) = w . dropout(z) + b                      unbounded score (no sigmoid)

The paper's discriminator is this TextCNN with a sigmoid output; as a Wasserstein critic (Eq. 1)
the score is left unbounded and must be (about) 1-Lipschitz. FusionGAN enforces that with a
gradient penalty (WGAN-GP, Gulrajani et al. 2017) with respect to the critic's real input, the
*one-hot* token sequence x (B, L, V): token sequences are discrete, so the penalty is taken at
random interpolations x_hat = a x_pos + (1 - a) x_neg between a positive and a negative batch, and
the critic reads x_hat through its embedding table as e = x_hat E (:func:`gradient_penalty`).
The gradient flows through E, so the embedding table is bounded too; a penalty on detached
embeddings (the first version) leaves E free to grow, and the critic's scores with it
(``docs/method.md``, "Lipschitz critics", Eq. 1).

Padding positions are excluded from the max-over-time pooling. Sequences shorter than the widest
filter are padded (a masked position never wins the max).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

NEG = -1e4


@dataclass(frozen=True)
class CriticConfig:
    vocab_size: int = 180
    embed: int = 32
    widths: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 8, 10, 15, 20)
    filters: int = 24
    dropout: float = 0.25

    def to_dict(self) -> dict:
        d = asdict(self)
        d["widths"] = list(self.widths)
        return d


class Critic(nn.Module):
    def __init__(self, config: CriticConfig, pad_id: int = 0):
        super().__init__()
        self.config = config
        self.pad_id = pad_id
        self.embed = nn.Embedding(config.vocab_size, config.embed)
        self.convs = nn.ModuleList(nn.Conv1d(config.embed, config.filters, w) for w in config.widths)
        n = config.filters * len(config.widths)
        self.highway_h = nn.Linear(n, n)
        self.highway_g = nn.Linear(n, n)
        self.drop = nn.Dropout(config.dropout)
        self.score = nn.Linear(n, 1)

    def mask_of(self, tokens: torch.Tensor) -> torch.Tensor:
        return tokens != self.pad_id

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Scores ``(B,)`` of token sequences ``(B, L)`` (PAD = padding)."""
        return self.score_embedded(self.embed(tokens), self.mask_of(tokens))

    def score_embedded(self, emb: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Scores of already-embedded sequences ``(B, L, E)`` with their validity mask ``(B, L)``."""
        L = emb.shape[1]
        widest = max(self.config.widths)
        if L < widest:
            emb = nn.functional.pad(emb, (0, 0, 0, widest - L))
            mask = nn.functional.pad(mask, (0, widest - L), value=False)
            L = widest
        x = emb.transpose(1, 2)  # (B, E, L)
        pooled = []
        m = mask.float()
        for w, conv in zip(self.config.widths, self.convs):
            h = torch.relu(conv(x))  # (B, F, L - w + 1)
            # a window is valid when its first position is valid (it may run into padding)
            valid = m[:, : L - w + 1]
            h = h + (1.0 - valid)[:, None, :] * NEG
            pooled.append(h.max(dim=2).values)
        z = torch.cat(pooled, dim=1)
        g = torch.sigmoid(self.highway_g(z))
        z = g * torch.relu(self.highway_h(z)) + (1 - g) * z
        return self.score(self.drop(z)).squeeze(-1)

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.parameters())


def pad_to(tokens: torch.Tensor, length: int, pad_id: int = 0) -> torch.Tensor:
    if tokens.shape[1] >= length:
        return tokens
    return nn.functional.pad(tokens, (0, length - tokens.shape[1]), value=pad_id)


def input_gradient_norms(critic: Critic, positive: torch.Tensor, negative: torch.Tensor,
                         generator: torch.Generator | None = None, create_graph: bool = False) -> torch.Tensor:
    """``||grad_x D(x_hat)||_2`` per pair ``(n,)`` at ``x_hat = a x_pos + (1-a) x_neg``, ``a ~ U(0, 1)``,
    with ``x`` the one-hot token sequences, read through the embedding (``e = x_hat E``), over the
    union of the two sequences' valid positions. About 1 for a 1-Lipschitz critic. A critic with
    its own ``gradient_norms`` (the statistics critic, whose input is a feature vector) answers
    for itself."""
    if hasattr(critic, "gradient_norms"):
        return critic.gradient_norms(positive, negative, generator, create_graph)
    n = min(len(positive), len(negative))
    L = max(positive.shape[1], negative.shape[1])
    pos, neg = pad_to(positive[:n], L, critic.pad_id), pad_to(negative[:n], L, critic.pad_id)
    V = critic.embed.num_embeddings
    a = torch.rand(n, 1, 1, device=pos.device, generator=generator)
    x = a * nn.functional.one_hot(pos, V).float() + (1 - a) * nn.functional.one_hot(neg, V).float()
    x.requires_grad_(True)
    mask = critic.mask_of(pos) | critic.mask_of(neg)
    score = critic.score_embedded(x @ critic.embed.weight, mask)
    (grad,) = torch.autograd.grad(score.sum(), x, create_graph=create_graph)
    return grad.flatten(1).norm(dim=1)


def gradient_penalty(critic: Critic, positive: torch.Tensor, negative: torch.Tensor,
                     generator: torch.Generator | None = None) -> torch.Tensor:
    """WGAN-GP on the one-hot input: ``E (||grad_x D(x_hat)||_2 - 1)^2`` (:func:`input_gradient_norms`)."""
    norm = input_gradient_norms(critic, positive, negative, generator, create_graph=True)
    return ((norm - 1) ** 2).mean()
