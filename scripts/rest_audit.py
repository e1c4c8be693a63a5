"""Long silences: where the training windows have them, and how often each system writes one.

A window cut from the end of a piece is padded to its 16 beats with a final rest
(``Vocabulary.encode(total_beats=...)``), so many training sequences end in "rest, a bar or more".
A generator reads no position, so it can write that rest anywhere; the grammar's phrase rule only
caps a rest at a bar and a half. This script counts, per genre, the training and validation
windows that begin, end or pause (between two notes) with a rest of at least 4 beats, and for each
system the melodies (4 bars, seed 0, as ``python -m fusion evaluate`` draws them) with an inner
rest of at least 2 and of at least 4 beats. For ``blend`` it also gives the IOI-class transitions'
Ratio and Balance (``fusion.evaluation.distances``) against the validation windows, for all its
melodies and for those without an inner rest of 4 beats. No judge is read. The numbers behind
``docs/method.md``, "Long silences".

    .venv/bin/python scripts/rest_audit.py [--systems jazz folk mle poe mle_t fusion blend] [--n 500] [--threads 1]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from fusion import features  # noqa: E402
from fusion.evaluation import distances, tables  # noqa: E402
from fusion.melody import TICKS_PER_BEAT  # noqa: E402
from fusion.model import systems  # noqa: E402


def silences(melody, beats: float = 16.0) -> tuple[float, float, float]:
    """(leading, trailing, longest inner) rest of ``melody`` in beats; a window of ``beats``."""
    t = melody.to_ticks()
    if not t:
        return beats, beats, 0.0
    inner = max([b[1] - (a[1] + a[2]) for a, b in zip(t, t[1:])] + [0])
    return t[0][1] / TICKS_PER_BEAT, beats - (t[-1][1] + t[-1][2]) / TICKS_PER_BEAT, inner / TICKS_PER_BEAT


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--systems", nargs="+", default=["jazz", "folk", "mle", "poe", "mle_t", "fusion", "blend"])
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--checkpoints", help="checkpoint folder (default checkpoints/)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    windows = tables.Data.load().windows
    print("| windows | count | leading rest >= 4 beats | trailing rest >= 4 beats | inner rest >= 2 beats "
          "| inner rest >= 4 beats |")
    print("|---|---:|---:|---:|---:|---:|")
    for genre in ("jazz", "folk"):
        for split in ("train", "val"):
            s = np.array([silences(m) for m in windows[genre, split]])
            print(f"| {genre} {split} | {len(s)} | {np.mean(s[:, 0] >= 4):.3f} | {np.mean(s[:, 1] >= 4):.3f} "
                  f"| {np.mean(s[:, 2] >= 2):.3f} | {np.mean(s[:, 2] >= 4):.3f} |")
    print(f"\n| system ({args.n} melodies of 4 bars, seed 0) | inner rest >= 2 beats | inner rest >= 4 beats | seconds |")
    print("|---|---:|---:|---:|")
    refs = {g: windows[g, "val"] for g in ("jazz", "folk")}
    f = features.IOI_TRANSITION
    ref_h = (f.histogram(refs["jazz"]), f.histogram(refs["folk"]))
    kept = {}
    for name in args.systems:
        t0 = time.time()
        mels = systems.load_generator(name, args.checkpoints).sample(args.n, bars=4, seed=0)
        inner = np.array([silences(m)[2] for m in mels])
        kept[name] = (mels, inner)
        print(f"| {name} | {np.mean(inner >= 2):.3f} | {np.mean(inner >= 4):.3f} | {time.time() - t0:.0f} |", flush=True)
    if "blend" in kept:
        mels, inner = kept["blend"]
        print("\n| blend's melodies | count | IOI-class transitions EUD Ratio / Balance | EM Ratio / Balance |")
        print("|---|---:|---:|---:|")
        for label, chosen in (("all", mels), ("without an inner rest of 4 beats",
                                              [m for m, r in zip(mels, inner) if r < 4])):
            h = f.histogram(chosen)
            cells = [distances.ratio_balance(f, m, h, *ref_h) for m in ("eud", "em")]
            print(f"| {label} | {len(chosen)} | " + " | ".join(f"{r:.3f} / {b:.3f}" for r, b in cells) + " |")


if __name__ == "__main__":
    main()
