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

On top of that grammar, *sampling* follows a phrase rule (:class:`Phrase`, ``docs/method.md``,
"N bars means N bars"): no rest longer than a bar and a half, and a final rest of at most half a
bar, so that a melody asked for N bars sounds through N bars. It is a decoding rule like the
temperature: the likelihoods the generators are trained and validated on are those of the grammar
alone (real melodies do pause longer).

It also gives each position's place in time (ticks elapsed), from which the generators take their
metrical-position input (elapsed ticks modulo a 4-beat bar).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from fusion.data.tokens import Vocabulary
from fusion.melody import TICKS_PER_BEAT

# token kinds
K_PAD, K_BOS, K_EOS, K_EVENT, K_DUR = 0, 1, 2, 3, 4


@dataclass(frozen=True)
class Phrase:
    """How long a sampled melody may fall silent, in ticks (12 per beat).

    ``max_rest``: the longest rest anywhere (default a bar and a half of 4/4, 6 beats);
    ``max_final_rest``: the longest rest at the very end (default half a bar, 2 beats), so the
    last note sounds in the last bar. Two rests never follow each other (they would be one long
    rest). :data:`NO_PHRASE` lifts the rule.
    """

    max_rest: int = 6 * TICKS_PER_BEAT
    max_final_rest: int = 2 * TICKS_PER_BEAT

    def __post_init__(self):
        if not 1 <= self.max_final_rest <= self.max_rest:
            raise ValueError(f"need 1 <= max_final_rest <= max_rest, got {self}")


#: The rule every system samples with (the demo, the evaluation, the listening test, training rollouts).
PHRASE = Phrase()
#: No limit on rests (a rest may fill all the time left).
NO_PHRASE = None


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

    def phrase_allowed(self, allowed: torch.Tensor, last: torch.Tensor, elapsed: torch.Tensor,
                       total: torch.Tensor, rest_run: torch.Tensor, phrase: Phrase | None) -> torch.Tensor:
        """``allowed`` narrowed by the :class:`Phrase` rule. ``rest_run`` ``(B,)`` is the ticks of
        the rest being written (0 right after a REST token), or -1 when the last event is a note
        (or there is none yet). In a rest, a duration may not make it longer than
        ``max_rest``, nor end the melody with a rest longer than ``max_final_rest``; after a
        rest the next event is a note. A note can always take any duration that fits, so a row
        never runs out of allowed tokens."""
        if phrase is None:
            return allowed
        in_rest = rest_run >= 0
        run = rest_run.clamp(min=0)[..., None]
        d = self.ticks
        too_long = (run + d > phrase.max_rest) | ((elapsed[..., None] + d == total[..., None])
                                                  & (run + d > phrase.max_final_rest))
        blocked = in_rest[..., None] & ((self._is_dur & too_long) | self._is_rest)
        return allowed & ~blocked

    def next_rest_run(self, rest_run: torch.Tensor, token: torch.Tensor) -> torch.Tensor:
        """``rest_run`` (see :meth:`phrase_allowed`) after ``token``."""
        run = torch.where(self._is_dur[token] & (rest_run >= 0), rest_run + self.ticks[token], rest_run)
        run = torch.where(self.is_pitch[token], torch.full_like(run, -1), run)
        return torch.where(self._is_rest[token], torch.zeros_like(run), run)

    def rest_runs(self, seq: torch.Tensor) -> torch.Tensor:
        """``rest_run`` after each position of ``seq`` ``(B, L)``, shape ``(B, L)``."""
        run = torch.full(seq.shape[:1], -1, dtype=torch.long, device=seq.device)
        out = []
        for j in range(seq.shape[1]):
            run = self.next_rest_run(run, seq[:, j])
            out.append(run)
        return torch.stack(out, dim=1)

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
