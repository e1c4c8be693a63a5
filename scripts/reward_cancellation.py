"""How much of the Eq. 4 reward survives the sum D_F + D_A + D_B (docs/method.md, "Eq. 4").

Loads the paper run's final state (``runs/paper/state.pt``: G_F and the three critics after the
fusion stage), samples 512 melodies of G_F and prints, per melody: the correlation of D_A's and
D_B's scores, each critic's spread, how much of D_A + D_B's spread is left after the sum (raw,
as now, and standardized-then-summed, the first version), and the shares of the summed reward's
variance. Usage: ``python scripts/reward_cancellation.py [runs/paper]``.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fusion.model import train  # noqa: E402
from fusion.model.presets import PRESETS  # noqa: E402


def main() -> None:
    torch.set_num_threads(1)
    run = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("runs/paper")
    t = train.Trainer(PRESETS["paper"], run, progress=False)
    t.tgen = torch.Generator().manual_seed(0)
    m = t.modules
    with torch.no_grad():
        seq = t.fake(m["G_F"], 512)
        s = {k: m[k].eval()(seq).numpy() for k in ("D_A", "D_B", "D_F")}
    z = {k: (v - v.mean()) / v.std() for k, v in s.items()}
    pair = s["D_A"] + s["D_B"]
    total = pair + s["D_F"]
    print(f"per-melody corr(D_A, D_B) on G_F's melodies: {np.corrcoef(s['D_A'], s['D_B'])[0, 1]:.3f}")
    print("std of D_A, D_B, D_F: " + ", ".join(f"{s[k].std():.3f}" for k in ("D_A", "D_B", "D_F")))
    print(f"std(D_A + D_B) / mean std of the two (raw sum, now): {pair.std() / ((s['D_A'].std() + s['D_B'].std()) / 2):.3f}")
    print(f"std(z_A + z_B) (standardized first, the first version; 2 if they agreed): {(z['D_A'] + z['D_B']).std():.3f}")
    print(f"variance of D_A + D_B / of the whole reward: {np.var(pair) / np.var(total):.3f}; "
          f"of D_F: {np.var(s['D_F']) / np.var(total):.3f}")


if __name__ == "__main__":
    main()
