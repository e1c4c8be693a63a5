"""Hybrid: one genre's tune on the other's rhythm (``docs/method.md``, "Hybrid", "Hybrid's decoding rule").

A Hybrid melody joins two melodies, each written by its own genre generator alone (never reading
the other genre's tokens): the *rhythm source*, a melody of G_R of the requested length, gives
every note's onset and duration and the rests; the *pitch source*, a melody of G_P sampled
``longer`` times as long (and continued while it has fewer notes), gives the pitches, its first
ones in order. Row i of a draw with seed s goes one *way* round: jazz rhythm under a folk tune
(member 0's rhythm, member 1's pitches) when i + s is even, the reverse when it is odd.

With a decoding rule (a :class:`fusion.model.tilt.Tilt` with beta = 0, fitted by the
``hybrid_decoding`` stage), each melody is one of k candidates of its own way round, chosen with
probability softmax(lambda . phi) among them: a tilt toward the midpoint of the genres' training
statistics, (2) of :mod:`fusion.model.tilt` without its reward term.
"""
from __future__ import annotations

import torch

from fusion.data.tokens import Vocabulary
from fusion.melody import Melody, Note
from fusion.model.grammar import PHRASE, Grammar, Phrase
from fusion.model.sampling import primer_tokens, sample as sample_tokens
from fusion.model.tilt import Tilt

#: (rhythm member, pitch member) of each way round: 0, jazz rhythm under a folk tune; 1, the reverse
WAYS = ((0, 1), (1, 0))
#: the genre of each member
GENRES = ("jazz", "folk")


def way_of(row: int, seed: int) -> int:
    """The way round of row ``row`` of a draw with ``seed`` (an index into :data:`WAYS`)."""
    return (row + seed) % 2


def generators(seed: int, way: int) -> tuple[torch.Generator, torch.Generator]:
    """The random streams of one way round of a draw with ``seed``: the rhythm sources' and the
    tunes' (:func:`draw`'s ``gen`` and ``tune_gen``)."""
    return (torch.Generator().manual_seed(seed * 1009 + 2 * way),
            torch.Generator().manual_seed(seed * 1009 + 2 * way + 1))


def join(rhythm: Melody, tune: Melody, primer_notes: int = 0) -> Melody:
    """``rhythm``'s notes (after its first ``primer_notes``, which stay as they are) with the
    pitches of ``tune``'s notes of the same index, in order; ``tune`` needs at least as many notes."""
    if len(tune.notes) < len(rhythm.notes):
        raise ValueError(f"the tune has {len(tune.notes)} notes for a rhythm of {len(rhythm.notes)}")
    notes = rhythm.notes[:primer_notes] + tuple(
        Note(t.pitch, q.onset, q.duration) for q, t in zip(rhythm.notes[primer_notes:], tune.notes[primer_notes:]))
    return rhythm.replace(notes=notes)


def draw(models, grammar: Grammar, vocab: Vocabulary, way: int, n: int, ticks: int, gen: torch.Generator,
         tune_gen: torch.Generator, temperature: float = 1.0, top_k: int = 0, primer_ids=(),
         phrase: Phrase | None = PHRASE, longer: int = 4, last: bool = False) -> list[Melody]:
    """``n`` Hybrid melodies of one ``way`` round, ``ticks`` long (after the primer); each records
    its rhythm's genre in ``extra["rhythm"]``.

    ``last``: nothing draws from ``tune_gen`` after this call, so the tunes may stop as soon as
    each has a pitch for every note of its rhythm (:func:`fusion.model.sampling.continue_rows`,
    ``enough``). The melodies are exactly those of the full draw: the tokens up to that point are
    the same, and the rest of each tune was never joined; only ``tune_gen`` is left elsewhere, which
    is why a call that is followed by more draws from it must not stop early."""
    r, p = WAYS[way]
    primer_ids = list(primer_ids)
    primer_notes = len(vocab.decode(primer_ids).notes) if primer_ids else 0
    opts = dict(temperature=temperature, top_k=top_k, phrase=phrase)
    rhythms = sample_tokens([models[r]], [1.0], n, ticks, grammar, generator=gen, primer=primer_ids, **opts)
    rhythm_mels = [vocab.decode(rs) for rs in rhythms.tolist()]
    enough = torch.tensor([len(m.notes) - primer_notes for m in rhythm_mels]) if last else None
    tunes = sample_tokens([models[p]], [1.0], n, longer * ticks, grammar, generator=tune_gen, primer=primer_ids,
                          enough=enough, **opts)
    out = []
    for rhythm, ts in zip(rhythm_mels, tunes.tolist()):
        tune = vocab.decode(ts)
        while len(tune.notes) < len(rhythm.notes):  # the tune goes on until it has a pitch for every note
            more = sample_tokens([models[p]], [1.0], 1, longer * ticks, grammar, generator=tune_gen,
                                 primer=primer_tokens(vocab, tune), **opts)
            tune = vocab.decode(more[0].tolist())
        out.append(join(rhythm, tune, primer_notes).replace(extra={"rhythm": GENRES[r]}))
    return out


def sample(models, grammar: Grammar, vocab: Vocabulary, n: int, ticks: int, seed: int, temperature: float = 1.0,
           top_k: int = 0, primer_ids=(), phrase: Phrase | None = PHRASE, rule: Tilt | None = None,
           candidates: int = 1, chunk: int = 64, longer: int = 4) -> list[Melody]:
    """``n`` Hybrid melodies, row i going :func:`way_of` (i, ``seed``) round, reproducible from
    ``seed``. With a ``rule``, each is one of ``candidates`` of its way round, chosen by
    :meth:`fusion.model.tilt.Tilt.choose`, ``chunk`` rows at a time."""
    rows: list = [None] * n
    pick = torch.Generator().manual_seed(seed * 1009 + 7)
    for way in range(len(WAYS)):
        idx = [i for i in range(n) if way_of(i, seed) == way]
        if not idx:
            continue
        gen, tune_gen = generators(seed, way)
        opts = dict(temperature=temperature, top_k=top_k, primer_ids=primer_ids, phrase=phrase, longer=longer)
        if rule is None:
            mels = draw(models, grammar, vocab, way, len(idx), ticks, gen, tune_gen, last=True, **opts)
        else:
            mels = []
            for start in range(0, len(idx), chunk):
                m = min(chunk, len(idx) - start)
                cands = draw(models, grammar, vocab, way, m * candidates, ticks, gen, tune_gen,
                             last=start + chunk >= len(idx), **opts)
                mels += [cands[j] for j in rule.choose(cands, candidates, pick)]
        for i, mel in zip(idx, mels):
            rows[i] = mel
    return rows


def pool(models, grammar: Grammar, vocab: Vocabulary, groups: int, k: int, ticks: int, seed: int,
         phrase: Phrase | None = PHRASE, longer: int = 4) -> list[Melody]:
    """``groups`` consecutive groups of ``k`` candidates, each group of one way round (group g goes
    way g mod 2), drawn as :func:`sample` draws them: the melodies a decoding rule is fitted on."""
    by_way = []
    for way in range(len(WAYS)):
        gen, tune_gen = generators(seed, way)
        need = sum(1 for g in range(groups) if g % 2 == way) * k
        by_way.append(iter(draw(models, grammar, vocab, way, need, ticks, gen, tune_gen, phrase=phrase, longer=longer,
                                last=True)))
    return [next(by_way[g % 2]) for g in range(groups) for _ in range(k)]
