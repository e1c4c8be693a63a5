"""The token grammar as tensors: which token may come next, and how much time has passed.

A melody sequence (see :mod:`fusion.data.tokens`) reads

    BOS  (EVENT DUR [DUR_max DUR ...])*  EOS  PAD*

where EVENT is REST or PITCH_p and the DUR tokens of an event add up to its length. A sequence
that should span ``total`` ticks may only use durations that fit in the time left, and must end
(EOS) exactly when the time is full, and must hold at least one note (every training window has
several; a rest may not fill the time before a note has sounded). :class:`Grammar` turns those
rules into a boolean mask over
the vocabulary, computed for a whole batch at once, so that

* sampling (:mod:`fusion.model.sampling`) always produces a valid melody of exactly the asked length,
  whatever the model or temperature;
* the likelihood a generator is trained on is that of the same masked distribution the sampler
  draws from (``docs/method.md``, "Grammar-constrained generators").

It also gives each position's place in time (ticks elapsed), from which the generators take their
metrical-position input (elapsed ticks modulo a 4-beat bar).
"""
from __future__ import annotations

import torch

from fusion.data.tokens import Vocabulary

# token kinds
K_PAD, K_BOS, K_EOS, K_EVENT, K_DUR = 0, 1, 2, 3, 4


class Grammar:
    """Vectorised grammar of a :class:`~fusion.data.tokens.Vocabulary` on one device."""

    def __init__(self, vocab: Vocabulary, device: torch.device | str = "cpu"):
        self.vocab = vocab
        self.device = torch.device(device)
        n = len(vocab)
        kind = torch.full((n,), K_EVENT, dtype=torch.long)
        kind[vocab.pad_id], kind[vocab.bos_id], kind[vocab.eos_id] = K_PAD, K_BOS, K_EOS
        ticks = torch.zeros(n, dtype=torch.long)
        first = vocab.first_duration_id
        kind[first:] = K_DUR
        ticks[first:] = torch.arange(1, vocab.max_duration_ticks + 1)
        self.kind = kind.to(self.device)
        self.ticks = ticks.to(self.device)
        self.max_dur_id = first + vocab.max_duration_ticks - 1
        ids = torch.arange(n, device=self.device)
        self._is_pad = ids == vocab.pad_id
        self._is_eos = ids == vocab.eos_id
        self._is_event = self.kind == K_EVENT
        self._is_dur = self.kind == K_DUR
        self._is_rest = ids == vocab.rest_id
        self.is_pitch = self._is_event & ~self._is_rest

    def advance(self, elapsed: torch.Tensor, token: torch.Tensor) -> torch.Tensor:
        """Ticks elapsed after ``token`` (only duration tokens take time)."""
        return elapsed + self.ticks[token]

    def has_note(self, seq: torch.Tensor) -> torch.Tensor:
        """Whether a note (PITCH token) has occurred up to and including each position of ``seq``."""
        return torch.cumsum(self.is_pitch[seq].long(), dim=-1) > 0

    def elapsed(self, seq: torch.Tensor, start: int | torch.Tensor = 0) -> torch.Tensor:
        """Ticks elapsed after each position of ``seq`` (shape ``(B, L)``): a running sum."""
        return torch.cumsum(self.ticks[seq], dim=-1) + (start if isinstance(start, int) else start[..., None])

    def allowed(self, last: torch.Tensor, elapsed: torch.Tensor, total: torch.Tensor | int,
                has_note: torch.Tensor) -> torch.Tensor:
        """Boolean mask ``(..., V)`` of the tokens that may follow ``last`` when ``elapsed`` of
        ``total`` ticks are used: after EOS or PAD only PAD; with the time full only EOS; after BOS
        or a duration a new event; after an event (or a whole-note duration, which may be tied) a
        duration that fits in the time left. Until a note has sounded (``has_note`` false) a
        rest leaves at least one tick free, and starts only if two ticks are left."""
        if not torch.is_tensor(total):
            total = torch.full_like(elapsed, int(total))
        kind = self.kind[last]
        done = (kind == K_EOS) | (kind == K_PAD)
        full = ~done & (elapsed >= total)
        open_ = ~done & ~full
        want_event = open_ & ((kind == K_BOS) | (kind == K_DUR))
        want_dur = open_ & ((kind == K_EVENT) | (last == self.max_dur_id))
        left = total - elapsed - (~has_note).long()  # keep a tick for the first note
        fits = self.ticks <= left[..., None]
        rest_ok = (has_note | (left >= 1))[..., None] | ~self._is_rest
        return ((done[..., None] & self._is_pad)
                | (full[..., None] & self._is_eos)
                | (want_event[..., None] & self._is_event & rest_ok)
                | (want_dur[..., None] & self._is_dur & fits))

    def teacher_masks(self, seq: torch.Tensor, total: torch.Tensor | int) -> tuple[torch.Tensor, torch.Tensor]:
        """For a batch of whole sequences ``(B, L)`` starting with BOS: the ticks elapsed after each
        input position ``(B, L-1)`` and the mask of tokens allowed at each next position
        ``(B, L-1, V)``, as used by teacher-forced training."""
        inp = seq[:, :-1]
        el = self.elapsed(inp)
        if torch.is_tensor(total):
            total = total[:, None].expand_as(el)
        return el, self.allowed(inp, el, total, self.has_note(inp))

    def is_valid(self, seq: torch.Tensor, total: int) -> torch.Tensor:
        """Whether each sequence ``(B, L)`` (BOS first) follows the grammar and spans ``total``."""
        el, mask = self.teacher_masks(seq, total)
        ok = mask.gather(-1, seq[:, 1:, None]).squeeze(-1).all(-1)
        ended = (seq == self.vocab.eos_id).any(-1)
        return ok & ended & (seq[:, 0] == self.vocab.bos_id)
