"""Monte-Carlo rollouts: per-token rewards for the policy gradient (SeqGAN; Algorithm 1).

The reward of token ``y_t`` is ``Q(y_<=t) = mean_m D(y_<=t + rollout_m)``: the critic's score of
``M`` complete melodies that the rollout network (a copy of the generator that trails it, see
:func:`trail`) samples after the prefix. FusionGAN evaluates Q at ``P`` prefix lengths per melody,
evenly spaced over its tokens, and gives each token the Q of the first evaluated prefix that
contains it; tokens after the last evaluated prefix get the score of the melody itself. With
``P = length - 1`` that is SeqGAN's per-token scheme.

All prefixes and all rollouts of a batch run as **one** batched pass (:func:`rollouts`): the
rollout network reads each melody once, its LSTM state is taken at every chosen prefix, and the
``B * P * M`` continuations are sampled side by side. :func:`rollouts_naive` is the textbook loop
(one pass per prefix position and rollout, re-reading the prefix each time) kept for the
benchmark (``bench/bench_rollout.py``) and as a test oracle.
"""
from __future__ import annotations

import copy

import torch

from fusion.model.generator import Generator
from fusion.model.grammar import Grammar
from fusion.model.sampling import continue_rows


def trail(rollout_net: Generator, generator: Generator, keep: float = 0.8) -> None:
    """Rollout network update: theta_r <- keep * theta_r + (1 - keep) * theta_g (SeqGAN's rate 0.8)."""
    with torch.no_grad():
        for r, g in zip(rollout_net.parameters(), generator.parameters()):
            r.mul_(keep).add_(g, alpha=1 - keep)


def make_rollout_net(generator: Generator) -> Generator:
    net = copy.deepcopy(generator)
    net.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    return net


def lengths(seq: torch.Tensor, grammar: Grammar) -> torch.Tensor:
    """Tokens per sequence up to and including EOS (BOS counted)."""
    is_end = seq == grammar.vocab.eos_id
    has = is_end.any(1)
    first = is_end.float().argmax(1)
    return torch.where(has, first + 1, (seq != grammar.vocab.pad_id).sum(1))


def prefix_lengths(seq: torch.Tensor, grammar: Grammar, n_prefixes: int) -> torch.Tensor:
    """``(B, P)`` numbers of tokens kept (BOS included) for the P evaluated prefixes of each row:
    ``1 + floor(p * (n - 1) / (P + 1))``, p = 1..P, n the row's length."""
    n = lengths(seq, grammar)
    p = torch.arange(1, n_prefixes + 1, device=seq.device)
    return 1 + (p[None, :] * (n[:, None] - 1)) // (n_prefixes + 1)


def _states_at(net: Generator, seq: torch.Tensor, elapsed: torch.Tensor, keep: torch.Tensor):
    """LSTM state, output logits after the last kept token, for every (row, prefix): read the
    rows once, step by step, recording the state where a prefix ends. Returns tensors flattened
    to ``B * P`` rows."""
    B, P = keep.shape
    layers, H = net.config.layers, net.config.hidden
    h_out = torch.zeros(layers, B, P, H, device=seq.device)
    c_out = torch.zeros_like(h_out)
    lg_out = torch.zeros(B, P, net.config.vocab_size, device=seq.device)
    state = None
    steps = int(keep.max())
    for t in range(steps):
        lg, state = net(seq[:, t:t + 1], elapsed[:, t:t + 1], state)
        hit = keep == t + 1  # (B, P): prefixes that end with token t
        if hit.any():
            h, c = state
            sel = hit[None, :, :, None]
            h_out = torch.where(sel, h[:, :, None, :], h_out)
            c_out = torch.where(sel, c[:, :, None, :], c_out)
            lg_out = torch.where(hit[:, :, None], lg[:, -1][:, None, :], lg_out)
    return (h_out.reshape(layers, B * P, H), c_out.reshape(layers, B * P, H)), lg_out.reshape(B * P, -1)


def _assemble(seq: torch.Tensor, keep: torch.Tensor, cont: torch.Tensor, pad_id: int) -> torch.Tensor:
    """Rows ``seq[b, :keep] + cont[r]`` for r over (b, p, m), padded with PAD: ``(B*P*M, L)``."""
    B, P = keep.shape
    R = cont.shape[0]
    M = R // (B * P)
    k = keep.repeat_interleave(M, dim=1).reshape(R)
    b = torch.arange(B, device=seq.device).repeat_interleave(P * M)
    L = int((k + (cont != pad_id).sum(1)).max())
    j = torch.arange(L, device=seq.device)[None, :]
    from_prefix = j < k[:, None]
    src_prefix = seq[b[:, None], j.clamp(max=seq.shape[1] - 1).expand(R, L)]
    ci = (j - k[:, None]).clamp(min=0, max=cont.shape[1] - 1)
    src_cont = cont.gather(1, ci)
    out = torch.where(from_prefix, src_prefix, src_cont)
    beyond = j - k[:, None] >= cont.shape[1]
    return out.masked_fill(beyond & ~from_prefix, pad_id)


@torch.no_grad()
def rollouts(net: Generator, seq: torch.Tensor, keep: torch.Tensor, n_rollouts: int, grammar: Grammar,
             total: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """All ``B * P * M`` completed melodies in one batched pass, ordered (row, prefix, rollout)."""
    B, P = keep.shape
    elapsed = grammar.elapsed(seq)
    (h, c), lg = _states_at(net, seq, elapsed, keep)
    M = n_rollouts
    h, c, lg = (h.repeat_interleave(M, dim=1), c.repeat_interleave(M, dim=1), lg.repeat_interleave(M, dim=0))
    idx = (keep - 1).clamp(min=0)
    last = seq.gather(1, idx).repeat_interleave(M, dim=1).reshape(-1)
    el = elapsed.gather(1, idx).repeat_interleave(M, dim=1).reshape(-1)
    note = grammar.has_note(seq).gather(1, idx).repeat_interleave(M, dim=1).reshape(-1)
    run = grammar.rest_runs(seq).gather(1, idx).repeat_interleave(M, dim=1).reshape(-1)
    tot = torch.full_like(el, total)
    cont = continue_rows([net], [1.0], [lg], [(h, c)], last, el, tot, note, grammar, generator=generator,
                         rest_run=run)
    return _assemble(seq, keep, cont, grammar.vocab.pad_id)


@torch.no_grad()
def rollouts_naive(net: Generator, seq: torch.Tensor, keep: torch.Tensor, n_rollouts: int,
                   grammar: Grammar, total: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """The same completions with a Python loop over prefix positions and rollouts (SeqGAN's
    reference scheme): each pass re-reads the prefixes and samples one continuation per row."""
    B, P = keep.shape
    rows = [[[None] * n_rollouts for _ in range(P)] for _ in range(B)]
    elapsed = grammar.elapsed(seq)
    has_note = grammar.has_note(seq)
    runs = grammar.rest_runs(seq)
    for p in range(P):
        for m in range(n_rollouts):
            kp = keep[:, p:p + 1]
            (h, c), lg = _states_at(net, seq, elapsed, kp)
            idx = (kp - 1).clamp(min=0)
            last = seq.gather(1, idx).reshape(-1)
            el = elapsed.gather(1, idx).reshape(-1)
            note = has_note.gather(1, idx).reshape(-1)
            cont = continue_rows([net], [1.0], [lg], [(h, c)], last, el, torch.full_like(el, total), note,
                                 grammar, generator=generator, rest_run=runs.gather(1, idx).reshape(-1))
            done = _assemble(seq, kp, cont, grammar.vocab.pad_id)
            for b in range(B):
                rows[b][p][m] = done[b]
    L = max(r.shape[0] for rb in rows for rp in rb for r in rp)
    flat = [torch.nn.functional.pad(r, (0, L - r.shape[0]), value=grammar.vocab.pad_id)
            for rb in rows for rp in rb for r in rp]
    return torch.stack(flat)


def token_rewards(q: torch.Tensor, full: torch.Tensor, keep: torch.Tensor, length: int) -> torch.Tensor:
    """Per-token rewards ``(B, length)`` for target positions 1..length of the sequences: token j
    gets ``q[:, p]`` for the first prefix p with ``keep[:, p] > j`` (the prefix contains it), else
    ``full`` (the score of the whole melody)."""
    j = torch.arange(1, length + 1, device=q.device)[None, None, :]  # token index in seq
    contains = keep[:, :, None] > j  # (B, P, length)
    first = torch.where(contains.any(1), contains.float().argmax(1), -1)
    qv = q.gather(1, first.clamp(min=0))
    return torch.where(first >= 0, qv, full[:, None].expand_as(qv))
