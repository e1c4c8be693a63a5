"""How much of a system's Table I score is the luck of its 500 melodies? The same checkpoint
sampled with several seeds (``python -m fusion evaluate`` uses seed 0), each set of ``--n``
melodies of 4 bars scored like the evaluation: Ratio and Balance
(``fusion/evaluation/distances.py``) of DD and NPD, EUD and EM, against every test window of each
genre. Nothing is trained; the spread is the sampling noise of one evaluation, which the seed
study (``reports/seeds.md``, training seeds, all sampled with seed 0) does not separate from the
training's.

    .venv/bin/python scripts/sampling_noise.py [--system blend] [--seeds 0 1 2 3 4 5] [--n 500] [--checkpoints DIR]
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
from fusion.model import systems  # noqa: E402

COLUMNS = [(f, m) for f in features.NOTE_FEATURES for m in ("eud", "em")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--system", default="blend")
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4, 5])
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--checkpoints", help="checkpoint folder (default checkpoints/)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    refs = tables.Data.load().references()
    system = systems.load_generator(args.system, args.checkpoints)
    ref_h = {f.name: (f.histogram(refs["jazz"]), f.histogram(refs["folk"])) for f in features.NOTE_FEATURES}
    print(f"{args.system}: {args.n} melodies of 4 bars per seed, scored against {len(refs['jazz'])} jazz and "
          f"{len(refs['folk'])} folk test windows\n")
    print("| seed | " + " | ".join(f"{f.name.upper()} {distances.METRIC_LABELS[m]} Ratio / Balance" for f, m in COLUMNS)
          + " | seconds |")
    print("|---:|" + "---:|" * (len(COLUMNS) + 1))
    rows = []
    for seed in args.seeds:
        t0 = time.time()
        mels = system.sample(args.n, bars=4, seed=seed)
        row = []
        for f, m in COLUMNS:
            h = f.histogram(mels)
            row.append(distances.ratio_balance(f, m, h, *ref_h[f.name]))
        rows.append(row)
        print(f"| {seed} | " + " | ".join(f"{r:.3f} / {b:.3f}" for r, b in row) + f" | {time.time() - t0:.0f} |",
              flush=True)
    arr = np.array(rows)  # seeds x columns x (ratio, balance)
    for label, fn in (("mean", np.mean), ("sd", lambda a, axis: np.std(a, axis=axis, ddof=1))):
        v = fn(arr, axis=0)
        print(f"| {label} | " + " | ".join(f"{r:.3f} / {b:.3f}" for r, b in v) + " | |")


if __name__ == "__main__":
    main()
