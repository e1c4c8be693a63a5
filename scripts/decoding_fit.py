"""Blend's decoding rule (``fusion/model/tilt.py``, (2)) fitted again on the shipped Blend's own
melodies, without and with the Cramer terms (1b) and (1c), the rest lengths, and on each melody's own
histograms instead of its counts ((T1d), ``Tilt.per_note``), with the melodic intervals as a fifth feature
(``blend_decoding_intervals``), and measured on melodies it was not fitted on
(no judge: the midpoint's gaps, Table I's distances to the test genres, the blend reward).

The shipped checkpoint's generator, without its rule, draws ``--fit`` candidates to fit on and
``--held-out`` more to measure on (4 bars each, the training window). Each rule is fitted as
``python -m fusion train`` fits it (``tilt.fit_with_reward``, the paper preset's ``k``, effective
sample floors and cross-validated rho) toward the training midpoint of the run's data
(``train.genre_midpoint``); the shipped rule is measured as it is. On the held-out candidates
every rule is measured *in expectation*: each group of ``k`` candidates weighs its melodies by the
rule's within-group softmax, which is what the rule's draws average, without their noise.

Columns: the gaps from the training midpoint (``tilt.Target.gaps``: 0 at the midpoint, 0.5 at
either genre; ``_cramer`` the square root of (1b) or (1c)), Ratio and Balance of DD, NPD, IOI-class
and pitch-class transitions (EUD and EM,
``fusion.evaluation.distances``) against every test window of each genre, as Table I measures
them, and the mean blend reward R of the melodies the rule keeps. The numbers behind
docs/method.md, "Blend's decoding".

    .venv/bin/python scripts/decoding_fit.py [--fit 8192] [--held-out 8192] [--seed 11] [--threads 1] [--checkpoints DIR]
        [--k-wide 128 [--wide-effective 16 8]] [--mle]

``--k-wide`` adds rules with more candidates per melody whose floors are numbers of effective
candidates (docs/method.md, "More candidates per melody"); ``--mle`` adds the MLE baseline's own
melodies as a row (no rule, no reward: its R column reads nan).
"""
from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from fusion import features  # noqa: E402
from fusion.evaluation import distances, tables  # noqa: E402
from fusion.melody import TICKS_PER_BEAT  # noqa: E402
from fusion.model import systems, tilt, train  # noqa: E402
from fusion.model.presets import PRESETS  # noqa: E402
from fusion.model.sampling import sample as sample_tokens  # noqa: E402
from rest_audit import silences  # noqa: E402

#: the measured columns: Table I's DD and NPD, the two transition grids the rule may match, and the
#: melodic intervals, which no rule matches (read, never fitted: the evaluation scores them)
MEASURED = (features.DD, features.NPD, features.IOI_TRANSITION, features.PC_TRANSITION, features.INTERVAL)


def drawn(system, n: int, seed: int, chunk: int = 1024):
    """``n`` token rows of the system's generator(s) at weight 1, seeded, in chunks of ``chunk``
    (a tensor each), as the rule's candidates are drawn (``System._tilted``)."""
    gen = torch.Generator().manual_seed(seed)
    for start in range(0, n, chunk):
        yield sample_tokens(system.models, [1.0], min(chunk, n - start), 16 * TICKS_PER_BEAT, system.grammar,
                            generator=gen)


def candidates(system, n: int, seed: int, chunk: int = 1024):
    """``n`` melodies of the system's generator without a decoding rule, their token rows' blend
    rewards, and the token rows (padded)."""
    mels, rewards, rows = [], [], []
    for seqs in drawn(system, n, seed, chunk):
        rows += seqs.tolist()
        mels += [system.vocab.decode(s) for s in seqs.tolist()]
        rewards.append(system.reward(seqs).numpy())
    width = max(len(r) for r in rows)
    tokens = np.array([r + [system.vocab.pad_id] * (width - len(r)) for r in rows])
    return mels, np.concatenate(rewards), tokens


def measured_columns(weights, counts, refs) -> dict:
    """Ratio and Balance of the weighted histograms of DD, NPD, the two transition grids and the
    melodic intervals against the genres' windows ``refs``."""
    out = {}
    for f in MEASURED:
        total = (weights[:, None] * counts[f.name]).sum(0)
        h = total / total.sum()
        h_a, h_b = f.histogram(refs["jazz"]), f.histogram(refs["folk"])
        for metric in ("eud", "em"):
            out[f"{f.name} {metric}"] = distances.ratio_balance(f, metric, h, h_a, h_b)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fit", type=int, default=8192)
    ap.add_argument("--held-out", type=int, default=8192)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--checkpoints", help="checkpoint folder (default checkpoints/)")
    ap.add_argument("--cache", help="an .npz file keeping the candidates' token rows and rewards (read when present)")
    ap.add_argument("--against", default="val", choices=("val", "test"),
                    help="the genre windows Ratio and Balance are measured against (default the validation windows)")
    ap.add_argument("--rho-grid", nargs="+", type=float, help="the rho of (1) tried (default tilt.RHO_GRID)")
    ap.add_argument("--k-wide", type=int, default=0,
                    help="also fit rules with this many candidates per melody, their floors held as numbers of "
                         "effective candidates (--wide-effective), docs/method.md 'More candidates per melody'")
    ap.add_argument("--wide-effective", nargs=2, type=float, default=(16, 8), metavar=("STATS", "TOTAL"),
                    help="effective candidates per group the wide rules keep: the statistics' tilt alone, and "
                         "with the reward (default 16 8, the paper preset's floors at k = 64)")
    ap.add_argument("--gap-keep", type=float, default=0.0,
                    help="the refitted rules' floor on their statistics' gain (tilt.fit_with_reward's gap_keep; "
                         "default 0, off, as every rule measured before 2026-12-07; the paper preset's is "
                         "blend_decoding_gap_keep)")
    ap.add_argument("--mle", action="store_true",
                    help="also measure the MLE baseline on --held-out of its melodies (the sequential target)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    preset = PRESETS["paper"]
    k = preset.blend_candidates
    shipped = systems.load_generator("blend", args.checkpoints)
    if shipped.reward is None:
        raise SystemExit("this Blend checkpoint carries no reward critics (train it again)")
    plain = copy.copy(shipped)
    plain.config = {**shipped.config, "sampling": {}}
    data = train.Data(preset, shipped.vocab, torch.device("cpu"))
    # label -> the target's switches (cramer, transitions, rests, intervals) of train.genre_midpoint
    variants = {"refitted, (1) only": (False, False, False, False),
                "refitted, (1) + (1b)": (True, False, False, False),
                "refitted, (1) + (1b) + (1c)": (True, True, False, False),
                "refitted, (1) + (1b), with rests": (True, False, True, False),
                "refitted, (1) + (1b) + (1c), with rests": (True, True, True, False),
                "refitted, (1) + (1b) + (1c), with intervals": (True, True, False, True)}
    per_note = {f"{label}, per note": variants[label] for label in ("refitted, (1) + (1b)", "refitted, (1) + (1b) + (1c)")}
    targets = {v: train.genre_midpoint(data, preset.blend_tilt_windows, *v) for v in variants.values()}
    full = train.genre_midpoint(data, preset.blend_tilt_windows, True, True, True, True)  # every gap
    windows = tables.Data.load().windows
    refs = {g: windows[g, args.against] for g in ("jazz", "folk")}
    t0 = time.time()
    if args.cache and Path(args.cache).exists():
        kept = np.load(args.cache)
        mels, rewards = [shipped.vocab.decode(s) for s in kept["tokens"].tolist()], kept["rewards"]
    else:
        mels, rewards, tokens = candidates(plain, args.fit + args.held_out, args.seed)
        if args.cache:
            np.savez_compressed(args.cache, tokens=tokens, rewards=rewards)
    fit_m, ho_m = mels[:args.fit], mels[args.fit:args.fit + args.held_out]
    fit_r, ho_r = rewards[:args.fit], rewards[args.fit:args.fit + args.held_out]
    names = full.names
    fit_c, ho_c = tilt.count_matrices(fit_m, names), tilt.count_matrices(ho_m, names)
    ho_table = {f.name: f.matrix(ho_m) for f in MEASURED}
    print(f"{args.fit} + {args.held_out} candidates of the shipped Blend's generator (seed {args.seed}, "
          f"{time.time() - t0:.0f} s); k = {k}")
    shipped_rule = tilt.Tilt.from_dict(shipped.config["sampling"]["tilt"])
    rules = {"no rule (one candidate)": (None, k), "shipped rule": (shipped_rule, shipped_rule.group)}
    # label -> (the target's switches, candidates per melody, floors as shares, per note)
    plan = {label: (v, k, (preset.blend_decoding_stats_min_ess, preset.blend_decoding_min_ess), False)
            for label, v in variants.items()}
    plan.update({label: (v, k, (preset.blend_decoding_stats_min_ess, preset.blend_decoding_min_ess), True)
                 for label, v in per_note.items()})
    if args.k_wide:
        kw = args.k_wide
        floors = (args.wide_effective[0] / kw, args.wide_effective[1] / kw)
        for label, v in (("(1) + (1b)", (True, False, False, False)), ("(1) + (1b), with rests", (True, False, True, False)),
                         ("(1) + (1b) + (1c), with rests", (True, True, True, False))):
            plan[f"k = {kw}, {args.wide_effective[0]:g} / {args.wide_effective[1]:g} effective, {label}"] = \
                (v, kw, floors, False)
    for label, (v, group, (stats_floor, total_floor), note) in plan.items():
        t0 = time.time()
        rule = tilt.fit_with_reward(fit_c, fit_r, targets[v], group, stats_floor, total_floor,
                                    cv=preset.blend_decoding_rho_cv, per_note=note, gap_keep=args.gap_keep,
                                    **({"rho_grid": tuple(args.rho_grid)} if args.rho_grid else {}))
        rules[label] = (rule, group)
        r = rule.report
        print(f"  {label}: rho {r['rho']}, beta {r['beta_sd']} sd, effective share {r['ess_share']} "
              f"= {r['ess_share'] * group:.1f} of {group} ({time.time() - t0:.0f} s)")
    gap_names = list(full.gaps(ho_c))
    cols = [f"{f.name} {m}" for f in MEASURED for m in ("eud", "em")]
    print("\n| rule | " + " | ".join(f"gap {g}" for g in gap_names) + " | "
          + " | ".join(f"{c} Ratio / Balance" for c in cols) + " | mean R | inner rest >= 2 / >= 4 beats |")
    print("|---|" + "---:|" * (len(gap_names) + len(cols) + 2))
    longest = np.array([silences(m)[2] for m in ho_m])
    real = {g: np.array([silences(m)[2] for m in refs[g]]) for g in refs}
    print("  (real " + ", ".join(f"{g}: {np.mean(v >= 2):.3f} / {np.mean(v >= 4):.3f}" for g, v in real.items()) + ")")
    rows = list(rules.items())
    if args.mle:
        mle = systems.load_generator("mle", args.checkpoints)
        mle_m = [mle.vocab.decode(s) for seqs in drawn(mle, args.held_out, args.seed) for s in seqs.tolist()]
        rows.append(("MLE (its own melodies)", (None, 1)))
    for label, (rule, group) in rows:
        if label.startswith("MLE"):
            mels_h = mle_m
            c_h, t_h = tilt.count_matrices(mle_m, names), {f.name: f.matrix(mle_m) for f in MEASURED}
            r_h, long_h = np.full(len(mle_m), np.nan), np.array([silences(m)[2] for m in mle_m])
        else:
            mels_h, c_h, t_h, r_h, long_h = ho_m, ho_c, ho_table, ho_r, longest
        n = len(mels_h) - len(mels_h) % group
        if rule is None:
            w = np.ones(n)
        else:
            logw = torch.as_tensor(rule.log_weights({f: c[:n] for f, c in c_h.items()}, r_h[:n]))
            w = tilt.group_weights(logw, group).numpy() * group
        gaps = full.gaps({f: c[:n] for f, c in c_h.items()}, w)
        scores = measured_columns(w, {f: c[:n] for f, c in t_h.items()}, refs)
        print(f"| {label} | " + " | ".join(f"{gaps[g]:.3f}" for g in gap_names) + " | "
              + " | ".join(f"{scores[c][0]:.3f} / {scores[c][1]:.3f}" for c in cols)
              + f" | {float((w * r_h[:n]).sum() / w.sum()):.3f}"
              + f" | {float((w * (long_h[:n] >= 2)).sum() / w.sum()):.3f} / {float((w * (long_h[:n] >= 4)).sum() / w.sum()):.3f} |")


if __name__ == "__main__":
    main()
