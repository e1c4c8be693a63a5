"""Choose the generator size by validation likelihood (issue #3: "at least the paper's embedding
32 / hidden 32; choose by validation likelihood").

Trains one MLE generator per candidate size on jazz + folk (half of each batch from each genre)
for the same number of steps, and prints the per-token validation NLL on each genre and the
training speed. Usage: ``python scripts/size_sweep.py [--steps 1500]``. The figures quoted in
docs/method.md come from this script.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import random
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fusion.model.generator import Generator, GeneratorConfig  # noqa: E402
from fusion.model.presets import PRESETS  # noqa: E402
from fusion.model.train import Trainer  # noqa: E402

CANDIDATES = [(32, 32), (32, 64), (64, 128), (64, 256)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    preset = PRESETS["paper"]
    trainer = Trainer(preset, "runs/size_sweep", systems=["mle"], progress=False)
    rows = []
    for embed, hidden in CANDIDATES:
        torch.manual_seed(0)
        rng = random.Random(0)
        g = Generator(dataclasses.replace(preset.generator, embed=embed, hidden=hidden))
        opt = torch.optim.Adam(g.parameters(), lr=preset.mle_lr)
        t = time.time()
        for _ in range(args.steps):
            nll, n = g.nll(trainer.data.batch("both", preset.batch, rng), trainer.grammar, trainer.ticks)
            opt.zero_grad()
            (nll / n).backward()
            torch.nn.utils.clip_grad_norm_(g.parameters(), 5.0)
            opt.step()
        secs = time.time() - t
        row = {"embed": embed, "hidden": hidden, "parameters": g.parameter_count(), "steps": args.steps,
               "steps_per_s": round(args.steps / secs, 1),
               "val_nll_jazz": round(trainer.val_nll(g, "jazz"), 4),
               "val_nll_folk": round(trainer.val_nll(g, "folk"), 4)}
        row["val_nll_mean"] = round((row["val_nll_jazz"] + row["val_nll_folk"]) / 2, 4)
        print(json.dumps(row), flush=True)
        rows.append(row)


if __name__ == "__main__":
    main()
