"""Every loss term of FusionGAN as a small function of critic scores (docs/method.md explains the
signs and weights chosen where the paper is ambiguous).

Notation: ``d`` maps the five inputs of Eq. 1 to a critic's per-sample scores,
``d["xa"]`` = D(X_A) real jazz, ``d["xb"]`` = D(X_B) real folk, ``d["ga"]`` = D(G_A(z)),
``d["gb"]`` = D(G_B(z)), ``d["gf"]`` = D(G_F(z)); ``E`` is the mean over the batch.

Critic objectives are *maximised* (their loss is the negative plus penalties). Positive and
negative sets are weighted so that each side sums to 1 (a mean over the sets): with the paper's
plain sums (four positive terms and one negative in Eq. 8, one and four in Eq. 11) adding a
constant c to the critic would change the objective by 3c, and the unbounded score would drift
to infinity instead of measuring a distance.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import torch

Scores = Mapping[str, torch.Tensor]
OTHER = {"xa": "xb", "xb": "xa"}


def E(x: torch.Tensor) -> torch.Tensor:
    return x.mean()


def wasserstein(positive: Sequence[torch.Tensor], negative: Sequence[torch.Tensor]) -> torch.Tensor:
    """Critic estimate of W(P, N) = mean_k E D(P_k) - mean_j E D(N_j) (one term of Eq. 1)."""
    return torch.stack([E(p) for p in positive]).mean() - torch.stack([E(n) for n in negative]).mean()


def eq8_fusion_critic(d: Scores) -> torch.Tensor:
    """Eq. 8, maximised by D_F: the sources (X_A, X_B, G_A, G_B) score high, G_F low."""
    return wasserstein([d["xa"], d["xb"], d["ga"], d["gb"]], [d["gf"]])


def eq9_fusion_balance(d: Scores) -> torch.Tensor:
    """Eq. 9, minimised by D_F: |E D_F(G_A) - E D_F(G_B)| + |E D_F(X_A) - E D_F(X_B)|. Zero when
    D_F scores the two source domains alike, so its pull on G_F favours neither genre."""
    return (E(d["ga"]) - E(d["gb"])).abs() + (E(d["xa"]) - E(d["xb"])).abs()


def eq11_source_critic(d: Scores, own: str = "xa") -> torch.Tensor:
    """Eq. 11, maximised by D_A (``own="xa"``; D_B with ``own="xb"``): the critic's own genre
    scores high; the other genre and all three generators low."""
    return wasserstein([d[own]], [d[OTHER[own]], d["ga"], d["gb"], d["gf"]])


def eq13_source_balance(d: Scores, own: str = "xa") -> torch.Tensor:
    """Eq. 13 made a penalty that is zero exactly when Eq. 12 holds, minimised by D_A, taken per
    generated melody as printed (``D_A(G_F(z))``, no expectation) against the mean scores of the
    two genres: ``E_z [ |a - D(G_F(z))| + |D(G_F(z)) - b| - |a - b| ]`` with ``a = E D(X_own)``,
    ``b = E D(X_other)``, i.e. twice the mean amount by which a fused melody's score leaves the
    interval between the genres. (On the batch mean, the first version, it was zero in almost
    every step: the mean of a jazz-and-folk mixture lies inside the interval.)"""
    a, b = E(d[own]), E(d[OTHER[own]])
    f = d["gf"]
    return ((a - f).abs() + (f - b).abs() - (a - b).abs()).mean()


def critic_loss(objective: torch.Tensor, balance: torch.Tensor | float = 0.0, gp: torch.Tensor | float = 0.0,
                drift: torch.Tensor | float = 0.0, beta: float = 1.0, lam: float = 10.0,
                eps: float = 1e-3) -> torch.Tensor:
    """What a critic minimises: ``-objective + beta * balance + lam * gradient_penalty +
    eps * drift`` (drift = E D(real)^2 keeps the unbounded scores near 0)."""
    return -objective + beta * balance + lam * gp + eps * drift


def standardize(x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """(x - mean) / std over all (or the masked) entries; a critic's scores become rewards on a
    common scale, so no critic dominates a sum of rewards by its arbitrary scale."""
    v = x[mask] if mask is not None else x
    if v.numel() < 2:
        return x - v.mean() if v.numel() else x
    return (x - v.mean()) / (v.std() + 1e-8)


def eq4_fusion_reward(z_f: torch.Tensor, z_a: torch.Tensor, z_b: torch.Tensor) -> torch.Tensor:
    """Eq. 4: G_F is rewarded by all three critics, D_F + D_A + D_B (standardized scores)."""
    return z_f + z_a + z_b


def eq14_source_reward(z_own: torch.Tensor, z_other: torch.Tensor, z_f: torch.Tensor) -> torch.Tensor:
    """Eq. 14 with the signs resolved so that every critic points G_A at its own genre:
    D_A(G_A) - D_B(G_A) + D_F(G_A). (Printed: D_A + D_B - D_F, which would pull the jazz generator
    towards folk and towards the fusion; the original code: D_A + D_B + D_F.)"""
    return z_own - z_other + z_f


def policy_gradient_loss(log_probs: torch.Tensor, advantages: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """REINFORCE with per-token rewards (SeqGAN): ``-sum_t log pi(y_t | y_<t) * A_t / #tokens``.
    Minimising it raises the probability of tokens with positive advantage."""
    m = mask.float()
    return -(log_probs * advantages.detach() * m).sum() / m.sum().clamp_min(1.0)
