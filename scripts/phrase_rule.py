"""How often each system, sampled *without* the phrase rule, falls silent for longer than the rule
allows (a rest over a bar and a half, or a final rest over half a bar), and how many of its
melodies then fill less than 75% of the asked bars, against the same with the rule; the numbers
behind docs/method.md, "N bars means N bars".

    .venv/bin/python scripts/phrase_rule.py [--n 15] [--seed 0]

Per system: ``n`` seeds (one melody each, as the demo draws them) x {4, 8, 16, 32} bars.
"""
from __future__ import annotations

import argparse

import torch

from fusion import registry
from fusion.model import systems
from fusion.model.grammar import NO_PHRASE, PHRASE

BARS = (4, 8, 16, 32)


def end_of_music(m) -> float:
    return m.notes[-1].end if m.notes else 0.0


def breaks_rule(m, bars: int) -> bool:
    """A rest longer than the rule's, inside or at the end of a melody of ``bars`` bars."""
    t, gaps = 0.0, []
    for n in m.notes:
        gaps.append(n.onset - t)
        t = n.end
    return (max(gaps, default=0.0) > PHRASE.max_rest / 12 + 1e-9
            or bars * 4 - t > PHRASE.max_final_rest / 12 + 1e-9)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=15)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    print(f"{args.n} seeds x {BARS} bars per system\n")
    print("| system | without the rule: breaking it | without: filling < 75% of the bars | with the rule: filling < 75% |")
    print("|---|---:|---:|---:|")
    for name in registry.TRAINED:
        system = systems.load_generator(name)
        counts = []
        for phrase in (NO_PHRASE, PHRASE):
            mels = [(bars, m) for bars in BARS for i in range(args.n)
                    for m in system.sample(1, bars=bars, seed=args.seed + i, phrase=phrase)]
            counts.append((sum(breaks_rule(m, b) for b, m in mels),
                           sum(end_of_music(m) < 0.75 * b * 4 for b, m in mels), len(mels)))
        (broke, short, n), (_, short_ruled, _) = counts
        print(f"| {name} | {broke}/{n} | {short}/{n} | {short_ruled}/{n} |", flush=True)


if __name__ == "__main__":
    main()
