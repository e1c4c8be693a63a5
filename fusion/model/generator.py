"""The generator: an LSTM language model over melody tokens (G_A, G_B, G_F of the paper).

    x_t = E_tok[token_t] + E_pos[elapsed_t mod 48]        embedding (paper: 32 dims)
    h_t = LSTM(x_t, h_{t-1})                              hidden state (paper: 32 units)
    p(token_{t+1} | token_<=t) = softmax(W h_t + b) restricted to the tokens the grammar allows

``elapsed_t`` is the number of ticks (12 per beat) of melody before the next token, so
``elapsed mod 48`` is the metrical position in a 4-beat bar. The paper's generator has only the
token embedding; the position input is FusionGAN's addition (``docs/method.md``), and the
restriction to grammatical tokens (:mod:`fusion.model.grammar`) is what makes every sample a melody of
exactly the requested length.

The model is small on purpose (nanoGPT style): :class:`GeneratorConfig` holds its sizes,
:class:`Generator` its forward pass, :meth:`Generator.nll` the teacher-forced negative
log-likelihood (the MLE objective of Algorithm 1, steps 2-3) and :meth:`Generator.log_probs` the
per-token log-probabilities the policy gradient (Eq. 4, Eq. 14) needs.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from fusion.model.grammar import Grammar

NEG_INF = -1e9


@dataclass(frozen=True)
class GeneratorConfig:
    vocab_size: int = 180
    embed: int = 32
    hidden: int = 32
    layers: int = 1
    dropout: float = 0.0
    period: int = 48  # ticks in a 4/4 bar at 12 ticks per beat

    def to_dict(self) -> dict:
        return asdict(self)


class Generator(nn.Module):
    def __init__(self, config: GeneratorConfig):
        super().__init__()
        self.config = config
        self.tok = nn.Embedding(config.vocab_size, config.embed)
        self.pos = nn.Embedding(config.period, config.embed)
        self.lstm = nn.LSTM(config.embed, config.hidden, config.layers, batch_first=True,
                            dropout=config.dropout if config.layers > 1 else 0.0)
        self.drop = nn.Dropout(config.dropout)
        self.out = nn.Linear(config.hidden, config.vocab_size)

    def forward(self, tokens: torch.Tensor, elapsed: torch.Tensor, state=None):
        """Logits ``(B, L, V)`` of the next token after each of ``tokens`` ``(B, L)``, and the LSTM
        state after the last one."""
        x = self.tok(tokens) + self.pos(elapsed % self.config.period)
        h, state = self.lstm(self.drop(x), state)
        return self.out(self.drop(h)), state

    def masked_log_probs(self, seq: torch.Tensor, grammar: Grammar, total: int | torch.Tensor,
                         temperature: float = 1.0) -> torch.Tensor:
        """``log p(seq[:, t+1] | seq[:, :t+1])`` for every position, ``(B, L-1)``, under the
        grammar-masked distribution at ``temperature`` (the one the sampler draws from; PAD
        targets give 0)."""
        elapsed, allowed = grammar.teacher_masks(seq, total)
        logits, _ = self(seq[:, :-1], elapsed)
        logp = torch.log_softmax(logits.masked_fill(~allowed, NEG_INF) / temperature, dim=-1)
        out = logp.gather(-1, seq[:, 1:, None]).squeeze(-1)
        return out.masked_fill(seq[:, 1:] == grammar.vocab.pad_id, 0.0)

    def nll(self, seq: torch.Tensor, grammar: Grammar, total: int | torch.Tensor,
            temperature: float = 1.0) -> tuple[torch.Tensor, int]:
        """Summed negative log-likelihood of the non-PAD targets, and their count (for a
        per-token mean: the MLE loss)."""
        lp = self.masked_log_probs(seq, grammar, total, temperature)
        n = int((seq[:, 1:] != grammar.vocab.pad_id).sum())
        return -lp.sum(), n

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.parameters())
