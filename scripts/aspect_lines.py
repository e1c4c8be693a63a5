"""How each system's pitch line and rhythm look, apart, without the judge: per system (and, for the
systems that cross aspects, per way round: ``extra["rhythm"]`` names the genre of the rhythm) the
notes per melody, the mean absolute melodic interval, the share of leaps larger than an octave and
the mean pitch range of a melody (semitones), on the evaluation's draw (seed 0, 4 bars). ``NAME:K``
samples member K of a two-member system alone (``poe:0``, ``poe:1``: the pre-trained G_A and G_B
that PoE, Cross and Hybrid are made of).

    .venv/bin/python scripts/aspect_lines.py --systems cross hybrid poe:0 poe:1 poe blend --n 500

Figures in ``docs/method.md``, "Crossed aspects".
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from fusion.model import systems  # noqa: E402


def line_facts(melodies) -> dict:
    """Notes per melody, mean |interval|, share of intervals above 12 semitones, mean range."""
    ivs = [np.abs(np.diff([n.pitch for n in m.notes])) for m in melodies if len(m.notes) > 1]
    iv = np.concatenate(ivs) if ivs else np.zeros(0)
    ranges = [max(n.pitch for n in m.notes) - min(n.pitch for n in m.notes) for m in melodies if m.notes]
    return {"melodies": len(melodies), "notes": float(np.mean([len(m.notes) for m in melodies])),
            "interval": float(iv.mean()) if iv.size else float("nan"),
            "octave_leaps": float((iv > 12).mean()) if iv.size else float("nan"), "range": float(np.mean(ranges))}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--systems", nargs="+", default=["cross", "hybrid", "poe:0", "poe:1", "poe", "blend"])
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--bars", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    print("| system | melodies | notes per melody | mean abs. interval | leaps > octave | range (semitones) |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in args.systems:
        base, _, member = name.partition(":")
        system = systems.load_generator(base)
        if member:
            system = systems.System(name, {}, system.vocab, models=[system.models[int(member)]])
        mels = system.sample(n=args.n, bars=args.bars, seed=args.seed)
        groups = {"": mels}
        if any("rhythm" in m.extra for m in mels):
            groups = {f", {way} rhythm": [m for m in mels if m.extra.get("rhythm") == way] for way in ("jazz", "folk")}
        for suffix, ms in groups.items():
            f = line_facts(ms)
            print(f"| {name}{suffix} | {f['melodies']} | {f['notes']:.1f} | {f['interval']:.2f} | "
                  f"{100 * f['octave_leaps']:.1f}% | {f['range']:.1f} |")


if __name__ == "__main__":
    main()
