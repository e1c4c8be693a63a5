"""Evaluation speed: the two shortcuts that keep ``python -m fusion evaluate`` at minutes.

1. Bootstrap histograms. Each resample of a set of melodies needs its histograms. The evaluation
   counts every melody once and builds a resample's histograms as (how often each melody was
   drawn) x (per-melody counts), one matrix product (``fusion.evaluation._histograms``). The naive
   way counts the drawn melodies' notes again for every resample (``Feature.histogram``).
2. Circular EM of pitch classes. The closed form (median of the cumulative differences,
   ``fusion.evaluation.distances.circular_earth_mover``) vs solving the transport problem as a linear program
   with the circular ground cost (``ot.emd2``), pair by pair. Both give the same values (checked
   here and in ``tests/test_distances.py``).

Melodies: samples of the committed Fusion generator (4 bars), as in the evaluation.

    python bench/bench_metrics.py [--melodies 500] [--resamples 200] [--pairs 2000] [--json]
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import ot  # noqa: E402

from fusion import evaluation  # noqa: E402
from fusion import features
from fusion.evaluation import distances
from fusion.model import systems


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--melodies", type=int, default=500)
    ap.add_argument("--resamples", type=int, default=200)
    ap.add_argument("--pairs", type=int, default=2000)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    mels = systems.load_generator("fusion").sample(args.melodies, bars=4, seed=0)
    feats = features.NOTE_FEATURES
    rng = np.random.default_rng(0)
    draws = rng.integers(0, len(mels), size=(args.resamples, len(mels)))

    t = time.perf_counter()
    counts = np.concatenate([f.matrix(mels) for f in feats], axis=1)
    fast = evaluation._histograms(counts, feats, draws)
    t_fast = time.perf_counter() - t
    t = time.perf_counter()
    naive = [[f.histogram([mels[i] for i in row]) for row in draws] for f in feats]
    t_naive = time.perf_counter() - t
    assert all(np.allclose(a, np.stack(b)) for a, b in zip(fast, naive))

    p = rng.random((args.pairs, 12)) ** 3
    q = rng.random((args.pairs, 12)) ** 3
    p, q = p / p.sum(1, keepdims=True), q / q.sum(1, keepdims=True)
    i = np.arange(12)
    cost = np.minimum(np.abs(i[:, None] - i), 12 - np.abs(i[:, None] - i)).astype(float)
    t = time.perf_counter()
    closed = distances.circular_earth_mover(p, q, 12)
    t_closed = time.perf_counter() - t
    t = time.perf_counter()
    lp = np.array([ot.emd2(a, b, cost) for a, b in zip(p, q)])
    t_lp = time.perf_counter() - t
    assert np.allclose(closed, lp, atol=1e-9)

    result = {
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "bootstrap_histograms": {"melodies": len(mels), "resamples": args.resamples, "features": "DD + NPD",
                                 "matrix_s": round(t_fast, 3), "recount_s": round(t_naive, 3),
                                 "speedup": round(t_naive / t_fast, 1)},
        "circular_em": {"pairs": args.pairs, "closed_form_s": round(t_closed, 4), "linear_program_s": round(t_lp, 3),
                        "speedup": round(t_lp / t_closed, 1)},
    }
    if args.json:
        print(json.dumps(result, indent=1))
        return
    b, c = result["bootstrap_histograms"], result["circular_em"]
    print(f"| what | fast way | naive way | ratio |\n|---|---:|---:|---:|\n"
          f"| {b['resamples']} bootstrap histograms of {b['melodies']} melodies (DD + NPD) | "
          f"{b['matrix_s']} s (counts x draws) | {b['recount_s']} s (recount) | {b['speedup']}x |\n"
          f"| circular EM of {c['pairs']} pitch-class pairs | {c['closed_form_s']} s (closed form) | "
          f"{c['linear_program_s']} s (linear program) | {c['speedup']}x |")


if __name__ == "__main__":
    main()
