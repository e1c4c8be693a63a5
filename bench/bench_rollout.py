"""Monte-Carlo rollout speed: all prefixes and rollouts of a batch in one batched pass
(:func:`fusion.model.rollout.rollouts`) vs the textbook loop (:func:`fusion.model.rollout.rollouts_naive`:
one pass per prefix position and rollout, re-reading the prefix each time, as in SeqGAN's code).

The melodies are sampled from a trained generator (``checkpoints/<--system>``, default the jazz
generator: its windows are the longest) at the training length (16 beats); the rollout network is
that generator. Both ways produce ``batch * prefixes * rollouts`` completed melodies.

    python bench/bench_rollout.py [--system jazz] [--batch 32] [--prefixes 4 16] [--rollouts 4] [--repeats 3] [--json]
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from fusion.model import rollout, systems  # noqa: E402
from fusion.model.sampling import sample  # noqa: E402

TICKS = 16 * 12


def timed(fn, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--system", default="jazz")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--prefixes", type=int, nargs="+", default=[4, 16])
    ap.add_argument("--rollouts", type=int, default=4)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    system = systems.load_generator(args.system)
    net, grammar = system.models[0], system.grammar
    seq = sample([net], [1.0], args.batch, TICKS, grammar, generator=torch.Generator().manual_seed(0))
    rows = []
    for P in args.prefixes:
        keep = rollout.prefix_lengths(seq, grammar, P)
        tb, done = timed(lambda: rollout.rollouts(net, seq, keep, args.rollouts, grammar, TICKS,
                                                  generator=torch.Generator().manual_seed(1)), args.repeats)
        tn, _ = timed(lambda: rollout.rollouts_naive(net, seq, keep, args.rollouts, grammar, TICKS,
                                                     generator=torch.Generator().manual_seed(1)), args.repeats)
        rows.append({"prefixes": P, "rollouts": args.rollouts, "batch": args.batch,
                     "completions": int(done.shape[0]), "batched_s": round(tb, 3), "naive_s": round(tn, 3),
                     "speedup": round(tn / tb, 1)})
    meta = {"system": args.system, "mean_tokens": round(float(rollout.lengths(seq, grammar).float().mean()), 1),
            "threads": args.threads, "torch": torch.__version__, "machine": platform.processor() or platform.machine()}
    if args.json:
        print(json.dumps({"meta": meta, "rows": rows}, indent=1))
        return
    print(f"rollouts from {args.batch} {args.system} melodies of 16 beats (mean {meta['mean_tokens']} tokens), "
          f"{args.threads} threads")
    print("| prefixes P | rollouts M | completions | batched (s) | naive loop (s) | speed-up |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['prefixes']} | {r['rollouts']} | {r['completions']} | {r['batched_s']} | {r['naive_s']} | "
              f"{r['speedup']}x |")


if __name__ == "__main__":
    main()
