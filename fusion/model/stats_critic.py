"""A critic with a global view of a melody: it reads the melody's statistics, not its motifs.

The TextCNN critic (:mod:`fusion.model.critic`) max-pools convolutions over time, so it judges a
melody by its most telling local motifs. Genre also lives in global statistics that no single motif
shows: how long the notes are, how often the melody rests, which pitch classes it dwells on, how
far it leaps. :class:`StatsCritic` scores those, as a Wasserstein critic like the others:

    phi(x) = [ pitch-class histogram (12), note-length histogram (48 one-tick classes),
               rest-length histogram (48), melodic-interval histogram (-12..+12, 25 bins),
               notes per beat / 4, rest share of the time, pitch range / 24, mean pitch / 128 ]
    C(x)   = MLP(phi(x))                    two hidden layers of 64, unbounded score

Histograms are normalised to sum 1 (a melody with no interval gives zeros). The features are a
fixed function of the tokens, so the critic is made 1-Lipschitz *in feature space*: the gradient
penalty is taken at interpolates between the features of a positive and a negative batch
(:meth:`StatsCritic.gradient_norms`; WGAN-GP, Gulrajani et al. 2017), which
:func:`fusion.model.critic.input_gradient_norms` uses for this critic.

The blend reward (:mod:`fusion.model.blend`) asks two such critics, one for jazz and one for folk
(``GC_A``, ``GC_B``, trained by Eq. 11 beside C_A and C_B), to accept the same melody too
(``docs/method.md``, "Blend"). The automatic judge is never used here.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from fusion.data.tokens import Vocabulary
from fusion.model.grammar import Grammar

N_INTERVALS = 25  # -12 .. +12 semitones, wider leaps in the outer bins


@dataclass(frozen=True)
class StatsCriticConfig:
    hidden: int = 64

    def to_dict(self) -> dict:
        return asdict(self)


def feature_size(vocab: Vocabulary) -> int:
    """Length of phi(x) for a vocabulary."""
    return 12 + 2 * vocab.max_duration_ticks + N_INTERVALS + 4


def features(seq: torch.Tensor, grammar: Grammar) -> torch.Tensor:
    """phi(x) ``(B, F)`` of token sequences ``(B, L)`` (BOS .. EOS PAD*; module docstring).

    Each duration token is counted towards its event (a note or a rest); tied duration tokens
    of one event count as one note length (their sum, capped at the largest class). Time is the
    sum of all durations, so a half-window's features read like a whole window's."""
    vocab = grammar.vocab
    B, L = seq.shape
    dev = seq.device
    ticks = grammar.ticks[seq]
    is_event, is_dur = grammar._is_event[seq], grammar._is_dur[seq]
    is_pitch, is_rest = grammar.is_pitch[seq], grammar._is_rest[seq]
    total = ticks.sum(1).clamp(min=1).float()
    # the event each position belongs to (index of the last event token at or before it)
    pos = torch.arange(L, device=dev).expand(B, L)
    owner = torch.where(is_event, pos, torch.full_like(pos, -1)).cummax(1).values
    owner_c = owner.clamp(min=0)
    # length of each event: scatter the durations onto their event's position
    length = torch.zeros(B, L, dtype=torch.long, device=dev)
    length.scatter_add_(1, owner_c, torch.where(is_dur & (owner >= 0), ticks, torch.zeros_like(ticks)))
    cls = (length.clamp(1, vocab.max_duration_ticks) - 1)
    D = vocab.max_duration_ticks

    def hist(mask: torch.Tensor, index: torch.Tensor, bins: int) -> torch.Tensor:
        h = torch.zeros(B, bins, device=dev)
        h.scatter_add_(1, index.clamp(0, bins - 1), mask.float())
        return h / h.sum(1, keepdim=True).clamp(min=1e-9)

    notes = is_pitch & (length > 0)
    rests = is_rest & (length > 0)
    pitch = (seq - 4 + vocab.min_pitch).clamp(min=0)
    pc = hist(notes, pitch % 12, 12)
    note_len = hist(notes, cls, D)
    rest_len = hist(rests, cls, D)
    # melodic intervals: consecutive notes, compacted to the front of each row
    order = torch.sort((~notes).to(torch.uint8), dim=1, stable=True).indices
    p = pitch.gather(1, order).float()
    n = notes.sum(1)
    both = torch.arange(L - 1, device=dev)[None, :] < (n - 1)[:, None]
    step = (p[:, 1:] - p[:, :-1]).clamp(-12, 12).long() + 12
    intervals = hist(both, step, N_INTERVALS)
    beats = total / vocab.ticks_per_beat
    rest_time = torch.where(rests, length, torch.zeros_like(length)).sum(1).float() / total
    big = torch.where(notes, pitch, torch.full_like(pitch, -1)).max(1).values.float()
    small = torch.where(notes, pitch, torch.full_like(pitch, 1000)).min(1).values.float()
    has = n > 0
    spread = torch.where(has, (big - small) / 24.0, torch.zeros_like(big))
    mean_pitch = torch.where(has, (pitch * notes).sum(1).float() / n.clamp(min=1) / 128.0, torch.zeros_like(big))
    scalars = torch.stack([n.float() / beats / 4.0, rest_time, spread, mean_pitch], dim=1)
    return torch.cat([pc, note_len, rest_len, intervals, scalars], dim=1)


class StatsCritic(nn.Module):
    """An MLP critic on phi(x) (module docstring); called on token sequences like
    :class:`fusion.model.critic.Critic`."""

    def __init__(self, grammar: Grammar, config: StatsCriticConfig = StatsCriticConfig()):
        super().__init__()
        self.config = config
        self.grammar = grammar
        self.pad_id = grammar.vocab.pad_id
        h = config.hidden
        self.net = nn.Sequential(nn.Linear(feature_size(grammar.vocab), h), nn.LeakyReLU(0.2),
                                 nn.Linear(h, h), nn.LeakyReLU(0.2), nn.Linear(h, 1))

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Scores ``(B,)`` of token sequences ``(B, L)``."""
        return self.score_features(features(tokens, self.grammar))

    def score_features(self, phi: torch.Tensor) -> torch.Tensor:
        return self.net(phi).squeeze(-1)

    def gradient_norms(self, positive: torch.Tensor, negative: torch.Tensor,
                       generator: torch.Generator | None = None, create_graph: bool = False) -> torch.Tensor:
        """``||grad_phi C(phi_hat)||_2`` per pair at ``phi_hat = a phi_pos + (1-a) phi_neg``, ``a ~ U(0, 1)``."""
        n = min(len(positive), len(negative))
        fp, fn = features(positive[:n], self.grammar), features(negative[:n], self.grammar)
        a = torch.rand(n, 1, device=fp.device, generator=generator)
        x = (a * fp + (1 - a) * fn).requires_grad_(True)
        (grad,) = torch.autograd.grad(self.score_features(x).sum(), x, create_graph=create_graph)
        return grad.norm(dim=1)

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.parameters())
