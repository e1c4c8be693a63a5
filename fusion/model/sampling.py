"""Batched, grammar-constrained sampling from one generator or a weighted mixture of several.

Each step draws the next token of every row at once from

    p(v) ∝ top_k( sum_i w_i * softmax(logits_i / T)[v] * allowed(v) )

where ``allowed`` is the grammar mask (:class:`fusion.model.grammar.Grammar`: only tokens that keep a
valid melody of exactly ``total`` ticks), ``T`` the temperature, ``w_i`` the mixing weights of the
generators (one generator: ``w = (1,)``; the demo's fusion slider mixes the jazz, fusion and folk
generators this way) and ``top_k`` keeps the k most probable tokens (0 keeps all). Each model's
logits are masked before its softmax, so every model's distribution is over valid tokens only.

With ``combine="product"`` the models are a *product of experts* instead of a mixture
(Hinton 2002):

    p(v) ∝ top_k( prod_i softmax(logits_i / T)[v] ^ w_i * allowed(v) )

a token is likely only where every model finds it likely; with the jazz and folk generators and
``w = (w, 1 - w)`` this is the ``poe`` system (``docs/method.md``, "Product of experts").

With ``combine="cross"`` two models share the token by its *aspects*: the first (the rhythm model
p_R) decides what kind of event comes, the second (the pitch model p_P) which pitch a note takes,

    p(v) = p_R(v)                                         v not a pitch (REST, DUR_d, EOS)
    p(PITCH_p) = p_R(a note) * p_P(PITCH_p) / p_P(a note)  p_R(a note) = sum over allowed pitches

(both masked to the allowed tokens first; the weights are not used): the ``cross`` system, one
genre's rhythm under the other genre's pitches (``docs/method.md``, "Crossed aspects").

:func:`next_token_probs` is that distribution for one step; :func:`continue_rows` runs it until
every row has ended; :func:`sample` starts from BOS or from a primer melody's tokens.
"""
from __future__ import annotations

from typing import Sequence

import torch

from fusion.model.generator import NEG_INF, Generator
from fusion.model.grammar import PHRASE, Grammar, Phrase


def next_token_probs(logits: Sequence[torch.Tensor], weights: Sequence[float], allowed: torch.Tensor,
                     temperature: float = 1.0, top_k: int = 0, combine: str = "mixture",
                     pitch: torch.Tensor | None = None) -> torch.Tensor:
    """The sampling distribution ``(B, V)`` for one step (see module docstring); ``combine`` is
    ``"mixture"`` (weighted sum of the models' distributions), ``"product"`` (weighted product) or
    ``"cross"`` (rhythm from the first model, pitches from the second).

    Parameters
    ----------
    logits : sequence of torch.Tensor
        One ``(B, V)`` tensor of next-token logits per model (B rows, V tokens); a model whose
        weight is 0 is skipped (its entry may be None).
    weights : sequence of float
        The mixing weights ``w_i``, one per model (not necessarily summing to 1).
    allowed : torch.Tensor
        Boolean grammar mask ``(B, V)`` (:meth:`fusion.model.grammar.Grammar.allowed`).
    temperature : float, optional
        Softmax temperature ``T`` (> 0); 1 samples the models as trained.
    top_k : int, optional
        Keep only the ``k`` most probable tokens of each row (ties at the k-th value are kept);
        0 keeps all.
    combine : {"mixture", "product", "cross"}, optional
        How the models' distributions are combined.
    pitch : torch.Tensor, optional
        Boolean ``(V,)``: the PITCH tokens (:attr:`fusion.model.grammar.Grammar.is_pitch`); needed by
        ``"cross"`` alone.

    Returns
    -------
    torch.Tensor
        Probabilities ``(B, V)``: zero outside ``allowed``, each row summing to 1.

    Raises
    ------
    ValueError
        For ``temperature <= 0``, an unknown ``combine``, when every weight is zero, or for
        ``"cross"`` without two models' logits and the ``pitch`` mask.
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    if combine not in ("mixture", "product", "cross"):
        raise ValueError(f"combine must be 'mixture', 'product' or 'cross', got {combine!r}")
    if combine == "cross":
        probs = _crossed(logits, allowed, temperature, pitch)
    else:
        probs = _combined(logits, weights, allowed, temperature, combine)
    probs = probs * allowed
    if top_k and top_k < probs.shape[-1]:
        kth = probs.topk(top_k, dim=-1).values[..., -1:]
        probs = probs.masked_fill(probs < kth, 0.0)
    return probs / probs.sum(-1, keepdim=True)


def _crossed(logits: Sequence[torch.Tensor], allowed: torch.Tensor, temperature: float,
             pitch: torch.Tensor | None) -> torch.Tensor:
    """The ``"cross"`` distribution (module docstring): rhythm from ``logits[0]``, pitches from
    ``logits[1]``."""
    if len(logits) != 2 or any(lg is None for lg in logits) or pitch is None:
        raise ValueError("combine='cross' needs the logits of two models (rhythm, pitch) and the pitch mask")
    rhythm, tune = (torch.softmax(lg.masked_fill(~allowed, NEG_INF) / temperature, dim=-1) for lg in logits)
    notes = pitch & allowed
    note_mass = (rhythm * notes).sum(-1, keepdim=True)
    tune = tune * notes
    tune = tune / tune.sum(-1, keepdim=True).clamp_min(torch.finfo(tune.dtype).tiny)
    return torch.where(pitch, note_mass * tune, rhythm)


def _combined(logits: Sequence[torch.Tensor], weights: Sequence[float], allowed: torch.Tensor,
              temperature: float, combine: str) -> torch.Tensor:
    """The weighted mixture or product of the models' masked distributions (module docstring)."""
    probs = None
    for lg, w in zip(logits, weights):
        if w == 0:
            continue
        logp = torch.log_softmax(lg.masked_fill(~allowed, NEG_INF) / temperature, dim=-1)
        if combine == "product":
            p = logp * w
        else:
            p = logp.exp() * w
        probs = p if probs is None else probs + p
    if probs is None:
        raise ValueError("all mixing weights are zero")
    if combine == "product":
        probs = torch.softmax(probs.masked_fill(~allowed, NEG_INF), dim=-1)
    return probs


@torch.no_grad()
def continue_rows(models: Sequence[Generator], weights: Sequence[float], logits: list[torch.Tensor],
                  states: list, last: torch.Tensor, elapsed: torch.Tensor, total: torch.Tensor,
                  has_note: torch.Tensor, grammar: Grammar, temperature: float = 1.0, top_k: int = 0,
                  generator: torch.Generator | None = None, combine: str = "mixture",
                  rest_run: torch.Tensor | None = None, phrase: Phrase | None = PHRASE,
                  enough: torch.Tensor | None = None) -> torch.Tensor:
    """Sample tokens for every row until all rows have ended (EOS, then PAD), or, with ``enough``,
    until every row has drawn more than ``enough`` notes.

    ``logits[i]`` ``(B, V)`` and ``states[i]`` are model i's output and LSTM state after the rows'
    tokens so far; ``last`` the last token, ``elapsed`` its ticks, ``total`` the ticks each row must
    span, ``has_note`` whether a row holds a note yet. Returns the new tokens ``(B, S)``. At most ``2 * max(total - elapsed) + 1`` steps: every
    event takes at least one tick.

    Parameters
    ----------
    models : sequence of Generator
        The generators, in the order of ``weights``.
    weights : sequence of float
        Mixing weights (see :func:`next_token_probs`); a model of weight 0 is never run.
    logits : list of torch.Tensor
        ``logits[i]`` ``(B, V)``: model i's next-token logits after the tokens so far (updated in
        place as tokens are drawn).
    states : list
        ``states[i]``: model i's LSTM state after the tokens so far (updated in place).
    last : torch.Tensor
        The last token id of each row, ``(B,)``.
    elapsed : torch.Tensor
        Ticks (12 per beat) elapsed after the last token of each row, ``(B,)``.
    total : torch.Tensor
        Ticks each row must span in all, ``(B,)``.
    has_note : torch.Tensor
        Boolean ``(B,)``: whether a row holds a note yet.
    grammar : Grammar
        The grammar that masks invalid tokens.
    temperature, top_k, combine
        As in :func:`next_token_probs`.
    generator : torch.Generator, optional
        Random number generator for ``torch.multinomial`` (reproducible draws).
    rest_run : torch.Tensor, optional
        ``(B,)``: ticks of the rest each row is in, -1 after a note (default: -1 for every row);
        see :meth:`fusion.model.grammar.Grammar.phrase_allowed`.
    phrase : Phrase or None, optional
        The rule on rests (default :data:`fusion.model.grammar.PHRASE`; None: rests unlimited).
    enough : torch.Tensor, optional
        ``(B,)``: stop as soon as every row has drawn at least ``enough + 1`` pitch tokens (so its
        first ``enough`` new notes are whole: a note's duration ends where the next event starts),
        or every row has ended, whichever comes first. The tokens drawn up to then are exactly
        those of the full draw; only the random stream is left at an earlier point. Rows may then
        lack EOS (decoding does not need it). Hybrid's tunes use it (:mod:`fusion.model.hybrid`).

    Returns
    -------
    torch.Tensor
        The new token ids ``(B, S)``; each row's melody ends with EOS, then PAD to length S
        (unless stopped by ``enough``).
    """
    out = []
    limit = int((total - elapsed).max().item()) * 2 + 2
    if rest_run is None:
        rest_run = torch.full_like(elapsed, -1)
    notes = torch.zeros_like(elapsed) if enough is not None else None  # new notes per row, counted for `enough`
    for _ in range(limit):
        allowed = grammar.phrase_allowed(grammar.allowed(last, elapsed, total, has_note), last, elapsed,
                                         total, rest_run, phrase)
        probs = next_token_probs(logits, weights, allowed, temperature, top_k, combine, grammar.is_pitch)
        tok = torch.multinomial(probs, 1, generator=generator).squeeze(-1)
        out.append(tok)
        elapsed = grammar.advance(elapsed, tok)
        has_note = has_note | grammar.is_pitch[tok]
        rest_run = grammar.next_rest_run(rest_run, tok)
        last = tok
        if bool(((tok == grammar.vocab.eos_id) | (tok == grammar.vocab.pad_id)).all()):
            break
        if enough is not None:
            notes = notes + grammar.is_pitch[tok].long()
            if bool((notes > enough).all()):
                break
        for i, m in enumerate(models):
            if weights[i] == 0:
                continue
            lg, states[i] = m(tok[:, None], elapsed[:, None], states[i])
            logits[i] = lg[:, -1]
    return torch.stack(out, dim=1)


@torch.no_grad()
def sample(models: Sequence[Generator], weights: Sequence[float], n: int, ticks: int, grammar: Grammar,
           temperature: float = 1.0, top_k: int = 0, generator: torch.Generator | None = None,
           primer: Sequence[int] = (), combine: str = "mixture", phrase: Phrase | None = PHRASE,
           enough: torch.Tensor | None = None) -> torch.Tensor:
    """``n`` sequences ``(n, L)``: BOS, the ``primer`` tokens (if any), then ``ticks`` ticks of new
    melody, EOS, PAD (or, with ``enough``, only until every row has more than ``enough`` new notes:
    :func:`continue_rows`). The models are put in eval mode for the call; ``combine`` as in
    :func:`next_token_probs`.

    Parameters
    ----------
    models : sequence of Generator
        The generators, in the order of ``weights``.
    weights : sequence of float
        Mixing weights (see :func:`next_token_probs`); one generator: ``(1.0,)``.
    n : int
        Number of sequences (>= 1).
    ticks : int
        Length of the new melody in ticks (12 per beat; >= 1), after the primer.
    grammar : Grammar
        The grammar that keeps every sequence a valid melody of exactly that length.
    temperature, top_k, combine
        As in :func:`next_token_probs`.
    generator : torch.Generator, optional
        Random number generator for the draws (the same seed gives the same sequences).
    primer : sequence of int, optional
        Token ids of a melody to continue, without BOS or EOS
        (:meth:`fusion.data.tokens.Vocabulary.encode`).
    phrase : Phrase or None, optional
        The rule on rests (:class:`fusion.model.grammar.Phrase`; default: at most a bar and a
        half of rest, at most half a bar at the end); None lifts it.
    enough : torch.Tensor, optional
        ``(n,)``: new notes each row needs; the draw stops once every row has more
        (:func:`continue_rows`), its tokens those of the full draw up to there.

    Returns
    -------
    torch.Tensor
        Token ids ``(n, L)``; each model's train/eval mode is restored afterwards.

    Raises
    ------
    ValueError
        For ``n < 1`` or ``ticks < 1``, and as :func:`next_token_probs`.
    """
    if n < 1 or ticks < 1:
        raise ValueError(f"need n >= 1 and ticks >= 1, got n={n}, ticks={ticks}")
    device = grammar.device
    prefix = torch.tensor([grammar.vocab.bos_id, *primer], device=device).repeat(n, 1)
    el = grammar.elapsed(prefix)
    total = el[:, -1] + ticks
    modes = [m.training for m in models]
    logits, states = [], []
    try:
        for m, w in zip(models, weights):
            m.eval()
            if w == 0:
                logits.append(None)
                states.append(None)
                continue
            lg, st = m(prefix, el)
            logits.append(lg[:, -1])
            states.append(st)
        new = continue_rows(models, weights, logits, states, prefix[:, -1], el[:, -1], total,
                            grammar.has_note(prefix)[:, -1], grammar,
                            temperature, top_k, generator, combine,
                            rest_run=grammar.rest_runs(prefix)[:, -1], phrase=phrase, enough=enough)
    finally:
        for m, mode in zip(models, modes):
            m.train(mode)
    return torch.cat([prefix, new], dim=1)


def primer_tokens(vocab, primer) -> list[int]:
    """The tokens of a melody (a :class:`fusion.melody.Melody`, or None) to continue, its final
    rest included (``primer.span``), so that the new bars start where the primer's time ends (a bar
    line for a primer of whole bars)."""
    if primer is None or not primer.notes:
        return []
    return vocab.encode(primer, total_beats=primer.span)
