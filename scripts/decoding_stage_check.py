"""What Blend's decoding stage saw when it fitted its rule (docs/method.md, "A floor on the rule's
statistics").

Redraws the ``blend_decoding`` stage's own candidates of a run (the stage is seeded: the same
``blend_tilt_fit`` + as many held-out melodies of G_BLEND and their blend rewards), refits the
statistics' tilt (1) as the stage does (rho as the preset chooses it), and prints, for each beta of
``tilt.BETA_GRID``, the effective share and the summed gaps from the midpoint on the fitting and
the held-out melodies, beside the candidates' own and the statistics' tilt alone. Usage:
``python scripts/decoding_stage_check.py --preset paper_pg_tilt_1 --run-dir runs/pg_tilt1``.
Reads no judge; about a minute on two cores.
"""
from __future__ import annotations

import argparse
import dataclasses
import random
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fusion.model import tilt, train  # noqa: E402
from fusion.model.presets import PRESETS  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", default="paper")
    ap.add_argument("--run-dir", required=True)
    ap.add_argument("--seed", type=int, help="the run's training seed (the seed study's runs: 1, 2)")
    ap.add_argument("--gap-keep", type=float, default=PRESETS["paper"].blend_decoding_gap_keep,
                    help="the floor on the statistics' gain to report (default the paper preset's)")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    preset = PRESETS[args.preset] if args.seed is None else dataclasses.replace(PRESETS[args.preset], seed=args.seed)
    # the decoding stage is what this script redoes (in memory; nothing is saved), so a preset that
    # differs from the run's only in what that stage reads is accepted
    t = train.Trainer(preset, args.run_dir, progress=False, redo=("blend_decoding",))
    seed = t.preset.seed * 1000 + train.STAGES.index("blend_decoding")  # as Trainer.run seeds the stage
    torch.manual_seed(seed)
    t.rng, t.tgen = random.Random(seed), torch.Generator().manual_seed(seed)
    p, target, n = t.preset, t.decoding_midpoint(), t.preset.blend_tilt_fit
    seqs = t._melodies([t.modules["G_BLEND"]], (1.0,), "mixture", 2 * n, "candidates")
    rewards = t.reward_object()(seqs).cpu().numpy()
    own = t._decode(seqs)
    c, ho = tilt.count_matrices(own[:n], target.names), tilt.count_matrices(own[n:], target.names)
    r, hr = rewards[:n], rewards[n:]
    k = p.blend_candidates
    stats = tilt.fit(c, target, k, p.blend_decoding_stats_min_ess, cv=p.blend_decoding_rho_cv, held_out=ho,
                     rho_on_held_out=p.blend_decoding_rho_held_out)
    rho, rep = stats.report["rho"], stats.report

    def summed(d):
        return sum(d.values())

    how = "held-out" if p.blend_decoding_rho_held_out else "cross-validation"
    print(f"{args.run_dir} ({args.preset}): {n} + {n} candidates of G_BLEND, k = {k}; rho {rho} "
          f"({how} losses {rep.get('rho_held_out_loss', rep.get('rho_cv_loss'))})")
    print("\n| rule | effective share | summed gap, fitting | summed gap, held out |\n|---|---:|---:|---:|")
    print(f"| candidates (no rule) | 1 | {summed(rep['gaps_before']):.3f} | {summed(rep['held_out_gaps_before']):.3f} |")
    print(f"| statistics' tilt alone | {rep['ess_share']:.3f} | {summed(rep['gaps_after']):.3f} | "
          f"{summed(rep['held_out_gaps_after']):.3f} |")
    sd = float(r.std())
    before, after = summed(rep["gaps_before"]), summed(rep["gaps_after"])
    limit = after + (1 - args.gap_keep) * max(before - after, 0.0)
    by_ess, by_floor, floor_open = 0.0, 0.0, True
    for beta in tilt.BETA_GRID:
        cand = tilt.fit(c, target, k, 0.0, rho_grid=(rho,), held_out=ho, offset=beta / sd * r,
                        held_out_offset=beta / sd * hr)
        q = cand.report
        print(f"| + beta {beta:g} / sd(R) | {q['ess_share']:.3f} | {summed(q['gaps_after']):.3f} | "
              f"{summed(q['held_out_gaps_after']):.3f} |", flush=True)
        if q["ess_share"] < p.blend_decoding_min_ess:
            break  # as tilt.fit_with_reward: the first beta that fails stops the search
        by_ess = beta
        floor_open = floor_open and summed(q["gaps_after"]) <= limit
        by_floor = beta if floor_open else by_floor
    print(f"\nthe effective-share floor ({p.blend_decoding_min_ess}) keeps beta {by_ess:g} / sd(R); with the floor on "
          f"the statistics' gain (gap_keep {args.gap_keep}: summed fitting gap <= {limit:.3f}) beta {by_floor:g} / sd(R)")


if __name__ == "__main__":
    main()
