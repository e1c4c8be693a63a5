"""Why the policy gradient is anchored by MLE (docs/method.md, "Policy gradient, anchored by MLE").

Trains one jazz generator by MLE, then runs the adversarial stage of Algorithm 1 (step 2: critic
pre-training, rounds of policy gradient and critic steps) from those same weights twice:

* ``plain``    -- REINFORCE alone at lr 1e-3 (no MLE term), the first setting tried;
* ``anchored`` -- the ``paper`` preset's setting: lr 1e-4 plus the MLE loss on jazz windows.

and reports, for the MLE generator and both results, the validation NLL on jazz and folk and the
Euclidean distances of 200 samples' pitch-class and duration histograms to the real jazz and folk
test windows. Usage: ``python scripts/anchor_ablation.py [--mle-steps 1000] [--rounds 5]``.
"""
from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from fusion.features import pitch_class_and_duration as histograms  # noqa: E402
from fusion.model.presets import PRESETS  # noqa: E402
from fusion.model.sampling import sample  # noqa: E402
from fusion.model.train import Trainer  # noqa: E402


def report(trainer, g, real) -> dict:
    seqs = sample([g], [1.0], 200, trainer.ticks, trainer.grammar, generator=torch.Generator().manual_seed(0)).tolist()
    pc, du = histograms([trainer.vocab.decode(x) for x in seqs])
    d = lambda a, b: round(float(np.linalg.norm(a - b)), 4)  # noqa: E731
    return {"val_nll_jazz": round(trainer.val_nll(g, "jazz"), 4), "val_nll_folk": round(trainer.val_nll(g, "folk"), 4),
            "pitch_class_d_jazz": d(pc, real["jazz"][0]), "pitch_class_d_folk": d(pc, real["folk"][0]),
            "duration_d_jazz": d(du, real["jazz"][1]), "duration_d_folk": d(du, real["folk"][1])}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mle-steps", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    base = dataclasses.replace(PRESETS["paper"], mle_steps={"jazz": args.mle_steps, "folk": 1, "fusion": 1},
                               adv_rounds=args.rounds)
    settings = {"plain": dict(pg_lr=1e-3, pg_mle_weight=0.0), "anchored": dict(pg_lr=1e-4, pg_mle_weight=1.0)}
    t = Trainer(base, "runs/anchor_ablation", systems=["jazz"], progress=False)
    real = {g: histograms([t.vocab.decode(x) for x in t.data.seqs[g, "test"]]) for g in ("jazz", "folk")}
    torch.manual_seed(0)
    t.rng, t.tgen = random.Random(0), torch.Generator().manual_seed(0)
    t.mle("G_A", "jazz")
    mle = copy.deepcopy(t.modules["G_A"])
    print(json.dumps({"setting": "mle", **report(t, mle, real)}), flush=True)
    for name, change in settings.items():
        t.preset = dataclasses.replace(base, **change)
        torch.manual_seed(1)
        t.rng, t.tgen = random.Random(1), torch.Generator().manual_seed(1)
        t.modules["G_A"] = copy.deepcopy(mle)
        t.stage_adv_jazz()
        print(json.dumps({"setting": name, **change, **report(t, t.modules["G_A"], real)}), flush=True)


if __name__ == "__main__":
    main()
