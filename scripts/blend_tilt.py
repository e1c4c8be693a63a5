"""What Blend's decoding tilt does, seen by the critics and the statistics alone (no judge): the
mean blend reward R and its parts (``fusion/model/blend.py``) and each feature's distance from
the midpoint of the genres' training statistics (``fusion/model/tilt.py``: |h - h*| / |h_jazz -
h_folk|, 0 at the midpoint, 0.5 at either genre) for melodies of

* Blend as shipped (one of 32 candidates, kept by the tilt),
* the same generator without the tilt (one candidate),
* the product of experts (PoE), Blend's teacher before its tilt,

N melodies of 4 bars each, seeds as given. The critics and their calibration are those of the
paper run (``runs/paper/state.pt``); the numbers behind docs/method.md, "What Blend measures".

    .venv/bin/python scripts/blend_tilt.py [--n 1000] [--seed 7] [--threads 1]
"""
from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from fusion.model import blend, systems, tilt, train  # noqa: E402
from fusion.model.presets import PRESETS  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--run-dir", default="runs/paper")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    trainer = train.Trainer(PRESETS["paper"], args.run_dir, progress=False)
    target = tilt.Target.from_dict(systems.load_generator("blend").config["sampling"]["target"])
    shipped = systems.load_generator("blend")
    plain = copy.copy(shipped)
    plain.config = {**shipped.config, "sampling": {}}
    rows = {"Blend (one of 32, tilted)": shipped, "Blend without the tilt": plain,
            "PoE": systems.load_generator("poe")}
    keys = ("R", "fuse_whole", "a_whole", "b_whole", "sa_whole", "sb_whole")
    print(f"{args.n} melodies of 4 bars, seed {args.seed}; critics of {args.run_dir}")
    print("| melodies | " + " | ".join(keys) + " | " + " | ".join(f"gap {f}" for f in target.names) + " |")
    print("|---|" + "---:|" * (len(keys) + len(target.names)))
    for label, system in rows.items():
        mels = system.sample(args.n, bars=4, seed=args.seed)
        seqs = trainer.data.pad([[trainer.vocab.bos_id, *trainer.vocab.encode(m, total_beats=m.span),
                                  trainer.vocab.eos_id] for m in mels])
        parts = blend.reward_parts(trainer.modules["C_A"], trainer.modules["C_B"], trainer.calibration(), seqs,
                                   trainer.grammar, trainer.stats_critics())
        gaps = target.gaps(tilt.count_matrices(mels, target.names))
        print(f"| {label} | " + " | ".join(f"{float(parts[k].mean()):.3f}" for k in keys) + " | "
              + " | ".join(f"{gaps[f]:.3f}" for f in target.names) + " |")


if __name__ == "__main__":
    main()
