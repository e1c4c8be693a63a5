"""Equal evidence: where the jazz and the folk generator find a melody equally likely
(``docs/method.md``, "Blend", "What the blend reward pays for").

For a melody x of tokens x_1..x_T the genre generators G_A (jazz) and G_B (folk) give each token
a log-likelihood ratio d_t = log p_A(x_t | x_<t) - log p_B(x_t | x_<t) under the grammar-masked
distributions they sample from. Over a part P of the tokens (the whole melody's events and
durations, its pitch tokens, its duration tokens, or the tokens of one half),

    o_P(x) = (mean_{t in P} d_t - m_P) / h_P,   m_P = (mu_P^jazz + mu_P^folk) / 2,
                                                 h_P = (mu_P^jazz - mu_P^folk) / 2

with mu_P^g the mean of mean_{t in P} d_t over real windows of genre g: the generators' opinion,
+1 as jazz as real jazz, -1 as folk as real folk, 0 halfway between the genres' means.

Halfway between the means is not where the genres are equally likely. A melody is equal
evidence for both genres where the mean ratio is 0, i.e. at

    o0_P = -m_P / h_P

and because folk is tight and jazz broad, that point lies on the folk side (o0 about -0.2 for the
whole melody on the paper run's generators). The equal-evidence acceptance of jazz is piecewise
linear in the opinion, 0 at real folk, 1/2 at equal evidence, 1 at real jazz,

    j_P(x) = (1 + o) / (2 (1 + o0))              for o <= o0
           = 1/2 + (o - o0) / (2 (1 - o0))       for o >  o0           (clipped to [0, 1])

and folk's is 1 - j_P. In the blend reward (:mod:`fusion.model.blend`) both join the critics'
acceptances in the soft minimum of each piece (whole melody and each half): min(j, 1 - j) is at
most 1/2 and largest where the generators find the melody equally likely.

A melody with a token that one generator rules out (log-probability below -1e4) has no opinion
(NaN) and no acceptance (0). Only the genre generators and real windows are read; never the judge.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from fusion.model.acceptance import bend
from fusion.model.generator import Generator, GeneratorConfig
from fusion.model.grammar import Grammar

PARTS = ("whole", "pitch", "rhythm", "first", "second")
PIECES = ("whole", "first", "second")  # the blend reward's pieces
IMPOSSIBLE = -1e4


def part_masks(seq: torch.Tensor, grammar: Grammar) -> dict[str, torch.Tensor]:
    """Boolean masks ``(B, L-1)`` over the target tokens ``seq[:, 1:]`` of each part: ``whole``
    (events and durations), ``pitch`` (events), ``rhythm`` (duration tokens), ``first`` and
    ``second`` (the tokens of events that start before / at or after the middle of the row's
    time span, as :func:`fusion.model.blend.halves` cuts)."""
    tgt = seq[:, 1:]
    event, dur = grammar._is_event[tgt], grammar._is_dur[tgt]
    ticks = grammar.ticks[tgt]
    before = torch.cumsum(ticks, 1) - ticks
    onset = torch.where(event, before, torch.full_like(before, -1)).cummax(1).values
    second = onset * 2 >= ticks.sum(1, keepdim=True)
    body = event | dur
    return {"whole": body, "pitch": event, "rhythm": dur, "first": body & ~second, "second": body & second}


@torch.no_grad()
def mean_ratios(jazz: Generator, folk: Generator, seq: torch.Tensor, grammar: Grammar,
                batch: int = 256) -> dict[str, torch.Tensor]:
    """Mean log-likelihood ratio ``log p_A - log p_B`` per token of each part, ``(B,)`` float64
    per part (NaN where a generator rules a token out or the part has no token). Each row is
    scored under the grammar mask that completes its own length in ticks."""
    jazz.eval(), folk.eval()
    out = {p: [] for p in PARTS}
    for i in range(0, len(seq), batch):
        x = seq[i:i + batch]
        t = grammar.ticks[x].sum(1)
        la = jazz.masked_log_probs(x, grammar, t).double()
        lb = folk.masked_log_probs(x, grammar, t).double()
        bad = ((la < IMPOSSIBLE) | (lb < IMPOSSIBLE)).any(1)
        d = la - lb
        for p, m in part_masks(x, grammar).items():
            n = m.sum(1)
            v = (d * m).sum(1) / n.clamp(min=1)
            out[p].append(torch.where(bad | (n == 0), torch.full_like(v, float("nan")), v))
    return {p: torch.cat(v) for p, v in out.items()}


@dataclass
class Evidence:
    """The genre generators' opinions and equal-evidence acceptances (module docstring).

    ``mid[P]`` and ``half[P]`` are m_P and h_P, read off real windows by :meth:`fit` (per-token
    means, so they hold for melodies of any length)."""

    jazz: Generator
    folk: Generator
    grammar: Grammar
    mid: dict
    half: dict

    @classmethod
    def fit(cls, jazz: Generator, folk: Generator, grammar: Grammar, jazz_windows: torch.Tensor, folk_windows: torch.Tensor) -> "Evidence":
        """m_P and h_P from real token windows of each genre ``(N, L)`` (held-out windows in
        training: the generators were fitted on the training windows)."""
        means = {}
        for g, seq in (("jazz", jazz_windows), ("folk", folk_windows)):
            r = mean_ratios(jazz, folk, seq, grammar)
            means[g] = {p: float(torch.nanmean(r[p])) for p in PARTS}
        mid = {p: (means["jazz"][p] + means["folk"][p]) / 2 for p in PARTS}
        half = {p: (means["jazz"][p] - means["folk"][p]) / 2 for p in PARTS}
        return cls(jazz, folk, grammar, mid, half)

    def middle(self, part: str) -> float:
        """o0_P = -m_P / h_P: the opinion at which the mean ratio is 0 (equal evidence)."""
        return -self.mid[part] / self.half[part]

    def opinions(self, seq: torch.Tensor) -> dict[str, torch.Tensor]:
        """o_P ``(B,)`` of token sequences for each part of :data:`PARTS` (NaN: no opinion)."""
        raw = mean_ratios(self.jazz, self.folk, seq, self.grammar)
        return {p: (raw[p] - self.mid[p]) / self.half[p] for p in PARTS}

    def jazz_acceptance(self, o: torch.Tensor, part: str) -> torch.Tensor:
        """j_P: 0 at real folk (o = -1), 1/2 at equal evidence, 1 at real jazz (o = +1); 0 where
        there is no opinion (float32)."""
        j = bend((1 + o) / 2, (1 + self.middle(part)) / 2).clamp(0, 1)
        return torch.nan_to_num(j, nan=0.0).float()

    def acceptances(self, seq: torch.Tensor) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
        """``{piece: (j, f)}`` for the blend reward's pieces (whole melody and halves): the jazz
        and folk equal-evidence acceptances of each (f = 1 - j; both 0 without an opinion)."""
        o = self.opinions(seq)
        out = {}
        for piece in PIECES:
            j = self.jazz_acceptance(o[piece], piece)
            f = torch.where(torch.isnan(o[piece]), torch.zeros_like(j), 1 - j)
            out[piece] = (j, f)
        return out

    def to_config(self) -> dict:
        """What, besides the two generators' weights, a checkpoint needs to rebuild it."""
        return {"generator": self.jazz.config.to_dict(),
                "mid": dict(self.mid), "half": dict(self.half)}

    def tensors(self, prefix: str = "evidence.") -> dict[str, torch.Tensor]:
        """Both generators' weights, keyed ``<prefix>G_A.<parameter>`` and ``<prefix>G_B.<parameter>``."""
        return {f"{prefix}{name}.{k}": v.detach().cpu().contiguous()
                for name, m in (("G_A", self.jazz), ("G_B", self.folk)) for k, v in m.state_dict().items()}

    @classmethod
    def from_checkpoint(cls, config: dict, tensors: dict[str, torch.Tensor], grammar: Grammar,
                        prefix: str = "evidence.") -> "Evidence":
        """Rebuild from :meth:`to_config` and :meth:`tensors` (generators in eval mode)."""
        made = {}
        for name in ("G_A", "G_B"):
            g = Generator(GeneratorConfig(**config["generator"]))
            head = f"{prefix}{name}."
            g.load_state_dict({k[len(head):]: v for k, v in tensors.items() if k.startswith(head)})
            made[name] = g.eval()
        return cls(made["G_A"], made["G_B"], grammar, dict(config["mid"]), dict(config["half"]))
